package daemontools

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tinymx/test/harness"
)

func TestSoftlimitPassesExactlyTheLimitsOfC(t *testing.T) {
	for _, o := range [][]string{
		{"-o", "100"}, {"-o", "="}, {"-o100", "-o", "="}, {"-m", "200000000"},
		{"-t", "5", "-f", "1024", "-c", "0", "-p", "50", "-r", "1000000", "-l", "65536", "-a", "300000000"},
		{"-d", "10000000"}, {"-s", "100000"}, {"-s="}, {"-c="}, {"-o", ""},
		{"-o", "99999999999999999999999"}, {"-a", "="}, {"-l", "=", "-m", "1"},
	} {
		args := append(append([]string{}, o...), "cat", "/proc/self/limits")
		harness.Pair(t, "softlimit").Same(t, harness.Job{Args: args}, nil)
		args = append(append([]string{}, o...), "sh", "-c", "ulimit -a; ulimit -Ha")
		harness.Pair(t, "softlimit").Same(t, harness.Job{Args: args}, nil)
	}
}

// The Go runtime raises its own soft RLIMIT_NOFILE at start-up; every
// program must still pass on the limit it was given. softlimit -o 512
// (the C one) sets a soft limit below the hard one first.
func TestChildrenSeeTheOpenFilesLimitTheyWereGiven(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"e/A": "1"})
	show := []string{"sh", "-c", "ulimit -Sn; ulimit -Hn; grep 'open files' /proc/self/limits"}
	for name, pre := range map[string][]string{
		"envdir":    {"e"},
		"envuidgid": {"nobody"},
		"setuidgid": {"nobody"},
		"softlimit": {"-c", "0"},
		"setlock":   {"lk"},
		"pgrphack":  {},
		"fghack":    {},
	} {
		args := append(append([]string{}, pre...), show...)
		r := harness.Pair(t, name).Same(t, harness.Job{Args: args, Dir: dir, Wrap: []string{harness.Peer(t, "softlimit"), "-o", "512"}}, nil)
		if !strings.HasPrefix(r.Stdout, "512\n") {
			t.Errorf("%s: child saw soft limit %q, want 512", name, r.Stdout)
		}
	}
	r := harness.Pair(t, "softlimit").Same(t, harness.Job{Args: append([]string{"-o", "300"}, show...), Wrap: []string{"/usr/bin/softlimit", "-o", "512"}}, nil)
	if !strings.HasPrefix(r.Stdout, "300\n") {
		t.Errorf("softlimit -o 300: child saw %q", r.Stdout)
	}
}

// listerEnv is the environment that makes fdLister list descriptors.
func listerEnv() []string { return append(os.Environ(), listFdsEnv+"=1") }

func TestSetlockHandsTheLockToTheProgramOnDescriptor3(t *testing.T) {
	dir := t.TempDir()
	r := harness.Pair(t, "setlock").Same(t, harness.Job{Args: append([]string{"lk"}, fdLister(t)...), Env: listerEnv(), Dir: dir}, harness.Inodes)
	if !strings.Contains(r.Stdout, "3 "+filepath.Join(dir, "lk")) {
		t.Errorf("lock not on fd 3:\n%s", r.Stdout)
	}
	st, err := os.Stat(filepath.Join(dir, "lk"))
	if err != nil || st.Mode().Perm() != 0600 {
		t.Errorf("lock file mode %v (%v), want 0600", st.Mode(), err)
	}
}

func TestSetlockExcludesTheOtherImplementation(t *testing.T) {
	setlock := harness.Pair(t, "setlock")
	c, g := setlock.C, setlock.Go
	dir := t.TempDir()
	for _, holder := range []string{c, g} {
		// The holder keeps the lock while its program waits on a fifo.
		fifo := filepath.Join(dir, "go")
		os.Remove(fifo)
		if err := exec.Command("mkfifo", fifo).Run(); err != nil {
			t.Fatal(err)
		}
		hold := exec.Command(holder, "lk", "sh", "-c", "echo held > held; read x < go")
		hold.Dir = dir
		os.Remove(filepath.Join(dir, "held"))
		harness.Start(t, hold)
		harness.WaitFor(t, 5*time.Second, "the lock holder", func() bool {
			_, err := os.Stat(filepath.Join(dir, "held"))
			return err == nil
		})
		for _, args := range [][]string{{"-n", "lk", "true"}, {"-nx", "lk", "echo", "ran"}, {"-nX", "lk", "true"}} {
			r := setlock.Same(t, harness.Job{Args: args, Dir: dir}, nil)
			if args[0] != "-nx" && r.Code != 111 {
				t.Errorf("setlock %v while %s holds the lock: exit %d", args, holder, r.Code)
			}
		}
		// Release: the waiting setlock (the other implementation) gets it.
		waiter := g
		if holder == g {
			waiter = c
		}
		// Two waiters: the default, and -N overriding an earlier -n.
		got := filepath.Join(dir, "got")
		os.Remove(got)
		for _, opt := range []string{"-X", "-nN"} {
			cmd := exec.Command(waiter, opt, "lk", "sh", "-c", "echo got it >> got")
			cmd.Dir = dir
			wait := harness.Start(t, cmd)
			// It is queued in the kernel behind the holder ("->" in /proc/locks).
			harness.WaitFor(t, 5*time.Second, waiter+" "+opt+" blocked on the lock", func() bool {
				b, _ := os.ReadFile("/proc/locks")
				return strings.Contains(string(b), fmt.Sprintf("-> FLOCK  ADVISORY  WRITE %d ", wait.Pid()))
			})
		}
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte("x\n"))
		f.Close()
		harness.WaitFor(t, 10*time.Second, waiter+" running once "+holder+" let go", func() bool {
			b, _ := os.ReadFile(got)
			return string(b) == "got it\ngot it\n"
		})
	}
}

func TestSetlockOpenFailuresLikeC(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"nodir/lk", "true"}, {"-x", "nodir/lk", "true"}, {"-X", "nodir/lk", "true"},
		{".", "true"}, {"-x", ".", "true"}, {"-x", "lk", "nosuchprogram"}, {"-xX", "nodir/lk", "true"},
	} {
		harness.Pair(t, "setlock").Same(t, harness.Job{Args: args, Dir: dir}, nil)
	}
}

func TestPgrphackRunsTheProgramInItsOwnSession(t *testing.T) {
	// Run under sh so that pgrphack is not a group leader (the harness
	// makes the process it starts one, and setsid fails for leaders).
	for _, bin := range harness.Pair(t, "pgrphack").Both() {
		cmd := exec.Command("sh", "-c", bin+` awk '{print ($1==$5 && $5==$6) ? "leader" : "not leader"}' /proc/self/stat; true`)
		r := harness.Run(t, 10*time.Second, cmd)
		if r.Stdout != "leader\n" || r.Code != 0 {
			t.Errorf("%s: %q exit %d", bin, r.Stdout, r.Code)
		}
	}
	// As a group leader setsid fails; that is ignored by both.
	harness.Pair(t, "pgrphack").Same(t, harness.Job{Args: []string{"sh", "-c", "echo ran"}}, nil)
}

func TestFghackWaitsForDaemonsAndPassesTheExitCode(t *testing.T) {
	dir := t.TempDir()
	for _, script := range []string{
		"exit 7",
		"(sleep 0.3; echo daemon done > " + dir + "/done) & exit 3",
		"kill -9 $$",
		"exec 3>&- 4>&- 5>&-; exit 0",
		"", // the descriptors the program gets
	} {
		os.Remove(filepath.Join(dir, "done"))
		j := harness.Job{Args: []string{"sh", "-c", script}, Dir: dir}
		if script == "" {
			j.Args, j.Env = fdLister(t), listerEnv()
		}
		r := harness.Pair(t, "fghack").Same(t, j, harness.Inodes)
		if strings.Contains(script, "daemon") {
			if _, err := os.Stat(filepath.Join(dir, "done")); err != nil || r.Code != 3 {
				t.Errorf("fghack returned (exit %d) before the daemon finished", r.Code)
			}
		}
	}
}

// Started with SIGCHLD ignored the C fghack loses its child's status
// (wait failed: no child processes, 111); ours waits and passes it on.
func TestFghackStartedWithSigchldIgnoredStillPassesTheExitCode(t *testing.T) {
	// bash, not dash: dash does not really ignore CHLD for a trap ''.
	ignoring := func(bin string) *exec.Cmd {
		return exec.Command("/bin/bash", "-c", `trap '' CHLD; exec "$0" sh -c 'exit 7'`, bin)
	}
	r := harness.Run(t, 10*time.Second, ignoring(harness.Peer(t, "fghack")))
	if r.Code != 111 || r.Stderr != "fghack: fatal: wait failed: no child processes\n" {
		t.Errorf("C fghack: exit %d stderr %q: CHLD not ignored?", r.Code, r.Stderr)
	}
	r = harness.Run(t, 10*time.Second, ignoring(harness.Bin(t, "fghack")))
	if r.Code != 7 || r.Stderr != "" {
		t.Errorf("exit %d stderr %q, want 7 and nothing", r.Code, r.Stderr)
	}
}

// The Go runtime has far more address space mapped than these limits
// allow; softlimit must still reach the exec every time, as the C one does,
// instead of dying when it needs memory after lowering them.
func TestSoftlimitRunsTheChildUnderLimitsBelowWhatGoHasMapped(t *testing.T) {
	g := harness.Bin(t, "softlimit")
	for _, o := range [][]string{{"-a", "300000000"}, {"-m", "30000000"}, {"-d", "20000000"}, {"-a", "300000000", "-o", "x"}} {
		harness.Pair(t, "softlimit").Same(t, harness.Job{Args: append(append([]string{}, o...), "/bin/echo", "ran")}, nil)
		harness.Pair(t, "softlimit").Same(t, harness.Job{Args: append(append([]string{}, o...), "nosuchprogram")}, nil)
		want := 0
		if o[len(o)-1] == "x" {
			want = 100 // usage, after the first limit was set
		}
		for i := 0; i < 20; i++ {
			cmd := exec.Command(g, append(append([]string{}, o...), "/bin/true")...)
			r := harness.Run(t, 10*time.Second, cmd)
			if r.Code != want || want == 0 && r.Stderr != "" {
				t.Fatalf("softlimit %v /bin/true: exit %d %.300s", o, r.Code, r.Stderr)
			}
		}
	}
}
