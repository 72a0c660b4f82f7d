package smtpd

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzSession drives a whole session with arbitrary client bytes: it must
// never panic, always end with status 0 or 1, send only well-formed reply
// lines, and never queue more messages than DATA commands that got 354.
func FuzzSession(f *testing.F) {
	f.Add([]byte("EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n"))
	f.Add([]byte("MAIL FROM:<a@b>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nx\r\n\r.\r\nMAIL FROM:<evil@x>\r\n.\r\n"))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	f.Add([]byte("NOOP\x00junk\nRSET\r\nVRFY\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		q := &fakeQueue{}
		cfg := testConfig(q)
		cfg.MaxLine = 4096
		cfg.Databytes = 1000
		var out bytes.Buffer
		code := Serve(cfg, bytes.NewReader(in), &out)
		if code != 0 && code != 1 {
			t.Fatalf("exit %d", code)
		}
		s := out.String()
		if !strings.HasSuffix(s, "\r\n") {
			t.Fatalf("output does not end in CRLF: %q", s)
		}
		for _, l := range strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n") {
			if len(l) < 4 || l[0] < '2' || l[0] > '5' || (l[3] != ' ' && l[3] != '-') {
				t.Fatalf("bad reply line %q", l)
			}
		}
		if n := len(q.committed()); n > strings.Count(s, "354 go ahead") {
			t.Fatalf("%d messages for %d DATA", n, strings.Count(s, "354 go ahead"))
		}
		for _, m := range q.committed() {
			if len(m.to) == 0 {
				t.Fatal("message without recipients")
			}
		}
	})
}

// FuzzParseAddr checks the address parser on arbitrary arguments.
func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"FROM:<a@b>", "TO:<@r1,@r2:u@d>", `TO:<"x y"@d>`, `<a\>b@x>`, "FROM: a@b SIZE=10",
		"alice@x", "TO:<u@[127.0.0.1]>", `<"a>b"@x> BODY=8BITMIME`, "@", "<@", `\`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, arg []byte) {
		addr, rest := ParseAddr(arg)
		if len(addr) > len(arg) {
			t.Fatalf("address %q longer than argument %q", addr, arg)
		}
		if len(rest) > 0 && !bytes.HasSuffix(arg, rest) {
			t.Fatalf("rest %q is not a suffix of %q", rest, arg)
		}
		if at, _, ok := localIPDomain(addr); ok && (at == 0 || addr[at-1] != '@' || addr[len(addr)-1] != ']') {
			t.Fatalf("bad literal position in %q", addr)
		}
	})
}
