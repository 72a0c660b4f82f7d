package ascii

import "testing"

func TestEqualFoldFoldsOnlyAToZ(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"RSET", "rset", true},
		{"rſet", "rset", false}, // U+017F folds to s in Unicode, not here
		{"Kelvin", "kelvin", true},
		{"\u212aelvin", "kelvin", false},
		{"[", "{", false}, // '[' + 32 is '{': only letters fold
		{"", "", true},
		{"a", "ab", false},
	} {
		if got := EqualFold(c.a, []byte(c.b)); got != c.want {
			t.Errorf("EqualFold(%q, %q) = %v", c.a, c.b, got)
		}
		if got := EqualFold(c.a, c.b); got != c.want {
			t.Errorf("EqualFold strings (%q, %q) = %v", c.a, c.b, got)
		}
	}
}

func TestLowerInPlaceLeavesAllButAToZ(t *testing.T) {
	b := []byte("AZaz@[`{\xc0\xdd09")
	if got := string(LowerInPlace(b)); got != "azaz@[`{\xc0\xdd09" {
		t.Errorf("%q", got)
	}
}
