package rbl

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestReverseMatchesRblsmtpdQuirks(t *testing.T) {
	for in, want := range map[string]string{
		"1.2.3.4": "4.3.2.1.", "": "", ".1": "1.", "a..b": "b..a.", "1.2.3.4.": ".4.3.2.1.",
		"::ffff:1.2.3.4": "4.3.2.1.", "2001:db8::1": "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.",
		"fe80::1%eth0": "fe80::1%eth0.", "::1": "1." + strings.Repeat("0.", 31),
	} {
		if got := Reverse(in); got != want {
			t.Errorf("Reverse(%q) = %q; want %q", in, got, want)
		}
	}
}

func fake(c *Checker, txt map[string]string, a map[string]bool, fail bool) *Checker {
	c.TXT = func(n string) (string, error) {
		if fail {
			return "", errors.New("down")
		}
		return txt[n], nil
	}
	c.IP4 = func(n string) ([][4]byte, error) {
		if fail {
			return nil, errors.New("down")
		}
		if a[n] {
			return [][4]byte{{127, 0, 0, 2}}, nil
		}
		return nil, nil
	}
	return c
}

func TestDecisionsFollowOptionOrder(t *testing.T) {
	txt := map[string]string{"4.3.2.1.rbl.test": "listed"}
	c := fake(New("1.2.3.4", "", false), txt, nil, false)
	c.RBL("rbl.test")
	c.Bounce = true
	if !c.Blocked() || c.Message() != "451 listed" {
		t.Errorf("-r then -b: %v %q", c.Blocked(), c.Message())
	}
	c = fake(New("1.2.3.4", "", false), txt, nil, false)
	c.Bounce = true
	c.RBL("rbl.test")
	if c.Message() != "553 listed" {
		t.Errorf("-b then -r: %q", c.Message())
	}
	c = fake(New("1.2.3.4", "", false), txt, map[string]bool{"4.3.2.1.anti.test": true}, false)
	c.AntiRBL("anti.test")
	c.RBL("rbl.test")
	if c.Blocked() {
		t.Error("-a hit did not accept")
	}
	c = fake(New("1.2.3.4", "", true), txt, nil, false)
	c.RBL("rbl.test")
	if c.Blocked() {
		t.Error("RBLSMTPD= (empty) did not accept")
	}
}

func TestLookupFailureClosedOrOpen(t *testing.T) {
	c := fake(New("1.2.3.4", "", false), nil, nil, true)
	c.FailClosed = true
	c.RBL("rbl.test")
	if c.Message() != "451 temporary RBL lookup error" {
		t.Errorf("-c: %q", c.Message())
	}
	c = fake(New("1.2.3.4", "", false), nil, nil, true)
	c.RBL("rbl.test")
	if c.Blocked() {
		t.Error("-C blocked")
	}
	// A failed lookup forbids 553 later on.
	c = fake(New("1.2.3.4", "", false), map[string]string{"4.3.2.1.b.test": "x"}, nil, false)
	failing := c.TXT
	c.TXT = func(n string) (string, error) {
		if n == "4.3.2.1.a.test" {
			return "", errors.New("down")
		}
		return failing(n)
	}
	c.Bounce = true
	c.RBL("a.test")
	c.RBL("b.test")
	if c.Message() != "451 x" {
		t.Errorf("mustnotbounce: %q", c.Message())
	}
}

func TestMessageIsCutAt200AndMasked(t *testing.T) {
	c := New("", "-"+strings.Repeat("é", 150), true)
	m := c.Message()
	if len(m) != 204 || m[:5] != "553 ?" {
		t.Errorf("message %d %q", len(m), m[:10])
	}
}

func TestConversationRepliesByteForByte(t *testing.T) {
	in := "HELO x\r\nMAIL FROM:<a>\r\nRCPT TO:<b>\r\nDATA\r\nfoo\r\nnoop\r\nEHLO y\nrset\nquit\x00\r\nQuIt now\r\nafter\r\n"
	var out bytes.Buffer
	Converse(strings.NewReader(in), &out, "451 no")
	want := "220 rblsmtpd.local\r\n" + strings.Repeat("250 rblsmtpd.local\r\n", 2) + strings.Repeat("451 no\r\n", 3) +
		strings.Repeat("250 rblsmtpd.local\r\n", 3) + "451 no\r\n" + "221 rblsmtpd.local\r\n"
	if out.String() != want {
		t.Errorf("got %q\nwant %q", out.String(), want)
	}
}

func TestConversationEndsQuietlyOnPartialLineAndCutsLongLines(t *testing.T) {
	var out bytes.Buffer
	Converse(strings.NewReader(strings.Repeat("x", 5000)+"\nquit"), &out, "451 no")
	if out.String() != "220 rblsmtpd.local\r\n451 no\r\n" {
		t.Errorf("got %q", out.String())
	}
}

func FuzzConverse(f *testing.F) {
	f.Add([]byte("HELO x\r\nDATA\r\nquit\r\n"))
	f.Add([]byte("\x00quit\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		Converse(bytes.NewReader(in), &out, "451 no")
		if !bytes.HasPrefix(out.Bytes(), []byte(greeting)) {
			t.Fatal("no greeting")
		}
		if lines := bytes.Count(out.Bytes(), []byte("\n")); lines > bytes.Count(in, []byte("\n"))+1 {
			t.Fatalf("%d replies for %d lines", lines, bytes.Count(in, []byte("\n")))
		}
	})
}
