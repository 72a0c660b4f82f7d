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

func TestMakeRunServesMailAndCtrlCStopsTheTreeCleanly(t *testing.T) {
	harness.Bin(t, "svscan")
	rundir := filepath.Join(t.TempDir(), "run")
	port := harness.FreePort(t)
	var out harness.Output
	cmd := exec.Command(filepath.Join(harness.Root(), "demo/run.sh"))
	cmd.Env = append(os.Environ(), "RUNDIR="+rundir, "PORT="+strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = &out, &out
	demo := harness.Start(t, cmd)
	// svscan runs in a process group of its own: make sure it dies with the test
	t.Cleanup(func() {
		for _, pid := range processesMentioning(rundir) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	harness.WaitFor(t, 30*time.Second, "the demo's banner", func() bool {
		return strings.Contains(out.String(), "tinymx demo: SMTP on 127.0.0.1:"+strconv.Itoa(port))
	})
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
