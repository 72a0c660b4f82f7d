package rulestest

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"tinymx/test/harness"
)

// TestTcprulescheckReadsAFifoCdbLikeC: the rules cdb is opened
// non-blocking in both, so a FIFO (with or without a writer) opens at once
// and fails the lookup: fstat says size 0, mmap refuses it, exit 111.
func TestTcprulescheckReadsAFifoCdbLikeC(t *testing.T) {
	tl := needTools(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "tcp.cdb")
	if err := syscall.Mkfifo(fifo, 0644); err != nil {
		t.Fatal(err)
	}
	env := []string{"TCPREMOTEIP=1.2.3.4"}
	// a hang on the FIFO is a failure after Patience, not a stuck suite
	j := harness.Job{Args: []string{"tcp.cdb"}, Dir: dir, Env: env}
	want := harness.Result{Stderr: "tcprulescheck: fatal: unable to read tcp.cdb: invalid argument\n", Code: 111}
	rc, rg := tl.check.Run(t, j)
	if harness.Same(t, "FIFO without writer", rc, rg, nil) && rg != want {
		t.Errorf("FIFO without writer: %v", rg)
	}
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	rc, rg = tl.check.Run(t, j)
	if harness.Same(t, "FIFO with an idle writer", rc, rg, nil) && rg != want {
		t.Errorf("FIFO with an idle writer: %v", rg)
	}
}

// TestTcprulesFailsAtOnceOnAFifoTemporaryLikeC: C's open_trunc is
// non-blocking, so a FIFO left at rules.tmp with no reader is ENXIO at once
// (exit 111, old cdb kept), not a wait for a reader.
func TestTcprulesFailsAtOnceOnAFifoTemporaryLikeC(t *testing.T) {
	tl := needTools(t)
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "r.tmp"), 0644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "r.cdb"), []byte("old"), 0644)
	c, g := tl.rules.Run(t, harness.Job{Args: []string{"r.cdb", "r.tmp"}, Dir: dir, Stdin: ":allow\n"})
	want := harness.Result{Stderr: "tcprules: fatal: unable to create r.tmp: device not configured\n", Code: 111}
	if harness.Same(t, "tcprules", c, g, nil) && g != want {
		t.Errorf("Go: %v", g)
	}
	if b := readFile(t, filepath.Join(dir, "r.cdb")); string(b) != "old" {
		t.Errorf("old cdb replaced: %q", b)
	}
}
