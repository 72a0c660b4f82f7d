package smtpd_test

import (
	"bytes"
	"math/rand"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"tinymx/test/harness"
)

// onlyChild returns the pid of the single qmail-smtpd serving c.
func (s *stack) onlyChild(t *testing.T) int {
	t.Helper()
	var pid int
	harness.WaitFor(t, 10*time.Second, "one qmail-smtpd child", func() bool {
		p := s.children()
		if len(p) == 1 {
			pid = p[0]
			return true
		}
		return false
	})
	return pid
}

func (s *stack) nothingStored(t *testing.T) {
	t.Helper()
	if n := s.newFiles(t); len(n) != 0 {
		t.Errorf("new/ holds %v", n)
	}
}

// sendData writes at least n bytes of 76-character lines as message data
// in chunks, calling during after each chunk, and returns the number of
// bytes that will be stored (each CRLF becomes LF).
func sendData(c *conn, n int, during func()) int64 {
	line := []byte(strings.Repeat("x", 76) + "\r\n")
	chunk := bytes.Repeat(line, 65536/len(line))
	var stored int64
	for sent := 0; sent < n; sent += len(chunk) {
		c.Send(string(chunk))
		stored += int64(len(chunk) / len(line) * (len(line) - 1))
		if during != nil {
			during()
		}
	}
	return stored
}

// RSS at most 4 MiB while receiving a 50 MB message (the built-in store
// spills it to tmp/ and copies it in the kernel; maildir-queue streams it
// through a pipe).
func TestRSSStaysUnder4MiBReceiving50MBMessage(t *testing.T) {
	t.Run("built-in store", func(t *testing.T) { rss50MB(t, false) })
	t.Run("maildir-queue", func(t *testing.T) { rss50MB(t, true) })
}

func rss50MB(t *testing.T, program bool) {
	s := startStack(t, config{program: program})
	c := dial(t, s.addr)
	c.Expect("220 ")
	pid := s.onlyChild(t)
	c.Send("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
	c.Expect("250 ok")
	c.Expect("250 ok")
	c.Expect("354 go ahead")
	const size = 50 << 20
	peak := 0
	want := sendData(c, size, func() { peak = max(peak, harness.StatusKB(pid, "VmRSS")) })
	c.Send(".\r\n")
	checkAccepted(t, c.Line())
	hwm := harness.StatusKB(pid, "VmHWM")
	c.Send("QUIT\r\n")
	c.Expect("221 ")
	t.Logf("qmail-smtpd VmHWM %d kB (sampled VmRSS peak %d kB) for a 50 MB message", hwm, peak)
	if hwm > 4096 {
		t.Errorf("VmHWM %d kB > 4 MiB", hwm)
	}
	msgs := s.newFiles(t)
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	b, err := os.ReadFile(s.maildir + "/new/" + msgs[0])
	if err != nil {
		t.Fatal(err)
	}
	if m := parseStored(t, b); int64(len(m.data)) != want {
		t.Errorf("stored %d bytes of data, sent %d", len(m.data), want)
	}
	if l := listNames(t, s.maildir+"/tmp"); len(l) != 0 {
		t.Errorf("scratch left in tmp/: %v", l)
	}
}

func TestRSSStaysUnder16MiBWith10000Recipients(t *testing.T) {
	s := startStack(t, config{})
	c := dial(t, s.addr)
	c.Expect("220 ")
	pid := s.onlyChild(t)
	const n = 10000
	var b strings.Builder
	b.WriteString("MAIL FROM:<a@x.test>\r\n")
	for i := 0; i < n; i++ {
		b.WriteString("RCPT TO:<user" + strings.Repeat("x", 20) + strconv.Itoa(i) + "@example.org>\r\n")
	}
	b.WriteString("DATA\r\n")
	done := make(chan string, 1)
	go func() {
		// Read replies while writing, so neither side's buffer fills.
		bad := ""
		for i := 0; i < n+1; i++ {
			if l := c.Line(); l != "250 ok" && bad == "" {
				bad = l
			}
		}
		done <- bad
	}()
	c.Send(b.String())
	if bad := <-done; bad != "" {
		t.Fatalf("reply %q", bad)
	}
	c.Expect("354 go ahead")
	c.Send("Subject: many\r\n\r\nhello\r\n.\r\n")
	checkAccepted(t, c.Line())
	hwm := harness.StatusKB(pid, "VmHWM")
	c.Send("QUIT\r\n")
	c.Expect("221 ")
	t.Logf("qmail-smtpd VmHWM %d kB with %d recipients", hwm, n)
	if hwm > 16384 {
		t.Errorf("VmHWM %d kB > 16 MiB", hwm)
	}
	msgs := s.messages(t)
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := parseStored(t, msgs[0])
	if len(m.rcpts) != n || m.rcpts[n-1] != "user"+strings.Repeat("x", 20)+strconv.Itoa(n-1)+"@example.org" {
		t.Errorf("%d X-Envelope-To lines", len(m.rcpts))
	}
}

// A client that vanishes mid-DATA leaves nothing in new/ (and, once
// qmail-smtpd has cleaned up, nothing in tmp/), with either queue.
func TestClientGoneMidDataStoresNothing(t *testing.T) {
	for _, program := range []bool{false, true} {
		s := startStack(t, config{program: program})
		c := dial(t, s.addr)
		c.Expect("220 ")
		c.Send("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
		c.Expect("250 ok")
		c.Expect("250 ok")
		c.Expect("354 go ahead")
		sendData(c, 1<<20, nil) // past the store's in-memory part
		c.Conn.Close()
		s.waitIdle(t)
		s.nothingStored(t)
		harness.WaitFor(t, 10*time.Second, "tmp/ to be emptied", func() bool {
			return len(listNames(t, s.maildir+"/tmp")) == 0
		})
	}
}

// qmail-smtpd killed outright mid-DATA: the partial message never reaches
// new/, and nothing stays in tmp/ either (the store's scratch file for a
// large body has no name).
func TestQmailSmtpdKilledMidDataStoresNothing(t *testing.T) {
	for _, program := range []bool{false, true} {
		s := startStack(t, config{program: program})
		c := dial(t, s.addr)
		c.Expect("220 ")
		pid := s.onlyChild(t)
		c.Send("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
		c.Expect("250 ok")
		c.Expect("250 ok")
		c.Expect("354 go ahead")
		sendData(c, 1<<20, nil)
		if !program {
			// Kill it once the body is in the scratch file, not before.
			harness.WaitFor(t, 60*time.Second, "the store's scratch file", func() bool {
				return holdsFileIn(pid, s.maildir+"/tmp/")
			})
		}
		syscall.Kill(pid, syscall.SIGKILL)
		s.waitIdle(t)
		// maildir-queue, if any, sees EOF without an envelope and exits.
		harness.WaitFor(t, 10*time.Second, "maildir-queue to exit", func() bool {
			return s.queueProgram() == 0
		})
		s.nothingStored(t)
		if n := listNames(t, s.maildir+"/tmp"); len(n) != 0 {
			t.Errorf("maildir-queue %v: tmp/ holds %v", program, n)
		}
	}
}

// holdsFileIn reports whether process pid has a file open under dir.
func holdsFileIn(pid int, dir string) bool {
	fds, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	for _, fd := range fds {
		l, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + fd.Name())
		if err == nil && strings.HasPrefix(l, dir) {
			return true
		}
	}
	return false
}

// The queue program killed mid-DATA: stock's "qq crashed" after the final
// dot, nothing stored, the session goes on.
func TestMaildirQueueKilledMidDataIsQqCrashed(t *testing.T) {
	s := startStack(t, config{program: true})
	c := dial(t, s.addr)
	c.Expect("220 ")
	c.Send("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
	c.Expect("250 ok")
	c.Expect("250 ok")
	c.Expect("354 go ahead")
	sendData(c, 256<<10, nil)
	var qq int
	harness.WaitFor(t, 10*time.Second, "maildir-queue to run", func() bool {
		qq = s.queueProgram()
		return qq > 0
	})
	syscall.Kill(qq, syscall.SIGKILL)
	sendData(c, 256<<10, nil)
	c.Send(".\r\n")
	if l := c.Line(); l != "451 qq crashed (#4.3.0)" && l != "451 qq read error (#4.3.0)" {
		// Which one depends on whether a write hit the dead pipe first:
		// stock gives "qq read error" then (failure flag), else "crashed".
		t.Errorf("reply %q", l)
	}
	c.Send("NOOP\r\n")
	c.Expect("250 ok")
	s.nothingStored(t)
}

var replyRE = regexp.MustCompile(`^[2-5][0-9][0-9][ -]`)

// HTTP requests, NULs and binary garbage get stock replies, memory stays
// bounded, nothing is queued, and the server keeps serving.
func TestHostileInputGetsStockRepliesAndQueuesNothing(t *testing.T) {
	s := startStack(t, config{control: map[string]string{"databytes": "1000\n"}})

	c := dial(t, s.addr)
	c.Expect("220 ")
	c.Send("GET / HTTP/1.1\r\nHost: mx.example.org\r\n\r\n")
	for i := 0; i < 3; i++ {
		c.Expect("502 unimplemented (#5.5.1)")
	}
	c.Send("POST /x HTTP/1.0\r\n")
	c.Expect("502 unimplemented (#5.5.1)")
	c.Send("NOOP\x00junk\r\n\x00\x00\x00\r\n")
	c.Expect("250 ok")
	c.Expect("502 unimplemented (#5.5.1)")
	c.Send("NOOP " + strings.Repeat("y", 100000) + "\r\n")
	c.Expect("250 ok")
	pid := s.onlyChild(t)
	// An endless line: 8 MB with no LF.
	chunk := strings.Repeat("z", 65536)
	for i := 0; i < 128; i++ {
		c.Send(chunk)
	}
	c.Send("\r\n")
	c.Expect("500 line too long (#5.5.2)")
	c.Send("NOOP\r\n")
	c.Expect("250 ok")
	// The line cap is 1 MiB (QMAIL_SMTPD_MAXLINE): that much may be held.
	if hwm := harness.StatusKB(pid, "VmHWM"); hwm > 8192 {
		t.Errorf("VmHWM %d kB after an endless line", hwm)
	}
	c.Send("QUIT\r\n")
	c.Expect("221 ")

	// DATA far past databytes: read and dropped, then 552, in bounded
	// memory (a fresh process, so the line above does not count).
	c = dial(t, s.addr)
	c.Expect("220 ")
	s.waitIdleBut(t, 1)
	pid = s.onlyChild(t)
	c.Send("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
	c.Expect("250 ok")
	c.Expect("250 ok")
	c.Expect("354 go ahead")
	sendData(c, 8<<20, nil)
	c.Send(".\r\n")
	c.Expect("552 sorry, that message size exceeds my databytes limit (#5.3.4)")
	if hwm := harness.StatusKB(pid, "VmHWM"); hwm > 4096 {
		t.Errorf("VmHWM %d kB receiving 8 MB past databytes", hwm)
	}
	c.Send("QUIT\r\n")
	c.Expect("221 ")

	// Binary garbage: whatever comes back is stock reply lines.
	rng := rand.New(rand.NewSource(1))
	garbage := make([]byte, 1<<20)
	rng.Read(garbage)
	g := dial(t, s.addr)
	g.Expect("220 ")
	g.Conn.SetWriteDeadline(time.Now().Add(20 * time.Second))
	go func() {
		g.Conn.Write(garbage)
		g.Conn.(*net.TCPConn).CloseWrite() // EOF ends the session
	}()
	for {
		g.Conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		l, err := g.R.ReadString('\n')
		if err != nil {
			break // the session may end: a garbage "QUIT", a bare-LF DATA...
		}
		if !replyRE.MatchString(l) {
			t.Fatalf("non-reply line %q", l)
		}
		if strings.HasPrefix(l, "354") {
			break // garbage opened DATA; its end is the client's business
		}
	}
	g.Conn.Close()
	s.waitIdle(t)
	s.nothingStored(t)

	// Still serving.
	ok := dial(t, s.addr)
	ok.Expect("220 ")
	ok.Send("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
	ok.Expect("250 ok")
	ok.Expect("250 ok")
	ok.Expect("354 go ahead")
	ok.Send("hi\r\n.\r\n")
	checkAccepted(t, ok.Line())
}

// No input ends DATA early: the probes and the commands after them are
// all one message (stock compat mode).
func TestSmugglingProbesGiveOneMessage(t *testing.T) {
	s := startStack(t, config{})
	probes := []string{"\r\n\r.\r\n", "\r\n.\r", "\r\n.\rX\r\n"}
	for _, p := range probes {
		c := dial(t, s.addr)
		c.Expect("220 ")
		c.Send("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
		c.Expect("250 ok")
		c.Expect("250 ok")
		c.Expect("354 go ahead")
		c.Send("Subject: probe\r\n\r\nx" + p + "MAIL FROM:<evil@x.test>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nsmuggled\r\n.\r\n")
		checkAccepted(t, c.Line())
		c.Send("QUIT\r\n")
		c.Expect("221 ")
	}
	msgs := s.messages(t)
	if len(msgs) != len(probes) {
		t.Fatalf("%d messages for %d probes", len(msgs), len(probes))
	}
	for _, m := range msgs {
		if !bytes.Contains(m, []byte("MAIL FROM:<evil@x.test>")) {
			t.Errorf("smuggled commands not inside the message: %q", m)
		}
	}
}

// A full disk under the built-in store: stock's 451, nothing in new/,
// the session goes on.
func TestFullDiskGives451AndStoresNothing(t *testing.T) {
	harness.NeedRoot(t)
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=256k"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	makeMaildir(t, mnt+"/Maildir")
	for _, program := range []bool{false, true} {
		s := startStack(t, config{maildir: mnt + "/Maildir", program: program})
		c := dial(t, s.addr)
		c.Expect("220 ")
		c.Send("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
		c.Expect("250 ok")
		c.Expect("250 ok")
		c.Expect("354 go ahead")
		sendData(c, 400<<10, nil)
		c.Send(".\r\n")
		c.Expect("451 qq write error or disk full (#4.3.0)")
		c.Send("NOOP\r\n")
		c.Expect("250 ok")
		c.Send("QUIT\r\n")
		c.Expect("221 ")
		s.nothingStored(t)
		if l := listNames(t, s.maildir+"/tmp"); len(l) != 0 {
			t.Errorf("tmp/ holds %v", l)
		}
	}
}
