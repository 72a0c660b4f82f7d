package dns

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"tinymx/lib/dns/dnstest"
)

// useServer points the resolver at a fresh test server and shortens the
// retry schedule so failure tests stay fast.
func useServer(t *testing.T) *dnstest.Server {
	t.Helper()
	srv := dnstest.StartFree(t)
	t.Setenv("DNSCACHEIP", srv.IP())
	t.Setenv("DNSREWRITEFILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("LOCALDOMAIN", "")
	old := udpTimeouts
	udpTimeouts = []time.Duration{200 * time.Millisecond, 300 * time.Millisecond, 400 * time.Millisecond}
	t.Cleanup(func() { udpTimeouts = old; ResetConfig() })
	ResetConfig()
	return srv
}

func TestNumericNamesParseLocallyLikeDjb(t *testing.T) {
	cases := []struct {
		in   string
		want [][4]byte
	}{
		{"1.2.3.4", [][4]byte{{1, 2, 3, 4}}},
		{"[1.2.3.4]", [][4]byte{{1, 2, 3, 4}}},
		{"1.2.3", nil},
		{"256.1.2.3", [][4]byte{{0, 1, 2, 3}}},
		{"1.2.3.4.5.6.7.8", [][4]byte{{1, 2, 3, 4}, {5, 6, 7, 8}}},
		{"", nil},
		{"0", nil},
	}
	for _, c := range cases {
		got, err := IP4Raw(c.in)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("IP4Raw(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func TestFromDotAndToDotRoundTripWithEscapes(t *testing.T) {
	w, err := fromDot(`Www.Ex\101mple..com.`)
	if err != nil {
		t.Fatal(err)
	}
	if got := toDot(w); got != "www.example.com" {
		t.Errorf("toDot = %q", got)
	}
	w, _ = fromDot(`a\040b.c`)
	if got := toDot(w); got != `a\040b.c` {
		t.Errorf("toDot = %q", got)
	}
	if _, err := fromDot(string(make([]byte, 64)) + ".x"); !errors.Is(err, unix.EPROTO) {
		t.Errorf("64-byte label: %v", err)
	}
	if got := toDot([]byte{0}); got != "." {
		t.Errorf("root = %q", got)
	}
}

func TestRewriteRulesFollowDjbSemantics(t *testing.T) {
	cases := []struct{ work, rule, want string }{
		{"foo", "?:+.example.com", "foo+.example.com"},
		{"foo.bar", "?:+.example.com", "foo.bar"},
		{"foo.", "*.:", "foo"},
		{"mail", "=mail:mx.example.com", "mx.example.com"},
		{"xmail", "=mail:mx.example.com", "xmail"},
		{"a.OLD.org", "*.old.org:.new.org", "a.new.org"},
		{"a.old.org", "-.old.org:fixed", "fixed"},
		{"a", "bad", "a"},
		{"a", "?nocolon", "a"},
	}
	for _, c := range cases {
		if got := rewrite(c.work, c.rule); got != c.want {
			t.Errorf("rewrite(%q, %q) = %q; want %q", c.work, c.rule, got, c.want)
		}
	}
}

func TestServerListFromDnscacheipTakesDotSeparatedQuads(t *testing.T) {
	t.Setenv("DNSCACHEIP", "127.0.0.2.10.0.0.1 9.9.9.9")
	got, err := loadServers()
	if err != nil || !slices.Equal(got, [][4]byte{{127, 0, 0, 2}, {10, 0, 0, 1}}) {
		t.Fatalf("servers = %v, %v", got, err)
	}
}

func TestServerListFallsBackToResolvConfThenLoopback(t *testing.T) {
	t.Setenv("DNSCACHEIP", "junk")
	dir := t.TempDir()
	old := resolvConf
	t.Cleanup(func() { resolvConf = old })
	resolvConf = filepath.Join(dir, "resolv.conf")
	os.WriteFile(resolvConf, []byte("search a b\nnameserver\t10.1.2.3\nnameserver ::1\nnameserver 0.0.0.0\n"), 0644)
	got, _ := loadServers()
	if !slices.Equal(got, [][4]byte{{10, 1, 2, 3}, {127, 0, 0, 1}}) {
		t.Errorf("servers = %v", got)
	}
	resolvConf = filepath.Join(dir, "missing")
	got, _ = loadServers()
	if !slices.Equal(got, [][4]byte{{127, 0, 0, 1}}) {
		t.Errorf("servers = %v", got)
	}
}

func TestRewriteRulesComeFromLocaldomainOrResolvConfSearch(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DNSREWRITEFILE", filepath.Join(dir, "none"))
	t.Setenv("LOCALDOMAIN", "a.test b.test")
	got, _ := loadRewrite()
	if !slices.Equal(got, []string{"?:+.a.test+.b.test", "*.:"}) {
		t.Errorf("LOCALDOMAIN rules = %q", got)
	}
	os.Unsetenv("LOCALDOMAIN")
	old := resolvConf
	t.Cleanup(func() { resolvConf = old })
	resolvConf = filepath.Join(dir, "resolv.conf")
	os.WriteFile(resolvConf, []byte("nameserver 1.2.3.4\ndomain\tx.test  y.test\nsearch z.test\n"), 0644)
	got, _ = loadRewrite()
	if !slices.Equal(got, []string{"?:+.x.test+.y.test", "*.:"}) {
		t.Errorf("resolv.conf rules = %q", got)
	}
	rw := filepath.Join(dir, "rewrite")
	os.WriteFile(rw, []byte("=a:b \t\r\n*.c:.d"), 0644)
	t.Setenv("DNSREWRITEFILE", rw)
	got, _ = loadRewrite()
	if !slices.Equal(got, []string{"=a:b", "*.c:.d"}) {
		t.Errorf("rewrite file rules = %q", got)
	}
}

func TestIP4FindsRecordsAndQualifiesShortNames(t *testing.T) {
	srv := useServer(t)
	srv.AddA("www.example.test", "10.0.0.1")
	srv.AddA("www.example.test", "10.0.0.2")
	t.Setenv("LOCALDOMAIN", "nothere.test example.test")
	ResetConfig()
	got, err := IP4("www")
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b [4]byte) int { return int(a[3]) - int(b[3]) })
	if !slices.Equal(got, [][4]byte{{10, 0, 0, 1}, {10, 0, 0, 2}}) {
		t.Errorf("IP4(www) = %v", got)
	}
	got, err = IP4("www.example.test.")
	if err != nil || len(got) != 2 {
		t.Errorf("IP4(fqdn.) = %v, %v", got, err)
	}
	got, err = IP4("missing.example.test")
	if err != nil || len(got) != 0 {
		t.Errorf("NXDOMAIN = %v, %v", got, err)
	}
}

func TestTXTConcatenatesStringsAndMasksOddBytes(t *testing.T) {
	srv := useServer(t)
	srv.AddTXT("4.3.2.1.rbl.test", "you are ", "blocked\x01\xff")
	srv.AddTXT("4.3.2.1.rbl.test", "!")
	got, err := TXT("4.3.2.1.rbl.test")
	if err != nil || got != "you are blocked??!" {
		t.Errorf("TXT = %q, %v", got, err)
	}
	got, err = TXT("5.3.2.1.rbl.test")
	if err != nil || got != "" {
		t.Errorf("TXT none = %q, %v", got, err)
	}
}

func TestName4And6ReturnFirstPTROrEmpty(t *testing.T) {
	srv := useServer(t)
	srv.AddPTR("10.1.2.3", "Host.Example.TEST")
	srv.AddPTR("2001:db8::1", "six.example.test")
	got, err := Name4([4]byte{10, 1, 2, 3})
	if err != nil || got != "host.example.test" {
		t.Errorf("Name4 = %q, %v", got, err)
	}
	got, err = Name4([4]byte{10, 1, 2, 4})
	if err != nil || got != "" {
		t.Errorf("Name4 none = %q, %v", got, err)
	}
	got, err = Name6([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1})
	if err != nil || got != "six.example.test" {
		t.Errorf("Name6 = %q, %v", got, err)
	}
}

func TestIP6FindsAAAAAndParsesLiterals(t *testing.T) {
	srv := useServer(t)
	srv.AddAAAA("v6.example.test", "2001:db8::5")
	got, err := IP6("v6.example.test")
	if err != nil || len(got) != 1 || got[0] != [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 5} {
		t.Errorf("IP6 = %v, %v", got, err)
	}
	got, err = IP6("::1")
	if err != nil || len(got) != 1 || got[0] != [16]byte{15: 1} {
		t.Errorf("IP6(::1) = %v, %v", got, err)
	}
}

func TestTruncatedAnswerIsRetriedOverTCP(t *testing.T) {
	srv := useServer(t)
	srv.AddA("big.example.test", "10.9.9.9")
	srv.Truncate("big.example.test")
	got, err := IP4Raw("big.example.test")
	if err != nil || !slices.Equal(got, [][4]byte{{10, 9, 9, 9}}) {
		t.Errorf("IP4Raw over TCP = %v, %v", got, err)
	}
}

func TestLongAnswerComesOverTCP(t *testing.T) {
	srv := useServer(t)
	long := strings.Repeat("0123456789", 100)
	srv.AddTXT("long.example.test", long)
	got, err := TXT("long.example.test")
	if err != nil || got != long {
		t.Errorf("TXT over TCP = %d bytes, %v", len(got), err)
	}
}

func TestServerFailureIsTemporaryFailure(t *testing.T) {
	srv := useServer(t)
	srv.Fail("bad.example.test")
	_, err := TXT("bad.example.test")
	if !errors.Is(err, unix.EAGAIN) {
		t.Errorf("SERVFAIL: %v, want EAGAIN", err)
	}
}

func TestSilentServerTimesOut(t *testing.T) {
	srv := useServer(t)
	srv.Drop("slow.example.test")
	start := time.Now()
	_, err := IP4Raw("slow.example.test")
	if !errors.Is(err, unix.ETIMEDOUT) {
		t.Errorf("silent server: %v, want ETIMEDOUT", err)
	}
	if d := time.Since(start); d < 800*time.Millisecond {
		t.Errorf("gave up after %v, before the three rounds", d)
	}
}

func TestRefusedPortIsAnError(t *testing.T) {
	useServer(t)
	t.Setenv("DNSCACHEIP", "127.0.53.255")
	ResetConfig()
	_, err := TXT("x.example.test")
	if err == nil {
		t.Fatal("no error from a server that is not there")
	}
}

func FuzzParseAnswer(f *testing.F) {
	q := buildQuery([]byte("\x03www\x07example\x04test\x00"), typeA)
	f.Add(q)
	a := append([]byte(nil), q...)
	a[2] |= 0x80
	a[7] = 1
	a = append(a, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4)
	f.Add(a)
	f.Add([]byte("\x00\x00\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\x00\x00\x0c\x00\x01\xc0\x0c\x00\x0c\x00\x01\x00\x00\x00\x00\x00\x02\xc0\x0c"))
	f.Add([]byte("\x00\x00\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\x00\x00\x10\x00\x01\x00\x00\x10\x00\x01\x00\x00\x00\x00\x00\x04\x03abc"))
	f.Fuzz(func(t *testing.T, p []byte) {
		parseA(p)
		parseAAAA(p)
		parseTXT(p)
		parsePTR(p)
		relevant(p, q)
		truncated(p)
		serverFailed(p)
		if n, _, err := getName(p, 0); err == nil && len(n) > maxName {
			t.Fatalf("name of %d bytes", len(n))
		}
	})
}

func TestConcurrentLookupsDoNotMixAnswers(t *testing.T) {
	srv := useServer(t)
	for i := 1; i <= 40; i++ {
		srv.AddPTR("10.2.0."+strconv.Itoa(i), "h"+strconv.Itoa(i)+".example.test")
	}
	var wg sync.WaitGroup
	for i := 1; i <= 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := Name4([4]byte{10, 2, 0, byte(i)})
			if want := "h" + strconv.Itoa(i) + ".example.test"; err != nil || got != want {
				t.Errorf("Name4(10.2.0.%d) = %q, %v; want %q", i, got, err, want)
			}
		}()
	}
	wg.Wait()
	if srv.Queries() < 40 {
		t.Errorf("server saw %d queries", srv.Queries())
	}
}

// FuzzNameText runs untrusted name and rule text through the local parsers:
// dotted quads, rewrite rules, wire encoding and back. No panics, and
// encoded names stay within 255 bytes.
func FuzzNameText(f *testing.F) {
	f.Add("www.example.test", "?:+.a.test+.b.test")
	f.Add("[1.2.3.4]", "*.:")
	f.Add("a\\101\\0", "=a:b")
	f.Add("1.2.3.4.5.6.7.8.9", "-x:y")
	f.Fuzz(func(t *testing.T, name, rule string) {
		numeric(name)
		scanIP4(name)
		w := rewrite(name, rule)
		if wire, err := fromDot(w); err == nil {
			if len(wire) > maxName || nameLen(wire) != len(wire) {
				t.Fatalf("bad wire name %q for %q", wire, w)
			}
			toDot(wire)
		}
	})
}
