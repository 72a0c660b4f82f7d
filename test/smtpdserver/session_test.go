package smtpdserver

import (
	"os"
	"os/exec"
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

// TestRulesGiveEachSessionItsOwnVariables: two clients in parallel, from
// 127.0.0.1 and 127.0.0.2, get different rules: one may relay (its
// RELAYCLIENT) and has a DATABYTES, the other neither; each is checked
// while the other's session is open.
func TestRulesGiveEachSessionItsOwnVariables(t *testing.T) {
	h := home(t)
	cdb := rulesCDB(t, t.TempDir(), "127.0.0.1:allow,RELAYCLIENT=\"\",DATABYTES=\"1000\"\n127.0.0.2:allow,MAILDIRQUEUE=\""+h+"/Maildir2\"\n")
	for _, d := range []string{"tmp", "new", "cur"} {
		os.MkdirAll(h+"/Maildir2/"+d, 0700)
	}
	srv := startServer(t, harness.Bin(t, "qmail-smtpd-server"), baseEnv(h), "-1", "-v", "-HR", "-l", "mx.example.org", "-x", cdb, "127.0.0.1", "0")
	a := dial(t, srv.addr)
	b := dialFrom(t, "127.0.0.2", srv.addr)
	a.Expect("220 mx.example.org ESMTP")
	b.Expect("220 mx.example.org ESMTP")
	a.Send("EHLO a\r\n")
	b.Send("EHLO b\r\n")
	if got := a.Reply(); got != "250 SIZE 1000" {
		t.Errorf("127.0.0.1's EHLO ends %q, want its DATABYTES", got)
	}
	if got := b.Reply(); got != "250 8BITMIME" {
		t.Errorf("127.0.0.2's EHLO ends %q, want no SIZE", got)
	}
	a.Send("MAIL FROM:<a@x.test>\r\n")
	a.Expect("250 ok")
	b.Send("MAIL FROM:<b@x.test>\r\n")
	b.Expect("250 ok")
	a.Send("RCPT TO:<u@elsewhere.test>\r\n")
	a.Expect("250 ok")
	b.Send("RCPT TO:<u@elsewhere.test>\r\n")
	b.Expect("553 sorry, that domain isn't in my list of allowed rcpthosts")
	b.Send("RCPT TO:<u@example.org>\r\n")
	b.Expect("250 ok")
	a.Send("DATA\r\n")
	a.Expect("354")
	b.Send("DATA\r\n")
	b.Expect("354")
	a.Send("Subject: a\r\n\r\n" + strings.Repeat("x", 2000) + "\r\n.\r\n")
	a.Expect("552 sorry, that message size exceeds my databytes limit")
	b.Send("Subject: b\r\n\r\nhi\r\n.\r\n")
	qp := qpRE.FindStringSubmatch(b.Line())
	if qp == nil {
		t.Fatal("127.0.0.2's message was not accepted")
	}
	// b's session was accepted second: its number is the qp, and its
	// Maildir is the one its rule named.
	if qp[1] != "2" {
		t.Errorf("qp %s, want the session number 2", qp[1])
	}
	if n := len(newFiles(t, h+"/Maildir2")); n != 1 {
		t.Errorf("%d messages in 127.0.0.2's Maildir, want 1", n)
	}
	if n := len(newFiles(t, h+"/Maildir")); n != 0 {
		t.Errorf("%d messages in the default Maildir, want 0", n)
	}
	a.Send("QUIT\r\n")
	a.Expect("221")
	b.Send("QUIT\r\n")
	b.Expect("221")
	srv.waitLog(t, regexp.MustCompile(`end 1 status 0\n(.|\n)*end 2 status 0\n|end 2 status 0\n(.|\n)*end 1 status 0\n`))
	log := srv.log.String()
	for _, want := range []string{"pid 1 from 127.0.0.1\n", "pid 2 from 127.0.0.2\n", " :127.0.0.1::", " :127.0.0.2::"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

// TestDenyIsLoggedWithASessionNumberAndExit100: a denied client is
// closed at once, logged as tcpserver logs it with its number, and its
// end says exit 100; numbers are never reused.
func TestDenyIsLoggedWithASessionNumberAndExit100(t *testing.T) {
	h := home(t)
	cdb := rulesCDB(t, t.TempDir(), "127.0.0.2:deny\n")
	srv := startServer(t, harness.Bin(t, "qmail-smtpd-server"), baseEnv(h), "-1", "-v", "-HR", "-l", "mx.example.org", "-x", cdb, "127.0.0.1", "0")
	d := dialFrom(t, "127.0.0.2", srv.addr)
	d.EOF()
	srv.waitLog(t, regexp.MustCompile(`deny 1 mx.example.org:127.0.0.1:[0-9]+ :127.0.0.2::[0-9]+\n(.|\n)*end 1 status 25600\n`))
	c := dial(t, srv.addr)
	c.Expect("220 ")
	c.Send("QUIT\r\n")
	c.Expect("221 ")
	srv.waitLog(t, regexp.MustCompile(`pid 2 from 127.0.0.1\n(.|\n)*end 2 status 0\n`))
}

// TestLimitStopsAcceptingUntilASessionEnds: at -c sessions the server
// accepts no more; the waiting client is served once one ends.
func TestLimitStopsAcceptingUntilASessionEnds(t *testing.T) {
	h := home(t)
	srv := startServer(t, harness.Bin(t, "qmail-smtpd-server"), baseEnv(h), "-1", "-v", "-HR", "-l", "mx.example.org", "-c1", "127.0.0.1", "0")
	a := dial(t, srv.addr)
	a.Expect("220 ")
	b := dial(t, srv.addr) // queued in the backlog, not served
	got := make(chan string, 1)
	go func() {
		b.Conn.SetReadDeadline(time.Now().Add(harness.Patience))
		buf := make([]byte, 100)
		n, _ := b.Conn.Read(buf)
		got <- string(buf[:n])
	}()
	srv.waitLog(t, regexp.MustCompile(`status: 1/1\n`))
	// The server must not take b while a is open: prove it by a round
	// trip on a, and by b having read nothing meanwhile.
	a.Send("NOOP\r\n")
	a.Expect("250 ok")
	select {
	case g := <-got:
		t.Fatalf("second client served beyond -c1: %q", g)
	default:
	}
	if strings.Contains(srv.log.String(), "pid 2 ") {
		t.Fatalf("second session started beyond -c1:\n%s", srv.log.String())
	}
	a.Send("QUIT\r\n")
	a.Expect("221 ")
	select {
	case g := <-got:
		if !strings.HasPrefix(g, "220 ") {
			t.Fatalf("second client read %q, want the greeting", g)
		}
	case <-time.After(harness.Patience):
		t.Fatal("second client never served")
	}
}

// TestMaxConnIPGivesDiemsgAndCloses: a client over its MAXCONNIP reads
// DIEMSG and is closed; another address is still served.
func TestMaxConnIPGivesDiemsgAndCloses(t *testing.T) {
	h := home(t)
	cdb := rulesCDB(t, t.TempDir(), "127.0.0.1:allow,MAXCONNIP=\"1\",DIEMSG=\"421 too many from you\"\n")
	srv := startServer(t, harness.Bin(t, "qmail-smtpd-server"), baseEnv(h), "-1", "-v", "-HR", "-l", "mx.example.org", "-x", cdb, "127.0.0.1", "0")
	a := dial(t, srv.addr)
	a.Expect("220 ")
	b := dial(t, srv.addr)
	b.Expect("421 too many from you")
	b.EOF()
	srv.waitLog(t, regexp.MustCompile(`warning: dropping connection, per-IP limit 1 reached for 127.0.0.1\n`))
	c := dialFrom(t, "127.0.0.2", srv.addr)
	c.Expect("220 ")
	a.Send("QUIT\r\n")
	a.Expect("221 ")
	// a's place is free again
	srv.waitLog(t, regexp.MustCompile(`end 1 status 0\n`))
	d := dial(t, srv.addr)
	d.Expect("220 ")
}

// TestTermDrainsSessionsInProgress: TERM closes the listener at once; a
// session in progress goes on and completes its message within the
// grace period; the one still open after it gets 421; then exit 0.
func TestTermDrainsSessionsInProgress(t *testing.T) {
	h := home(t)
	env := append(baseEnv(h), "QMAIL_SMTPD_GRACE=2")
	srv := startServer(t, harness.Bin(t, "qmail-smtpd-server"), env, "-1", "-v", "-HR", "-l", "mx.example.org", "127.0.0.1", "0")
	a := dial(t, srv.addr)
	a.Expect("220 ")
	a.Send("MAIL FROM:<a@x.test>\r\nRCPT TO:<u@example.org>\r\nDATA\r\n")
	a.Expect("250 ok")
	a.Expect("250 ok")
	a.Expect("354 ")
	b := dial(t, srv.addr)
	b.Expect("220 ")
	syscall.Kill(srv.cmd.Process.Pid, syscall.SIGTERM)
	// the listener is closed at once
	harness.WaitFor(t, 20*time.Second, "the listening socket to close", func() bool {
		c, err := netDial(srv.addr)
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
	a.Send("Subject: in flight\r\n\r\nhi\r\n.\r\n")
	if qpRE.FindStringSubmatch(a.Line()) == nil {
		t.Fatal("message in flight not accepted during the drain")
	}
	a.Send("QUIT\r\n")
	a.Expect("221 ")
	// b stays idle past the grace: 421, closed
	b.Expect("421 ")
	b.EOF()
	select {
	case <-srv.done:
	case <-time.After(harness.Patience):
		t.Fatal("server did not exit after the drain")
	}
	if code := srv.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit %d after TERM, want 0", code)
	}
	if n := len(newFiles(t, h+"/Maildir")); n != 1 {
		t.Errorf("%d messages stored, want 1", n)
	}
}

// TestControlChangeIsSeenByTheNextConnection: control files are read
// once, yet a file rewritten in place, one replaced by rename (a cdb from
// qmail-newmrh) and a file created are all seen by the next session;
// SIGHUP forces a re-read.
func TestControlChangeIsSeenByTheNextConnection(t *testing.T) {
	h := home(t)
	srv := startServer(t, harness.Bin(t, "qmail-smtpd-server"), baseEnv(h), "-1", "-HR", "-l", "mx.example.org", "127.0.0.1", "0")
	greet := func() string {
		c := dial(t, srv.addr)
		g := c.Line()
		c.Send("QUIT\r\n")
		c.Line()
		return g
	}
	rcpt := func(to string) string {
		c := dial(t, srv.addr)
		c.Line()
		c.Send("MAIL FROM:<a@x.test>\r\nRCPT TO:<" + to + ">\r\n")
		c.Expect("250 ")
		r := c.Line()
		c.Send("QUIT\r\n")
		c.Line()
		return r
	}
	if g := greet(); g != "220 mx.example.org ESMTP" {
		t.Fatalf("greeting %q", g)
	}
	greet() // read from the cache
	write(t, h+"/control/smtpgreeting", "changed.example.org\n")
	if g := greet(); g != "220 changed.example.org ESMTP" {
		t.Errorf("after a new smtpgreeting: %q", g)
	}
	// a same-size rewrite in place
	write(t, h+"/control/smtpgreeting", "chxnged.example.org\n")
	if g := greet(); g != "220 chxnged.example.org ESMTP" {
		t.Errorf("after smtpgreeting rewritten in place: %q", g)
	}
	if r := rcpt("u@more.test"); !strings.HasPrefix(r, "553 ") {
		t.Fatalf("more.test accepted before morercpthosts: %q", r)
	}
	write(t, h+"/control/morercpthosts", "more.test\n")
	runIn(t, h, "qmail-newmrh")
	if r := rcpt("u@more.test"); !strings.HasPrefix(r, "250 ") {
		t.Errorf("morercpthosts.cdb made by qmail-newmrh not seen: %q", r)
	}
	write(t, h+"/control/morercpthosts", "other.test\n")
	runIn(t, h, "qmail-newmrh") // renamed over the old cdb
	if r := rcpt("u@more.test"); !strings.HasPrefix(r, "553 ") {
		t.Errorf("the replaced morercpthosts.cdb not seen: %q", r)
	}
	write(t, h+"/control/badmailfrom", "@x.test\n")
	runIn(t, h, "qmail-newbmf")
	c := dial(t, srv.addr)
	c.Line()
	c.Send("MAIL FROM:<a@x.test>\r\nRCPT TO:<u@example.org>\r\n")
	c.Expect("250 ")
	c.Expect("553 sorry, your envelope sender is in my badmailfrom list")

	// SIGHUP: the next session reads the files again even when their
	// stat says nothing changed (a file put back with its old times).
	old, err := os.Stat(h + "/control/smtpgreeting")
	if err != nil {
		t.Fatal(err)
	}
	write(t, h+"/control/smtpgreeting", "hupped.example.org!\n")
	os.Chtimes(h+"/control/smtpgreeting", old.ModTime(), old.ModTime())
	syscall.Kill(srv.cmd.Process.Pid, syscall.SIGHUP)
	harness.WaitFor(t, 20*time.Second, "the greeting after SIGHUP", func() bool { return greet() == "220 hupped.example.org! ESMTP" })
}

func runIn(t *testing.T, home, prog string) {
	t.Helper()
	cmd := exec.Command(harness.Bin(t, prog))
	cmd.Env = []string{"QMAILHOME=" + home}
	done := make(chan error, 1)
	var out []byte
	go func() {
		var err error
		out, err = cmd.CombinedOutput()
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v: %s", prog, err, out)
		}
	case <-time.After(harness.Patience):
		cmd.Process.Kill()
		t.Fatalf("%s hung", prog)
	}
}

// TestMaxSessionEndsATricklingClient: QMAIL_SMTPD_MAXSESSION bounds the
// whole session, however often the client sends something.
func TestMaxSessionEndsATricklingClient(t *testing.T) {
	h := home(t)
	env := append(baseEnv(h), "QMAIL_SMTPD_MAXSESSION=2")
	srv := startServer(t, harness.Bin(t, "qmail-smtpd-server"), env, "-1", "-v", "-HR", "-l", "mx.example.org", "127.0.0.1", "0")
	c := dial(t, srv.addr)
	c.Expect("220 ")
	start := time.Now()
	for {
		c.Send("NOOP\r\n")
		l := c.Line()
		if l == "451 timeout (#4.4.2)" {
			break
		}
		if l != "250 ok" {
			t.Fatalf("reply %q", l)
		}
		if time.Since(start) > harness.Patience {
			t.Fatal("session never ended")
		}
		time.Sleep(100 * time.Millisecond) // the trickle itself, not a wait for a condition
	}
	if d := time.Since(start); d < 2*time.Second {
		t.Errorf("session ended after %v, before its 2 s", d)
	}
	c.EOF()
	srv.waitLog(t, regexp.MustCompile(`end 1 status 256\n`))
}

// TestPanicInOneSessionHurtsNoOther builds the server with the test-only
// tag smtpdpanic, under which a session whose rule sets
// TINYMX_TEST_PANIC=1 panics inside the engine at HELO. That client gets
// 421 and is closed, the panic is logged, and a session open meanwhile
// and later ones go on.
func TestPanicInOneSessionHurtsNoOther(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "qmail-smtpd-server")
	build := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-tags", "smtpdpanic", "-o", bin, "./cmd/qmail-smtpd-server")
	build.Dir = harness.Root()
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := runBounded(build); err != nil {
		t.Fatalf("go build -tags smtpdpanic: %v\n%s", err, out)
	}
	h := home(t)
	cdb := rulesCDB(t, t.TempDir(), "127.0.0.2:allow,TINYMX_TEST_PANIC=\"1\"\n")
	srv := startServer(t, bin, baseEnv(h), "-1", "-v", "-HR", "-l", "mx.example.org", "-x", cdb, "127.0.0.1", "0")
	a := dial(t, srv.addr)
	a.Expect("220 ")
	a.Send("MAIL FROM:<a@x.test>\r\nRCPT TO:<u@example.org>\r\nDATA\r\n")
	a.Expect("250 ")
	a.Expect("250 ")
	a.Expect("354 ")
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := dialFrom(t, "127.0.0.2", srv.addr)
			p.Expect("220 ")
			p.Send("HELO boom\r\n")
			p.Expect("421 internal error")
			p.EOF()
		}()
	}
	wg.Wait()
	a.Send("Subject: still here\r\n\r\nhi\r\n.\r\n")
	if qpRE.FindStringSubmatch(a.Line()) == nil {
		t.Fatal("the other session's message was not accepted")
	}
	a.Send("QUIT\r\n")
	a.Expect("221 ")
	c := dial(t, srv.addr)
	c.Expect("220 ")
	c.Send("HELO fine\r\n")
	c.Expect("250 ")
	if srv.exited() {
		t.Fatal("server exited")
	}
	log := srv.log.String()
	if n := strings.Count(log, "failed: assignment to entry in nil map"); n != 3 {
		t.Errorf("%d panics logged, want 3:\n%s", n, log)
	}
	if n := strings.Count(log, " status 512\n"); n != 3 {
		t.Errorf("%d sessions ended with status 512, want 3:\n%s", n, log)
	}
}

func runBounded(cmd *exec.Cmd) ([]byte, error) {
	done := make(chan error, 1)
	var out []byte
	go func() {
		var err error
		out, err = cmd.CombinedOutput()
		done <- err
	}()
	select {
	case err := <-done:
		return out, err
	case <-time.After(5 * harness.Patience):
		cmd.Process.Kill()
		<-done
		return out, os.ErrDeadlineExceeded
	}
}

// TestRootIsRefusedWithoutQmailSmtpdRoot: serving sessions as uid 0 is a
// fatal error at start unless QMAIL_SMTPD_ROOT=1; with -u it serves as
// that uid.
func TestRootIsRefusedWithoutQmailSmtpdRoot(t *testing.T) {
	harness.NeedRoot(t)
	h := home(t)
	cmd := exec.Command(harness.Bin(t, "qmail-smtpd-server"), "-1", "127.0.0.1", "0")
	cmd.Env = []string{"QMAILHOME=" + h, "MAILDIRQUEUE=" + h + "/Maildir"}
	out, err := runBounded(cmd)
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 111 {
		t.Fatalf("as root: %v, want exit 111", err)
	}
	if want := "qmail-smtpd-server: fatal: refusing to run sessions as root"; !strings.HasPrefix(string(out), want) {
		t.Errorf("said %q, want %q...", out, want)
	}
	if _, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil {
		t.Errorf("printed a port before refusing")
	}

	// -u 65534: the sessions run as nobody
	env := []string{"QMAILHOME=" + h, "MAILDIRQUEUE=" + h + "/Maildir"}
	os.Chmod(filepath.Dir(h), 0755) // t.TempDir's own, 0700
	os.Chmod(h, 0755)
	os.Chown(h+"/Maildir", 65534, 65534)
	for _, d := range []string{"tmp", "new", "cur"} {
		os.Chown(h+"/Maildir/"+d, 65534, 65534)
	}
	srv := startServer(t, harness.Bin(t, "qmail-smtpd-server"), env, "-1", "-HR", "-l", "mx.example.org", "-u", "65534", "-g", "65534", "127.0.0.1", "0")
	st, err := os.ReadFile("/proc/" + strconv.Itoa(srv.cmd.Process.Pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^Uid:\t65534\t65534\t65534\t65534$`).Match(st) {
		t.Errorf("server not running as 65534:\n%s", st)
	}
	c := dial(t, srv.addr)
	c.Expect("220 ")
	if qpRE.FindStringSubmatch(mail(c, "a@x.test", "u@example.org", "Subject: x\r\n\r\nhi")) == nil {
		t.Fatal("message as nobody not accepted")
	}
	b, err := os.ReadFile(filepath.Join(h, "Maildir/new", newFiles(t, h+"/Maildir")[0]))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "Received: (qmail 1 invoked by uid 65534);") {
		t.Errorf("message starts %q", b[:min(len(b), 60)])
	}
}

// TestQuitSignalStopsLikeTerm: QUIT, like TERM, closes the listener and,
// with no session in progress, exits 0 at once (no stack dump).
func TestQuitSignalStopsLikeTerm(t *testing.T) {
	h := home(t)
	srv := startServer(t, harness.Bin(t, "qmail-smtpd-server"), baseEnv(h), "-1", "-HR", "-l", "mx.example.org", "127.0.0.1", "0")
	c := dial(t, srv.addr)
	c.Expect("220 ")
	c.Send("QUIT\r\n")
	c.Expect("221 ")
	c.EOF()
	syscall.Kill(srv.cmd.Process.Pid, syscall.SIGQUIT)
	select {
	case <-srv.done:
	case <-time.After(harness.Patience):
		t.Fatal("server did not exit on QUIT")
	}
	if code := srv.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit %d after QUIT, want 0; log:\n%s", code, srv.log.String())
	}
	if srv.log.String() != "" {
		t.Errorf("said %q", srv.log.String())
	}
}
