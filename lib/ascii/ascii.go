// Package ascii folds case the way djb's case_* functions and qmail's
// constmap do: A-Z and nothing else. The standard library's folding knows
// Unicode ("ſ" is "s", "K" is "k"), which would let "rſet" act as RSET or
// two different domains compare equal.
package ascii

// Lower is c with A-Z made a-z.
func Lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// LowerInPlace lowers every A-Z of b and returns b.
func LowerInPlace(b []byte) []byte {
	for i, c := range b {
		b[i] = Lower(c)
	}
	return b
}

// EqualFold reports whether a and b are equal ignoring A-Z case only.
func EqualFold[A, B string | []byte](a A, b B) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if Lower(a[i]) != Lower(b[i]) {
			return false
		}
	}
	return true
}
