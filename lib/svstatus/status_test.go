package svstatus

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"

	"tinymx/lib/tai64n"
)

func TestEncodeMatchesObservedDaemontoolsRecord(t *testing.T) {
	// Captured from Debian's supervise: up, pid 12368, want up.
	want := []byte{0x40, 0, 0, 0, 0x6b, 0x04, 0x20, 0x0d, 0x2a, 0xeb, 0x5b, 0xac, 0x50, 0x30, 0, 0, 0, 0x75}
	s, err := Decode(want)
	if err != nil {
		t.Fatal(err)
	}
	if s.Pid != 12368 || s.Want != WantUp || s.Paused != 0 {
		t.Fatalf("decoded %+v", s)
	}
	got := s.Encode()
	if !bytes.Equal(got[:], want) {
		t.Fatalf("encode % x, want % x", got, want)
	}
}

func TestDecodeShortRecordIsBadFormat(t *testing.T) {
	if _, err := Decode(make([]byte, 17)); err != ErrBadFormat {
		t.Fatalf("err = %v", err)
	}
	if _, err := Decode(make([]byte, 30)); err != nil {
		t.Fatalf("extra bytes must be ignored: %v", err)
	}
}

func label(sec uint64) tai64n.Label {
	var l tai64n.Label
	binary.BigEndian.PutUint64(l[:8], sec)
	return l
}

func TestFormatWordsInSvstatOrder(t *testing.T) {
	now := tai64n.Base + 1000
	cases := []struct {
		s          Status
		normallyUp bool
		want       string
	}{
		{Status{When: label(now - 2), Pid: 12368, Want: 'u'}, true, "up (pid 12368) 2 seconds"},
		{Status{When: label(now - 7), Pid: 12368, Paused: 1, Want: 'u'}, true, "up (pid 12368) 7 seconds, paused"},
		{Status{When: label(now - 2), Pid: 14858, Paused: 5, Want: 'd'}, false, "up (pid 14858) 2 seconds, normally down, paused, want down"},
		{Status{When: label(now), Want: 'd'}, true, "down 0 seconds, normally up"},
		{Status{When: label(now - 8), Want: 'u'}, true, "down 8 seconds, normally up, want up"},
		{Status{When: label(now - 1), Want: 'd'}, false, "down 1 seconds"},
		{Status{When: label(now + 50), Pid: 4294967295, Want: 0}, true, "up (pid 4294967295) 0 seconds"},
		{Status{Want: 'x'}, false, "down 4611686018427388928 seconds"},
	}
	for _, c := range cases {
		if got := string(Format(nil, c.s, c.normallyUp, now)); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

func TestAllZeroRecordRoundsThroughDouble(t *testing.T) {
	// Debian's svstat printed this for an all-zero record at Unix 1795439529.
	now := tai64n.Base + 1795439529
	got := string(Format(nil, Status{}, false, now))
	if got != "down 4611686020222827520 seconds" {
		t.Fatalf("got %q", got)
	}
}

func TestWriteReplacesStatusAtomically(t *testing.T) {
	dir := t.TempDir()
	old, _ := os.Getwd()
	defer os.Chdir(old)
	os.Chdir(dir)
	os.Mkdir("supervise", 0700)
	s := Status{When: tai64n.Now(), Pid: 77, Want: WantDown}
	if err := Write(s); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(StatusPath)
	if err != nil || len(b) != Size {
		t.Fatalf("status %q %v", b, err)
	}
	if _, err := os.Stat(StatusNew); !os.IsNotExist(err) {
		t.Fatalf("status.new left behind: %v", err)
	}
	got, _ := Decode(b)
	if got != s {
		t.Fatalf("got %+v want %+v", got, s)
	}
}

func TestCommandsKeepFirstAppearanceOrder(t *testing.T) {
	if got := string(Commands([]byte("udxuht"))); got != "udxht" {
		t.Fatalf("got %q", got)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(make([]byte, 18))
	f.Add([]byte{0x40, 0, 0, 0, 0x6b, 0x04, 0x20, 0x0d, 0x2a, 0xeb, 0x5b, 0xac, 0x50, 0x30, 0, 0, 0, 0x75})
	f.Add([]byte("short"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Decode(b)
		if err != nil {
			if len(b) >= Size {
				t.Fatalf("rejected %d bytes", len(b))
			}
			return
		}
		e := s.Encode()
		if !bytes.Equal(e[:], b[:Size]) {
			t.Fatalf("round trip % x -> % x", b[:Size], e)
		}
		Format(nil, s, len(b)%2 == 0, tai64n.Base+uint64(len(b)))
	})
}
