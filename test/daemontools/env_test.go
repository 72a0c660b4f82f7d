package daemontools

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"tinymx/test/harness"
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
	harness.Pair(t, "envdir").Same(t, harness.Job{Args: []string{"e", "env"}, Env: env, Dir: dir}, nil)
	harness.Pair(t, "envdir").Same(t, harness.Job{Args: []string{dir + "/e", "/usr/bin/env"}, Env: []string{}}, nil)
	// The program runs in the starting directory, not in the env dir.
	harness.Pair(t, "envdir").Same(t, harness.Job{Args: []string{"e", "pwd"}, Env: env, Dir: dir}, nil)
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
		harness.Pair(t, "envdir").Same(t, harness.Job{Args: args, Dir: dir}, nil)
	}
	// Permission errors need an unprivileged user: root reads anything.
	if os.Geteuid() == 0 {
		os.Chmod(dir, 0755)
		for _, args := range [][]string{{"secret", "true"}, {"noread", "true"}, {"nox", "true"}} {
			harness.Pair(t, "envdir").Same(t, harness.Job{Args: args, Dir: dir, Wrap: []string{"/usr/bin/setuidgid", "nobody"}}, nil)
		}
		// The starting directory cannot be opened: an unreadable cwd.
		os.Chmod(filepath.Join(dir, "nox"), 0311)
		harness.Pair(t, "envdir").Same(t, harness.Job{Args: []string{"/tmp", "true"}, Dir: filepath.Join(dir, "nox"), Wrap: []string{"/usr/bin/setuidgid", "nobody"}}, nil)
	}
}

func TestEnvdirNeverWaitsOnAFifo(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "e"), 0755)
	if err := syscall.Mkfifo(filepath.Join(dir, "e/FIFO"), 0644); err != nil {
		t.Fatal(err)
	}
	harness.Pair(t, "envdir").Same(t, harness.Job{Args: []string{"e", "env"}, Env: []string{"FIFO=1", "X=2"}, Dir: dir}, nil)
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
	envdir := harness.Pair(t, "envdir")
	j := harness.Job{Args: []string{"e", "env"}, Env: []string{"FIFO=1", "X=2"}, Dir: dir}
	for _, tc := range []struct {
		what, sent string
		writerGone bool
		want       string
	}{
		{"idle writer", "", false, "envdir: fatal: unable to read e/FIFO: temporary failure\n"},
		{"writer sent a line", "value\n", false, "envdir: fatal: unable to read e/FIFO: temporary failure\n"},
		{"writer gone after a line", "value \nmore\n", true, ""},
	} {
		var res [2]harness.Result
		for i, bin := range envdir.Both() {
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
			res[i] = j.Run(t, bin)
			w.Close()
			if keep != nil {
				keep.Close()
			}
		}
		harness.Same(t, tc.what, res[0], res[1], nil)
		if res[1].Stderr != tc.want || (tc.want == "" && !strings.Contains(res[1].Stdout, "FIFO=value\n")) {
			t.Errorf("%s: %v", tc.what, res[1])
		}
	}
}

func TestEnvuidgidSetsGIDThenUIDLikeC(t *testing.T) {
	env := []string{"UID=7", "A=1", "GID=5", "B=2"}
	for _, acct := range []string{"nobody", "root", "daemon", "postfix"} {
		harness.Pair(t, "envuidgid").Same(t, harness.Job{Args: []string{acct, "env"}, Env: env}, nil)
	}
	harness.Pair(t, "envuidgid").Same(t, harness.Job{Args: []string{"nosuchuser", "env"}, Env: env}, nil)
	harness.Pair(t, "envuidgid").Same(t, harness.Job{Args: []string{"", "env"}, Env: env}, nil)
}

func TestSetuidgidDropsSupplementaryGroupsLikeC(t *testing.T) {
	for _, acct := range []string{"nobody", "daemon", "root", "postfix", "nosuchuser", "--", ""} {
		harness.Pair(t, "setuidgid").Same(t, harness.Job{Args: []string{acct, "id"}}, nil)
		harness.Pair(t, "setuidgid").Same(t, harness.Job{Args: []string{acct, "sh", "-c", "cat /proc/self/status | grep -E '^(Uid|Gid|Groups)'; env"}, Env: []string{"A=1"}}, nil)
	}
	if os.Geteuid() == 0 {
		// One process allowed per user: the original, single-threaded,
		// still runs the program; ours must not count its threads.
		harness.Pair(t, "setuidgid").Same(t, harness.Job{Args: []string{"nobody", "echo", "ran"}, Wrap: []string{"/usr/bin/softlimit", "-p", "1"}}, nil)
		// Not root any more: setgid fails.
		harness.Pair(t, "setuidgid").Same(t, harness.Job{Args: []string{"daemon", "id"}, Wrap: []string{"/usr/bin/setuidgid", "nobody"}}, nil)
	}
}
