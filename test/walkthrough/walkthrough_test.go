package walkthrough

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"tinymx/test/harness"
)

func TestWalkthroughServiceComesUpWithStablePidsAndOnlyOurPrograms(t *testing.T) {
	s := newService(t)
	s.start(filepath.Join(s.bin, "svscan"), s.bin)
	var first []int
	harness.WaitFor(t, 10*time.Second, "svstat: both up", func() bool { first = s.pids(); return first != nil })
	for i := 0; i < 5; i++ {
		time.Sleep(300 * time.Millisecond) // pids must stay put over time, not just once
		if got := s.pids(); got == nil || got[0] != first[0] || got[1] != first[1] {
			t.Fatalf("pids changed: %v then %v", first, got)
		}
	}
	// tcpserver runs as acct (envuidgid + -U), multilog as logacct (setuidgid)
	for i, name := range []string{acct, logacct} {
		u, err := user.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(first[i]) + "/status")
		m := regexp.MustCompile(`(?m)^Uid:\s+(\d+)\s+(\d+)`).FindStringSubmatch(string(b))
		if m == nil || m[1] != u.Uid || m[2] != u.Uid {
			t.Errorf("pid %d runs as %v, want %s (%s)", first[i], m, name, u.Uid)
		}
	}
	// A run script's shell is /bin/sh until it execs the program: under
	// load that moment can come late, so wait for the tree to settle.
	stranger := ""
	t.Cleanup(func() {
		if t.Failed() && stranger != "" {
			t.Log("last seen not ours: " + stranger)
		}
	})
	harness.WaitFor(t, 10*time.Second, "every process of the tree to be one of ours", func() bool {
		stranger = ""
		for _, pid := range tree(s.svscn.Process.Pid) {
			exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
			if err == nil && filepath.Dir(exe) != s.bin {
				stranger = fmt.Sprintf("pid %d runs %s", pid, exe)
				return false
			}
		}
		return true
	})
	harness.WaitFor(t, 10*time.Second, "tcpserver: status: 0/40 in the log", func() bool {
		return regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} tcpserver: status: 0/40$`).MatchString(s.log())
	})
}

func TestRelayclientRelaysOnlyFromItsAddress(t *testing.T) {
	s := newService(t)
	s.start(filepath.Join(s.bin, "svscan"), s.bin)
	out, code := s.swaks("--to", "someone@outside.test", "--from", "me@example.net", "--header", "Subject: relayed")
	if code != 0 {
		t.Fatalf("relay from 127.0.0.1 refused (%d):\n%s", code, out)
	}
	harness.WaitFor(t, 5*time.Second, "the relayed message in maildir/new", func() bool {
		for _, f := range s.maildir() {
			b, _ := os.ReadFile(f)
			if strings.Contains(string(b), "Subject: relayed") && strings.Contains(string(b), "someone@outside.test") {
				return true
			}
		}
		return false
	})
	out, code = s.swaks("--local-interface", "127.0.0.2", "--to", "someone@outside.test", "--from", "me@example.net")
	if code == 0 || !strings.Contains(out, "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)") {
		t.Fatalf("127.0.0.2 could relay (%d):\n%s", code, out)
	}
	out, code = s.swaks("--local-interface", "127.0.0.2", "--to", "postmaster@example.net", "--from", "me@outside.test")
	if code != 0 {
		t.Fatalf("127.0.0.2 refused for a rcpthosts domain (%d):\n%s", code, out)
	}
}

// rewrite replaces our absolute path of a program in a script by the C one.
func (s *service) rewrite(script, prog string) {
	s.t.Helper()
	p := filepath.Join(s.D, script)
	b, err := os.ReadFile(p)
	must(s.t, err)
	ours := filepath.Join(s.bin, prog)
	if !strings.Contains(string(b), ours) {
		s.t.Fatalf("%s does not name %s", p, ours)
	}
	must(s.t, os.WriteFile(p, []byte(strings.ReplaceAll(string(b), ours, "/usr/bin/"+prog)), 0755))
}

func TestCSvscanSuperviseAndTcpserverRunOurService(t *testing.T) {
	harness.NeedPeer(t, "/usr/bin/svscan")
	harness.NeedPeer(t, "/usr/bin/tcpserver")
	s := newService(t)
	s.rewrite("run", "tcpserver")
	// PATH order makes the C svscan start the C supervise
	s.start("/usr/bin/svscan", "/usr/bin")
	harness.WaitFor(t, 10*time.Second, "svstat: both up", func() bool { return s.pids() != nil })
	s.waitExe(0, "/usr/bin/tcpserver")
	if out, code := s.swaks("--to", "postmaster@example.net", "--from", "a@outside.test"); code != 0 {
		t.Fatalf("mail refused (%d):\n%s", code, out)
	}
	harness.WaitFor(t, 5*time.Second, "a message in maildir/new", func() bool { return len(s.maildir()) == 1 })
}

func TestOurSvscanRunsTheCMultilog(t *testing.T) {
	harness.NeedPeer(t, "/usr/bin/multilog")
	s := newService(t)
	s.rewrite("log/run", "multilog")
	s.start(filepath.Join(s.bin, "svscan"), s.bin)
	harness.WaitFor(t, 10*time.Second, "svstat: both up", func() bool { return s.pids() != nil })
	s.waitExe(1, "/usr/bin/multilog")
	if out, code := s.swaks("--to", "postmaster@example.net", "--from", "a@outside.test"); code != 0 {
		t.Fatalf("mail refused (%d):\n%s", code, out)
	}
	harness.WaitFor(t, 10*time.Second, "the connection in the log", func() bool {
		return strings.Contains(s.log(), "tcpserver: ok ")
	})
}

func TestKillingTcpserverLosesNoAcknowledgedMessage(t *testing.T) {
	s := newService(t)
	s.start(filepath.Join(s.bin, "svscan"), s.bin)
	harness.WaitFor(t, 10*time.Second, "svstat: both up", func() bool { return s.pids() != nil })

	var mu sync.Mutex
	var acked []int
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			body := "Subject: msg-" + strconv.Itoa(n) + "\n\nbody " + strconv.Itoa(n) + "\n"
			reply, err := sendMail(s.addr(), "a@outside.test", "postmaster@example.net", body)
			if err == nil && strings.HasPrefix(reply, "250 ok") {
				mu.Lock()
				acked = append(acked, n)
				mu.Unlock()
			}
		}
	}()
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	for kill := 0; kill < 3; kill++ {
		before := count()
		harness.WaitFor(t, 20*time.Second, "mail flowing", func() bool { return count() >= before+10 })
		old := s.pids()
		if old == nil {
			t.Fatal("service not up")
		}
		syscall.Kill(old[0], syscall.SIGKILL)
		harness.WaitFor(t, 10*time.Second, "tcpserver back under a new pid", func() bool {
			p := s.pids()
			return p != nil && p[0] != old[0]
		})
	}
	before := count()
	harness.WaitFor(t, 20*time.Second, "mail flowing after the kills", func() bool { return count() >= before+10 })
	close(stop)
	<-done

	stored := map[string]bool{}
	for _, f := range s.maildir() {
		b, _ := os.ReadFile(f)
		if m := regexp.MustCompile(`Subject: (msg-\d+)`).FindSubmatch(b); m != nil {
			stored[string(m[1])] = true
		}
	}
	for _, n := range acked {
		if !stored["msg-"+strconv.Itoa(n)] {
			t.Errorf("msg-%d was acknowledged but is not in the Maildir", n)
		}
	}
	t.Logf("%d messages acknowledged, %d stored", len(acked), len(stored))
}

func TestRestartingTheLoggerLosesNoLogLine(t *testing.T) {
	s := newService(t)
	s.start(filepath.Join(s.bin, "svscan"), s.bin)
	harness.WaitFor(t, 10*time.Second, "svstat: both up", func() bool { return s.pids() != nil })
	const conns = 200
	okLine := regexp.MustCompile(`(?m) tcpserver: ok (\d+) `)
	// the readiness probe was a connection too: wait for its lines
	harness.WaitFor(t, 10*time.Second, "the probe's end line", func() bool {
		return strings.Contains(s.allLogs(), " tcpserver: end ")
	})
	base := len(okLine.FindAllString(s.allLogs(), -1))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < conns; i++ {
			sendMail(s.addr(), "a@outside.test", "postmaster@example.net", "Subject: x\n\nx\n")
		}
	}()
	svc := filepath.Join(s.bin, "svc")
	for i := 0; i < 5; i++ {
		time.Sleep(100 * time.Millisecond) // spread the restarts over the traffic
		exec.Command(svc, "-t", filepath.Join(s.scan, "smtpd/log")).Run()
	}
	<-done
	harness.WaitFor(t, 15*time.Second, strconv.Itoa(conns)+" ok and end lines in the log", func() bool {
		logs := s.allLogs()
		return len(okLine.FindAllString(logs, -1)) >= base+conns && strings.Count(logs, " tcpserver: end ") >= base+conns
	})
	logs := s.allLogs()
	if n := len(okLine.FindAllString(logs, -1)) - base; n != conns {
		t.Fatalf("%d ok lines for %d connections", n, conns)
	}
	if n := strings.Count(logs, " tcpserver: end ") - base; n != conns {
		t.Fatalf("%d end lines for %d connections", n, conns)
	}
}

// allLogs is every log file of log/main, oldest first, then current.
func (s *service) allLogs() string {
	dir := filepath.Join(s.D, "log/main")
	old, _ := filepath.Glob(filepath.Join(dir, "@*"))
	var b strings.Builder
	for _, f := range append(old, filepath.Join(dir, "current")) {
		data, _ := os.ReadFile(f)
		b.Write(data)
	}
	return b.String()
}

func TestServiceStartsUnderDataLimitAndTakesTenMegabytes(t *testing.T) {
	s := newService(t)
	if b, _ := os.ReadFile(filepath.Join(s.D, "env/DATALIMIT")); strings.TrimSpace(string(b)) == "" {
		t.Fatal("env/DATALIMIT is empty")
	}
	s.start(filepath.Join(s.bin, "svscan"), s.bin)
	harness.WaitFor(t, 10*time.Second, "svstat: both up", func() bool { return s.pids() != nil })
	var body strings.Builder
	body.WriteString("Subject: big\n\n")
	line := strings.Repeat("0123456789", 9) + "\n"
	for body.Len() < 10<<20 {
		body.WriteString(line)
	}
	reply, err := sendMail(s.addr(), "a@outside.test", "postmaster@example.net", body.String())
	if err != nil || !strings.HasPrefix(reply, "250 ok") {
		t.Fatalf("10 MB message: %q %v", reply, err)
	}
	files := s.maildir()
	if len(files) != 1 {
		t.Fatalf("%d files in maildir/new", len(files))
	}
	st, _ := os.Stat(files[0])
	if st.Size() < 10<<20 {
		t.Fatalf("stored %d bytes", st.Size())
	}
}

// waitExe waits until process i of svstat's pids (0 the service, 1 its
// logger) runs want: svstat says up as soon as ./run starts, and the run
// script's shell execs the program a moment later (longer under load).
func (s *service) waitExe(i int, want string) {
	s.t.Helper()
	var exe string
	harness.WaitFor(s.t, 10*time.Second, "the run script to exec "+want, func() bool {
		pids := s.pids()
		if pids == nil {
			return false
		}
		exe, _ = os.Readlink("/proc/" + strconv.Itoa(pids[i]) + "/exe")
		return exe == want
	})
}
