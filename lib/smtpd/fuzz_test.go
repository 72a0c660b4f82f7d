package smtpd

import (
	"bufio"
	"bytes"
	"io"
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

// FuzzReadLine checks the command-line reader against a plain split on LF
// with a read buffer of 16 bytes, so that lines span many buffer fills:
// each line loses its LF and one CR before it, a line over MaxLine is
// reported too long (the cap leaves room for that CR), and the bytes of
// every other line come back unchanged.
func FuzzReadLine(f *testing.F) {
	f.Add([]byte("NOOP\r\nx\n\r\n"), uint8(10))
	f.Add([]byte("0123456789abcdef0123456789\r\nshort\r\n0123456789abcdef0\r\r\n"), uint8(17))
	f.Add([]byte(strings.Repeat("y", 100)+"\n"+strings.Repeat("z", 40)+"\r\n"), uint8(40))
	f.Fuzz(func(t *testing.T, in []byte, max uint8) {
		m := int(max) + 1
		s := &session{cfg: &Config{MaxLine: m}, r: bytes.NewReader(in)}
		s.bw = bufio.NewWriter(io.Discard)
		s.br = bufio.NewReaderSize(connReader{s}, 16)
		var got []string
		func() {
			defer func() {
				if e := recover(); e != nil {
					if _, ok := e.(exitCode); !ok {
						panic(e)
					}
				}
			}()
			for {
				line, tooLong := s.readLine()
				if tooLong {
					got = append(got, "TOOLONG")
				} else {
					got = append(got, "="+string(line))
				}
			}
		}()
		var want []string
		rest := in
		for {
			i := bytes.IndexByte(rest, '\n')
			if i < 0 {
				break
			}
			raw := rest[:i]
			rest = rest[i+1:]
			l := raw
			if n := len(l); n > 0 && l[n-1] == '\r' {
				l = l[:n-1]
			}
			if len(raw) > m+1 || len(l) > m {
				want = append(want, "TOOLONG")
			} else {
				want = append(want, "="+string(l))
			}
		}
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Fatalf("max %d: got %q, want %q", m, got, want)
		}
	})
}
