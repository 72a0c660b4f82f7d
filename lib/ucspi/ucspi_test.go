package ucspi

import (
	"bufio"
	"net/netip"
	"strings"
	"testing"

	"tinymx/lib/pathexec"
)

func TestIdentAnswerTakesWhatFollowsTheThirdColonWithoutBlanks(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"1 , 2 : USERID : UNIX : joe smith\r\n", "joesmith", true},
		{"1 , 2 : ERROR : NO-USER\r\n", "", true},
		{"1,2:USERID:UNIX:a:b\n", "a:b", true},
		{"1 , 2 : USERID : UNIX : joe", "", false},
		{"", "", false},
		{"::: " + strings.Repeat("x", 300) + "\n", strings.Repeat("x", 257), true},
	}
	for _, c := range cases {
		got, err := IdentAnswer(bufio.NewReader(strings.NewReader(c.in)))
		if got != c.want || (err == nil) != c.ok {
			t.Errorf("%q: got %q, %v", c.in, got, err)
		}
	}
}

func FuzzIdentAnswer(f *testing.F) {
	f.Add("1 , 2 : USERID : UNIX : joe smith\r\n")
	f.Add("1 , 2 : ERROR : NO-USER\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := IdentAnswer(bufio.NewReader(strings.NewReader(s)))
		if err == nil && len(got) > maxIdent+1 {
			t.Fatalf("answer of %d bytes", len(got))
		}
		if strings.ContainsAny(got, " \t\r\n") {
			t.Fatalf("blank kept in %q", got)
		}
	})
}

const services = `# comment
smtp		25/tcp		mail
domain		53/udp
domain		53/tcp
odd		99999/tcp
http		80/tcp		www		# WorldWideWeb HTTP
`

func TestLookupServiceFindsNamesAndAliasesForTCP(t *testing.T) {
	for name, want := range map[string]int{"smtp": 25, "mail": 25, "domain": 53, "www": 80, "http": 80, "odd": -1, "nope": -1, "comment": -1} {
		p, ok := LookupService([]byte(services), name, "tcp")
		if want < 0 && ok || want >= 0 && (!ok || int(p) != want) {
			t.Errorf("%s: %d %v, want %d", name, p, ok, want)
		}
	}
}

func FuzzLookupService(f *testing.F) {
	f.Add([]byte(services), "smtp")
	f.Fuzz(func(t *testing.T, text []byte, name string) {
		LookupService(text, name, "tcp")
	})
}

func TestParsePortTakesDigitsModulo65536(t *testing.T) {
	for in, want := range map[string]uint16{"": 0, "0": 0, "65536": 0, "65537": 1, "25": 25, "0025": 25} {
		if got, err := ParsePort(in); err != nil || got != want {
			t.Errorf("%q: %d %v", in, got, err)
		}
	}
	if _, err := ParsePort("25x"); err == nil {
		t.Error("25x accepted")
	}
}

func TestScanIP4IsDjbsIp4Scan(t *testing.T) {
	for in, want := range map[string]string{"1.2.3.4": "1.2.3.4", "1.2.3.4xyz": "1.2.3.4", "1.2.3.260": "1.2.3.4", "": "", "1.2.3": "", "a.b.c.d": ""} {
		a, ok := ScanIP4(in)
		got := ""
		if ok {
			got = a.String()
		}
		if got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

func FuzzScanIP4(f *testing.F) {
	f.Add("127.0.0.1")
	f.Fuzz(func(t *testing.T, s string) { ScanIP4(s) })
}

func TestParseTimeouts(t *testing.T) {
	for in, want := range map[string][2]uint64{"2+58": {2, 58}, "5": {5, 0}, "+7": {0, 7}, "5x": {5, 0}, "": {0, 0}} {
		x, y := ParseTimeouts(in)
		if [2]uint64{x, y} != want {
			t.Errorf("%q: %d+%d", in, x, y)
		}
	}
}

func TestSafeReplacesOddBytesAndCutsAt100(t *testing.T) {
	if got := string(Safe(nil, "my:h%st a\x01\xff")); got != "my?h?st?a??" {
		t.Errorf("got %q", got)
	}
	if got := string(Safe(nil, strings.Repeat("a", 100))); got != strings.Repeat("a", 100)+"..." {
		t.Errorf("100 bytes: %q", got)
	}
	if got := string(Safe(nil, "ab\x00cd")); got != "ab" {
		t.Errorf("NUL: %q", got)
	}
}

func TestDecisionLineOrdersFieldsAsTheCProgram(t *testing.T) {
	c := Conn{
		Local:     netip.MustParseAddrPort("127.0.0.1:25"),
		Remote:    netip.MustParseAddrPort("10.0.0.1:4000"),
		LocalHost: "mx", HasLocalHost: true,
		RemoteInfo: "joe", HasRemoteInfo: true,
	}
	if got := string(c.Decision("tcpserver", "ok", 42)); got != "tcpserver: ok 42 mx:127.0.0.1:25 :10.0.0.1:joe:4000\n" {
		t.Errorf("got %q", got)
	}
}

func TestEditsSetAndRemoveInTheCOrder(t *testing.T) {
	c := Conn{Local: netip.MustParseAddrPort("127.0.0.1:25"), Remote: netip.MustParseAddrPort("10.0.0.1:4000")}
	var e pathexec.Edits
	c.Edits(&e)
	got := strings.Join(e.Apply([]string{"TCPREMOTEHOST=stale", "A=1"}), " ")
	// removing TCPREMOTEHOST moves the last entry into its slot
	want := "TCPREMOTEPORT=4000 A=1 PROTO=TCP TCPLOCALIP=127.0.0.1 TCPLOCALPORT=25 TCPREMOTEIP=10.0.0.1"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestFormatIPWritesIPv6AsUcspiTcpIPv6(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1":             "127.0.0.1",
		"::1":                   "::1",
		"::":                    "::",
		"::ffff:127.0.0.1":      "::ffff:127.0.0.1",
		"2001:db8:1:2:3:4:0:8":  "2001:db8:1:2:3:4::8",
		"2001:db8::1":           "2001:db8::1",
		"2001:0:0:1:0:0:0:1":    "2001:0:0:1::1",
		"2001:0:0:1:1:0:0:1":    "2001::1:1:0:0:1",
		"fe80::abcd:0:0:0":      "fe80::abcd:0:0:0",
		"1:2:3:4:5:6:7:8":       "1:2:3:4:5:6:7:8",
		"0:0:0:0:0:0:0:8":       "::8",
		"abcd:ef01:0:0:0:0:0:0": "abcd:ef01::",
	} {
		if got := FormatIP(netip.MustParseAddr(in)); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}
