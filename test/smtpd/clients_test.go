package smtpd_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"tinymx/test/harness"
)

func TestSwaksMessageIsStoredOnceWithQueueHeaders(t *testing.T) {
	swaks := harness.Peer(t, "swaks")
	s := startStack(t, config{})
	port := s.addr[strings.LastIndexByte(s.addr, ':')+1:]
	r := harness.Run(t, 30*time.Second, exec.Command(swaks, "--server", "127.0.0.1", "--port", port,
		"--from", "alice@example.net", "--to", "bob@example.org", "--helo", "client.example.net",
		"--header", "Subject: swaks test", "--body", "hello from swaks\n.dot\n", "--timeout", "20"))
	if r.Code != 0 {
		t.Fatalf("swaks: %v", r)
	}
	var qp int
	for _, l := range strings.Split(r.Stdout, "\n") {
		if i := strings.Index(l, "250 ok "); i >= 0 && strings.Contains(l, " qp ") {
			qp = checkAccepted(t, strings.TrimRight(l[i:], "\r"))
		}
	}
	msgs := s.messages(t)
	if len(msgs) != 1 {
		t.Fatalf("%d messages in new/, want 1", len(msgs))
	}
	m := parseStored(t, msgs[0])
	if m.returnPath != "alice@example.net" || len(m.rcpts) != 1 || m.rcpts[0] != "bob@example.org" {
		t.Errorf("envelope lines: %q %q", m.returnPath, m.rcpts)
	}
	// The built-in store runs in qmail-smtpd: its pid is qp and in the
	// queue's Received line.
	if m.qqPid != qp {
		t.Errorf("Received says qmail %d, reply says qp %d", m.qqPid, qp)
	}
	if !strings.HasPrefix(m.smtpRecv, "Received: from unknown (HELO client.example.net) (127.0.0.1)\n  by mx.example.org with SMTP; ") {
		t.Errorf("qmail-smtpd Received %q", m.smtpRecv)
	}
	if !bytes.Contains(m.data, []byte("Subject: swaks test\n")) || !bytes.Contains(m.data, []byte("\n\nhello from swaks\n.dot\n")) {
		t.Errorf("data %q", m.data)
	}
	if len(listNames(t, s.maildir+"/tmp")) != 0 {
		t.Errorf("tmp/ not empty")
	}
}

const smtplibScript = `
import smtplib, sys
s = smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=20)
s.ehlo("py.example.net")
s.mail(sys.argv[3])
for r in sys.argv[4:]:
    code, _ = s.rcpt(r)
    print("rcpt", code)
code, resp = s.data(b"Subject: smtplib\r\n\r\n.leading dot\r\nline two\r\n")
print(code, resp.decode())
s.quit()
`

func TestPythonSmtplibSeveralRecipientsGetXEnvelopeTo(t *testing.T) {
	py := harness.Peer(t, "python3")
	s := startStack(t, config{})
	host, port, _ := strings.Cut(s.addr, ":")
	rcpts := []string{"bob@example.org", "carol@sub.example.org", "dave@example.org"}
	r := harness.Run(t, 30*time.Second, exec.Command(py, append([]string{"-c", smtplibScript, host, port, "alice@example.net"}, rcpts...)...))
	if r.Code != 0 {
		t.Fatalf("python: %v", r)
	}
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if len(lines) != 4 || lines[0] != "rcpt 250" || !strings.HasPrefix(lines[3], "250 ok ") {
		t.Fatalf("smtplib saw %q", lines)
	}
	qp := checkAccepted(t, lines[3])
	msgs := s.messages(t)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	m := parseStored(t, msgs[0])
	if strings.Join(m.rcpts, ",") != strings.Join(rcpts, ",") {
		t.Errorf("X-Envelope-To %q, want %q", m.rcpts, rcpts)
	}
	if !bytes.Contains(msgs[0], []byte("\nX-Envelope-To: bob@example.org\nX-Envelope-To: carol@sub.example.org\n")) {
		t.Errorf("recipients not as X-Envelope-To lines")
	}
	if m.qqPid != qp {
		t.Errorf("qmail %d vs qp %d", m.qqPid, qp)
	}
	if string(m.data) != "Subject: smtplib\n\n.leading dot\nline two\n" {
		t.Errorf("data %q", m.data)
	}
}

// maildir-queue as $QMAILQUEUE: same bytes, its own pid is qp.
func TestMaildirQueueProgramViaQMAILQUEUE(t *testing.T) {
	s := startStack(t, config{program: true})
	c := dial(t, s.addr)
	c.Expect("220 mx.example.org ESMTP")
	c.Send("HELO x\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
	c.Expect("250 mx.example.org")
	c.Expect("250 ok")
	c.Expect("250 ok")
	c.Expect("354 go ahead")
	c.Send("Subject: prog\r\n\r\nbody\r\n.\r\n")
	qp := checkAccepted(t, c.Line())
	c.Send("QUIT\r\n")
	c.Expect("221 mx.example.org")
	msgs := s.messages(t)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	m := parseStored(t, msgs[0])
	if m.qqPid != qp {
		t.Errorf("qmail %d vs qp %d", m.qqPid, qp)
	}
	for _, p := range s.children() {
		if p == qp {
			t.Errorf("qp %d is qmail-smtpd's pid, want maildir-queue's", qp)
		}
	}
	if m.returnPath != "a@x.test" || m.rcpts[0] != "b@example.org" || string(m.data) != "Subject: prog\n\nbody\n" {
		t.Errorf("stored %+v", m)
	}
}

// smtpSource runs Postfix's smtp-source and checks every message it sent
// is in new/ exactly once with the right envelope.
func smtpSource(t *testing.T, s *stack, args ...string) {
	src := harness.NeedPeer(t, "/usr/sbin/smtp-source")
	n := 0
	for i, a := range args {
		if a == "-m" {
			n, _ = strconv.Atoi(args[i+1])
		}
	}
	args = append(args, "-f", "alice@example.net", "-t", "bob@example.org", "-l", "1024", s.addr)
	if r := harness.Run(t, 90*time.Second, exec.Command(src, args...)); r.Code != 0 || r.Stderr != "" {
		t.Fatalf("smtp-source: %v", r)
	}
	s.waitIdle(t)
	names := s.newFiles(t)
	if len(names) != n {
		t.Fatalf("%d files in new/, want %d", len(names), n)
	}
	seen := map[string]bool{}
	for _, name := range names {
		b, err := os.ReadFile(s.maildir + "/new/" + name)
		if err != nil {
			t.Fatal(err)
		}
		m := parseStored(t, b)
		if m.returnPath != "alice@example.net" || len(m.rcpts) != 1 || m.rcpts[0] != "bob@example.org" {
			t.Fatalf("%s: envelope %q %q", name, m.returnPath, m.rcpts)
		}
		if len(m.data) < 1024 || !bytes.HasSuffix(m.data, []byte("\n")) || bytes.Contains(m.data, []byte("\r")) {
			t.Fatalf("%s: data of %d bytes: %q", name, len(m.data), m.data[:min(len(m.data), 300)])
		}
		if seen[string(b)] {
			t.Fatalf("%s: duplicate message", name)
		}
		seen[string(b)] = true
	}
	if l := listNames(t, s.maildir+"/tmp"); len(l) != 0 {
		t.Errorf("tmp/ holds %d files", len(l))
	}
}

func TestSmtpSourceThousandsOfPersistentSessionMessagesEachStored(t *testing.T) {
	s := startStack(t, config{})
	smtpSource(t, s, "-d", "-s", "8", "-m", "3000")
}

func TestSmtpSourceOneConnectionPerMessageEachStored(t *testing.T) {
	s := startStack(t, config{})
	smtpSource(t, s, "-s", "8", "-m", "400")
}

func TestSmtpSourceThroughMaildirQueueEachStored(t *testing.T) {
	s := startStack(t, config{program: true})
	smtpSource(t, s, "-d", "-s", "8", "-m", "600")
}

// Several qmail-smtpd processes storing at once never collide on names.
func TestConcurrentSessionsStoreDistinctFiles(t *testing.T) {
	s := startStack(t, config{})
	var wg sync.WaitGroup
	const sessions, each = 8, 25
	for i := 0; i < sessions; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := dial(t, s.addr)
			c.Line()
			for j := 0; j < each; j++ {
				c.Send(fmt.Sprintf("MAIL FROM:<s%d@x.test>\r\nRCPT TO:<r%d@example.org>\r\nDATA\r\n", i, j))
				for k := 0; k < 3; k++ {
					c.Line()
				}
				c.Send(fmt.Sprintf("Subject: %d %d\r\n\r\nx\r\n.\r\n", i, j))
				if l := c.Line(); !strings.HasPrefix(l, "250 ok ") {
					t.Errorf("session %d msg %d: %q", i, j, l)
					return
				}
			}
			c.Send("QUIT\r\n")
		}(i)
	}
	wg.Wait()
	if n := len(s.newFiles(t)); n != sessions*each {
		t.Errorf("%d files, want %d", n, sessions*each)
	}
}
