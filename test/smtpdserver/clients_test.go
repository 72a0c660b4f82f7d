package smtpdserver

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"tinymx/test/harness"
)

// clientServer is a server on a fresh home, with the built-in store.
func clientServer(t *testing.T, extra ...string) (*server, string) {
	t.Helper()
	h := home(t)
	args := append([]string{"-1", "-v", "-HR", "-l", "mx.example.org"}, extra...)
	args = append(args, "127.0.0.1", "0")
	return startServer(t, harness.Bin(t, "qmail-smtpd-server"), baseEnv(h), args...), h + "/Maildir"
}

var (
	qqReceivedRE   = regexp.MustCompile(`^Received: \(qmail ([0-9]+) invoked by uid ([0-9]+)\); [^\n]+ -0000\n`)
	smtpReceivedRE = regexp.MustCompile(`Received: from [^\n]*\n  by mx.example.org with SMTP; [^\n]+ -0000\n`)
)

// stored reads one file of new/ and checks the lines the store and the
// engine put on top; it returns qmail-queue's number and the client's data.
func stored(t *testing.T, path, from string, to []string) (qp int, data []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := qqReceivedRE.FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s: no qmail-queue Received line: %q", path, b[:min(len(b), 100)])
	}
	qp, _ = strconv.Atoi(string(m[1]))
	b = b[len(m[0]):]
	head := "Return-Path: <" + from + ">\n"
	if len(to) == 1 {
		head += "Delivered-To: " + to[0] + "\n"
	} else {
		for _, r := range to {
			head += "X-Envelope-To: " + r + "\n"
		}
	}
	if !bytes.HasPrefix(b, []byte(head)) {
		t.Fatalf("%s: header %q, want %q", path, b[:min(len(b), len(head))], head)
	}
	b = b[len(head):]
	loc := smtpReceivedRE.FindIndex(b)
	if loc == nil || loc[0] != 0 {
		t.Fatalf("%s: qmail-smtpd's Received line missing: %q", path, b[:min(len(b), 200)])
	}
	return qp, b[loc[1]:]
}

func TestSwaksMessageIsStored(t *testing.T) {
	swaks := harness.NeedPeer(t, "/usr/bin/swaks")
	srv, md := clientServer(t)
	out, err := runBounded(exec.Command(swaks, "--server", "127.0.0.1", "--port", strconv.Itoa(srv.port),
		"--from", "alice@example.net", "--to", "bob@example.org", "--helo", "client.example.net",
		"--header", "Subject: swaks test", "--body", "hello from swaks\n.dot\n", "--timeout", "20"))
	if err != nil {
		t.Fatalf("swaks: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`250 ok [0-9]+ qp ([0-9]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no 250 ok in:\n%s", out)
	}
	names := newFiles(t, md)
	if len(names) != 1 {
		t.Fatalf("%d messages, want 1", len(names))
	}
	qp, data := stored(t, md+"/new/"+names[0], "alice@example.net", []string{"bob@example.org"})
	if strconv.Itoa(qp) != string(m[1]) || qp != 1 {
		t.Errorf("Received says qmail %d, reply qp %s, want the session number 1", qp, m[1])
	}
	if !bytes.Contains(data, []byte("Subject: swaks test\n")) || !bytes.Contains(data, []byte("\n\nhello from swaks\n.dot\n")) {
		t.Errorf("data %q", data)
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

func TestPythonSmtplibSeveralRecipients(t *testing.T) {
	py := harness.NeedPeer(t, "/usr/bin/python3")
	srv, md := clientServer(t)
	rcpts := []string{"bob@example.org", "carol@sub.example.org", "dave@example.org"}
	out, err := runBounded(exec.Command(py, append([]string{"-c", smtplibScript, "127.0.0.1", strconv.Itoa(srv.port), "alice@example.net"}, rcpts...)...))
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 4 || lines[0] != "rcpt 250" || !strings.HasPrefix(lines[3], "250 ok ") {
		t.Fatalf("smtplib saw %q", lines)
	}
	names := newFiles(t, md)
	if len(names) != 1 {
		t.Fatalf("%d messages, want 1", len(names))
	}
	_, data := stored(t, md+"/new/"+names[0], "alice@example.net", rcpts)
	if string(data) != "Subject: smtplib\n\n.leading dot\nline two\n" {
		t.Errorf("data %q", data)
	}
}

// smtpSource runs Postfix's smtp-source and checks that every message it
// sent is in new/ exactly once with the right envelope and data.
func smtpSource(t *testing.T, srv *server, md string, n int, args ...string) {
	src := harness.NeedPeer(t, "/usr/sbin/smtp-source")
	args = append(args, "-m", strconv.Itoa(n), "-f", "alice@example.net", "-t", "bob@example.org", "-l", "1024", srv.addr)
	out, err := runBounded(exec.Command(src, args...))
	if err != nil || len(out) != 0 {
		t.Fatalf("smtp-source: %v\n%s", err, out)
	}
	harness.WaitFor(t, 0, "every session to end", func() bool { return strings.HasSuffix(srv.log.String(), "status: 0/500\n") })
	names := newFiles(t, md)
	if len(names) != n {
		t.Fatalf("%d files in new/, want %d", len(names), n)
	}
	seen := map[string]bool{}
	for _, name := range names {
		_, data := stored(t, md+"/new/"+name, "alice@example.net", []string{"bob@example.org"})
		if len(data) < 1024 || !bytes.HasSuffix(data, []byte("\n")) || bytes.Contains(data, []byte("\r")) {
			t.Fatalf("%s: data of %d bytes: %q", name, len(data), data[:min(len(data), 300)])
		}
		seen[name] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct names, want %d", len(seen), n)
	}
	if ents, _ := os.ReadDir(md + "/tmp"); len(ents) != 0 {
		t.Errorf("tmp/ holds %d files", len(ents))
	}
}

func TestSmtpSourceEightSessionsTwoThousandMessagesEachStored(t *testing.T) {
	srv, md := clientServer(t)
	smtpSource(t, srv, md, 2000, "-d", "-s", "8")
}

func TestSmtpSourceOneConnectionPerMessageEachStored(t *testing.T) {
	srv, md := clientServer(t)
	smtpSource(t, srv, md, 400, "-s", "8")
}

// QMAILQUEUE runs once per message from the one process, many at once:
// every message is stored, and qp is the program's pid, not a session's.
func TestSmtpSourceThroughMaildirQueueProgramEachStored(t *testing.T) {
	h := home(t)
	env := append(baseEnv(h), "QMAILQUEUE="+harness.Bin(t, "maildir-queue"))
	srv := startServer(t, harness.Bin(t, "qmail-smtpd-server"), env, "-1", "-v", "-HR", "-l", "mx.example.org", "127.0.0.1", "0")
	smtpSource(t, srv, h+"/Maildir", 300, "-d", "-s", "8")
	c := dial(t, srv.addr)
	c.Expect("220 ")
	m := qpRE.FindStringSubmatch(mail(c, "a@x.test", "u@example.org", "Subject: x\r\n\r\nhi"))
	if m == nil {
		t.Fatal("not accepted")
	}
	// smtp-source's 8 sessions came first: this one is number 9
	srv.waitLog(t, regexp.MustCompile(`pid 9 from 127.0.0.1\n`))
	if m[1] == "9" {
		t.Errorf("qp %s is the session number, want maildir-queue's pid", m[1])
	}
}
