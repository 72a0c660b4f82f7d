package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestWriteFileReplacesWholeAndLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x")
	os.WriteFile(p, []byte("old"), 0644)
	if err := WriteFile(p, []byte("new"), 0644); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if string(b) != "new" {
		t.Fatalf("got %q", b)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("leftovers: %v", ents)
	}
}

func TestAbortKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "rules.cdb")
	os.WriteFile(p, []byte("old"), 0644)
	f, err := Create(p, filepath.Join(dir, "rules.tmp"), 0644)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("partial"))
	f.Abort()
	b, _ := os.ReadFile(p)
	if string(b) != "old" {
		t.Fatalf("got %q", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "rules.tmp")); !os.IsNotExist(err) {
		t.Fatal("tmp left behind")
	}
}

func TestCommitUsesNamedTemp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "status")
	f, err := Create(p, filepath.Join(dir, "status.new"), 0644)
	if err != nil {
		t.Fatal(err)
	}
	f.NoSync = true
	f.Write([]byte("abc"))
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if string(b) != "abc" {
		t.Fatalf("got %q", b)
	}
}

// The C originals' open_trunc is non-blocking: a FIFO left at the fixed
// temporary name (rules.tmp, status.new) with no reader fails with ENXIO
// at once instead of waiting for a reader forever.
func TestNamedTempThatIsAFifoFailsAtOnce(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "rules.tmp")
	if err := syscall.Mkfifo(tmp, 0644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		f, err := Create(filepath.Join(dir, "rules.cdb"), tmp, 0644)
		if err == nil {
			f.Abort()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, syscall.ENXIO) {
			t.Fatalf("Create: %v, want ENXIO", err)
		}
	case <-time.After(5 * time.Second):
		// a reader that comes and goes ends the blocked open
		if fd, err := syscall.Open(tmp, syscall.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			syscall.Close(fd)
		}
		<-done
		t.Fatal("Create waited 5 s for a reader of the FIFO")
	}
}
