package relay

import (
	"strings"
	"testing"
)

type lines []string

func (l *lines) Write(p []byte) (int, error) {
	*l = append(*l, string(p))
	return len(p), nil
}

func TestWriteRecordOneLinePerPieceOneWriteEach(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"hello\nwor", []string{"42 < hello \n", "42 < wor+\n"}},
		{"a\n", []string{"42 < a \n"}},
		{"\n\n", []string{"42 <  \n", "42 <  \n"}},
		{"x", []string{"42 < x+\n"}},
	}
	for _, c := range cases {
		var got lines
		writeRecord(&got, "42", []byte(c.in), " < ")
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%q: got %q want %q", c.in, got, c.want)
		}
	}
	var got lines
	writeRecord(&got, "7", nil, " > ")
	if len(got) != 1 || got[0] != "7 > [EOF]\n" {
		t.Errorf("EOF: %q", got)
	}
}
