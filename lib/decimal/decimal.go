// Package decimal reads unsigned decimal numbers as djb's scan_ulong does:
// the leading digits and nothing else, no sign, no spaces, no base prefix.
package decimal

// Scan reads the leading decimal digits of s: their value (modulo 2^64,
// as C's unsigned long wraps), how many bytes they take, and whether the
// value wrapped. No digit at all gives 0, 0, false.
func Scan[T string | []byte](s T) (n uint64, digits int, wrapped bool) {
	for ; digits < len(s); digits++ {
		c := s[digits]
		if c < '0' || c > '9' {
			break
		}
		d := uint64(c - '0')
		if n > (^uint64(0)-d)/10 {
			wrapped = true
		}
		n = n*10 + d
	}
	return n, digits, wrapped
}

// Ulong is scan_ulong's value: the leading digits of s, 0 when there are
// none, wrapping on overflow.
func Ulong[T string | []byte](s T) uint64 {
	n, _, _ := Scan(s)
	return n
}

// UlongLen is Ulong that also reports how many bytes were digits.
func UlongLen[T string | []byte](s T) (uint64, int) {
	n, k, _ := Scan(s)
	return n, k
}

// All reads s as a number that must be digits only (tcprules' getnum,
// softlimit's values): ok is false for any other byte; "" is 0.
func All[T string | []byte](s T) (n uint64, ok bool) {
	n, k, _ := Scan(s)
	return n, k == len(s)
}
