package multilog_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"tinymx/test/harness"
)

// crashedDir lays out what a multilog killed during a rotation leaves: a
// 0644 current, a 0744 previous, processed (0744 once the processor had
// finished, 0644 while it ran), state and newstate; with linked, previous
// and current already have their @ names (killed between link and unlink).
func crashedDir(t *testing.T, root string, processedMode os.FileMode, linked bool) {
	t.Helper()
	d := filepath.Join(root, "d")
	if err := os.MkdirAll(d, 0700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name string
		data string
		mode os.FileMode
	}{
		{"current", "cur\n", 0644},
		{"previous", "prev\n", 0744},
		{"processed", "PROC\n", processedMode},
		{"state", "old state\n", 0644},
		{"newstate", "new state\n", 0644},
	} {
		p := filepath.Join(d, f.name)
		if err := os.WriteFile(p, []byte(f.data), 0600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	if linked {
		os.Link(filepath.Join(d, "previous"), filepath.Join(d, "@400000000000000000000001.u"))
		os.Link(filepath.Join(d, "current"), filepath.Join(d, "@400000000000000000000002.u"))
	}
}

// At start-up after a crash the original keeps a finished processed (mode
// 0744) as an .s file and drops previous; an unfinished one is dropped and
// previous kept as .u; current becomes .u; state and newstate are removed
// and state restarts empty; a file that already has its @ name (link count
// above 1) is not linked twice.
func TestMultilogRestartRecoversProcessedPreviousAndLinkedFilesLikeC(t *testing.T) {
	t.Parallel()
	for _, mode := range []os.FileMode{0744, 0644} {
		for _, linked := range []bool{false, true} {
			var roots []string
			var res []result
			for name, bin := range harness.Pair(t, "multilog").All() {
				root := filepath.Join(scratch(t), name)
				crashedDir(t, root, mode, linked)
				r := runIn(t, root, bin, []byte("new\n"), "./d")
				res = append(res, r)
				roots = append(roots, root)
			}
			what := fmt.Sprintf("processed %o, linked %v", mode, linked)
			sameExit(t, res[0], res[1])
			sameDir(t, res[0], res[1], "d")
			if t.Failed() {
				t.Fatalf("%s", what)
			}
			for _, root := range roots {
				if b := readFile(root, "d/state"); len(b) != 0 {
					t.Errorf("%s: state %q, want empty", what, b)
				}
				if _, err := os.Stat(filepath.Join(root, "d/newstate")); err == nil {
					t.Errorf("%s: newstate left behind", what)
				}
			}
			if mode == 0744 && !linked {
				if got := string(content(t, filepath.Join(roots[1], "d"))); got != "PROC\ncur\nnew\n" {
					t.Errorf("%s: content %q", what, got)
				}
			}
		}
	}
}
