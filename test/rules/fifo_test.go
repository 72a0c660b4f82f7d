package rulestest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"tinymx/test/harness"
)

// runBoth runs C's and our prog in dir with env; a hang on the FIFO is a
// failure after 10 s, not a stuck suite.
func runBoth(t *testing.T, dir string, env []string, c, g string, args ...string) (rc, rg result) {
	t.Helper()
	for i, prog := range []string{c, g} {
		cmd := exec.Command(prog, args...)
		cmd.Dir, cmd.Env = dir, env
		out, errb, code := harness.Run(t, 10*time.Second, cmd)
		r := result{string(out), string(errb), code}
		if i == 0 {
			rc = r
		} else {
			rg = r
		}
	}
	return rc, rg
}

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
	want := result{"", "tcprulescheck: fatal: unable to read tcp.cdb: invalid argument\n", 111}
	rc, rg := runBoth(t, dir, env, tl.cCheck, tl.gCheck, "tcp.cdb")
	if rc != rg || rg != want {
		t.Errorf("FIFO without writer:\nC:  %+v\nGo: %+v", rc, rg)
	}
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	rc, rg = runBoth(t, dir, env, tl.cCheck, tl.gCheck, "tcp.cdb")
	if rc != rg || rg != want {
		t.Errorf("FIFO with an idle writer:\nC:  %+v\nGo: %+v", rc, rg)
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
	var res [2]result
	for i, prog := range []string{tl.cRules, tl.gRules} {
		cmd := exec.Command(prog, "r.cdb", "r.tmp")
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(":allow\n")
		out, errb, code := harness.Run(t, 10*time.Second, cmd)
		res[i] = result{string(out), string(errb), code}
	}
	want := result{"", "tcprules: fatal: unable to create r.tmp: device not configured\n", 111}
	if res[0] != res[1] || res[1] != want {
		t.Errorf("C:  %+v\nGo: %+v", res[0], res[1])
	}
	if b := readFile(t, filepath.Join(dir, "r.cdb")); string(b) != "old" {
		t.Errorf("old cdb replaced: %q", b)
	}
}
