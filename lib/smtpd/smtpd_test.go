package smtpd

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"tinymx/lib/qmailctl"
	"tinymx/lib/qmailqueue"
)

// fakeQueue records what the engine hands to the queue.
type fakeQueue struct {
	openErr  error
	commit   error
	msgs     []*fakeMsg
	writeErr error
}

type fakeMsg struct {
	q         *fakeQueue
	data      bytes.Buffer
	from      string
	to        []string
	committed bool
	aborted   bool
}

func (q *fakeQueue) Open() (qmailqueue.Message, error) {
	if q.openErr != nil {
		return nil, q.openErr
	}
	m := &fakeMsg{q: q}
	q.msgs = append(q.msgs, m)
	return m, nil
}

func (m *fakeMsg) Pid() int { return 4242 }
func (m *fakeMsg) Write(b []byte) (int, error) {
	if m.q.writeErr != nil {
		return 0, m.q.writeErr
	}
	return m.data.Write(b)
}
func (m *fakeMsg) Commit(from string, to []string) error {
	if m.q.commit != nil {
		return m.q.commit
	}
	m.from, m.to, m.committed = from, append([]string(nil), to...), true
	return nil
}
func (m *fakeMsg) Abort() { m.aborted = true }

func (q *fakeQueue) committed() []*fakeMsg {
	var out []*fakeMsg
	for _, m := range q.msgs {
		if m.committed {
			out = append(out, m)
		}
	}
	return out
}

var fixedNow = time.Date(2025, 1, 5, 9, 3, 7, 0, time.UTC)

func testConfig(q *fakeQueue) *Config {
	return &Config{
		Greeting:    "mx.example.org",
		LocalIPHost: "example.org",
		HasLocalIP:  true,
		Timeout:     time.Minute,
		Size:        true,
		Received:    ReceivedInfo{Local: "192.0.2.1", RemoteIP: "192.0.2.7", RemoteHost: "unknown"},
		Rcpthosts:   qmailctl.NewRcpthosts([][]byte{[]byte("example.org"), []byte(".example.org")}, true, ""),
		Badmailfrom: qmailctl.NewBadmailfrom([][]byte{[]byte("spammer@bad.example"), []byte("@evil.example")}),
		LocalIPs:    func() ([][4]byte, error) { return [][4]byte{{0, 0, 0, 0}, {127, 0, 0, 1}}, nil },
		Queue:       q,
		Now:         func() time.Time { return fixedNow },
	}
}

// session runs input through a whole session and returns the output and
// exit status.
func run(cfg *Config, input string) (string, int) {
	var out bytes.Buffer
	code := Serve(cfg, strings.NewReader(input), &out)
	return out.String(), code
}

func lines(s ...string) string { return strings.Join(s, "\r\n") + "\r\n" }

const greet = "220 mx.example.org ESMTP\r\n"

func TestNormalMailIsQueuedWithReceivedLineAndUnstuffedDots(t *testing.T) {
	q := &fakeQueue{}
	out, code := run(testConfig(q), lines("EHLO client.example.net", "MAIL FROM:<alice@example.net>",
		"RCPT TO:<bob@example.org>", "DATA", "Subject: hi", "", "..leading dot", ".x", "body", ".", "QUIT"))
	want := greet + lines("250-mx.example.org", "250-PIPELINING", "250 8BITMIME", "250 ok", "250 ok",
		"354 go ahead", "250 ok "+strconv.FormatInt(fixedNow.Unix(), 10)+" qp 4242", "221 mx.example.org")
	if out != want || code != 0 {
		t.Fatalf("got %q (%d)\nwant %q", out, code, want)
	}
	m := q.committed()
	if len(m) != 1 {
		t.Fatalf("%d messages", len(m))
	}
	wantMsg := "Received: from unknown (HELO client.example.net) (192.0.2.7)\n  by 192.0.2.1 with SMTP; 5 Jan 2025 09:03:07 -0000\n" +
		"Subject: hi\n\n.leading dot\nx\nbody\n"
	if m[0].data.String() != wantMsg || m[0].from != "alice@example.net" || len(m[0].to) != 1 || m[0].to[0] != "bob@example.org" {
		t.Fatalf("message %q from %q to %q", m[0].data.String(), m[0].from, m[0].to)
	}
}

func TestStateErrorsAndSimpleCommands(t *testing.T) {
	out, code := run(testConfig(&fakeQueue{}), lines("RCPT TO:<b@example.org>", "DATA", "MAIL FROM:<a@b>", "DATA",
		"RSET", "RCPT TO:<b@example.org>", "VRFY bob", "EXPN list", "HELP", "noop", "", "STARTTLS", "MAIL",
		"NOOP\tx", "NOOP\x00junk", "HELO", "rSeT", "quit"))
	want := greet + lines("503 MAIL first (#5.5.1)", "503 MAIL first (#5.5.1)", "250 ok", "503 RCPT first (#5.5.1)",
		"250 flushed", "503 MAIL first (#5.5.1)", "252 send some mail, i'll try my best", "502 unimplemented (#5.5.1)",
		"214 notqmail home page: https://notqmail.org", "250 ok", "502 unimplemented (#5.5.1)",
		"502 unimplemented (#5.5.1)", "250 ok", "502 unimplemented (#5.5.1)", "250 ok", "250 mx.example.org",
		"250 flushed", "221 mx.example.org")
	if out != want || code != 0 {
		t.Fatalf("got %q (%d)\nwant %q", out, code, want)
	}
}

func TestUnicodeFoldingNeverMatchesAVerb(t *testing.T) {
	out, _ := run(testConfig(&fakeQueue{}), lines("r\u017fet", "QUIT"))
	if !strings.Contains(out, "502 unimplemented") {
		t.Fatalf("got %q", out)
	}
}

func TestEOFWithoutQuitExits1(t *testing.T) {
	out, code := run(testConfig(&fakeQueue{}), "NOOP\r\nNOO")
	if out != greet+lines("250 ok") || code != 1 {
		t.Fatalf("got %q (%d)", out, code)
	}
}

func TestBareLFCommandWorksButBareLFInDataIsFatal(t *testing.T) {
	q := &fakeQueue{}
	out, code := run(testConfig(q), "NOOP\nMAIL FROM:<a@b>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nSubject: x\nQUIT\r\n")
	want := greet + lines("250 ok", "250 ok", "250 ok", "354 go ahead", "451 See https://cr.yp.to/docs/smtplf.html.")
	if out != want || code != 1 {
		t.Fatalf("got %q (%d)", out, code)
	}
	if len(q.msgs) != 1 || !q.msgs[0].aborted || q.msgs[0].committed {
		t.Fatal("message not aborted")
	}
}

// dataRun sends body after DATA and returns the reply to the final dot, the
// stored message (without the Received line) and the exit code.
func dataRun(t *testing.T, cfg *Config, body string) (string, string, int) {
	t.Helper()
	q := cfg.Queue.(*fakeQueue)
	q.msgs = nil
	out, code := run(cfg, "MAIL FROM:<a@b>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n"+body)
	out = strings.TrimPrefix(out, greet+lines("250 ok", "250 ok", "354 go ahead"))
	stored := ""
	if m := q.committed(); len(m) == 1 {
		s := m[0].data.String()
		i := strings.Index(s, " -0000\n")
		stored = s[i+7:]
	}
	return out, stored, code
}

func TestDataStateMachineTable(t *testing.T) {
	cases := []struct {
		name, body, reply, stored string
		code                      int
	}{
		{"dot stuffing", "..\r\n.abc\r\n. \r\nx.\r\n.\r\n", "250", ".\nabc\n \nx.\n", 1},
		{"dot CR X keeps the dot", ".\rX\r\n.\r\n", "250", ".\rX\n", 1},
		{"empty body", ".\r\n", "250", "", 1},
		{"bare CR kept", "a\rb\r\n.\r\n", "250", "a\rb\n", 1},
		{"CR dot CRLF is not the end", "x\r\n\r.\r\nMAIL FROM:<evil@x>\r\n.\r\n", "250", "x\n\r.\nMAIL FROM:<evil@x>\n", 1},
		{"CRLF dot CR X is not the end", "a\r\n.\rX\r\n.\r\n", "250", "a\n.\rX\n", 1},
		{"LF dot LF", "a\n.\n", "451 See", "", 1},
		{"LF dot CRLF", "a\n.\r\n", "451 See", "", 1},
		{"CRLF dot LF", "a\r\n.\n", "451 See", "", 1},
		{"double CR", "a\r\r\n.\r\n", "250", "a\r\n", 1},
		{"NUL and 8-bit pass", "a\x00\xff\r\n.\r\n", "250", "a\x00\xff\n", 1},
		{"dot CR CR", ".\r\r\n.\r\n", "250", ".\r\n", 1},
		{"dot CR dot", ".\r.x\r\n.\r\n", "250", ".\r.x\n", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reply, stored, code := dataRun(t, testConfig(&fakeQueue{}), c.body)
			if !strings.HasPrefix(reply, c.reply) || stored != c.stored || code != c.code {
				t.Fatalf("reply %q stored %q code %d; want %q %q %d", reply, stored, code, c.reply, c.stored, c.code)
			}
		})
	}
}

func TestStrictModeRefusesBareCR(t *testing.T) {
	for _, body := range []string{"a\rb\r\n.\r\n", "x\r\n\r.\r\n", "a\r\n.\rX\r\n.\r\n"} {
		cfg := testConfig(&fakeQueue{})
		cfg.StrictCR = true
		reply, _, code := dataRun(t, cfg, body)
		if reply != lines("451 See https://cr.yp.to/docs/smtplf.html.") || code != 1 {
			t.Fatalf("%q: %q %d", body, reply, code)
		}
	}
}

func TestSmugglingProbesNeverQueueASecondMessage(t *testing.T) {
	tail := "MAIL FROM:<evil@x>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nsmuggled\r\n.\r\n"
	for _, probe := range []string{"\n.\n", "\n.\r\n", "\r\n.\n", "\r.\r\n", "\r\n.\rX", "\r\n.\r\r\n"} {
		for _, strict := range []bool{false, true} {
			q := &fakeQueue{}
			cfg := testConfig(q)
			cfg.StrictCR = strict
			run(cfg, "MAIL FROM:<a@b>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nbody"+probe+tail+"QUIT\r\n")
			if n := len(q.committed()); n > 1 {
				t.Fatalf("probe %q strict %v: %d messages", probe, strict, n)
			}
			for _, m := range q.committed() {
				if m.from == "evil@x" {
					t.Fatalf("probe %q: smuggled message queued", probe)
				}
			}
		}
	}
}

func TestHopCounting(t *testing.T) {
	rep := func(s string, n int) string { return strings.Repeat(s, n) }
	cases := []struct {
		name, body, reply string
	}{
		{"99 received", rep("Received: x\r\n", 99) + "\r\nbody\r\n.\r\n", "250"},
		{"100 received", rep("Received: x\r\n", 100) + "\r\nbody\r\n.\r\n", "554 too many hops, this message is looping (#5.4.6)"},
		{"60 received 40 delivered", rep("Received: x\r\n", 60) + rep("Delivered-To: y\r\n", 40) + ".\r\n", "554"},
		{"received-spf prefix", rep("received-spf: x\r\n", 100) + ".\r\n", "554"},
		{"in the body", "\r\n" + rep("Received: x\r\n", 100) + ".\r\n", "250"},
		{"indented", rep(" Received: x\r\n", 100) + ".\r\n", "250"},
		{"mixed case per byte", rep("ReCeIvEd\r\n", 100) + ".\r\n", "554"},
		{"dot stuffed does not count", rep(".Received: x\r\n", 100) + ".\r\n", "250"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reply, _, code := dataRun(t, testConfig(&fakeQueue{}), c.body)
			if !strings.HasPrefix(reply, c.reply) || code != 1 {
				t.Fatalf("reply %q code %d", reply, code)
			}
		})
	}
	cfg := testConfig(&fakeQueue{})
	cfg.MaxHops = 3
	if reply, _, _ := dataRun(t, cfg, rep("Received: x\r\n", 3)+".\r\n"); !strings.HasPrefix(reply, "554") {
		t.Fatalf("maxhops 3: %q", reply)
	}
}

func TestDatabytesCountsStoredBytesAndReadsToTheEnd(t *testing.T) {
	cfg := testConfig(&fakeQueue{})
	cfg.Databytes = 10
	if reply, stored, _ := dataRun(t, cfg, "123456789\r\n.\r\n"); !strings.HasPrefix(reply, "250 ok") || stored != "123456789\n" {
		t.Fatalf("10 bytes: %q %q", reply, stored)
	}
	q := &fakeQueue{}
	cfg = testConfig(q)
	cfg.Databytes = 10
	out, code := run(cfg, "MAIL FROM:<a@b>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n1234567890\r\n"+
		strings.Repeat("x", 100000)+"\r\n.\r\nNOOP\r\nQUIT\r\n")
	want := greet + lines("250 ok", "250 ok", "354 go ahead",
		"552 sorry, that message size exceeds my databytes limit (#5.3.4)", "250 ok", "221 mx.example.org")
	if out != want || code != 0 || len(q.committed()) != 0 || !q.msgs[0].aborted {
		t.Fatalf("got %q (%d)", out, code)
	}
	if reply, stored, _ := dataRun(t, cfg, "..\r\n1234567\r\n.\r\n"); !strings.HasPrefix(reply, "250 ok") || stored != ".\n1234567\n" {
		t.Fatalf("stuffed dot counted: %q %q", reply, stored)
	}
}

func TestSizeAdvertisedAndCheckedAtMail(t *testing.T) {
	cfg := testConfig(&fakeQueue{})
	cfg.Databytes = 10
	out, _ := run(cfg, lines("EHLO x", "MAIL FROM:<a@b> SIZE=11", "RCPT TO:<bob@example.org>",
		"MAIL FROM:<a@b> size=10", "MAIL FROM:a@b SIZE=11", "QUIT"))
	want := greet + lines("250-mx.example.org", "250-PIPELINING", "250-8BITMIME", "250 SIZE 10",
		"552 sorry, that message size exceeds my databytes limit (#5.3.4)", "503 MAIL first (#5.5.1)", "250 ok",
		"552 sorry, that message size exceeds my databytes limit (#5.3.4)", "221 mx.example.org")
	if out != want {
		t.Fatalf("got %q\nwant %q", out, want)
	}
	cfg.Size = false
	out, _ = run(cfg, lines("EHLO x", "MAIL FROM:<a@b> SIZE=11", "QUIT"))
	want = greet + lines("250-mx.example.org", "250-PIPELINING", "250 8BITMIME", "250 ok", "221 mx.example.org")
	if out != want {
		t.Fatalf("nosize: got %q", out)
	}
}

func TestBadmailfromRefusesEveryRcptOfTheTransaction(t *testing.T) {
	cfg := testConfig(&fakeQueue{})
	cfg.HasRelay = true
	out, _ := run(cfg, lines("MAIL FROM:<SPAMMER@Bad.Example>", "RCPT TO:<bob@example.org>", "RCPT TO:<postmaster>",
		"DATA", "MAIL FROM:<x@sub.evil.example>", "RCPT TO:<bob@example.org>", "MAIL FROM:<u@EVIL.example>",
		"RCPT TO:<u@elsewhere.test>", "QUIT"))
	bmf := "553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)"
	want := greet + lines("250 ok", bmf, bmf, "503 RCPT first (#5.5.1)", "250 ok", "250 ok", "250 ok", bmf, "221 mx.example.org")
	if out != want {
		t.Fatalf("got %q\nwant %q", out, want)
	}
}

func TestRelayBattery(t *testing.T) {
	nog := "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"
	cases := []struct{ rcpt, reply, env string }{
		{"<u@elsewhere.test>", nog, ""},
		{"<u@sub.example.org>", "250 ok", "u@sub.example.org"},
		{"<u@EXAMPLE.ORG>", "250 ok", "u@EXAMPLE.ORG"},
		{"<postmaster>", "250 ok", "postmaster"},
		{"<u@>", nog, ""},
		{"<u@example.org.>", nog, ""},
		{"<u%elsewhere.test@example.org>", "250 ok", "u%elsewhere.test@example.org"},
		{"<elsewhere.test!u@example.org>", "250 ok", "elsewhere.test!u@example.org"},
		{"<u@example.org@elsewhere.test>", nog, ""},
		{"<@example.org:u@elsewhere.test>", nog, ""},
		{"<@elsewhere.test:u@example.org>", "250 ok", "u@example.org"},
		{"<\"u@example.org\"@elsewhere.test>", nog, ""},
		{"<\"u@elsewhere.test\"@example.org>", "250 ok", "u@elsewhere.test@example.org"},
		{"<u\\@elsewhere.test>", nog, ""},
		{"<u@[192.0.2.99]>", nog, ""},
		{"<u@[127.0.0.1]>", "250 ok", "u@example.org"},
		{"<u@[127.0.0.1]x>", nog, ""},
		{"<u@[127.0.0.256]>", nog, ""},
		{"<u@[0.0.0.0]>", "250 ok", "u@example.org"},
		{"<u@xexample.org>", nog, ""},
		{"<u@.example.org>", "250 ok", "u@.example.org"},
		{"<u@elsewhere.test\x00@example.org>", nog, ""},
		{"<>", "250 ok", ""},
		{"u@elsewhere.test", "250 ok", ""}, // no '<' nor ':': empty recipient
		{":u@elsewhere.test", nog, ""},
	}
	for _, c := range cases {
		arg := "TO:" + c.rcpt
		if !strings.HasPrefix(c.rcpt, "<") {
			arg = c.rcpt
		}
		q := &fakeQueue{}
		out, _ := run(testConfig(q), "MAIL FROM:<a@b>\r\nRCPT "+arg+"\r\nDATA\r\n.\r\nQUIT\r\n")
		got := strings.Split(out, "\r\n")[2]
		if got != c.reply {
			t.Errorf("RCPT %q: %q, want %q", arg, got, c.reply)
			continue
		}
		if c.reply == "250 ok" {
			if m := q.committed(); len(m) != 1 || m[0].to[0] != c.env {
				t.Errorf("RCPT %q: envelope %v, want %q", arg, m, c.env)
			}
		}
	}
}

func TestRelayclientAppendsToEveryRecipient(t *testing.T) {
	for _, rc := range []string{"", "@fixme"} {
		q := &fakeQueue{}
		cfg := testConfig(q)
		cfg.HasRelay, cfg.RelayClient = true, rc
		run(cfg, lines("MAIL FROM:<a@b>", "RCPT TO:<u@elsewhere.test>", "RCPT TO:<bob@example.org>", "DATA", ".", "QUIT"))
		m := q.committed()
		if len(m) != 1 || m[0].to[0] != "u@elsewhere.test"+rc || m[0].to[1] != "bob@example.org"+rc {
			t.Fatalf("RELAYCLIENT=%q: %v", rc, m)
		}
	}
}

func TestNoRcpthostsIsAnOpenRelay(t *testing.T) {
	cfg := testConfig(&fakeQueue{})
	cfg.Rcpthosts = qmailctl.NewRcpthosts(nil, false, "")
	out, _ := run(cfg, lines("MAIL FROM:<a@b>", "RCPT TO:<u@elsewhere.test>", "QUIT"))
	if !strings.HasSuffix(out, lines("250 ok", "250 ok", "221 mx.example.org")) {
		t.Fatalf("got %q", out)
	}
}

func TestAddressLengthLimitKeepsEarlierTransaction(t *testing.T) {
	q := &fakeQueue{}
	a899 := strings.Repeat("a", 899-len("@b")) + "@b"
	a900 := "x" + a899
	out, _ := run(testConfig(q), lines("MAIL FROM:<"+a899+">", "RCPT TO:<bob@example.org>", "MAIL FROM:<"+a900+">", "DATA", ".", "QUIT"))
	if !strings.Contains(out, "250 ok\r\n250 ok\r\n555 syntax error (#5.5.4)\r\n354 go ahead") {
		t.Fatalf("got %q", out)
	}
	if m := q.committed(); len(m) != 1 || m[0].from != a899 {
		t.Fatal("earlier transaction not used")
	}
}

func TestLongCommandLines(t *testing.T) {
	cfg := testConfig(&fakeQueue{})
	out, _ := run(cfg, "NOOP "+strings.Repeat("x", 100000)+"\r\nQUIT\r\n")
	if out != greet+lines("250 ok", "221 mx.example.org") {
		t.Fatalf("100 KB NOOP: %q", out)
	}
	cfg.MaxLine = 1000
	out, _ = run(cfg, "NOOP "+strings.Repeat("x", 100000)+"\r\nNOOP\r\nQUIT\r\n")
	if out != greet+lines("500 line too long (#5.5.2)", "250 ok", "221 mx.example.org") {
		t.Fatalf("capped: %q", out)
	}
	cfg.MaxLine = 10
	out, _ = run(cfg, "NOOP 12345\r\nNOOP 123456\r\nNOOP 12345\nNOOP 123456\nNOOP 1234\r\r\nQUIT\r\n")
	if out != greet+lines("250 ok", "500 line too long (#5.5.2)", "250 ok", "500 line too long (#5.5.2)", "250 ok", "221 mx.example.org") {
		t.Fatalf("boundary: %q", out)
	}
}

// Lines longer than the read buffer come back byte for byte: a 100 KB
// HELO goes whole into the Received line, a SIZE= after 50 KB of spaces
// is still seen, and a line of exactly the cap (plus CR) is accepted.
func TestLinesLongerThanTheReadBufferArriveWhole(t *testing.T) {
	q := &fakeQueue{}
	cfg := testConfig(q)
	cfg.Databytes = 10
	helo := strings.Repeat("abcdefghij", 10000)
	out, _ := run(cfg, lines("HELO "+helo, "MAIL FROM:<a@b>"+strings.Repeat(" ", 50000)+"SIZE=11",
		"MAIL FROM:<a@b>", "RCPT TO:<bob@example.org>", "DATA", "x", ".", "QUIT"))
	want := greet + lines("250 mx.example.org", "552 sorry, that message size exceeds my databytes limit (#5.3.4)",
		"250 ok", "250 ok", "354 go ahead", "250 ok 1736067787 qp 4242", "221 mx.example.org")
	if out != want {
		t.Fatalf("got %.300q", out)
	}
	m := q.committed()
	if len(m) != 1 || !strings.Contains(m[0].data.String(), "(HELO "+helo+")") {
		t.Fatal("100 KB HELO not whole in the Received line")
	}
	cfg = testConfig(&fakeQueue{})
	cfg.MaxLine = 40000
	at := "NOOP " + strings.Repeat("x", 40000-5)
	out, _ = run(cfg, at+"\r\n"+at+"x\r\n"+at+"\n"+"QUIT\r\n")
	if out != greet+lines("250 ok", "500 line too long (#5.5.2)", "250 ok", "221 mx.example.org") {
		t.Fatalf("cap boundary across buffers: %q", out)
	}
}

func TestReceivedLineVariants(t *testing.T) {
	cases := []struct {
		ri   ReceivedInfo
		helo string
		want string
	}{
		{ReceivedInfo{Local: "192.0.2.1", RemoteIP: "192.0.2.7", RemoteHost: "client.example.net"}, "EHLO CLIENT.example.net",
			"Received: from client.example.net (192.0.2.7)\n  by 192.0.2.1 with SMTP; 5 Jan 2025 09:03:07 -0000\n"},
		{ReceivedInfo{Local: "mx.example.org", RemoteIP: "192.0.2.7", RemoteHost: "mx.example.net", RemoteInfo: "ident", HasInfo: true}, "NOOP",
			"Received: from mx.example.net (ident@192.0.2.7)\n  by mx.example.org with SMTP; 5 Jan 2025 09:03:07 -0000\n"},
		{ReceivedInfo{Local: "x", RemoteIP: "192.0.2.7", RemoteHost: "unknown"}, "HELO foo bar<>",
			"Received: from unknown (HELO foo?bar??) (192.0.2.7)\n  by x with SMTP; 5 Jan 2025 09:03:07 -0000\n"},
		{ReceivedInfo{Local: "x", RemoteIP: "192.0.2.7", RemoteHost: "unknown"}, "HELO [192.0.2.7]",
			"Received: from unknown (HELO [192.0.2.7]) (192.0.2.7)\n  by x with SMTP; 5 Jan 2025 09:03:07 -0000\n"},
		{ReceivedInfo{Local: "x", RemoteIP: "192.0.2.7", RemoteHost: "unknown"}, "HELO",
			"Received: from unknown (HELO ) (192.0.2.7)\n  by x with SMTP; 5 Jan 2025 09:03:07 -0000\n"},
	}
	for _, c := range cases {
		q := &fakeQueue{}
		cfg := testConfig(q)
		cfg.Received = c.ri
		run(cfg, lines(c.helo, "MAIL FROM:<a@b>", "RCPT TO:<bob@example.org>", "DATA", ".", "QUIT"))
		m := q.committed()
		if len(m) != 1 || m[0].data.String() != c.want {
			t.Errorf("%q: got %v want %q", c.helo, m, c.want)
			if len(m) == 1 {
				t.Errorf("got %q", m[0].data.String())
			}
		}
	}
}

func TestQueueFailuresMapToStockRepliesAndSessionGoesOn(t *testing.T) {
	cases := []struct {
		err   error
		reply string
	}{
		{&qmailqueue.ExitError{Code: 11}, "554 envelope address too long for qq (#5.1.3)"},
		{&qmailqueue.ExitError{Code: 31}, "554 mail server permanently rejected message (#5.3.0)"},
		{&qmailqueue.ExitError{Code: 53}, "451 qq write error or disk full (#4.3.0)"},
		{&qmailqueue.ExitError{Code: 82, Text: "Dgo away (#5.7.1)"}, "554 go away (#5.7.1)"},
		{&qmailqueue.ExitError{Code: 120}, "451 unable to exec qq (#4.3.0)"},
		{&qmailqueue.ExitError{Code: -1}, "451 qq crashed (#4.3.0)"},
	}
	for _, c := range cases {
		q := &fakeQueue{commit: c.err}
		out, code := run(testConfig(q), lines("MAIL FROM:<a@b>", "RCPT TO:<bob@example.org>", "DATA", "x", ".", "NOOP", "MAIL FROM:<c@d>", "QUIT"))
		want := greet + lines("250 ok", "250 ok", "354 go ahead", c.reply, "250 ok", "250 ok", "221 mx.example.org")
		if out != want || code != 0 {
			t.Errorf("got %q want %q", out, want)
		}
	}
	q := &fakeQueue{openErr: errors.New("fork")}
	out, _ := run(testConfig(q), lines("MAIL FROM:<a@b>", "RCPT TO:<bob@example.org>", "DATA", "NOOP", "QUIT"))
	if out != greet+lines("250 ok", "250 ok", "451 qqt failure (#4.3.0)", "250 ok", "221 mx.example.org") {
		t.Fatalf("qqt: %q", out)
	}
	q = &fakeQueue{writeErr: errors.New("disk full")}
	out, _ = run(testConfig(q), lines("MAIL FROM:<a@b>", "RCPT TO:<bob@example.org>", "DATA", "x", ".", "QUIT"))
	if !strings.Contains(out, "451 qq write error or disk full (#4.3.0)") || !q.msgs[0].aborted {
		t.Fatalf("write error: %q", out)
	}
}

func TestManyRecipientsPipelined(t *testing.T) {
	q := &fakeQueue{}
	var in strings.Builder
	in.WriteString("MAIL FROM:<a@b>\r\n")
	for i := 0; i < 1000; i++ {
		in.WriteString("RCPT TO:<u" + strconv.Itoa(i) + "@example.org>\r\n")
	}
	in.WriteString("DATA\r\nx\r\n.\r\nQUIT\r\n")
	out, _ := run(testConfig(q), in.String())
	if strings.Count(out, "250 ok\r\n") != 1001 {
		t.Fatal("not 1001 oks")
	}
	if m := q.committed(); len(m) != 1 || len(m[0].to) != 1000 {
		t.Fatal("envelope")
	}
}

func TestMultiLineGreeting(t *testing.T) {
	cfg := testConfig(&fakeQueue{})
	cfg.GreetingLines = []string{"mx.example.org", "no UCE", "really"}
	out, _ := run(cfg, lines("HELO x", "QUIT"))
	want := lines("220-mx.example.org ESMTP", "220-no UCE", "220 really", "250 mx.example.org", "221 mx.example.org")
	if out != want {
		t.Fatalf("got %q", out)
	}
}

func TestLocalIPHostAppliesToSender(t *testing.T) {
	q := &fakeQueue{}
	run(testConfig(q), lines("MAIL FROM:<u@[127.0.0.1]>", "RCPT TO:<bob@example.org>", "DATA", ".", "QUIT"))
	if m := q.committed(); len(m) != 1 || m[0].from != "u@example.org" {
		t.Fatal("sender not substituted")
	}
	cfg := testConfig(q)
	cfg.LocalIPs = func() ([][4]byte, error) { return nil, errors.New("no") }
	out, code := run(cfg, lines("MAIL FROM:<u@[127.0.0.1]>"))
	if out != greet+lines("421 unable to figure out my IP addresses (#4.3.0)") || code != 1 {
		t.Fatalf("ipme failure: %q", out)
	}
}

// pipeReader gives its data, then reports its read deadline as passed.
type pipeReader struct {
	data     []byte
	deadline time.Time
}

func (p *pipeReader) SetReadDeadline(t time.Time) error { p.deadline = t; return nil }
func (p *pipeReader) Read(b []byte) (int, error) {
	if len(p.data) > 0 {
		n := copy(b, p.data)
		p.data = p.data[n:]
		return n, nil
	}
	// Pretend the deadline passed.
	return 0, errDeadline
}

var errDeadline = wrapDeadline{}

type wrapDeadline struct{}

func (wrapDeadline) Error() string { return "i/o timeout" }
func (wrapDeadline) Unwrap() error { return osErrDeadline }

func TestTimeoutSays451AndExits1(t *testing.T) {
	q := &fakeQueue{}
	var out bytes.Buffer
	code := Serve(testConfig(q), &pipeReader{data: []byte("MAIL FROM:<a@b>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nhalf")}, &out)
	want := greet + lines("250 ok", "250 ok", "354 go ahead", "451 timeout (#4.4.2)")
	if out.String() != want || code != 1 || len(q.committed()) != 0 || !q.msgs[0].aborted {
		t.Fatalf("got %q (%d)", out.String(), code)
	}
}

func BenchmarkDataMachine(b *testing.B) {
	line := strings.Repeat("0123456789abcdef", 63) + "0123456789abc\r\n"
	body := []byte(strings.Repeat(line, 1024))
	b.SetBytes(int64(len(body)))
	for i := 0; i < b.N; i++ {
		m := newDataMachine(false)
		sink := newDataSink(io.Discard, 0)
		m.feed(body, sink)
	}
}
