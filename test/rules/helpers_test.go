// Package rulestest checks lib/cdb, tcprules and tcprulescheck against the C
// originals: tinycdb's cdb, freecdb's cdbmake/cdbdump, and ucspi-tcp's
// tcprules/tcprulescheck in /usr/bin.
package rulestest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"tinymx/test/harness"
)

const timeout = 30 * time.Second

type result struct {
	stdout, stderr string
	code           int
}

// run runs prog in dir with stdin and the given environment (nil: inherit).
func run(t *testing.T, dir string, stdin []byte, env []string, prog string, args ...string) result {
	t.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Env = env
	out, errb, code := harness.Run(t, timeout, cmd)
	return result{string(out), string(errb), code}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tools are the binaries a differential test compares.
type tools struct {
	cRules, gRules, cCheck, gCheck string
}

func needTools(t *testing.T) tools {
	t.Helper()
	return tools{
		cRules: harness.NeedPeer(t, "/usr/bin/tcprules"),
		gRules: harness.Bin(t, "tcprules"),
		cCheck: harness.NeedPeer(t, "/usr/bin/tcprulescheck"),
		gCheck: harness.Bin(t, "tcprulescheck"),
	}
}

// compileBoth runs both tcprules on text in fresh directories and fails the
// test on any difference in exit code, output or cdb bytes. It returns the
// directory holding C's c.cdb and ours g.cdb.
func compileBoth(t *testing.T, tl tools, text []byte) (dir string, r result) {
	t.Helper()
	dir = t.TempDir()
	rc := run(t, dir, text, nil, tl.cRules, "c.cdb", "c.tmp")
	rg := run(t, dir, text, nil, tl.gRules, "g.cdb", "g.tmp")
	if rc != rg {
		t.Fatalf("tcprules differs on %q:\nC:  %+v\nGo: %+v", clip(text), rc, rg)
	}
	if rc.code == 0 {
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
