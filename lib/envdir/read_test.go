package envdir

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"tinymx/lib/pathexec"
)

func TestValueFollowsTheOriginalFileRules(t *testing.T) {
	for in, want := range map[string]string{
		"":             "",
		"plain":        "plain",
		"trail  \t ":   "trail",
		"  lead":       "  lead",
		"cr\r":         "cr\r",
		"x\x00y\x00":   "x\ny\n",
		"tab\x00 \t":   "tab\n",
		"x \x00":       "x \n",
		"\t \t":        "",
		"mid \t space": "mid \t space",
	} {
		if got := string(Value([]byte(in))); got != want {
			t.Errorf("Value(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReadDirQueuesEditsAndReturnsToTheStartingDirectory(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{"A": "one \nmore", "B": "", "C": "\n", ".D": "hidden", "E": "e\x00"}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0644); err != nil {
			t.Fatal(err)
		}
	}
	os.Symlink("nowhere", filepath.Join(dir, "F")) // dangling: skipped
	before, _ := os.Getwd()
	var e pathexec.Edits
	if err := ReadDir(dir, &e); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Getwd(); after != before {
		t.Errorf("left in %s, started in %s", after, before)
	}
	env := e.Apply([]string{"B=gone", "F=kept", "X=1"})
	got := map[string]bool{}
	for _, kv := range env {
		got[kv] = true
	}
	for _, kv := range []string{"A=one", "C=", "E=e\n", "F=kept", "X=1"} {
		if !got[kv] {
			t.Errorf("missing %q in %q", kv, env)
		}
	}
	if len(env) != 5 {
		t.Errorf("env %q has %d entries, want 5", env, len(env))
	}
}

func TestReadDirErrorsNameTheOriginalsSteps(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "file"), []byte("x"), 0644)
	os.MkdirAll(filepath.Join(dir, "sub", "inner"), 0755)
	for _, c := range []struct {
		dir, msg string
		errno    syscall.Errno
	}{
		{filepath.Join(dir, "missing"), "unable to switch to directory " + filepath.Join(dir, "missing"), syscall.ENOENT},
		{filepath.Join(dir, "file"), "unable to switch to directory " + filepath.Join(dir, "file"), syscall.ENOTDIR},
		{filepath.Join(dir, "sub"), "unable to read " + filepath.Join(dir, "sub") + "/inner", syscall.EISDIR},
	} {
		var e pathexec.Edits
		err := ReadDir(c.dir, &e)
		var de *DirError
		if !errors.As(err, &de) || de.Msg != c.msg || !errors.Is(err, c.errno) {
			t.Errorf("ReadDir(%s) = %v, want %q with %v", c.dir, err, c.msg, c.errno)
		}
	}
}

func TestReadValueStopsAtTheCap(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "BIG")
	os.WriteFile(p, bytes.Repeat([]byte("x"), MaxValue+10), 0644)
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	os.Chdir(dir)
	if _, _, err := readValue("BIG"); err != syscall.ENOMEM {
		t.Errorf("readValue of an oversized line: %v, want ENOMEM", err)
	}
}

func FuzzValue(f *testing.F) {
	for _, s := range []string{"", "a \t", "x\x00y", "\x00\x00 ", "  lead"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		v := Value(line)
		if v == nil || len(v) > len(line) {
			t.Fatalf("Value(%q) = %q", line, v)
		}
		if bytes.IndexByte(v, 0) >= 0 {
			t.Fatalf("NUL left in %q", v)
		}
		if n := len(v); n > 0 && (v[n-1] == ' ' || v[n-1] == '\t') {
			t.Fatalf("trailing blank left in %q", v)
		}
		if !bytes.Equal(bytes.ReplaceAll(line[:len(v)], []byte{0}, []byte{'\n'}), v) {
			t.Fatalf("Value(%q) = %q is not a prefix of the line", line, v)
		}
	})
}

// The original splits "NAME=value" at the first "=", so a file name holding
// "=" edits the variable named by what comes before it.
func TestReadDirFileNamesWithEqualsEditTheVariableBeforeIt(t *testing.T) {
	dir := t.TempDir()
	for n, c := range map[string]string{"A=B": "x\n", "D=E": "", "=F": "y"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0644); err != nil {
			t.Fatal(err)
		}
	}
	var e pathexec.Edits
	if err := ReadDir(dir, &e); err != nil {
		t.Fatal(err)
	}
	env := e.Apply([]string{"A=1", "A=2", "D=3", "D=4", "Z=9"})
	got := map[string]bool{}
	for _, kv := range env {
		got[kv] = true
	}
	for _, kv := range []string{"A=2", "A=B=x", "D=4", "D=E", "=F=y", "Z=9"} {
		if !got[kv] {
			t.Errorf("missing %q in %q", kv, env)
		}
	}
	if len(env) != 6 {
		t.Errorf("env %q has %d entries, want 6", env, len(env))
	}
}

// As the original's openreadclose, the whole file is read: a FIFO without
// a writer is an empty file, one whose writer sent a line and stays open
// ends in EAGAIN; a line followed by more than MaxValue bytes is still read.
func TestReadValueReadsToTheEndLikeTheOriginal(t *testing.T) {
	dir := t.TempDir()
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	os.Chdir(dir)
	if err := syscall.Mkfifo("FIFO", 0644); err != nil {
		t.Fatal(err)
	}
	if val, ok, err := readValue("FIFO"); val != nil || !ok || err != nil {
		t.Errorf("FIFO without writer: %q %v %v, want an empty file", val, ok, err)
	}
	w, err := os.OpenFile("FIFO", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.WriteString("value\n")
	if _, _, err := readValue("FIFO"); err != syscall.EAGAIN {
		t.Errorf("FIFO with a line and its writer: %v, want EAGAIN", err)
	}
	os.WriteFile("LONG", append([]byte("first\n"), bytes.Repeat([]byte("x\n"), MaxValue)...), 0644)
	if val, ok, err := readValue("LONG"); string(val) != "first" || !ok || err != nil {
		t.Errorf("long tail: %.20q %v %v", val, ok, err)
	}
}
