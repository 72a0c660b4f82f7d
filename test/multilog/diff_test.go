package multilog_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tinymx/test/harness"
)

func TestMultilogRotatesAtSameBoundariesAsC(t *testing.T) {
	t.Parallel()
	for seed := int64(1); seed <= 4; seed++ {
		for _, args := range [][]string{
			{"s4096", "n1000", "./d"},
			{"t", "s5000", "n1000", "./d"},
			{"s6000", "n1000", "./d"},
			{"s", "n1000", "./d"},              // s alone is 4096
			{"s99999999", "t", "./d"},          // clamped to 16777215; a late t is ignored
			{"s4096x", "n1000", "./d", "./d2"}, // trailing garbage ignored; two directories
		} {
			in := randomLog(seed, 160)
			c, g := both(t, in, args...)
			sameExit(t, c, g)
			sameDir(t, c, g, "d")
			if args[len(args)-1] == "./d2" {
				sameDir(t, c, g, "d2")
			}
		}
	}
}

func TestMultilogForcesRotationMidLineAtSize(t *testing.T) {
	t.Parallel()
	// s100 is clamped to 4096; 20001 bytes without a newline: four full
	// files, one of 3617 bytes and an empty current.
	c, g := both(t, bytes.Repeat([]byte("x"), 20001), "s100", "./d")
	sameExit(t, c, g)
	sameDir(t, c, g, "d")
	l := listing(t, filepath.Join(g.root, "d"))
	// the missing final newline is added: 20002 bytes
	if fmt.Sprint(l[:6]) != "[{@S 484 4096} {@S 484 4096} {@S 484 4096} {@S 484 4096} {@S 484 3618} {current 484 0}]" {
		t.Errorf("got %v", l)
	}
}

func TestMultilogKeepsNumMinusOneOldFiles(t *testing.T) {
	t.Parallel()
	in := randomLog(7, 300)
	for _, n := range []string{"n2", "n3", "n1", "n0", "nabc", "n5"} {
		c, g := both(t, in, "s4096", n, "./d")
		sameExit(t, c, g)
		sameDir(t, c, g, "d")
	}
}

func TestMultilogSelectsAndDeselectsLikeC(t *testing.T) {
	t.Parallel()
	in := []byte("hello\nnamed[135]: Cleaned cache of 3 RRs\nabc\nxyz fatal: oops\n" +
		"a" + strings.Repeat("b", 1500) + "END\nxEND\n\nlast without newline")
	for _, script := range [][]string{
		{"+hello", "./d"},
		{"-*", "+hello", "./d"},
		{"-named[*]: Cleaned cache *", "./d"},
		{"-*", "+*a*", "./d"},
		{"-*END", "./d"},
		{"t", "-*", "+* fatal: *", "./d"},
		{"-**", "./d"},
		{"-*", "+*", "./d"},
		{"N5", "xyz", "T", "w", "./d"},
		{"-x*", "./d", "+x*", "-a*", "./d2"},
		{"s4096", "./d", "t", "./d2"},
	} {
		c, g := both(t, in, script...)
		sameExit(t, c, g)
		sameDir(t, c, g, "d")
		if _, err := os.Stat(filepath.Join(c.root, "d2")); err == nil {
			sameDir(t, c, g, "d2")
		}
	}
}

func TestMultilogAlertsOnStderrTruncatedAt200(t *testing.T) {
	t.Parallel()
	in := []byte("short\n" + strings.Repeat("y", 199) + "\n" + strings.Repeat("y", 200) + "\n" +
		strings.Repeat("z", 201) + "\n" + strings.Repeat("w", 3000) + "\nend")
	for _, script := range [][]string{{"e"}, {"t", "e"}, {"-*", "+z*", "e", "./d"}, {"e", "-short", "e"}} {
		c, g := both(t, in, script...)
		sameExit(t, c, g)
		if c.Stderr == "" {
			t.Errorf("%v: no alert from C", script)
		}
	}
}

func TestMultilogStatusFileIs1001BytesPadded(t *testing.T) {
	t.Parallel()
	in := []byte("a long first line here\nshort\n" + strings.Repeat("q", 1200) + "\nlast")
	for _, script := range [][]string{{"=st"}, {"t", "=st"}, {"-last", "=st", "-q*", "=st2"}, {"=st", "-*"}} {
		c, g := both(t, in, script...)
		sameExit(t, c, g)
		for _, f := range []string{"st", "st2"} {
			bc, errc := os.ReadFile(filepath.Join(c.root, f))
			bg, errg := os.ReadFile(filepath.Join(g.root, f))
			if (errc == nil) != (errg == nil) || !bytes.Equal(harness.Stamps.Bytes(bc), harness.Stamps.Bytes(bg)) {
				t.Errorf("%v %s: C %q / Go %q", script, f, bc, bg)
			}
			if errg == nil && len(bg) != 1001 && len(bg) != 0 {
				t.Errorf("%s is %d bytes", f, len(bg))
			}
		}
	}
}

func TestMultilogHandlesLongLinesAndMissingNewlineLikeC(t *testing.T) {
	t.Parallel()
	cases := []string{
		"",
		"no newline",
		strings.Repeat("x", 1000),
		strings.Repeat("x", 1000) + "\n",
		strings.Repeat("x", 999) + "\n" + strings.Repeat("y", 1001),
		strings.Repeat("x", 974) + "\n" + strings.Repeat("y", 975) + "\n",
		strings.Repeat("x", 5000) + "\n\n\n" + strings.Repeat("x", 100000),
		"\n\n\n",
	}
	for i, in := range cases {
		for _, script := range [][]string{{"./d"}, {"t", "./d"}, {"s4096", "t", "./d"}} {
			c, g := both(t, []byte(in), script...)
			sameExit(t, c, g)
			if t.Failed() {
				t.Fatalf("case %d %v", i, script)
			}
			sameDir(t, c, g, "d")
		}
	}
}

func TestMultilogAppendsToCleanlyClosedCurrent(t *testing.T) {
	t.Parallel()
	c, g := both(t, []byte("one\ntwo\n"), "s4096", "./d")
	// a second run of each program in its own directory
	c2 := runIn(t, c.root, harness.Peer(t, "multilog"), randomLog(3, 40), "s4096", "./d")
	g2 := runIn(t, g.root, harness.Bin(t, "multilog"), randomLog(3, 40), "s4096", "./d")
	sameExit(t, c2, g2)
	sameDir(t, c, g, "d")
	// the other way round: each program continues the other's directory
	c3 := runIn(t, g.root, harness.Peer(t, "multilog"), []byte("from C\n"), "s4096", "./d")
	g3 := runIn(t, c.root, harness.Bin(t, "multilog"), []byte("from C\n"), "s4096", "./d")
	sameExit(t, c3, g3)
	sameDir(t, c, g, "d")
}

func TestMultilogUnknownAndEmptyScripts(t *testing.T) {
	t.Parallel()
	for _, script := range [][]string{{}, {""}, {"x"}, {"t"}, {"s", "n", "!"}} {
		c, g := both(t, []byte("a\nb\n"), script...)
		sameExit(t, c, g)
	}
}

func TestMultilogFatalErrorsMatchC(t *testing.T) {
	t.Parallel()
	for _, script := range [][]string{
		{"./nodir/sub"},
		{"=nodir/st"},
		{"./file"},
	} {
		c := runIn(t, prepared(t), harness.Peer(t, "multilog"), []byte("x\n"), script...)
		g := runIn(t, prepared(t), harness.Bin(t, "multilog"), []byte("x\n"), script...)
		sameExit(t, c, g)
		if c.Code != 111 {
			t.Errorf("%v: C exit %d", script, c.Code)
		}
	}
}

// prepared is a working directory holding a regular file named "file".
func prepared(t *testing.T) string {
	d := scratch(t)
	os.WriteFile(filepath.Join(d, "file"), nil, 0644)
	return d
}

// From a pipe the read sizes depend on timing, so only the content must be
// the same: every selected line, in order, with the same selection.
func TestMultilogFromPipeLogsSameContentAsC(t *testing.T) {
	t.Parallel()
	in := randomLog(21, 400)
	script := []string{"t", "-*END", "s4096", "n1000", "./d", "-*", "+*x*", "./d2"}
	var got [][]byte
	for name, bin := range harness.Pair(t, "multilog").All() {
		l := startLive(t, bin, scratch(t), script...)
		go func() {
			for p := in; len(p) > 0; {
				n := 1 + len(p)%3000
				if n > len(p) {
					n = len(p)
				}
				l.w.Write(p[:n])
				p = p[n:]
			}
			l.w.Close()
		}()
		l.wait(t)
		if e := l.errText(); e != "" {
			t.Errorf("%s: stderr %q", name, e)
		}
		got = append(got, harness.Stamps.Bytes(append(content(t, filepath.Join(l.root, "d")), content(t, filepath.Join(l.root, "d2"))...)))
	}
	if !bytes.Equal(got[0], got[1]) {
		t.Errorf("content differs: %s", firstDiff(got[0], got[1]))
	}
}
