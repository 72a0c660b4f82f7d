// Package smtpdserver runs ./bin/qmail-smtpd-server end to end: the
// dialogs of test/smtpdialog against the daemon, real clients, per-session
// rules, the limits, signals (TERM drain, HUP), an injected panic and the
// refusal to serve as root.
//
// The server is started here with exec and its own process group rather
// than with harness.Start, whose signature is being changed; only the
// harness's stable helpers (Bin, WaitFor, Patience, NeedPeer, NeedRoot,
// Output) are used.
package smtpdserver

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"tinymx/test/dialog"
	"tinymx/test/harness"
)

// TestMain doubles as the fake qmail-queue when FAKEQQ_DIR is set.
func TestMain(m *testing.M) {
	dialog.FakeQueueIfAsked()
	os.Exit(m.Run())
}

// server is one qmail-smtpd-server started by startServer.
type server struct {
	cmd  *exec.Cmd
	addr string // 127.0.0.1:port
	port int
	log  *harness.Output
	done chan struct{} // closed once it has exited and been waited for
}

// startServer runs bin with env and args (which must hold -1 and port 0)
// in its own process group, reads the port it prints, and makes sure the
// group is gone when the test ends.
func startServer(t testing.TB, bin string, env []string, args ...string) *server {
	t.Helper()
	s := &server{log: &harness.Output{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Env = env
	s.cmd.Stderr = s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	port := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		port <- strings.TrimSpace(line)
		s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		pgid := s.cmd.Process.Pid
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-s.done
	})
	select {
	case p := <-port:
		n, err := strconv.Atoi(p)
		if err != nil {
			t.Fatalf("qmail-smtpd-server -1 printed %q; log:\n%s", p, s.log.String())
		}
		s.port, s.addr = n, "127.0.0.1:"+p
	case <-time.After(harness.Patience):
		t.Fatalf("qmail-smtpd-server did not print its port within %v", harness.Patience)
	}
	return s
}

func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// waitLog waits until the log matches re and returns the first match's groups.
func (s *server) waitLog(t testing.TB, re *regexp.Regexp) []string {
	t.Helper()
	var m []string
	harness.WaitFor(t, 20*time.Second, "log line "+re.String()+" in:\n"+s.log.String(), func() bool {
		m = re.FindStringSubmatch(s.log.String())
		return m != nil
	})
	return m
}

// home is a qmail home with the spec's common setup (control/me,
// rcpthosts) and a Maildir.
func home(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(dir+"/control", 0755)
	write(t, dir+"/control/me", "mx.example.org\n")
	write(t, dir+"/control/rcpthosts", "example.org\n.example.org\n")
	for _, d := range []string{"tmp", "new", "cur"} {
		os.MkdirAll(dir+"/Maildir/"+d, 0700)
	}
	return dir
}

func write(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0644); err != nil {
		t.Fatal(err)
	}
}

// baseEnv is the environment of a server on home with the built-in store.
func baseEnv(home string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "QMAILHOME=" + home, "MAILDIRQUEUE=" + home + "/Maildir"}
	if os.Getuid() == 0 {
		env = append(env, "QMAIL_SMTPD_ROOT=1")
	}
	return env
}

// rulesCDB compiles rules text with ./bin/tcprules into dir/rules.cdb.
func rulesCDB(t testing.TB, dir, text string) string {
	t.Helper()
	cdb := filepath.Join(dir, "rules.cdb")
	cmd := exec.Command(harness.Bin(t, "tcprules"), cdb, cdb+".tmp")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tcprules: %v: %s", err, out)
	}
	return cdb
}

func newFiles(t testing.TB, maildir string) []string {
	t.Helper()
	ents, err := os.ReadDir(maildir + "/new")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// conn is the harness's SMTP client.
type conn = harness.SMTP

func dial(t testing.TB, addr string) *conn { return harness.DialSMTP(t, addr) }

// dialFrom connects from the local address src ("" for any).
func dialFrom(t testing.TB, src, addr string) *conn { return harness.DialSMTPFrom(t, src, addr) }

// mail sends one message in an open session and returns the 250 reply.
func mail(c *conn, from, to, body string) string {
	c.T.Helper()
	c.Send("MAIL FROM:<" + from + ">\r\n")
	c.Expect("250 ")
	c.Send("RCPT TO:<" + to + ">\r\n")
	c.Expect("250 ")
	c.Send("DATA\r\n")
	c.Expect("354 ")
	c.Send(body + "\r\n.\r\n")
	return c.Line()
}

var qpRE = regexp.MustCompile(`^250 ok [0-9]+ qp ([0-9]+)$`)

func netDial(addr string) (net.Conn, error) { return net.DialTimeout("tcp", addr, 2*time.Second) }
