package daemontools

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// envdirFiles covers the original's file rules: first line only, trailing
// spaces and tabs removed (not "\r", not leading blanks), NUL as newline,
// an empty file removes the variable, a lone newline sets it empty, names
// starting with "." are skipped.
var envdirFiles = map[string]string{
	"A":    "value one  \t \nsecond\n",
	"B":    "",
	"C":    "\n",
	"D":    "x\x00y\x00\n",
	"E":    "noeol",
	".F":   "h",
	"G":    "  lead",
	"H":    "cr\r\n",
	"I":    "tab\x00 \t",
	"J":    "x \x00",
	"PATH": "/usr/bin:/bin",
	"K":    strings.Repeat("long", 5000) + "\nnext",
	// the name is what comes before the first "=" (see the env below)
	"B=x": "bx\n",
	"Y=y": "",
}

func TestEnvdirSetsAndRemovesVariablesInTheOriginalOrder(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{})
	for name, content := range envdirFiles {
		write(t, filepath.Join(dir, "e"), map[string]string{name: content})
	}
	// env -i A=1 B=2 Z=9: B is removed by moving the last entry into its
	// slot, so the order of env's output shows the edit algorithm.
	env := []string{"A=1", "B=2", "Z=9", "C=3", "Y=8", "PATH=/bin"}
	same(t, "envdir", job{args: []string{"e", "env"}, env: env, dir: dir}, nil)
	same(t, "envdir", job{args: []string{dir + "/e", "/usr/bin/env"}, env: []string{}}, nil)
	// The program runs in the starting directory, not in the env dir.
	same(t, "envdir", job{args: []string{"e", "pwd"}, env: env, dir: dir}, nil)
}

func TestEnvdirReportsErrorsLikeC(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"file": "x", "sub/A": "1", "sub/dir/B": "2", "ok/A": "1", "secret/A": "1"})
	os.Chmod(filepath.Join(dir, "secret/A"), 0)
	os.MkdirAll(filepath.Join(dir, "noread"), 0711)
	os.WriteFile(filepath.Join(dir, "noread/A"), []byte("1"), 0644)
	os.Chmod(filepath.Join(dir, "noread"), 0311)
	os.MkdirAll(filepath.Join(dir, "nox"), 0755)
	os.WriteFile(filepath.Join(dir, "nox/A"), []byte("1"), 0644)
	os.Chmod(filepath.Join(dir, "nox"), 0744)
	for _, args := range [][]string{
		{"missing", "true"},
		{"file", "true"},
		{"sub", "true"},      // unable to read sub/dir: is a directory
		{"ok", "nosuchprog"}, // unable to run
		{"ok"},               // usage, exit 111
		{"", "true"},
	} {
		same(t, "envdir", job{args: args, dir: dir}, nil)
	}
	// Permission errors need an unprivileged user: root reads anything.
	if os.Geteuid() == 0 {
		os.Chmod(dir, 0755)
		for _, args := range [][]string{{"secret", "true"}, {"noread", "true"}, {"nox", "true"}} {
			same(t, "envdir", job{args: args, dir: dir, wrap: []string{"/usr/bin/setuidgid", "nobody"}}, nil)
		}
		// The starting directory cannot be opened: an unreadable cwd.
		os.Chmod(filepath.Join(dir, "nox"), 0311)
		same(t, "envdir", job{args: []string{"/tmp", "true"}, dir: filepath.Join(dir, "nox"), wrap: []string{"/usr/bin/setuidgid", "nobody"}}, nil)
	}
}

func TestEnvdirNeverWaitsOnAFifo(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "e"), 0755)
	if err := syscall.Mkfifo(filepath.Join(dir, "e/FIFO"), 0644); err != nil {
		t.Fatal(err)
	}
	same(t, "envdir", job{args: []string{"e", "env"}, env: []string{"FIFO=1", "X=2"}, dir: dir}, nil)
}

// TestEnvdirReadsAFifoWithAWriterLikeC: the original reads each file to
// its end with a non-blocking descriptor. A writer that has sent nothing,
// or a line, and stays open makes that read say EAGAIN: "unable to read
// e/FIFO: temporary failure", exit 111. A line whose writer has gone (a
// reader keeps it in the pipe) is the value.
func TestEnvdirReadsAFifoWithAWriterLikeC(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "e/FIFO")
	os.MkdirAll(filepath.Dir(fifo), 0755)
	if err := syscall.Mkfifo(fifo, 0644); err != nil {
		t.Fatal(err)
	}
	c, g := pair(t, "envdir")
	j := job{args: []string{"e", "env"}, env: []string{"FIFO=1", "X=2"}, dir: dir}
	for _, tc := range []struct {
		what, sent string
		writerGone bool
		want       string
	}{
		{"idle writer", "", false, "envdir: fatal: unable to read e/FIFO: temporary failure\n"},
		{"writer sent a line", "value\n", false, "envdir: fatal: unable to read e/FIFO: temporary failure\n"},
		{"writer gone after a line", "value \nmore\n", true, ""},
	} {
		var res [2]result
		for i, bin := range []string{c, g} {
			// each run drains the pipe: fill it afresh for each
			w, err := os.OpenFile(fifo, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			w.WriteString(tc.sent)
			var keep *os.File
			if tc.writerGone {
				keep, _ = os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
				w.Close()
			}
			res[i] = run(t, bin, j)
			w.Close()
			if keep != nil {
				keep.Close()
			}
		}
		if res[0] != res[1] {
			t.Errorf("%s: differs from the C one:\n--- C:\n%v\n--- Go:\n%v", tc.what, res[0], res[1])
		}
		if res[1].stderr != tc.want || (tc.want == "" && !strings.Contains(res[1].stdout, "FIFO=value\n")) {
			t.Errorf("%s: %v", tc.what, res[1])
		}
	}
}

func TestEnvuidgidSetsGIDThenUIDLikeC(t *testing.T) {
	env := []string{"UID=7", "A=1", "GID=5", "B=2"}
	for _, acct := range []string{"nobody", "root", "daemon", "postfix"} {
		same(t, "envuidgid", job{args: []string{acct, "env"}, env: env}, nil)
	}
	same(t, "envuidgid", job{args: []string{"nosuchuser", "env"}, env: env}, nil)
	same(t, "envuidgid", job{args: []string{"", "env"}, env: env}, nil)
}

func TestSetuidgidDropsSupplementaryGroupsLikeC(t *testing.T) {
	for _, acct := range []string{"nobody", "daemon", "root", "postfix", "nosuchuser", "--", ""} {
		same(t, "setuidgid", job{args: []string{acct, "id"}}, nil)
		same(t, "setuidgid", job{args: []string{acct, "sh", "-c", "cat /proc/self/status | grep -E '^(Uid|Gid|Groups)'; env"}, env: []string{"A=1"}}, nil)
	}
	if os.Geteuid() == 0 {
		// One process allowed per user: the original, single-threaded,
		// still runs the program; ours must not count its threads.
		same(t, "setuidgid", job{args: []string{"nobody", "echo", "ran"}, wrap: []string{"/usr/bin/softlimit", "-p", "1"}}, nil)
		// Not root any more: setgid fails.
		same(t, "setuidgid", job{args: []string{"daemon", "id"}, wrap: []string{"/usr/bin/setuidgid", "nobody"}}, nil)
	}
}
