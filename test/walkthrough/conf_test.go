package walkthrough

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"tinymx/test/harness"
)

func conf(t *testing.T, env []string, args ...string) (string, int) {
	cmd := exec.Command(harness.Bin(t, "qmail-smtpd-conf"), args...)
	cmd.Env = append(os.Environ(), env...)
	r := harness.Run(t, 10*time.Second, cmd)
	return r.Stderr, r.Code
}

func TestQmailSmtpdConfUsageExits100(t *testing.T) {
	for _, args := range [][]string{{}, {"a", "b"}, {"a", "b", "relative/dir"}} {
		out, code := conf(t, nil, args...)
		if code != 100 || out != "qmail-smtpd-conf: usage: qmail-smtpd-conf acct logacct /smtpd [ ip ]\n" {
			t.Errorf("%q: %d %q", args, code, out)
		}
	}
}

func TestQmailSmtpdConfRefusesUnknownAccounts(t *testing.T) {
	d := filepath.Join(t.TempDir(), "smtpd")
	out, code := conf(t, nil, "root", "no-such-account-x", d)
	if code != 111 || out != "qmail-smtpd-conf: fatal: unknown account no-such-account-x\n" {
		t.Fatalf("%d %q", code, out)
	}
	out, code = conf(t, nil, "no-such-account-y", "root", d)
	if code != 111 || out != "qmail-smtpd-conf: fatal: unknown account no-such-account-y\n" {
		t.Fatalf("%d %q", code, out)
	}
	if _, err := os.Stat(d); !os.IsNotExist(err) {
		t.Fatal("something was created")
	}
}

func TestQmailSmtpdConfNeedsControlMe(t *testing.T) {
	home := t.TempDir()
	d := filepath.Join(t.TempDir(), "smtpd")
	out, code := conf(t, []string{"QMAILHOME=" + home}, "root", "root", d)
	if code != 111 || out != "qmail-smtpd-conf: fatal: unable to read "+home+"/control/me: file does not exist\n" {
		t.Fatalf("%d %q", code, out)
	}
}

func TestQmailSmtpdConfRefusesExistingDirectory(t *testing.T) {
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, "control"), 0755)
	os.WriteFile(filepath.Join(home, "control/me"), []byte("me.test\n"), 0644)
	d := t.TempDir()
	out, code := conf(t, []string{"QMAILHOME=" + home}, "root", "root", d)
	if code != 111 || out != "qmail-smtpd-conf: fatal: unable to create "+d+": file already exists\n" {
		t.Fatalf("%d %q", code, out)
	}
}

func TestQmailSmtpdConfSeedsPortAndConcurrencyFromReisersmtpControls(t *testing.T) {
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, "control"), 0755)
	os.WriteFile(filepath.Join(home, "control/me"), []byte("me.test\n"), 0644)
	os.WriteFile(filepath.Join(home, "control/smtpdport"), []byte("2526\n"), 0644)
	os.WriteFile(filepath.Join(home, "control/maxclients"), []byte("100\n"), 0644)
	os.MkdirAll(filepath.Join(home, "bin"), 0755)
	os.WriteFile(filepath.Join(home, "bin/qmail-queue"), []byte("#!/bin/sh\n"), 0755)
	d := filepath.Join(t.TempDir(), "smtpd")
	if out, code := conf(t, []string{"QMAILHOME=" + home}, "root", "root", d); code != 0 {
		t.Fatalf("%d %q", code, out)
	}
	for f, want := range map[string]string{"env/PORT": "2526\n", "env/CONCURRENCY": "100\n",
		"env/QMAILHOME": home + "\n", "env/LOCALNAME": "me.test\n"} {
		if b, _ := os.ReadFile(filepath.Join(d, f)); string(b) != want {
			t.Errorf("%s: %q want %q", f, b, want)
		}
	}
	// qmail's queue is there: no Maildir of our own
	if _, err := os.Stat(filepath.Join(d, "env/MAILDIRQUEUE")); !os.IsNotExist(err) {
		t.Error("env/MAILDIRQUEUE written although qmail-queue exists")
	}
}

// owner is the uid and gid of path.
func owner(t *testing.T, path string) (int, int) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	sys := st.Sys().(*syscall.Stat_t)
	return int(sys.Uid), int(sys.Gid)
}

func TestQmailSmtpdConfGivesLogAndMaildirToTheirAccounts(t *testing.T) {
	s := newService(t)
	ids := func(name string) (int, int) {
		u, err := user.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return uid, gid
	}
	luid, _ := ids(logacct)
	auid, agid := ids(acct)
	for _, p := range []string{"log/main", "log/status"} {
		if uid, gid := owner(t, filepath.Join(s.D, p)); uid != luid || gid != os.Getgid() {
			t.Errorf("%s owned by %d:%d, want %d and the group unchanged", p, uid, gid, luid)
		}
	}
	for _, p := range []string{"maildir", "maildir/new", "maildir/tmp", "maildir/cur"} {
		if uid, gid := owner(t, filepath.Join(s.D, p)); uid != auid || gid != agid {
			t.Errorf("%s owned by %d:%d, want %d:%d", p, uid, gid, auid, agid)
		}
	}
	for _, p := range []string{"run", "env", "env/PORT", "tcp", "log/run", "Makefile"} {
		if uid, _ := owner(t, filepath.Join(s.D, p)); uid != os.Getuid() {
			t.Errorf("%s owned by %d, want the creator", p, uid)
		}
	}
	b, _ := os.ReadFile(filepath.Join(s.D, "run"))
	if !strings.Contains(string(b), filepath.Join(s.bin, "envuidgid")+" "+acct+" \\\n") ||
		!strings.Contains(string(b), "-vDU\"$H$R\"") {
		t.Errorf("run does not switch to %s:\n%s", acct, b)
	}
	b, _ = os.ReadFile(filepath.Join(s.D, "log/run"))
	if !strings.Contains(string(b), filepath.Join(s.bin, "setuidgid")+" "+logacct+" \\\n") {
		t.Errorf("log/run does not switch to %s:\n%s", logacct, b)
	}
}
