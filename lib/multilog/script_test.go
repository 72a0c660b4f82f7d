package multilog

import (
	"strings"
	"testing"
)

func TestMatchFollowsOriginalStarRule(t *testing.T) {
	cases := []struct {
		pat, line string
		want      bool
	}{
		{"hello", "hello", true},
		{"hello", "hello!", false},
		{"hello", "hell", false},
		{"*", "", true},
		{"*", "anything", true},
		{"*a*", "xxaxx", true},
		{"*a*", "xxxx", false},
		{"named[*]: Cleaned cache *", "named[135]: Cleaned cache of 3 RRs", true},
		{"named[*]: Cleaned cache *", "named[1]5]: Cleaned cache x", false}, // * stops at the first ]
		{"* fatal: *", "@400000006b04207d0097a25c fatal: y", true},
		{"* fatal: *", "@400000006b04207d0097a25c x fatal: y", false}, // * stops at the first space
		{"*END", "aEND", true},
		{"*END", "aENDxEND", false}, // * skips only to the first E
		{"a*", "a", true},
		{"**", "x*y", true},
		{"", "", true},
		{"", "x", false},
	}
	for _, c := range cases {
		if got := Match(c.pat, []byte(c.line)); got != c.want {
			t.Errorf("Match(%q, %q) = %v", c.pat, c.line, got)
		}
	}
}

func TestParseAppliesSettingsToLaterDirsOnly(t *testing.T) {
	s := Parse([]string{"./a", "s100", "n1", "!p", "./b", "s99999999", "nx", "!", "/c", "t", "T", "N5", "", "e", "=st", "-x", "+y"})
	if s.Timestamp {
		t.Error("t not first turned timestamps on")
	}
	want := []DirSpec{
		{Name: "./a", Size: 99999, Num: 10},
		{Name: "./b", Size: 4096, Num: 2, HasProcessor: true, Processor: "p"},
		{Name: "/c", Size: 16777215, Num: 2, HasProcessor: true, Processor: ""},
	}
	if len(s.Dirs) != len(want) {
		t.Fatalf("dirs %+v", s.Dirs)
	}
	for i := range want {
		if s.Dirs[i] != want[i] {
			t.Errorf("dir %d = %+v, want %+v", i, s.Dirs[i], want[i])
		}
	}
	var kinds []string
	for _, a := range s.Actions {
		kinds = append(kinds, string(a.Kind)+a.Arg)
	}
	if got := strings.Join(kinds, " "); got != "../a ../b ./c e =st -x +y" {
		t.Errorf("actions %q", got)
	}
	if !Parse([]string{"tanything", "./d"}).Timestamp {
		t.Error("first argument t... must turn timestamps on")
	}
}

func FuzzParseScript(f *testing.F) {
	f.Add("t\x00-*\x00+* fatal: *\x00./main", "@400000006b04207d0097a25c x fatal: y")
	f.Add("-named[*]: Cleaned cache *\x00./d", "named[135]: Cleaned cache of 3 RRs")
	f.Add("s100\x00n3\x00!tr a-z A-Z\x00e\x00=st\x00./d\x00/x", "hello")
	f.Add("+*a*\x00**\x00-*\x00*", "xx*yy")
	f.Fuzz(func(t *testing.T, script, line string) {
		args := strings.Split(script, "\x00")
		s := Parse(args)
		for _, d := range s.Dirs {
			if d.Size < MinSize || d.Size > MaxSize || d.Num < MinNum {
				t.Fatalf("bad settings %+v", d)
			}
			if d.Name == "" || (d.Name[0] != '.' && d.Name[0] != '/') {
				t.Fatalf("bad dir %q", d.Name)
			}
		}
		for _, a := range s.Actions {
			m := Match(a.Arg, []byte(line))
			if a.Arg == "*" && !m {
				t.Fatal("* must match everything")
			}
			if !strings.Contains(a.Arg, "*") && m != (a.Arg == line) {
				t.Fatalf("literal %q vs %q: %v", a.Arg, line, m)
			}
		}
	})
}
