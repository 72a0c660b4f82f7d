package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
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
