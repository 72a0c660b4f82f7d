package smtpd

import "testing"

func TestParseAddrTable(t *testing.T) {
	cases := []struct{ arg, addr, rest string }{
		{"FROM:<Alice@Example.NET>", "Alice@Example.NET", ""},
		{"FROM: <a@b>", "a@b", ""},
		{"FROM:a@b", "a@b", ""},
		{"FROM: a@b SIZE=10", "a@b", "SIZE=10"},
		{"FROM:<>", "", ""},
		{"TO:<@r1,@r2:u@d>", "u@d", ""},
		{`TO:<"x y"@d>`, "x y@d", ""},
		{"TO:<postmaster>", "postmaster", ""},
		{"TO:<u@d", "u@d", ""},
		{"alice@x", "", ""},
		{`<a\>b@x>`, "a>b@x", ""},
		{`<"a>b"@x> SIZE=5`, "a>b@x", " SIZE=5"},
		{"TO:<@nocolon>", "", ""},
		{"MAIL TO:<a@b>", "a@b", ""},
		{"<a@b> x", "a@b", " x"},
	}
	for _, c := range cases {
		addr, rest := ParseAddr([]byte(c.arg))
		if string(addr) != c.addr || string(rest) != c.rest {
			t.Errorf("%q: %q %q, want %q %q", c.arg, addr, rest, c.addr, c.rest)
		}
	}
}

func TestBracketIPv4(t *testing.T) {
	for s, ok := range map[string]bool{"[1.2.3.4]": true, "[001.2.3.4]": true, "[1.2.3]": false, "[1.2.3.4.5]": false,
		"[1.2.3.256]": false, "[1..3.4]": false, "1.2.3.4": false, "[1.2.3.4]x": false, "[a.b.c.d]": false} {
		if _, got := bracketIPv4([]byte(s)); got != ok {
			t.Errorf("%q: %v", s, got)
		}
	}
}
