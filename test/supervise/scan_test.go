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

// multilogPath is our multilog once built, else Debian's.
func multilogPath(t *testing.T) string {
	if p := filepath.Join(harness.Root(), "bin/multilog"); fileExists(p) {
		return p
	}
	return harness.Peer(t, "multilog")
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// binDir makes a directory of symlinks choosing, by PATH order, which
// supervise (and multilog) a svscan starts.
func binDir(t *testing.T, supervise string) string {
	t.Helper()
	d := t.TempDir()
	for name, target := range map[string]string{"supervise": supervise, "multilog": multilogPath(t)} {
		if err := os.Symlink(target, filepath.Join(d, name)); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func envWithPath(bin string) []string {
	env := []string{"PATH=" + bin + ":/usr/bin:/bin"}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "PATH=") {
			env = append(env, e)
		}
	}
	return env
}

// startSvscan runs svscan on dir with supervise taken from bin.
func startSvscan(t *testing.T, svscan, dir, bin string) *harness.Proc {
	t.Helper()
	cmd := exec.Command(svscan, dir)
	cmd.Env = envWithPath(bin)
	cmd.Stderr = &harness.Output{}
	return harness.Start(t, cmd)
}

// svscanTree checks the tree svscan keeps: one supervise per service
// directory, none for dot names, plain files or a symlinked duplicate, a
// logger fed through svscan's pipe, and a killed supervise restarted on
// the same pipe.
func svscanTree(t *testing.T, svscan, supervise string) {
	dir := t.TempDir()
	service(t, dir, "a", "echo hello from a; exec sleep 1000")
	service(t, dir, "a/log", "exec multilog t ./main")
	service(t, dir, "b", "exec sleep 1001")
	service(t, dir, ".hidden", "exec sleep 1002")
	os.WriteFile(filepath.Join(dir, "plain"), nil, 0644)
	os.Symlink("b", filepath.Join(dir, "blink"))
	sc := startSvscan(t, svscan, dir, binDir(t, supervise))

	var kids map[int]string
	harness.WaitFor(t, 16*time.Second, "three supervise children", func() bool {
		kids = children(sc.Process.Pid)
		n := 0
		for _, args := range kids {
			if strings.HasPrefix(args, "supervise ") {
				n++
			}
		}
		return n >= 3 && n == len(kids)
	})
	names := map[string]int{}
	for pid, args := range kids {
		names[strings.TrimPrefix(args, filepath.Dir(supervise)+"/")] = pid
	}
	bname := "supervise b"
	if _, ok := names["supervise blink"]; ok {
		bname = "supervise blink"
	}
	if len(kids) != 3 || names["supervise a"] == 0 || names[bname] == 0 || names["supervise log"] == 0 {
		t.Fatalf("children of svscan: %v", kids)
	}
	harness.WaitFor(t, 10*time.Second, "supervise log in a/log", func() bool {
		cwd, _ := os.Readlink("/proc/" + strconv.Itoa(names["supervise log"]) + "/cwd")
		return cwd == filepath.Join(dir, "a/log")
	})
	current := filepath.Join(dir, "a/log/main/current")
	harness.WaitFor(t, 10*time.Second, "a's line in a/log/main/current", func() bool {
		b, _ := os.ReadFile(current)
		return strings.Contains(string(b), " hello from a\n")
	})
	pipe, _ := os.Readlink("/proc/" + strconv.Itoa(names["supervise a"]) + "/fd/1")
	if !strings.HasPrefix(pipe, "pipe:") {
		t.Fatalf("supervise a's fd 1 is %q", pipe)
	}
	logIn, _ := os.Readlink("/proc/" + strconv.Itoa(names["supervise log"]) + "/fd/0")
	if logIn != pipe {
		t.Fatalf("supervise a writes %s, supervise log reads %s", pipe, logIn)
	}

	syscall.Kill(names["supervise a"], syscall.SIGKILL)
	var again int
	harness.WaitFor(t, 14*time.Second, "supervise a restarted", func() bool {
		for pid, args := range children(sc.Process.Pid) {
			if strings.HasSuffix(args, "supervise a") && pid != names["supervise a"] {
				again = pid
				return true
			}
		}
		return false
	})
	if p, _ := os.Readlink("/proc/" + strconv.Itoa(again) + "/fd/1"); p != pipe {
		t.Fatalf("restarted supervise a writes %s, not %s", p, pipe)
	}
	// the new supervise starts a second run; its line reaches the logger
	// through the same pipe
	harness.WaitFor(t, 10*time.Second, "the second run's line", func() bool {
		b, _ := os.ReadFile(current)
		return strings.Count(string(b), " hello from a\n") == 2
	})
	if e := stderrOf(sc); e != "" {
		t.Fatalf("svscan wrote %q", e)
	}
}

func TestOurSvscanKeepsCSuperviseAndLoggerUp(t *testing.T) {
	t.Parallel()
	svscanTree(t, harness.Bin(t, "svscan"), harness.Peer(t, "supervise"))
}

func TestCSvscanKeepsOurSuperviseAndLoggerUp(t *testing.T) {
	t.Parallel()
	svscanTree(t, harness.Peer(t, "svscan"), harness.Bin(t, "supervise"))
}

func TestOurSvscanKeepsOurSuperviseAndLoggerUp(t *testing.T) {
	t.Parallel()
	svscanTree(t, harness.Bin(t, "svscan"), harness.Bin(t, "supervise"))
}

// TestSvscanQuirksMatchC: a plain file named log still counts as a log
// (its supervise fails to enter it, again at each scan), and a removed
// service directory keeps its supervise running. Both svscans, same words.
func TestSvscanQuirksMatchC(t *testing.T) {
	t.Parallel()
	for name, pair := range map[string][2]string{"go": {harness.Bin(t, "svscan"), harness.Bin(t, "supervise")}, "c": {harness.Peer(t, "svscan"), harness.Peer(t, "supervise")}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			svscanQuirks(t, pair)
		})
	}
}

func svscanQuirks(t *testing.T, pair [2]string) {
	dir := t.TempDir()
	service(t, dir, "f", "exec sleep 1000")
	os.WriteFile(filepath.Join(dir, "f/log"), nil, 0644)
	gone := service(t, dir, "gone", "exec sleep 1000")
	sc := startSvscan(t, pair[0], dir, binDir(t, pair[1]))
	waitOK(t, gone)
	pid := waitPid(t, gone, 0, 10*time.Second)
	want := "supervise: fatal: unable to chdir to log: not a directory\n"
	harness.WaitFor(t, 24*time.Second, "two failed log supervise starts", func() bool {
		return strings.Count(stderrOf(sc), want) >= 2
	})
	if e := strings.ReplaceAll(stderrOf(sc), want, ""); e != "" {
		t.Fatalf("%s: unexpected stderr %q", pair[0], e)
	}
	// rename it out of the scanned directory: its supervise lives on
	moved := filepath.Join(t.TempDir(), "gone")
	if err := os.Rename(gone, moved); err != nil {
		t.Fatal(err)
	}
	harness.WaitFor(t, 16*time.Second, "a scan without the service", func() bool {
		return strings.Count(stderrOf(sc), want) >= 3
	})
	if !okOpen(moved) || !alive(pid) {
		t.Fatalf("%s: removing the directory stopped its supervise or run", pair[0])
	}
}

// TestSvscanWithoutSuperviseInPathWarnsLikeC: no supervise on PATH: the
// same warnings for the service and its logger, and svscan stays up.
func TestSvscanWithoutSuperviseInPathWarnsLikeC(t *testing.T) {
	t.Parallel()
	var got []string
	for _, prog := range []string{harness.Peer(t, "svscan"), harness.Bin(t, "svscan")} {
		dir := t.TempDir()
		service(t, dir, "a", "exec sleep 1000")
		service(t, dir, "a/log", "exec sleep 1000")
		cmd := exec.Command(prog, dir)
		cmd.Env = []string{"PATH=" + t.TempDir()}
		cmd.Stderr = &harness.Output{}
		sc := harness.Start(t, cmd)
		harness.WaitFor(t, 10*time.Second, "two warnings", func() bool { return strings.Count(stderrOf(sc), "\n") >= 2 })
		got = append(got, stderrOf(sc))
		if sc.Done() {
			t.Fatalf("%s exited", prog)
		}
	}
	// sorted: "a/log" before "a:"
	want := "svscan: warning: unable to start supervise a/log: file does not exist\n" +
		"svscan: warning: unable to start supervise a: file does not exist\n"
	for i, g := range got {
		// the C svscan's two children print these, in either order
		first := strings.SplitAfterN(g, "\n", 3)[:2]
		sort.Strings(first)
		if strings.Join(first, "") != want {
			t.Errorf("svscan %d: %q", i, g)
		}
	}
}

// pipesOf counts the pipe descriptors a process holds.
func pipesOf(pid int) int {
	n := 0
	ents, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	for _, e := range ents {
		if l, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + e.Name()); strings.HasPrefix(l, "pipe:") {
			n++
		}
	}
	return n
}

// TestSvscanStartsNewServiceAndForgetsVanishedOneWithItsPipe, both
// svscans: a service with a logger added after start is picked up at a
// later scan (two pipe ends held); moved out of the directory it keeps its
// supervise and the pipe; once both of its supervise have exited (svc -dx)
// the next scan drops the entry and closes the pipe.
func TestSvscanStartsNewServiceAndForgetsVanishedOneWithItsPipe(t *testing.T) {
	t.Parallel()
	for name, pair := range map[string][2]string{"go": {harness.Bin(t, "svscan"), harness.Bin(t, "supervise")}, "c": {harness.Peer(t, "svscan"), harness.Peer(t, "supervise")}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			first := service(t, dir, "first", "exec sleep 1000")
			sc := startSvscan(t, pair[0], dir, binDir(t, pair[1]))
			waitOK(t, first)                // the first scan is done
			base := pipesOf(sc.Process.Pid) // svscan's own, if any (its stderr)
			late := filepath.Join(t.TempDir(), "late")
			service(t, filepath.Dir(late), "late", "exec sleep 1000")
			service(t, filepath.Dir(late), "late/log", "exec sleep 1001")
			if err := os.Rename(late, filepath.Join(dir, "late")); err != nil {
				t.Fatal(err)
			}
			late = filepath.Join(dir, "late")
			waitPid(t, late, 0, 16*time.Second)
			waitPid(t, filepath.Join(late, "log"), 0, 10*time.Second)
			if n := pipesOf(sc.Process.Pid) - base; n != 2 {
				t.Fatalf("svscan holds %d pipe ends for late, want 2", n)
			}
			moved := filepath.Join(t.TempDir(), "late")
			if err := os.Rename(late, moved); err != nil {
				t.Fatal(err)
			}
			if r := run(t, harness.Bin(t, "svc"), "-dx", moved, filepath.Join(moved, "log")); r != (harness.Result{}) {
				t.Fatalf("svc -dx: %v", r)
			}
			harness.WaitFor(t, 10*time.Second, "both supervise to exit", func() bool {
				return !okOpen(moved) && !okOpen(filepath.Join(moved, "log"))
			})
			harness.WaitFor(t, 16*time.Second, "the next scan to close the pipe", func() bool { return pipesOf(sc.Process.Pid) == base })
			if e := stderrOf(sc); e != "" {
				t.Fatalf("svscan wrote %q", e)
			}
		})
	}
}

// TestSvscanTakesRelativePathEntriesFromInsideTheServiceForItsLogger, both
// svscans: supervise log is started after changing into the service, so
// PATH=.bin finds .bin/supervise of the scanned directory for the service
// but S/.bin/supervise for its logger; missing there: the same warning at
// every scan; once it exists, the logger starts.
func TestSvscanTakesRelativePathEntriesFromInsideTheServiceForItsLogger(t *testing.T) {
	t.Parallel()
	for name, pair := range map[string][2]string{"go": {harness.Bin(t, "svscan"), harness.Bin(t, "supervise")}, "c": {harness.Peer(t, "svscan"), harness.Peer(t, "supervise")}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			os.Mkdir(filepath.Join(dir, ".bin"), 0755)
			os.Symlink(pair[1], filepath.Join(dir, ".bin/supervise"))
			a := service(t, dir, "a", "exec /bin/sleep 1000")
			service(t, dir, "a/log", "exec /bin/sleep 1001")
			cmd := exec.Command(pair[0], dir)
			cmd.Env = []string{"PATH=.bin"}
			cmd.Stderr = &harness.Output{}
			sc := harness.Start(t, cmd)
			want := "svscan: warning: unable to start supervise a/log: file does not exist\n"
			waitOK(t, a)
			harness.WaitFor(t, 16*time.Second, "the logger's warning", func() bool { return strings.Contains(stderrOf(sc), want) })
			if okOpen(filepath.Join(a, "log")) {
				t.Fatal("a/log supervised although a/.bin/supervise does not exist")
			}
			os.Mkdir(filepath.Join(a, ".bin"), 0755)
			os.Symlink(pair[1], filepath.Join(a, ".bin/supervise"))
			harness.WaitFor(t, 16*time.Second, "a/log supervised at the next scan", func() bool { return okOpen(filepath.Join(a, "log")) })
			if e := strings.ReplaceAll(stderrOf(sc), want, ""); e != "" {
				t.Fatalf("unexpected stderr %q", e)
			}
		})
	}
}
