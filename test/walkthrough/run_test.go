package walkthrough

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

// processesMentioning lists the pids whose command line contains s.
func processesMentioning(s string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if bytes.Contains(b, []byte(s)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// demo is one make run: demo/run.sh with its own RUNDIR and PORT.
type demo struct {
	*harness.Proc
	out    *harness.Output
	rundir string
	port   int
}

// startDemo starts make run's script and waits for its banner. The demo
// serves 127.0.0.1, an address every test may bind, so a suite running
// beside this one can take the port first: then (the log says our
// tcpserver could not bind it) the demo is stopped and startDemo says so
// with nil, for the caller to try again with a fresh port.
func startDemo(t *testing.T) *demo {
	t.Helper()
	d := &demo{out: &harness.Output{}, rundir: filepath.Join(t.TempDir(), "run"), port: harness.FixedPort(t, "127.0.0.1")}
	cmd := exec.Command(filepath.Join(harness.Root(), "demo/run.sh"))
	cmd.Env = append(os.Environ(), "RUNDIR="+d.rundir, "PORT="+strconv.Itoa(d.port))
	cmd.Stdout, cmd.Stderr = d.out, d.out
	d.Proc = harness.Start(t, cmd)
	// svscan runs in a process group of its own: make sure it dies with the test
	t.Cleanup(func() {
		for _, pid := range processesMentioning(d.rundir) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	banner := "tinymx demo: SMTP on 127.0.0.1:" + strconv.Itoa(d.port)
	log := func() string {
		b, _ := os.ReadFile(filepath.Join(d.rundir, "service/smtpd/log/main/current"))
		return string(b)
	}
	// the banner says something answers on the port; "status:" that our
	// tcpserver listens there
	harness.WaitFor(t, 30*time.Second, "the demo's banner", func() bool {
		return strings.Contains(d.out.String(), banner) && strings.Contains(log(), "tcpserver: status: ") ||
			strings.Contains(log(), "tcpserver: fatal: unable to bind")
	})
	if strings.Contains(log(), "tcpserver: status: ") {
		return d
	}
	t.Logf("port %d taken by someone else: %s", d.port, log())
	syscall.Kill(d.Pid(), syscall.SIGINT)
	harness.WaitFor(t, 20*time.Second, "the demo to stop", d.Done)
	return nil
}

func TestMakeRunServesMailAndCtrlCStopsTheTreeCleanly(t *testing.T) {
	harness.Bin(t, "svscan")
	var d *demo
	for try := 0; d == nil; try++ {
		if try == 5 {
			t.Fatal("the demo's port was taken five times")
		}
		d = startDemo(t)
	}
	demo, out, rundir, port := d.Proc, d.out, d.rundir, d.port
	reply, err := sendMail("127.0.0.1:"+strconv.Itoa(port), "me@localhost", "you@example.org", "Subject: demo\n\nhello\n")
	if err != nil || !strings.HasPrefix(reply, "250 ok") {
		t.Fatalf("demo refused mail: %q %v\n%s", reply, err, out.String())
	}
	svc := filepath.Join(rundir, "service/smtpd")
	if n, _ := os.ReadDir(filepath.Join(svc, "maildir/new")); len(n) != 1 {
		t.Fatalf("%d messages in the demo Maildir", len(n))
	}

	syscall.Kill(demo.Pid(), syscall.SIGINT) // what Ctrl-C sends the script
	harness.WaitFor(t, 20*time.Second, "make run to stop", demo.Done)
	if !strings.Contains(out.String(), "make run: stopped") {
		t.Fatalf("no clean stop:\n%s", out.String())
	}
	if left := processesMentioning(rundir); len(left) > 0 {
		t.Fatalf("processes left running: %v", left)
	}
	st, err := os.Stat(filepath.Join(svc, "log/main/current"))
	if err != nil || st.Mode().Perm() != 0744 {
		t.Fatalf("current not complete (mode 0744): %v %v", st, err)
	}
	cur, _ := os.ReadFile(filepath.Join(svc, "log/main/current"))
	if !bytes.Contains(cur, []byte("tcpserver: ok ")) {
		t.Fatalf("log lacks the connection:\n%s", cur)
	}
}
