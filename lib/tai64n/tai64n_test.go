package tai64n

import (
	"testing"
	"time"
)

func TestStatusBytesMatchDaemontools(t *testing.T) {
	// spec §1.9: Unix 1795432451 is 40 00 00 00 6b 04 20 0d
	b := PackTAI64(1795432451)
	want := [8]byte{0x40, 0, 0, 0, 0x6b, 0x04, 0x20, 0x0d}
	if b != want {
		t.Fatalf("got % x", b)
	}
	if UnpackTAI64(b) != 1795432451 {
		t.Fatal("round trip")
	}
}

func TestLabelTextRoundTrip(t *testing.T) {
	l, n, ok := Parse([]byte("@4000000037c219bf2ef02e94 mark"))
	if !ok || n != 25 {
		t.Fatal("parse")
	}
	if l.String() != "@4000000037c219bf2ef02e94" {
		t.Fatalf("got %s", l)
	}
	got := string(FormatLocal(nil, l.Time().UTC()))
	if got != "1999-08-24 04:04:05.787492500" {
		t.Fatalf("got %s", got)
	}
}

func TestNanosecondsEndIn500(t *testing.T) {
	l := FromTime(time.Unix(100, 123456789))
	if l.Time().Nanosecond() != 123456500 {
		t.Fatalf("got %d", l.Time().Nanosecond())
	}
}

func TestParseRejectsUppercaseAndShort(t *testing.T) {
	for _, s := range []string{"@4000000037C219BF2EF02E94", "@4000", "4000000037c219bf2ef02e94x"} {
		if _, _, ok := Parse([]byte(s)); ok {
			t.Fatalf("accepted %q", s)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("@4000000037c219bf2ef02e94 mark"))
	f.Add([]byte("@"))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, n, ok := Parse(b)
		if ok && (n != 25 || string(l.AppendText(nil)) != string(b[:25])) {
			t.Fatalf("round trip %q", b)
		}
	})
}
