package rlimit

import (
	"errors"
	"runtime/debug"
	"strconv"
	"syscall"
	"testing"
)

func TestParseAcceptsDigitsOrEqualsOnly(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    uint64
		hard bool
		bad  bool
	}{
		{"=", 0, true, false}, {"", 0, false, false}, {"100", 100, false, false},
		{"18446744073709551616", 0, false, false}, // wraps as scan_ulong
		{"5x", 0, false, true}, {"==", 0, false, true}, {"-1", 0, false, true}, {" 1", 0, false, true},
	} {
		n, hard, err := Parse(c.in)
		if (err != nil) != c.bad || n != c.n || hard != c.hard {
			t.Errorf("Parse(%q) = %d %v %v", c.in, n, hard, err)
		}
		if c.bad && !errors.Is(err, ErrBadValue) {
			t.Errorf("Parse(%q) error %v is not ErrBadValue", c.in, err)
		}
	}
}

func TestSetCapsTheSoftLimitAtTheHardLimit(t *testing.T) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_CORE, &r); err != nil {
		t.Fatal(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_CORE, &r)
	if err := Set(syscall.RLIMIT_CORE, "0"); err != nil {
		t.Fatal(err)
	}
	var got syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_CORE, &got)
	if got.Cur != 0 || got.Max != r.Max {
		t.Errorf("after 0: %+v (hard was %d)", got, r.Max)
	}
	if r.Max != ^uint64(0) {
		Set(syscall.RLIMIT_CORE, strconv.FormatUint(r.Max+1, 10))
		syscall.Getrlimit(syscall.RLIMIT_CORE, &got)
		if got.Cur != r.Max {
			t.Errorf("above the hard limit: soft %d, want %d", got.Cur, r.Max)
		}
	}
	Set(syscall.RLIMIT_CORE, "=")
	syscall.Getrlimit(syscall.RLIMIT_CORE, &got)
	if got.Cur != r.Max {
		t.Errorf("=: soft %d, want %d", got.Cur, r.Max)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"=", "", "123", "9x", "99999999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, hard, err := Parse(s)
		if hard && (s != "=" || err != nil) {
			t.Fatalf("%q taken as the hard limit", s)
		}
		if err == nil && !hard {
			for i := 0; i < len(s); i++ {
				if s[i] < '0' || s[i] > '9' {
					t.Fatalf("%q accepted", s)
				}
			}
			if v, perr := strconv.ParseUint(s, 10, 64); perr == nil && v != n {
				t.Fatalf("%q parsed as %d", s, n)
			}
		}
	})
}

// Once softlimit has lowered its limits the Go runtime may not be able to
// map more memory, so applying options and running the child must not
// allocate (an allocation that needs a new span then kills the program).
func TestLimiterAppliesAndExecsWithoutAllocating(t *testing.T) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_CORE, &r); err != nil {
		t.Fatal(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_CORE, &r)
	dir := t.TempDir()
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	l, err := NewLimiter([]string{"nosuchprogram"}, []string{"PATH=" + dir + "::/nonexistent"})
	if err != nil {
		t.Fatal(err)
	}
	var op string
	var errno syscall.Errno
	allocs := testing.AllocsPerRun(20, func() {
		op, err = l.Apply('c', "0")
		errno = l.Exec()
		l.Restore()
	})
	if allocs != 0 {
		t.Errorf("%v allocations", allocs)
	}
	if op != "" || err != nil || errno != syscall.ENOENT {
		t.Errorf("Apply: %q %v; Exec: %v", op, err, errno)
	}
	if _, err := l.Apply('c', "x"); err != ErrBadValue {
		t.Errorf("bad value: %v", err)
	}
}
