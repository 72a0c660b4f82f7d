package supervise_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"tinymx/test/harness"
)

const numberedLines = 100000

// writer is a service that writes numberedLines numbered lines, paced so
// that writing spans the ten logger restarts, then idles. The last tenth
// waits for the file "restarted", so that on a slow machine the writing
// still outlasts the restarts.
const writer = `exec python3 -c '
import os, time
n = 1
while n <= 100000:
    while n > 90000 and not os.path.exists("restarted"):
        time.sleep(0.01)
    os.write(1, "".join("%d\n" % i for i in range(n, min(n + 250, 100001))).encode())
    n += 250
    time.sleep(0.03)
open("done", "w").close()
time.sleep(100000)
'`

// readLog returns the lines logged in main/, oldest file first, and a
// per-file summary for failure reports.
func readLog(t *testing.T, main string) ([]string, string) {
	t.Helper()
	ents, _ := os.ReadDir(main)
	var files []string
	for _, e := range ents {
		if e.Name()[0] == '@' {
			files = append(files, e.Name())
		}
	}
	sort.Strings(files)
	files = append(files, "current")
	var out []string
	var sum strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(main, f))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if len(b) == 0 {
			lines = nil
		}
		if len(lines) > 0 {
			sum.WriteString(f + ": " + lines[0] + ".." + lines[len(lines)-1] + "\n")
		}
		out = append(out, lines...)
	}
	return out, sum.String()
}

// logThroughRestarts runs the writer under our svscan with logRun as its
// log/run and calls restart ten times while the lines flow; restart stops
// the logger whose pid it is given and returns the next one's. It returns
// the lines that reached the log.
func logThroughRestarts(t *testing.T, logRun string, restart func(lg string, pid int) int) []string {
	dir := t.TempDir()
	s := service(t, dir, "s", writer)
	service(t, dir, "s/log", logRun)
	sc := startSvscan(t, harness.Bin(t, "svscan"), dir, binDir(t, harness.Bin(t, "supervise")))
	lg := filepath.Join(s, "log")
	var summary string
	t.Cleanup(func() {
		if t.Failed() {
			o := run(t, harness.Bin(t, "svstat"), s, lg).Stdout
			// outside the test's temp dir, which goes with the test; a
			// name of its own, since parallel tests may fail together
			keep, _ := os.MkdirTemp("", "tinymx-logpipe-")
			exec.Command("cp", "-a", filepath.Join(lg, "main"), keep).Run()
			t.Logf("svscan stderr %q\nsvstat: %s\nlog kept in %s:\n%s", stderrOf(sc), o, keep, summary)
		}
	})
	waitOK(t, lg)
	pid := waitPid(t, lg, 0, 10*time.Second)
	for i := 0; i < 10; i++ {
		pid = restart(lg, pid)
	}
	if fileExists(filepath.Join(s, "done")) {
		t.Error("the writer finished before the tenth restart")
	}
	os.WriteFile(filepath.Join(s, "restarted"), nil, 0644)
	harness.WaitFor(t, 60*time.Second, "the writer to finish", func() bool { return fileExists(filepath.Join(s, "done")) })
	var got []string
	// A rotation in progress holds lines in previous (and processed) until
	// its @....s file is there: under load the last one can still be
	// running when current already has the last line.
	main := filepath.Join(lg, "main")
	rotating := func() bool { return fileExists(filepath.Join(main, "previous")) }
	harness.WaitFor(t, 20*time.Second, "the last line in the log, no rotation running", func() bool {
		if rotating() {
			return false
		}
		got, summary = readLog(t, main)
		return !rotating() && len(got) > 0 && got[len(got)-1] == strconv.Itoa(numberedLines)
	})
	return got
}

// svc runs svc with opt on dir and waits for the logger after pid.
func svc(t *testing.T, opt, dir string, pid int) int {
	t.Helper()
	if r := run(t, harness.Bin(t, "svc"), opt, dir); r.Code != 0 || r.Stderr != "" {
		t.Fatalf("svc: %v", r)
	}
	return waitPid(t, dir, pid, 10*time.Second)
}

func TestLogPipeKeepsEveryLineInOrderWhileLoggerRestarts(t *testing.T) {
	t.Parallel()
	got := logThroughRestarts(t, "exec multilog s16777215 ./main", func(lg string, pid int) int { return svc(t, "-t", lg, pid) })
	if len(got) != numberedLines {
		t.Fatalf("%d lines logged, want %d", len(got), numberedLines)
	}
	for i, l := range got {
		if l != strconv.Itoa(i+1) {
			t.Fatalf("line %d is %q", i+1, l)
		}
	}
}

// maxLossPerKill is what one kill -9 of a logger may lose, in bytes of
// whole lines, when no line is longer than maxLineLen (newline included).
// C multilog (daemontools 0.76) reads through a 1024-byte buffer, and its
// read function first writes out everything selected so far (flushread):
// strace shows read(0, ..., 1024) and then write(2)s of all of it before
// the next read. So what it holds unwritten at any moment is the read
// being processed (at most 1024 bytes) and the start of the line that read
// began inside, kept from earlier reads (at most 999 bytes: a line is put
// out once it has 1000; here at most maxLineLen-1). A kill loses those
// bytes, and the last line they end inside loses its start, its tail
// still in the pipe reaches the next logger as a fragment: at most
// maxLineLen-1 more bytes counted lost. This is a bound on the program's
// structure, not on timing: how much was in the pipe, or how soon the kill
// came, only decides how close to it a run gets.
func maxLossPerKill(maxLineLen int) int { return (maxLineLen - 1) + 1024 + (maxLineLen - 1) }

// hold is the killed logger's processor, run with the directory of the
// files it names in $1. It passes each full file on, as cat, but when the
// file trap exists it first removes trap, writes its pid to held and waits
// on a fifo of its own, gate.pid, until the test opens it. Meanwhile the
// logger, which waits for its processor, holds whatever it had read and
// not written: a kill then loses that, as at any other moment, but the
// test decides when it comes. (A kill at a random moment mostly finds the
// logger waiting for input, holding nothing, and shows nothing.) A
// rotation mostly comes in the middle of a read, when the 512-byte buffer
// fills up, so the logger still holds the rest of that read.
const hold = `if [ -e "$1/trap" ]; then
	rm -f "$1/trap"
	mkfifo "$1/gate.$$"
	echo $$ > "$1/held.tmp" && mv "$1/held.tmp" "$1/held"
	read x < "$1/gate.$$"
fi
exec cat
`

// TestLogPipeKilledLoggerLosesNoMoreThanCMultilog: a logger killed with -9
// loses what it had read and not written, which may end inside a line; the
// rest of that line, still in svscan's pipe, reaches the next logger as a
// fragment (the tail of the number just before the next whole line).
// Everything else arrives once and in order, and each kill loses no more
// than the C multilog may (maxLossPerKill). The C multilog is run too, to
// show the bound is its own.
func TestLogPipeKilledLoggerLosesNoMoreThanCMultilog(t *testing.T) {
	t.Parallel()
	t.Run("ours", func(t *testing.T) {
		t.Parallel()
		checkKillLoss(t, harness.Bin(t, "multilog"))
	})
	t.Run("C", func(t *testing.T) {
		t.Parallel()
		checkKillLoss(t, harness.Peer(t, "multilog"))
	})
}

// killHeld waits until hold holds the logger (pid), sets the trap for
// the next logger unless this is the last kill, kills the logger and lets
// its orphaned processor go. The trap is set first so that the next logger
// meets it with the pipe full of what the writer wrote meanwhile: it then
// reads as much at once as it ever does.
func killHeld(t *testing.T, dir, lg string, pid int, last bool) int {
	held := filepath.Join(dir, "held")
	var proc []byte
	harness.WaitFor(t, 60*time.Second, "the logger to rotate into its held processor", func() bool {
		var err error
		proc, err = os.ReadFile(held)
		return err == nil
	})
	os.Remove(held)
	if !last {
		if err := os.WriteFile(filepath.Join(dir, "trap"), nil, 0644); err != nil {
			t.Fatal(err)
		}
	}
	if r := run(t, harness.Bin(t, "svc"), "-k", lg); r.Code != 0 || r.Stderr != "" {
		t.Fatalf("svc: %v", r)
	}
	harness.WaitFor(t, 10*time.Second, "the killed logger to die", func() bool { return !alive(pid) })
	// a non-blocking open of a fifo fails (ENXIO) until its reader is in
	// open; once it is in, our open and close wake it, and it reads EOF
	gate := filepath.Join(dir, "gate."+strings.TrimSpace(string(proc)))
	harness.WaitFor(t, 10*time.Second, "the held processor to open "+gate, func() bool {
		fd, err := syscall.Open(gate, syscall.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			return false
		}
		syscall.Close(fd)
		return true
	})
	return waitPid(t, lg, pid, 10*time.Second)
}

func checkKillLoss(t *testing.T, multilog string) {
	// a processor left waiting when a test fails is in svscan's process
	// group, which the harness kills
	dir := t.TempDir()
	for name, text := range map[string]string{"hold": hold, "trap": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0644); err != nil {
			t.Fatal(err)
		}
	}
	// s4096: many rotations, so a trap soon finds one; n1000 keeps every
	// file (a killed logger leaves its files as @....u, which count)
	logRun := "exec " + multilog + " s4096 n1000 '!sh " + filepath.Join(dir, "hold") + " " + dir + "' ./main"
	kills := 0
	got := logThroughRestarts(t, logRun, func(lg string, pid int) int {
		kills++
		return killHeld(t, dir, lg, pid, kills == 10)
	})
	prev, whole, fragments := 0, 0, 0
	seen := make([]bool, numberedLines+1)
	for i, l := range got {
		n, err := strconv.Atoi(l)
		if err == nil && n > prev && n <= numberedLines {
			prev = n
			whole++
			seen[n] = true
			continue
		}
		// a fragment: a proper suffix of the number before the next line
		if i+1 < len(got) {
			next, err := strconv.Atoi(got[i+1])
			cut := strconv.Itoa(next - 1)
			if err == nil && next-1 > prev && len(l) < len(cut) && strings.HasSuffix(cut, l) {
				fragments++
				continue
			}
		}
		t.Fatalf("line %d: %q after %d", i+1, l, prev)
	}
	// a gap is a run of lost lines, one per kill at most: every logger
	// wrote a whole file before it was killed
	var gaps []int
	lost, lostBytes, in := 0, 0, false
	for n := 1; n <= numberedLines; n++ {
		if seen[n] {
			in = false
			continue
		}
		if !in {
			gaps = append(gaps, 0)
			in = true
		}
		lost++
		lostBytes += len(strconv.Itoa(n)) + 1
		gaps[len(gaps)-1] += len(strconv.Itoa(n)) + 1
	}
	bound := maxLossPerKill(len(strconv.Itoa(numberedLines)) + 1)
	t.Logf("kill -9 of %s 10 times: %d of %d lines (%d bytes) lost, per kill %v bytes (bound %d), %d partial lines",
		multilog, lost, numberedLines, lostBytes, gaps, bound, fragments)
	if len(gaps) > 10 || fragments > 10 {
		t.Fatalf("%d gaps, %d fragments in 10 kills", len(gaps), fragments)
	}
	for _, g := range gaps {
		if g > bound {
			t.Fatalf("a kill lost %d bytes, more than %d", g, bound)
		}
	}
}
