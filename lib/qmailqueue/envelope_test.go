package qmailqueue

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func code(err error) int {
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	if err == nil {
		return 0
	}
	return -100
}

func TestReadEnvelopeChecksAsQmailQueue(t *testing.T) {
	a1002 := strings.Repeat("a", 1002)
	a1003 := strings.Repeat("a", 1003)
	cases := []struct {
		name, in string
		code     int
		from     string
		to       []string
	}{
		{"normal", "Falice@example.net\x00Tbob@example.org\x00Tcarol@example.org\x00\x00", 0, "alice@example.net", []string{"bob@example.org", "carol@example.org"}},
		{"null sender", "F\x00Tbob@example.org\x00\x00", 0, "", []string{"bob@example.org"}},
		{"no recipients", "Fa@b\x00\x00", 0, "a@b", nil},
		{"empty input", "", 54, "", nil},
		{"no final NUL", "Fa@b\x00Tc@d\x00", 54, "", nil},
		{"eof in address", "Fa@b", 54, "", nil},
		{"first byte not F", "Ta@b\x00\x00", 91, "", nil},
		{"later entry not T", "Fa@b\x00Xc@d\x00\x00", 91, "", nil},
		{"sender 1002 bytes", "F" + a1002 + "\x00\x00", 0, a1002, nil},
		{"sender 1003 bytes", "F" + a1003 + "\x00\x00", 11, "", nil},
		{"recipient 1003 bytes", "Fa\x00T" + a1003 + "\x00\x00", 11, "", nil},
		{"trailing junk ignored", "Fa\x00\x00junk", 0, "a", nil},
	}
	for _, c := range cases {
		from, to, err := ReadEnvelope(bytes.NewReader([]byte(c.in)))
		if code(err) != c.code {
			t.Errorf("%s: exit %d, want %d", c.name, code(err), c.code)
			continue
		}
		if err == nil && (from != c.from || !reflect.DeepEqual(to, c.to)) {
			t.Errorf("%s: got %q %q, want %q %q", c.name, from, to, c.from, c.to)
		}
	}
}

func TestAppendEnvelopeIsQmailQueueProtocol(t *testing.T) {
	got := string(AppendEnvelope(nil, "alice@example.net", []string{"bob@example.org", "carol@example.org"}))
	want := "Falice@example.net\x00Tbob@example.org\x00Tcarol@example.org\x00\x00"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := string(AppendEnvelope(nil, "", nil)); got != "F\x00\x00" {
		t.Errorf("null sender, no rcpt: got %q", got)
	}
}

func TestCheckEnvelopeCutsAtNULAsThePipeWould(t *testing.T) {
	from, to, err := checkEnvelope("a@b", []string{"c@d", "e@f"})
	if err != nil || from != "a@b" || len(to) != 2 {
		t.Fatalf("clean envelope changed: %q %q %v", from, to, err)
	}
	if _, _, err := checkEnvelope("a\x00b", nil); code(err) != 91 {
		t.Errorf("NUL in sender: exit %d, want 91 (the next entry starts with b)", code(err))
	}
	if _, _, err := checkEnvelope(strings.Repeat("x", 1003), nil); code(err) != 11 {
		t.Errorf("long sender: exit %d, want 11", code(err))
	}
	if _, _, err := checkEnvelope("a", []string{strings.Repeat("x", 5000)}); code(err) != 11 {
		t.Errorf("long rcpt: exit %d, want 11", code(err))
	}
}

func FuzzReadEnvelope(f *testing.F) {
	f.Add([]byte("Falice@example.net\x00Tbob@example.org\x00\x00"))
	f.Add([]byte("F\x00\x00"))
	f.Add([]byte("Fa\x00Xb\x00\x00"))
	f.Fuzz(func(t *testing.T, in []byte) {
		from, to, err := ReadEnvelope(bytes.NewReader(in))
		if err != nil {
			if c := code(err); c != 11 && c != 54 && c != 91 {
				t.Fatalf("unexpected exit %d", c)
			}
			return
		}
		// What was read re-encodes to a prefix of the input.
		out := AppendEnvelope(nil, from, to)
		if !bytes.HasPrefix(in, out) {
			t.Fatalf("re-encoded %q is not a prefix of %q", out, in)
		}
	})
}
