package smtpdialog

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"tinymx/test/harness"
)

func newcdb(t *testing.T, prog, home string) (string, int) {
	t.Helper()
	cmd := exec.Command(harness.Bin(t, prog))
	cmd.Env = []string{"QMAILHOME=" + home}
	r := harness.Run(t, 10*time.Second, cmd)
	if r.Stdout != "" {
		t.Errorf("%s wrote to stdout: %q", prog, r.Stdout)
	}
	return r.Stderr, r.Code
}

func TestNewmrhSaysWhichStepFailedAndKeepsTheOldCDB(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(dir+"/control", 0755)
	if msg, code := newcdb(t, "qmail-newmrh", dir); code != 111 ||
		msg != "qmail-newmrh: fatal: unable to read control/morercpthosts: file does not exist\n" {
		t.Fatalf("missing list: %d %q", code, msg)
	}
	os.WriteFile(dir+"/control/morercpthosts", []byte("a.test\n"), 0644)
	if msg, code := newcdb(t, "qmail-newmrh", dir); code != 0 || msg != "" {
		t.Fatalf("first run: %d %q", code, msg)
	}
	old, _ := os.ReadFile(dir + "/control/morercpthosts.cdb")
	os.WriteFile(dir+"/control/morercpthosts", []byte("b.test\n"), 0644)
	os.Mkdir(dir+"/control/morercpthosts.tmp", 0755) // the temporary cannot be opened
	if msg, code := newcdb(t, "qmail-newmrh", dir); code != 111 ||
		msg != "qmail-newmrh: fatal: unable to write to control/morercpthosts.tmp: is a directory\n" {
		t.Fatalf("unwritable temp: %d %q", code, msg)
	}
	if now, _ := os.ReadFile(dir + "/control/morercpthosts.cdb"); string(now) != string(old) {
		t.Fatal("old cdb changed")
	}
	if msg, code := newcdb(t, "qmail-newmrh", "/nonexistent/qmail"); code != 111 ||
		msg != "qmail-newmrh: fatal: unable to chdir to /nonexistent/qmail: file does not exist\n" {
		t.Fatalf("no home: %d %q", code, msg)
	}
}

func TestNewbmfWritesModeAndNoTemporary(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(dir+"/control", 0755)
	os.WriteFile(dir+"/control/badmailfrom", []byte("@Evil.Example\n"), 0644)
	if msg, code := newcdb(t, "qmail-newbmf", dir); code != 0 || msg != "" {
		t.Fatalf("%d %q", code, msg)
	}
	st, err := os.Stat(dir + "/control/badmailfrom.cdb")
	if err != nil || st.Mode().Perm() != 0644 {
		t.Fatalf("cdb %v %v", st, err)
	}
	if _, err := os.Stat(dir + "/control/badmailfrom.tmp"); err == nil {
		t.Fatal("temporary left behind")
	}
}

// notqmail's qmail-newmrh opens with open_read and open_trunc, both
// non-blocking: a FIFO list with no writer compiles as an empty file, and a
// FIFO left at the temporary name with no reader fails at once (ENXIO).
// harness.Run's deadline turns a hang into a failure.
func TestNewmrhNeverWaitsOnAFifo(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(dir+"/control", 0755)
	if err := syscall.Mkfifo(dir+"/control/morercpthosts", 0644); err != nil {
		t.Fatal(err)
	}
	if msg, code := newcdb(t, "qmail-newmrh", dir); code != 0 || msg != "" {
		t.Fatalf("FIFO list: %d %q", code, msg)
	}
	if b, _ := os.ReadFile(dir + "/control/morercpthosts.cdb"); len(b) != 2048 {
		t.Fatalf("FIFO list gave a %d-byte cdb, want the empty one (2048 bytes)", len(b))
	}
	os.Remove(dir + "/control/morercpthosts")
	os.WriteFile(dir+"/control/morercpthosts", []byte("a.test\n"), 0644)
	if err := syscall.Mkfifo(dir+"/control/morercpthosts.tmp", 0644); err != nil {
		t.Fatal(err)
	}
	if msg, code := newcdb(t, "qmail-newmrh", dir); code != 111 ||
		msg != "qmail-newmrh: fatal: unable to write to control/morercpthosts.tmp: device not configured\n" {
		t.Fatalf("FIFO temporary: %d %q", code, msg)
	}
}
