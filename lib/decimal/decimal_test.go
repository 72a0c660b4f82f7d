package decimal

import "testing"

func TestScanReadsLeadingDigitsAndWrapsAsUnsignedLong(t *testing.T) {
	for _, c := range []struct {
		s       string
		n       uint64
		digits  int
		wrapped bool
	}{
		{"", 0, 0, false},
		{"x1", 0, 0, false},
		{"1200abc", 1200, 4, false},
		{"007", 7, 3, false},
		{"-1", 0, 0, false},
		{"18446744073709551615", 1<<64 - 1, 20, false},
		{"18446744073709551616", 0, 20, true},
		{"99999999999999999999999", 99999999999999999999999 % (1 << 64), 23, true},
	} {
		n, k, w := Scan(c.s)
		if n != c.n || k != c.digits || w != c.wrapped {
			t.Errorf("Scan(%q) = %d, %d, %v; want %d, %d, %v", c.s, n, k, w, c.n, c.digits, c.wrapped)
		}
		if n2, k2, w2 := Scan([]byte(c.s)); n2 != n || k2 != k || w2 != w {
			t.Errorf("Scan([]byte(%q)) differs from the string form", c.s)
		}
	}
}

func TestAllRefusesAnyOtherByte(t *testing.T) {
	for s, ok := range map[string]bool{"": true, "123": true, "12 ": false, "9x": false, " 1": false} {
		if _, got := All(s); got != ok {
			t.Errorf("All(%q) ok = %v", s, got)
		}
	}
}

func TestUlongStopsAtFirstNonDigit(t *testing.T) {
	for s, n := range map[string]uint64{"40": 40, "12abc": 12, "abc": 0, "": 0} {
		if Ulong(s) != n {
			t.Fatalf("%q: %d", s, Ulong(s))
		}
	}
}
