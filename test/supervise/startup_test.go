package supervise_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"tinymx/test/harness"
)

// TestDownFileKeepsServiceDownUntilSvcU, for both supervise programs: no
// start with a down file, the same svstat line, then svc -u starts it and
// svstat says "normally down".
func TestDownFileKeepsServiceDownUntilSvcU(t *testing.T) {
	t.Parallel()
	var lines []string
	for _, prog := range []string{harness.Peer(t, "supervise"), harness.Bin(t, "supervise")} {
		dir := t.TempDir()
		s := service(t, dir, "s", "exec sleep 1000")
		os.WriteFile(filepath.Join(s, "down"), nil, 0644)
		startSupervise(t, prog, s)
		if b := status(t, s); b[17] != 'd' || statusPid(t, s) != 0 {
			t.Fatalf("%s: status % x", prog, b)
		}
		lines = append(lines, harness.Seconds(runIn(t, dir, harness.Bin(t, "svstat"), "s").Stdout))
		run(t, harness.Bin(t, "svc"), "-u", s)
		waitPid(t, s, 0, 10*time.Second)
		up := runIn(t, dir, harness.Peer(t, "svstat"), "s").Stdout
		if !strings.HasSuffix(up, " seconds, normally down\n") {
			t.Fatalf("%s: %q", prog, up)
		}
	}
	if lines[0] != lines[1] || lines[0] != "s: down N seconds\n" {
		t.Fatalf("C %q, Go %q", lines[0], lines[1])
	}
}

// TestDanglingSuperviseSymlinkTargetIsCreated: Debian's supervise creates
// the target of a dangling supervise symlink (mode 0700); so does ours.
func TestDanglingSuperviseSymlinkTargetIsCreated(t *testing.T) {
	t.Parallel()
	for _, prog := range []string{harness.Peer(t, "supervise"), harness.Bin(t, "supervise")} {
		dir := t.TempDir()
		s := service(t, dir, "s", "exec sleep 1000")
		target := filepath.Join(t.TempDir(), "state")
		os.Symlink(target, filepath.Join(s, "supervise"))
		startSupervise(t, prog, s)
		fi, err := os.Stat(target)
		if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0700 {
			t.Fatalf("%s: target %v %v", prog, fi, err)
		}
		if _, err := os.Stat(filepath.Join(target, "status")); err != nil {
			t.Fatalf("%s: no status in the target: %v", prog, err)
		}
	}
}

// TestSvcXWaitsForTheServiceToGoDown, both supervise programs: -x alone
// leaves the service running; when it then exits (svc -t) supervise exits
// too, without restarting it.
func TestSvcXWaitsForTheServiceToGoDown(t *testing.T) {
	t.Parallel()
	for _, prog := range []string{harness.Peer(t, "supervise"), harness.Bin(t, "supervise")} {
		s := service(t, t.TempDir(), "s", "exec sleep 1000")
		sup := startSupervise(t, prog, s)
		pid := waitPid(t, s, 0, 10*time.Second)
		run(t, harness.Bin(t, "svc"), "-x", s)
		// -x is read once the start's throttle second is over
		harness.WaitFor(t, 10*time.Second, "-x to be read", func() bool { return !okBlocked(s) })
		if sup.Done() || !alive(pid) {
			t.Fatalf("%s: -x alone stopped something", prog)
		}
		run(t, harness.Bin(t, "svc"), "-t", s)
		harness.WaitFor(t, 10*time.Second, prog+" to exit", sup.Done)
		if statusPid(t, s) != 0 {
			t.Fatalf("%s: restarted after -x: % x", prog, status(t, s))
		}
	}
}

// okBlocked reports whether a command is still waiting in the control
// fifo (FIONREAD: counted without being consumed).
func okBlocked(s string) bool {
	fd, err := unix.Open(filepath.Join(s, "supervise/control"), unix.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return true
	}
	defer unix.Close(fd)
	n, err := unix.IoctlGetInt(fd, unix.TIOCINQ) // FIONREAD on Linux
	return err != nil || n > 0
}

// TestSvcDStopsTheRetriesOfARunThatNeverStarts, both supervise programs:
// with ./run missing, supervise still reads one command per attempt, so
// svc -d ends the retries (want down, no more warnings) and svc -x then
// makes it exit.
func TestSvcDStopsTheRetriesOfARunThatNeverStarts(t *testing.T) {
	t.Parallel()
	for _, prog := range []string{harness.Peer(t, "supervise"), harness.Bin(t, "supervise")} {
		s := service(t, t.TempDir(), "s", "")
		sup := startSupervise(t, prog, s)
		warnings := func() int { return strings.Count(stderrOf(sup), "\n") }
		harness.WaitFor(t, 10*time.Second, "a failed start", func() bool { return warnings() >= 1 })
		run(t, harness.Bin(t, "svc"), "-d", s)
		harness.WaitFor(t, 10*time.Second, "want down", func() bool { b := status(t, s); return b[17] == 'd' && statusPid(t, s) == 0 })
		// one attempt may have been under way when -d was read
		n := warnings()
		run(t, harness.Bin(t, "svc"), "-x", s)
		harness.WaitFor(t, 10*time.Second, prog+" to exit after svc -x", sup.Done)
		if w := warnings(); w > n+1 {
			t.Fatalf("%s: %d more failed starts after svc -d: %q", prog, w-n, stderrOf(sup))
		}
	}
}
