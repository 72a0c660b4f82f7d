package multilog_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"tinymx/test/harness"
)

// setNonblockAndExec is run by python3: it puts descriptor 0 in
// non-blocking mode and becomes the program (Go's StartProcess would put
// an inherited pipe back in blocking mode).
const setNonblockAndExec = `import fcntl, os, sys
fcntl.fcntl(0, fcntl.F_SETFL, fcntl.fcntl(0, fcntl.F_GETFL) | os.O_NONBLOCK)
os.execv(sys.argv[1], sys.argv[1:])`

// startNonblocking runs bin ./d with stdin a pipe in non-blocking mode.
func startNonblocking(t *testing.T, bin, root string) (*harness.Proc, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	cmd := exec.Command(harness.Peer(t, "python3"), "-c", setNonblockAndExec, bin, "./d")
	cmd.Dir = root
	cmd.Stdin = r
	p := harness.Start(t, cmd)
	r.Close()
	return p, w
}

// With stdin in non-blocking mode the original takes the first EAGAIN for
// the end of its input and exits, leaving its writer with EPIPE; ours
// waits for input and logs every line.
func TestMultilogWaitsOnANonblockingStdin(t *testing.T) {
	t.Parallel()
	b := harness.Pair(t, "multilog")

	root := scratch(t)
	cmd, _ := startNonblocking(t, b.C, root)
	harness.WaitFor(t, 10*time.Second, "the C multilog to give up", cmd.Done)
	if got := readFile(root, "d/current"); len(got) != 0 {
		t.Errorf("C logged %q", got)
	}

	root = scratch(t)
	cmd, w := startNonblocking(t, b.Go, root)
	w.WriteString("one\n")
	harness.WaitFor(t, 10*time.Second, "one in current", func() bool { return string(readFile(root, "d/current")) == "one\n" })
	if cmd.Done() {
		t.Fatal("exited while its writer was still there")
	}
	w.WriteString("two\n")
	w.Close()
	harness.WaitFor(t, 10*time.Second, "multilog to exit", cmd.Done)
	if got := string(readFile(root, "d/current")); got != "one\ntwo\n" {
		t.Errorf("current %q", got)
	}
	if fi, err := os.Stat(filepath.Join(root, "d/current")); err != nil || fi.Mode().Perm() != 0744 {
		t.Errorf("current not closed cleanly: %v %v", fi, err)
	}
}
