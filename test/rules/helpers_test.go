// Package rulestest checks lib/cdb, tcprules and tcprulescheck against the C
// originals: tinycdb's cdb, freecdb's cdbmake/cdbdump, and ucspi-tcp's
// tcprules/tcprulescheck in /usr/bin.
package rulestest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"tinymx/test/harness"
)

const timeout = 30 * time.Second

// run runs prog in dir with stdin and the given environment (nil: inherit).
func run(t *testing.T, dir string, stdin []byte, env []string, prog string, args ...string) harness.Result {
	t.Helper()
	return harness.Job{Args: args, Env: env, Stdin: string(stdin), Dir: dir}.Run(t, prog)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tools are the programs a differential test compares.
type tools struct{ rules, check harness.Peers }

func needTools(t *testing.T) tools {
	t.Helper()
	return tools{harness.Pair(t, "tcprules"), harness.Pair(t, "tcprulescheck")}
}

// compileBoth runs both tcprules on text in fresh directories and fails the
// test on any difference in exit code, output or cdb bytes. It returns the
// directory holding C's c.cdb and ours g.cdb.
func compileBoth(t *testing.T, tl tools, text []byte) (dir string, r harness.Result) {
	t.Helper()
	dir = t.TempDir()
	rc := run(t, dir, text, nil, tl.rules.C, "c.cdb", "c.tmp")
	rg := run(t, dir, text, nil, tl.rules.Go, "g.cdb", "g.tmp")
	if !harness.Same(t, fmt.Sprintf("tcprules on %q", clip(text)), rc, rg, nil) {
		t.FailNow()
	}
	if rc.Code == 0 {
		c, g := readFile(t, filepath.Join(dir, "c.cdb")), readFile(t, filepath.Join(dir, "g.cdb"))
		if !bytes.Equal(c, g) {
			t.Fatalf("cdbs differ (%d vs %d bytes) for %q", len(c), len(g), clip(text))
		}
	}
	return dir, rc
}

func clip(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + "..."
	}
	return string(b)
}
