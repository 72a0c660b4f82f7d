package supervise_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"tinymx/test/harness"
)

func TestKilledServiceIsRestartedAfterTheThrottle(t *testing.T) {
	t.Parallel()
	for _, prog := range []string{harness.Bin(t, "supervise"), harness.Peer(t, "supervise")} {
		s := service(t, t.TempDir(), "s", "exec sleep 1000")
		startSupervise(t, prog, s)
		pid := waitPid(t, s, 0, 10*time.Second)
		started := time.Now()
		syscall.Kill(pid, syscall.SIGKILL)
		pid2 := waitPid(t, s, pid, 10*time.Second)
		if alive(pid) {
			t.Fatalf("%s: old run %d still alive", prog, pid)
		}
		// the restart is immediate (the throttle is counted from the last
		// start, long past); two kills in a row must wait it out
		syscall.Kill(pid2, syscall.SIGKILL)
		waitPid(t, s, pid2, 10*time.Second)
		if el := time.Since(started); el < time.Second {
			t.Fatalf("%s: two restarts within %v", prog, el)
		}
	}
}

func cpuTicks(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	u, _ := strconv.Atoi(f[11])
	s, _ := strconv.Atoi(f[12])
	return u + s
}

func TestRunThatExitsAtOnceRestartsAtMostOncePerSecondWithoutSpinning(t *testing.T) {
	t.Parallel()
	s := service(t, t.TempDir(), "s", "read -r st < /proc/$$/stat; echo \"$st\" >> starts; exit 0")
	sup := startSupervise(t, harness.Bin(t, "supervise"), s)
	starts := filepath.Join(s, "starts")
	var times []float64
	harness.WaitFor(t, 16*time.Second, "four starts", func() bool {
		// each start's fork time, from /proc/PID/stat (clock ticks since
		// boot): unlike a clock read by the script, it does not move with
		// how long a loaded machine takes to start the shell
		b, _ := os.ReadFile(starts)
		times = times[:0]
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			i := strings.LastIndexByte(l, ')')
			if i < 0 || i+2 > len(l) {
				continue
			}
			if f := strings.Fields(l[i+2:]); len(f) > 19 {
				ticks, _ := strconv.ParseFloat(f[19], 64)
				times = append(times, ticks/100)
			}
		}
		return len(times) >= 4
	})
	for i := 1; i < len(times); i++ {
		if d := times[i] - times[i-1]; d < 0.95 {
			t.Fatalf("start %d came %.3fs after the one before", i+1, d)
		}
	}
	// a supervise sleeping out its throttle uses next to no CPU
	if ticks := cpuTicks(sup.Process.Pid); ticks > 20 {
		t.Fatalf("supervise used %d ticks for four starts", ticks)
	}
	if !okOpen(s) {
		t.Fatal("supervise gone")
	}
}

// TestKilledSuperviseIsReplacedAndTheTreeSettles: kill -9 of supervise
// leaves its run orphaned; svscan starts a new supervise within 5 s, which
// starts a second run beside the orphan (as daemontools does). Once the
// orphan exits the new supervise alone serves the service.
func TestKilledSuperviseIsReplacedAndTheTreeSettles(t *testing.T) {
	t.Parallel()
	for _, impl := range []struct{ svscan, supervise string }{
		{harness.Bin(t, "svscan"), harness.Bin(t, "supervise")},
		{harness.Peer(t, "svscan"), harness.Peer(t, "supervise")},
	} {
		dir := t.TempDir()
		s := service(t, dir, "s", "exec sleep 1000")
		sc := startSvscan(t, impl.svscan, dir, binDir(t, impl.supervise))
		waitOK(t, s)
		orphan := waitPid(t, s, 0, 10*time.Second)
		var sup int
		for pid, args := range children(sc.Process.Pid) {
			if strings.HasSuffix(args, "supervise s") {
				sup = pid
			}
		}
		syscall.Kill(sup, syscall.SIGKILL)
		killed := time.Now()
		// svscan's part ends when it has forked the new supervise: time
		// that, not the new supervise's start-up on a loaded machine
		harness.WaitFor(t, 16*time.Second, "a new supervise s", func() bool {
			for pid, args := range children(sc.Process.Pid) {
				if pid != sup && strings.HasSuffix(args, "supervise s") {
					return true
				}
			}
			return false
		})
		// How soon is svscan's five-second scan; no bound here, since on
		// a loaded machine any bound can be passed (the wait above is a
		// hang guard).
		t.Logf("%s: new supervise forked %v after the kill", impl.svscan, time.Since(killed))
		second := waitPid(t, s, orphan, 16*time.Second)
		if !alive(orphan) {
			t.Fatalf("%s: the orphaned run %d died; daemontools leaves it running", impl.svscan, orphan)
		}
		syscall.Kill(orphan, syscall.SIGTERM)
		harness.WaitFor(t, 10*time.Second, "the orphan's exit", func() bool { return !alive(orphan) })
		if statusPid(t, s) != second || !alive(second) {
			t.Fatalf("%s: after the orphan's exit status names %d, want %d", impl.svscan, statusPid(t, s), second)
		}
		// and the new supervise is in charge: svc -t restarts its run
		run(t, harness.Bin(t, "svc"), "-t", s)
		waitPid(t, s, second, 10*time.Second)
	}
}

func mount(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
		t.Skipf("mount %v: %v %s", args, err, out)
	}
}

func umountAtCleanup(t *testing.T, dir string) {
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
}

// TestUnwritableSuperviseDirIsAClearFatalError: supervise/ owned by root,
// supervise run as nobody: the lock cannot be taken; the same message as
// the C supervise, exit 111, no status written.
func TestUnwritableSuperviseDirIsAClearFatalError(t *testing.T) {
	t.Parallel()
	harness.NeedRoot(t)
	setuidgid := harness.Peer(t, "setuidgid")
	var got []string
	for _, prog := range []string{harness.Peer(t, "supervise"), harness.Bin(t, "supervise")} {
		dir := t.TempDir()
		os.Chmod(dir, 0755)
		s := service(t, dir, "s", "exec sleep 1000")
		os.Mkdir(filepath.Join(s, "supervise"), 0700)
		cmd := exec.Command(setuidgid, "nobody", prog, "s")
		cmd.Dir = dir
		r := harness.Run(t, 10*time.Second, cmd)
		got = append(got, r.Stderr+" exit "+strconv.Itoa(r.Code))
		if _, err := os.Stat(filepath.Join(s, "supervise/status")); err == nil {
			t.Errorf("%s wrote a status", prog)
		}
	}
	if got[0] != got[1] || !strings.Contains(got[1], "supervise: fatal: unable to acquire s/supervise/lock: access denied\n exit 111") {
		t.Fatalf("C: %q\nGo: %q", got[0], got[1])
	}
}

// statusWriteFault makes status writes fail under a running supervise and
// checks that it warns, keeps serving, and leaves the old record whole.
func statusWriteFault(t *testing.T, breakIt func(s string), wantWarn string) {
	var warns []string
	for _, prog := range []string{harness.Peer(t, "supervise"), harness.Bin(t, "supervise")} {
		dir := t.TempDir()
		mount(t, "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir)
		umountAtCleanup(t, dir)
		s := service(t, dir, "s", "exec sleep 1000")
		sup := startSupervise(t, prog, s)
		pid := waitPid(t, s, 0, 10*time.Second)
		before := status(t, s)
		breakIt(s)
		run(t, harness.Bin(t, "svc"), "-d", s)
		harness.WaitFor(t, 10*time.Second, "run to stop", func() bool { return !alive(pid) })
		harness.WaitFor(t, 10*time.Second, "a warning", func() bool { return strings.Count(stderrOf(sup), "\n") >= 2 })
		if after := status(t, s); !bytes.Equal(after, before) {
			t.Fatalf("%s: status changed although writes fail: % x -> % x", prog, before, after)
		}
		run(t, harness.Bin(t, "svc"), "-u", s)
		harness.WaitFor(t, 10*time.Second, "a new run", func() bool {
			for pid2, args := range children(sup.Process.Pid) {
				if strings.Contains(args, "sleep 1000") && pid2 != pid {
					return true
				}
			}
			return false
		})
		if !okOpen(s) {
			t.Fatalf("%s died", prog)
		}
		w := strings.SplitAfter(stderrOf(sup), "\n")[0]
		warns = append(warns, strings.ReplaceAll(w, dir, "DIR"))
	}
	if warns[0] != warns[1] || warns[1] != wantWarn {
		t.Fatalf("C: %q\nGo: %q\nwant %q", warns[0], warns[1], wantWarn)
	}
}

func TestFullDiskKeepsTheOldStatusAndWarns(t *testing.T) {
	t.Parallel()
	harness.NeedRoot(t)
	statusWriteFault(t, func(s string) {
		f, _ := os.Create(filepath.Join(filepath.Dir(s), "filler"))
		f.Write(make([]byte, 1<<20))
		f.Close()
	}, "supervise: warning: unable to write DIR/s/supervise/status.new: out of disk space\n")
}

func TestReadOnlySuperviseDirKeepsTheOldStatusAndWarns(t *testing.T) {
	t.Parallel()
	harness.NeedRoot(t)
	statusWriteFault(t, func(s string) {
		d := filepath.Join(s, "supervise")
		mount(t, "--bind", d, d)
		umountAtCleanup(t, d)
		mount(t, "-o", "remount,ro,bind", d)
	}, "supervise: warning: unable to open DIR/s/supervise/status.new: read-only file system\n")
}

// TestFifoStatusNewKeepsTheOldStatusAndWarns: daemontools opens
// status.new with open_trunc, non-blocking, so a FIFO left there with no
// reader is ENXIO at once: a warning, the old record kept, supervise goes
// on. A blocking open would stop supervise at its next state change.
func TestFifoStatusNewKeepsTheOldStatusAndWarns(t *testing.T) {
	t.Parallel()
	harness.NeedRoot(t)
	statusWriteFault(t, func(s string) {
		if err := syscall.Mkfifo(filepath.Join(s, "supervise/status.new"), 0644); err != nil {
			t.Fatal(err)
		}
	}, "supervise: warning: unable to open DIR/s/supervise/status.new: device not configured\n")
}

// TestUnreadableCurrentDirectoryIsFatalLikeC: svc and svstat open "." to
// come back to it between services; as nobody in an execute-only
// directory that fails: the C message, exit 111, for both programs.
func TestUnreadableCurrentDirectoryIsFatalLikeC(t *testing.T) {
	t.Parallel()
	harness.NeedRoot(t)
	setuidgid := harness.Peer(t, "setuidgid")
	dir := t.TempDir()
	os.Chmod(dir, 0755)
	cwd := filepath.Join(dir, "x")
	os.Mkdir(cwd, 0311)
	for _, args := range [][]string{{"svc", "-u", "s"}, {"svstat", "s"}} {
		var got [2]string
		for i, prog := range []string{harness.Peer(t, args[0]), harness.Bin(t, args[0])} {
			cmd := exec.Command(setuidgid, append([]string{"nobody", prog}, args[1:]...)...)
			cmd.Dir = cwd
			r := harness.Run(t, 10*time.Second, cmd)
			got[i] = r.Stdout + "|" + r.Stderr + "|" + strconv.Itoa(r.Code)
		}
		want := "|" + args[0] + ": fatal: unable to open current directory: access denied\n|111"
		if got[0] != want || got[1] != want {
			t.Errorf("%v: C %q, Go %q", args, got[0], got[1])
		}
	}
}
