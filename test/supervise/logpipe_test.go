package supervise_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
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

// logThroughRestarts runs the writer under our svscan with a multilog
// logger and restarts the logger ten times with svc -t (or -k) while the
// lines flow. It returns the lines that reached the log.
func logThroughRestarts(t *testing.T, svcOpt string) []string {
	dir := t.TempDir()
	s := service(t, dir, "s", writer)
	service(t, dir, "s/log", "exec multilog s16777215 ./main")
	sc := startSvscan(t, ours(t, "svscan"), dir, binDir(t, ours(t, "supervise")))
	lg := filepath.Join(s, "log")
	var summary string
	t.Cleanup(func() {
		if t.Failed() {
			o, _, _ := run(t, ours(t, "svstat"), s, lg)
			keep := filepath.Join(os.TempDir(), "tinymx-logpipe-"+strconv.Itoa(os.Getpid()))
			exec.Command("cp", "-a", filepath.Join(lg, "main"), keep).Run()
			t.Logf("svscan stderr %q\nsvstat: %s\nlog kept in %s:\n%s", stderrOf(sc), o, keep, summary)
		}
	})
	waitOK(t, lg)
	pid := waitPid(t, lg, 0, 10*time.Second)
	for i := 0; i < 10; i++ {
		if _, e, c := run(t, ours(t, "svc"), svcOpt, lg); c != 0 || e != "" {
			t.Fatalf("svc: %q %d", e, c)
		}
		pid = waitPid(t, lg, pid, 10*time.Second)
	}
	if fileExists(filepath.Join(s, "done")) {
		t.Error("the writer finished before the tenth restart")
	}
	os.WriteFile(filepath.Join(s, "restarted"), nil, 0644)
	harness.WaitFor(t, 60*time.Second, "the writer to finish", func() bool { return fileExists(filepath.Join(s, "done")) })
	var got []string
	harness.WaitFor(t, 20*time.Second, "the last line in the log", func() bool {
		got, summary = readLog(t, filepath.Join(lg, "main"))
		return len(got) > 0 && got[len(got)-1] == strconv.Itoa(numberedLines)
	})
	return got
}

func TestLogPipeKeepsEveryLineInOrderWhileLoggerRestarts(t *testing.T) {
	t.Parallel()
	got := logThroughRestarts(t, "-t")
	if len(got) != numberedLines {
		t.Fatalf("%d lines logged, want %d", len(got), numberedLines)
	}
	for i, l := range got {
		if l != strconv.Itoa(i+1) {
			t.Fatalf("line %d is %q", i+1, l)
		}
	}
}

// TestLogPipeNeverDuplicatesOrReordersWhenLoggerIsKilled: a logger killed
// with -9 loses what it had read and not written, which may end inside a
// line; the rest of that line, still in svscan's pipe, reaches the next
// logger as a fragment (the tail of the number just before the next whole
// line). Everything else arrives once and in order.
func TestLogPipeNeverDuplicatesOrReordersWhenLoggerIsKilled(t *testing.T) {
	t.Parallel()
	got := logThroughRestarts(t, "-k")
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
	lost, lostBytes := 0, 0
	for n := 1; n <= numberedLines; n++ {
		if !seen[n] {
			lost++
			lostBytes += len(strconv.Itoa(n)) + 1
		}
	}
	// each kill loses at most what the logger had read and not written:
	// one read, at most 32 KiB with our multilog (less with the C one)
	if lostBytes > 10*32<<10 || fragments > 10 {
		t.Fatalf("lost %d lines (%d bytes), %d fragments in 10 kills", lost, lostBytes, fragments)
	}
	t.Logf("kill -9 of %s 10 times: %d of %d lines (%d bytes) lost (read by the logger, not yet written), %d partial lines", multilogPath(t), lost, numberedLines, lostBytes, fragments)
}
