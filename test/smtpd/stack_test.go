// Package smtpd_test runs ./bin/tcpserver + ./bin/qmail-smtpd end to end
// with real clients (swaks, Python's smtplib, Postfix's smtp-source) and
// checks every accepted message in the Maildir it lands in.
package smtpd_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"tinymx/test/harness"
)

func bin(t testing.TB, name string) string { return harness.Bin(t, name) }

// stack is one tcpserver + qmail-smtpd on 127.0.0.1 with a qmail home and
// a Maildir in a temp dir.
type stack struct {
	home    string // $QMAILHOME
	maildir string // $MAILDIRQUEUE (or where maildir-queue stores)
	addr    string // 127.0.0.1:port
	server  *harness.Server
}

type config struct {
	env      []string          // extra environment for qmail-smtpd
	control  map[string]string // extra control files
	program  bool              // QMAILQUEUE=./bin/maildir-queue instead of the built-in store
	maildir  string            // Maildir to use (default: home/Maildir)
	children int               // tcpserver -c (default 40)
	// noMaildirQueue leaves $MAILDIRQUEUE unset: the queue is then
	// <qmailhome>/bin/qmail-queue unless $QMAILQUEUE is in env.
	noMaildirQueue bool
}

func makeMaildir(t testing.TB, dir string) {
	t.Helper()
	for _, d := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0700); err != nil {
			t.Fatal(err)
		}
	}
}

func startStack(t testing.TB, c config) *stack {
	t.Helper()
	s := &stack{home: t.TempDir()}
	os.Mkdir(s.home+"/control", 0755)
	ctl := map[string]string{"me": "mx.example.org\n", "rcpthosts": "example.org\n.example.org\n"}
	for k, v := range c.control {
		ctl[k] = v
	}
	for k, v := range ctl {
		if err := os.WriteFile(s.home+"/control/"+k, []byte(v), 0644); err != nil {
			t.Fatal(err)
		}
	}
	s.maildir = c.maildir
	if s.maildir == "" {
		s.maildir = s.home + "/Maildir"
		makeMaildir(t, s.maildir)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "QMAILHOME=" + s.home}
	if !c.noMaildirQueue {
		env = append(env, "MAILDIRQUEUE="+s.maildir)
	}
	if c.program {
		env = append(env, "QMAILQUEUE="+bin(t, "maildir-queue"))
	}
	env = append(env, c.env...)
	children := c.children
	if children == 0 {
		children = 40
	}
	cmd := exec.Command(bin(t, "tcpserver"), "-1", "-HR", "-l", "mx.example.org", "-c"+strconv.Itoa(children),
		"127.0.0.1", "0", bin(t, "qmail-smtpd"))
	cmd.Env = env
	cmd.Stderr = os.Stderr
	s.server = harness.StartServer(t, cmd)
	s.addr = "127.0.0.1:" + strconv.Itoa(s.server.Port)
	return s
}

func listNames(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func (s *stack) newFiles(t testing.TB) []string { return listNames(t, s.maildir+"/new") }

// messages returns the contents of every file in new/.
func (s *stack) messages(t testing.TB) [][]byte {
	t.Helper()
	var msgs [][]byte
	for _, n := range s.newFiles(t) {
		b, err := os.ReadFile(s.maildir + "/new/" + n)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, b)
	}
	return msgs
}

// children returns the pids of tcpserver's children (the qmail-smtpd
// processes serving connections).
func (s *stack) children() []int { return childrenOf(s.server.Pid()) }

// waitIdle waits until tcpserver has no child left.
func (s *stack) waitIdle(t testing.TB) {
	t.Helper()
	harness.WaitFor(t, 20*time.Second, "qmail-smtpd processes to exit", func() bool { return len(s.children()) == 0 })
}

// waitIdleBut waits until tcpserver has n children at most.
func (s *stack) waitIdleBut(t testing.TB, n int) {
	t.Helper()
	harness.WaitFor(t, 20*time.Second, "earlier qmail-smtpd processes to exit", func() bool { return len(s.children()) <= n })
}

// conn is the harness's SMTP client.
type conn = harness.SMTP

func dial(t testing.TB, addr string) *conn { return harness.DialSMTP(t, addr) }

var qpRE = regexp.MustCompile(`^250 ok ([0-9]+) qp ([0-9]+)$`)

// checkAccepted checks a "250 ok <t> qp <pid>" reply and returns pid.
func checkAccepted(t testing.TB, reply string) int {
	t.Helper()
	m := qpRE.FindStringSubmatch(reply)
	if m == nil {
		t.Fatalf("reply %q is not 250 ok <t> qp <pid>", reply)
	}
	ts, _ := strconv.ParseInt(m[1], 10, 64)
	if d := time.Now().Unix() - ts; d < -5 || d > 60 {
		t.Errorf("250 ok time %d is %d s off", ts, d)
	}
	pid, _ := strconv.Atoi(m[2])
	return pid
}

var (
	qqReceivedRE   = regexp.MustCompile(`^Received: \(qmail ([0-9]+) invoked by uid ([0-9]+)\); [1-9][0-9]? (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} -0000$`)
	smtpReceivedRE = regexp.MustCompile(`^Received: from [^\n]*\n  by [^\n]* with SMTP; [1-9][0-9]? (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} -0000\n`)
)

// stored is a message file split into the lines the store and qmail-smtpd
// put on top and the client's message.
type stored struct {
	qqPid      int
	returnPath string
	rcpts      []string // Delivered-To or X-Envelope-To values
	smtpRecv   string   // qmail-smtpd's two-line Received
	data       []byte   // what the client sent, unstuffed, LF line ends
}

func parseStored(t testing.TB, b []byte) stored {
	t.Helper()
	var s stored
	line := func() string {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			t.Fatalf("stored message ends early: %q", b)
		}
		l := string(b[:i])
		b = b[i+1:]
		return l
	}
	m := qqReceivedRE.FindStringSubmatch(line())
	if m == nil {
		t.Fatalf("first line is not qmail-queue's Received")
	}
	s.qqPid, _ = strconv.Atoi(m[1])
	if uid, _ := strconv.Atoi(m[2]); uid != os.Getuid() {
		t.Errorf("Received says uid %d, want %d", uid, os.Getuid())
	}
	rp := line()
	if !strings.HasPrefix(rp, "Return-Path: <") || !strings.HasSuffix(rp, ">") {
		t.Fatalf("second line %q is not Return-Path", rp)
	}
	s.returnPath = rp[len("Return-Path: <") : len(rp)-1]
	for {
		switch {
		case bytes.HasPrefix(b, []byte("Delivered-To: ")):
			s.rcpts = append(s.rcpts, line()[len("Delivered-To: "):])
			if len(s.rcpts) != 1 {
				t.Errorf("Delivered-To with several recipients")
			}
		case bytes.HasPrefix(b, []byte("X-Envelope-To: ")):
			s.rcpts = append(s.rcpts, line()[len("X-Envelope-To: "):])
		default:
			loc := smtpReceivedRE.FindIndex(b)
			if loc == nil || loc[0] != 0 {
				t.Fatalf("qmail-smtpd's Received line missing at %q", b[:min(len(b), 200)])
			}
			s.smtpRecv = string(b[:loc[1]])
			s.data = b[loc[1]:]
			return s
		}
	}
}
