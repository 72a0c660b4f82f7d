package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func convert(in []byte, chunk int) string {
	f := newFilter(time.UTC)
	for len(in) > 0 {
		n := chunk
		if n > len(in) || n <= 0 {
			n = len(in)
		}
		f.Write(in[:n])
		in = in[n:]
	}
	return string(f.out)
}

func TestFilterConvertsLabelsAtLineStartsOnly(t *testing.T) {
	for in, want := range map[string]string{
		"@4000000037c219bf2ef02e94 mark\n":   "1999-08-24 04:04:05.787492500 mark\n",
		"@4000000037c219bf2ef02e94x":         "1999-08-24 04:04:05.787492500x",
		"plain @4000000037c219bf2ef02e94\n":  "plain @4000000037c219bf2ef02e94\n",
		"@4000000037c219bf2ef02e94\n@\n":     "1999-08-24 04:04:05.787492500\n@\n",
		"@40000000000000003b9aca00 big\n":    "1969-12-31 23:59:50.1000000000 big\n",
		"@4000000037C219BF2EF02E94 upper\n":  "@4000000037C219BF2EF02E94 upper\n",
		"@400000003 short\n":                 "@400000003 short\n",
		"@4000000037c219bf2ef02e94":          "", // cut short by end of input
		"@04000000037c219bf2ef02e94 zero\n":  "1999-08-24 04:04:05.787492500 zero\n",
		"\n\n":                               "\n\n",
		"@4000000037c219bf2ef02e94\t\n@4000": "1999-08-24 04:04:05.787492500\t\n",
	} {
		if got := convert([]byte(in), 0); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

func TestFilterOutputDoesNotDependOnHowInputIsSplit(t *testing.T) {
	in := []byte("@4000000037c219bf2ef02e94 mark\nplain\n@4000000037c219bf2ef02e95x\n@zz\n@4000000037c219bf2ef02e94\n")
	want := convert(in, 0)
	for chunk := 1; chunk < len(in); chunk++ {
		if got := convert(in, chunk); got != want {
			t.Fatalf("chunks of %d: %q, want %q", chunk, got, want)
		}
	}
}

func TestRuleStringZonesMatchGlibcBefore1970(t *testing.T) {
	t.Setenv("TZ", "AAA-10BBB,M10.1.0,M4.1.0/3")
	loc := localZone()
	// Southern rule: glibc puts every moment before 1970 in daylight time.
	if _, off := time.Date(1950, 6, 1, 0, 0, 0, 0, time.UTC).In(loc).Zone(); off != 11*3600 {
		t.Errorf("1950 offset %d, want daylight +11h", off)
	}
	if _, off := time.Date(1990, 6, 1, 0, 0, 0, 0, time.UTC).In(loc).Zone(); off != 10*3600 {
		t.Errorf("1990 June offset %d, want standard +10h", off)
	}
}

func FuzzFilter(f *testing.F) {
	for _, s := range []string{"@4000000037c219bf2ef02e94 mark\n", "@\n", "x\n@4000", "@40000000000000003b9aca00\n",
		"@ffffffffffffffffffffffffffffffff\n", "@3fffffd6c9e9c6200601cba3 x\n"} {
		f.Add([]byte(s), 3)
	}
	f.Fuzz(func(t *testing.T, in []byte, chunk int) {
		whole := convert(in, 0)
		if got := convert(in, chunk%64); got != whole {
			t.Fatalf("split output %q differs from %q", got, whole)
		}
		// Lines that do not start with "@" pass through unchanged.
		lines := strings.SplitAfter(string(in), "\n")
		outLines := strings.SplitAfter(whole, "\n")
		for i, l := range lines {
			if l != "" && l[0] != '@' && i < len(outLines) && outLines[i] != l {
				t.Fatalf("line %q became %q", l, outLines[i])
			}
		}
		if bytes.Count(in, []byte("\n")) != strings.Count(whole, "\n") {
			t.Fatalf("line count changed: %q -> %q", in, whole)
		}
	})
}
