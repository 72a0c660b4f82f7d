// Package smtpd is qmail-smtpd's SMTP engine: one session over an
// io.Reader and an io.Writer, handing each accepted message to a
// qmailqueue.Queue. Behaviour and every reply are notqmail 1.09's (spec
// qmail-smtpd.md §2), plus the extensions of §5 the Config turns on.
package smtpd

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"tinymx/lib/ascii"
	"tinymx/lib/qmailctl"
	"tinymx/lib/qmailqueue"
)

// Config is everything a session needs, read once at start-up.
type Config struct {
	Greeting      string   // text after "220 ", "250 ", "250-", "221 "
	GreetingLines []string // multi-line 220 greeting (§5.16); nil: stock
	LocalIPHost   string   // control/localiphost, else me
	HasLocalIP    bool     // localiphost substitution is on
	Timeout       time.Duration
	Databytes     uint64 // 0: no limit
	MaxHops       int    // 100 as stock; control/maxhops
	Size          bool   // advertise SIZE and check SIZE= (when Databytes > 0)
	StrictCR      bool   // refuse bare CR in DATA (§5.7)
	MaxLine       int    // command line cap (§5.12)
	Received      ReceivedInfo
	RelayClient   string
	HasRelay      bool // RELAYCLIENT is set, even empty
	Rcpthosts     *qmailctl.Rcpthosts
	Badmailfrom   *qmailctl.Badmailfrom
	// LocalIPs lists the addresses that count as this host for
	// localiphost; nil uses LocalIPv4.
	LocalIPs func() ([][4]byte, error)
	Queue    qmailqueue.Queue
	Now      func() time.Time // nil: time.Now
	// MaxSession bounds the whole session (QMAIL_SMTPD_MAXSESSION):
	// past it the next read ends the session with stock's 451 timeout,
	// so that a client trickling a byte at a time cannot hold a session
	// for ever. 0: no bound, as stock.
	MaxSession time.Duration
	// Shutdown, when set and true, ends the session at its next read
	// with 421 (a server draining its sessions): the server sets it,
	// then a read deadline in the past to wake a waiting read.
	Shutdown *atomic.Bool

	testPanic bool // see panic_test_hook.go
}

// Defaults for the extensions' knobs.
const (
	DefaultMaxLine = 1 << 20
	DefaultMaxHops = 100
	DefaultTimeout = 1200 * time.Second
)

// exitCode is panicked to end the session from deep inside a read or a
// write, as stock's _exit calls do; Serve recovers it.
type exitCode int

// deadliner is what *os.File and net.Conn offer for timeouts.
type readDeadliner interface{ SetReadDeadline(time.Time) error }
type writeDeadliner interface{ SetWriteDeadline(time.Time) error }

type session struct {
	cfg *Config
	r   io.Reader
	w   io.Writer
	br  *bufio.Reader
	bw  *bufio.Writer

	rdl readDeadliner
	wdl writeDeadliner

	line     []byte
	helo     string
	hasHelo  bool // the HELO value differs from the remote host
	seenMail bool
	barf     bool
	mailFrom string
	rcpts    []string
	msg      qmailqueue.Message // open during DATA, aborted on exit

	localIPs [][4]byte
	ipsDone  bool

	end time.Time // MaxSession's end; zero for none
}

// deadline is the next read's: the timeout from now, or the
// session's end when that comes first.
func (s *session) deadline() time.Time {
	d := time.Now().Add(s.cfg.Timeout)
	if !s.end.IsZero() && s.end.Before(d) {
		return s.end
	}
	return d
}

// shuttingDown reports whether the server asked the session to end.
func (s *session) shuttingDown() bool {
	return s.cfg.Shutdown != nil && s.cfg.Shutdown.Load()
}

type connReader struct{ s *session }

// Read flushes pending replies before blocking, as stock's saferead, and
// ends the session on timeout (451), EOF or error (silently, exit 1).
func (c connReader) Read(p []byte) (int, error) {
	s := c.s
	s.flush()
	if s.rdl != nil && s.cfg.Timeout > 0 {
		if s.rdl.SetReadDeadline(s.deadline()) != nil {
			s.rdl = nil // not pollable: no timeout, as with a plain pipe
		}
	}
	// Checked after the deadline is set: a server that sets Shutdown
	// and then a past deadline is seen here or by the read.
	if s.shuttingDown() {
		s.die(replyShutdown)
	}
	n, err := s.r.Read(p)
	if n > 0 {
		return n, nil
	}
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if s.shuttingDown() {
				s.die(replyShutdown)
			}
			s.die(replyTimeout)
		}
		panic(exitCode(1))
	}
	return 0, nil
}

type connWriter struct{ s *session }

// Write ends the session silently on error or timeout, as stock's safewrite.
func (c connWriter) Write(p []byte) (int, error) {
	s := c.s
	if s.wdl != nil && s.cfg.Timeout > 0 {
		// the timeout alone, not MaxSession's end: the 451 that end
		// brings must still go out
		if s.wdl.SetWriteDeadline(time.Now().Add(s.cfg.Timeout)) != nil {
			s.wdl = nil
		}
	}
	n, err := s.w.Write(p)
	if err != nil || n < len(p) {
		panic(exitCode(1))
	}
	return n, nil
}

func (s *session) out(text string) { s.bw.WriteString(text) }

func (s *session) flush() {
	if s.bw.Buffered() > 0 {
		s.bw.Flush()
	}
}

// die sends a last reply and ends the session with status 1.
func (s *session) die(reply string) {
	s.out(reply)
	s.flush()
	panic(exitCode(1))
}

func (s *session) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

// Serve runs one SMTP session: the greeting, then commands until QUIT
// (status 0) or until the client goes away, times out or breaks the
// protocol (status 1). Any message still open is aborted.
func Serve(cfg *Config, r io.Reader, w io.Writer) (code int) {
	s := &session{cfg: cfg, r: r, w: w}
	s.rdl, _ = r.(readDeadliner)
	s.wdl, _ = w.(writeDeadliner)
	s.br = bufio.NewReaderSize(connReader{s}, 16384)
	s.bw = bufio.NewWriterSize(connWriter{s}, 1024)
	if s.cfg.MaxLine <= 0 {
		s.cfg.MaxLine = DefaultMaxLine
	}
	if s.cfg.MaxHops <= 0 {
		s.cfg.MaxHops = DefaultMaxHops
	}
	if cfg.MaxSession > 0 {
		s.end = time.Now().Add(cfg.MaxSession)
	}
	s.setHelo(cfg.Received.RemoteHost)
	defer func() {
		if e := recover(); e != nil {
			if s.msg != nil {
				s.msg.Abort()
				s.msg = nil
			}
			c, ok := e.(exitCode)
			if !ok {
				panic(e) // a bug: the server's session recovers it
			}
			code = int(c)
		}
	}()
	s.greet()
	s.commands()
	return 0
}

// Refuse sends a start-up failure reply (stock's die_control and friends
// before the greeting).
func Refuse(w io.Writer, reply string) {
	w.Write([]byte(reply))
}

// ReplyControl is the start-up failure reply for unreadable controls.
const ReplyControl = replyControl

func (s *session) greet() {
	lines := s.cfg.GreetingLines
	if len(lines) <= 1 {
		s.out("220 ")
		s.out(s.cfg.Greeting)
		s.out(" ESMTP\r\n")
		return
	}
	for i, l := range lines {
		if i == len(lines)-1 {
			s.out("220 ")
		} else {
			s.out("220-")
		}
		s.out(l)
		if i == 0 {
			s.out(" ESMTP")
		}
		s.out("\r\n")
	}
}

// readLine returns the next command line without its LF and the one CR
// before it, as stock. A line longer than MaxLine is read to its LF and
// dropped: tooLong is then true.
//
// A line longer than the read buffer is held as a list of buffer-sized
// copies and joined only once its LF arrives within the cap. Growing one
// slice by append instead leaves every smaller copy behind as garbage
// until the next collection, which the runtime starts only at a 4 MiB
// heap: an endless line cost about 4.5 MiB of RSS for a 1 MiB cap. Now it
// costs the cap's worth of chunks, and a line over the cap is never
// joined at all.
func (s *session) readLine() (line []byte, tooLong bool) {
	if cap(s.line) > 65536 {
		s.line = nil // do not keep a huge line's buffer for the session
	}
	s.line = s.line[:0]
	max := s.cfg.MaxLine
	var chunks [][]byte // earlier fragments of a line longer than the buffer
	n := 0              // the line's length so far (without the LF)
	for {
		frag, err := s.br.ReadSlice('\n')
		if err == nil {
			frag = frag[:len(frag)-1]
		}
		if !tooLong {
			n += len(frag)
			// max+1 leaves room for the CR of a CRLF: the cap counts the
			// line's own bytes only.
			if n > max+1 {
				tooLong = true
				chunks = nil
			} else if err != nil {
				chunks = append(chunks, append([]byte(nil), frag...))
			}
		}
		if err == nil {
			if tooLong {
				return nil, true
			}
			if chunks != nil {
				if cap(s.line) < n {
					s.line = make([]byte, 0, n)
				}
				for _, c := range chunks {
					s.line = append(s.line, c...)
				}
			}
			line := append(s.line, frag...)
			s.line = line
			if k := len(line); k > 0 && line[k-1] == '\r' {
				line = line[:k-1]
			}
			if len(line) > max {
				return nil, true
			}
			return line, false
		}
		if err != bufio.ErrBufferFull {
			panic(exitCode(1))
		}
	}
}

func (s *session) commands() {
	for {
		line, tooLong := s.readLine()
		if tooLong {
			s.out(replyLineTooLong)
			s.flush()
			continue
		}
		if i := bytes.IndexByte(line, 0); i >= 0 {
			line = line[:i]
		}
		verb, arg := line, []byte(nil)
		if i := bytes.IndexByte(line, ' '); i >= 0 {
			verb, arg = line[:i], line[i+1:]
			for len(arg) > 0 && arg[0] == ' ' {
				arg = arg[1:]
			}
		}
		switch {
		case ascii.EqualFold(verb, "rcpt"):
			s.rcpt(arg)
		case ascii.EqualFold(verb, "mail"):
			s.mail(arg)
		case ascii.EqualFold(verb, "data"):
			s.data()
			s.flush()
		case ascii.EqualFold(verb, "quit"):
			s.out("221 ")
			s.out(s.cfg.Greeting)
			s.out("\r\n")
			s.flush()
			return
		case ascii.EqualFold(verb, "helo"):
			if s.cfg.testPanic {
				injectedPanic()
			}
			s.out("250 ")
			s.out(s.cfg.Greeting)
			s.out("\r\n")
			s.seenMail = false
			s.setHelo(string(arg))
			s.flush()
		case ascii.EqualFold(verb, "ehlo"):
			s.ehlo()
			s.seenMail = false
			s.setHelo(string(arg))
			s.flush()
		case ascii.EqualFold(verb, "rset"):
			s.seenMail = false
			s.out(replyFlushed)
		case ascii.EqualFold(verb, "help"):
			s.out(replyHelp)
			s.flush()
		case ascii.EqualFold(verb, "noop"):
			s.out(replyOK)
			s.flush()
		case ascii.EqualFold(verb, "vrfy"):
			s.out(replyVrfy)
			s.flush()
		default:
			s.out(replyUnimpl)
			s.flush()
		}
	}
}

func (s *session) sizeOn() bool { return s.cfg.Size && s.cfg.Databytes > 0 }

func (s *session) ehlo() {
	s.out("250-")
	s.out(s.cfg.Greeting)
	s.out("\r\n250-PIPELINING\r\n")
	if !s.sizeOn() {
		s.out("250 8BITMIME\r\n")
		return
	}
	s.out("250-8BITMIME\r\n250 SIZE ")
	s.out(strconv.FormatUint(s.cfg.Databytes, 10))
	s.out("\r\n")
}

func (s *session) setHelo(h string) {
	s.helo = h
	s.hasHelo = !ascii.EqualFold(h, s.cfg.Received.RemoteHost)
}

// addr parses a MAIL/RCPT argument completely: address, localiphost
// substitution, length check. ok is false for stock's 555.
func (s *session) addr(arg []byte) (addr, rest []byte, ok bool) {
	addr, rest = ParseAddr(arg)
	if s.cfg.HasLocalIP {
		if at, ip, lit := localIPDomain(addr); lit && s.isLocalIP(ip) {
			addr = append(addr[:at], s.cfg.LocalIPHost...)
		}
	}
	if len(addr) > MaxAddr {
		return nil, nil, false
	}
	return addr, rest, true
}

func (s *session) isLocalIP(ip [4]byte) bool {
	if !s.ipsDone {
		list := s.cfg.LocalIPs
		if list == nil {
			list = LocalIPv4
		}
		ips, err := list()
		if err != nil {
			s.die(replyIPme)
		}
		s.localIPs, s.ipsDone = ips, true
	}
	for _, l := range s.localIPs {
		if l == ip {
			return true
		}
	}
	return false
}

// sizeParam returns the value of a SIZE= parameter among the ESMTP
// parameters, read as its leading digits (0 if none).
func sizeParam(rest []byte) (uint64, bool) {
	for len(rest) > 0 {
		var p []byte
		if i := bytes.IndexByte(rest, ' '); i >= 0 {
			p, rest = rest[:i], rest[i+1:]
		} else {
			p, rest = rest, nil
		}
		if len(p) >= 5 && ascii.EqualFold(p[:5], "size=") {
			n, _ := qmailctl.ParseUint(p[5:])
			return n, true
		}
	}
	return 0, false
}

func (s *session) mail(arg []byte) {
	addr, rest, ok := s.addr(arg)
	if !ok {
		s.out(replySyntax)
		return
	}
	if s.sizeOn() {
		if n, ok := sizeParam(rest); ok && n > s.cfg.Databytes {
			s.out(replyDatabytes)
			return
		}
	}
	barf, err := s.cfg.Badmailfrom.Match(addr)
	if err != nil {
		s.die(replyControl)
	}
	s.barf = barf
	s.seenMail = true
	s.rcpts = s.rcpts[:0]
	s.mailFrom = string(addr)
	s.out(replyOK)
}

func (s *session) rcpt(arg []byte) {
	if !s.seenMail {
		s.out(replyWantMail)
		return
	}
	addr, _, ok := s.addr(arg)
	if !ok {
		s.out(replySyntax)
		return
	}
	if s.barf {
		s.out(replyBmf)
		return
	}
	if s.cfg.HasRelay {
		addr = append(addr, s.cfg.RelayClient...)
	} else {
		ok, err := s.cfg.Rcpthosts.Allowed(addr)
		if err != nil {
			s.die(replyControl)
		}
		if !ok {
			s.out(replyNoGateway)
			return
		}
	}
	s.rcpts = append(s.rcpts, string(addr))
	s.out(replyOK)
}

func (s *session) data() {
	if !s.seenMail {
		s.out(replyWantMail)
		return
	}
	if len(s.rcpts) == 0 {
		s.out(replyWantRcpt)
		return
	}
	s.seenMail = false
	msg, err := s.cfg.Queue.Open()
	if err != nil {
		s.out(replyQqt)
		return
	}
	s.msg = msg
	qp := msg.Pid()
	s.out(replyGoAhead)

	sink := newDataSink(msg, s.cfg.Databytes)
	sink.raw(AppendReceived(make([]byte, 0, 256), &s.cfg.Received, s.helo, s.hasHelo, "SMTP", s.now()))
	m := newDataMachine(s.cfg.StrictCR)
	if err := m.run(s.br, sink); err != nil {
		if err == errBareLF || err == errBareCR {
			s.die(replyStrayLF)
		}
		panic(exitCode(1)) // a reader that makes no progress: as EOF
	}
	sink.flush()
	s.msg = nil
	switch {
	case m.hops >= s.cfg.MaxHops:
		msg.Abort()
		s.out(replyHops)
	case sink.over:
		msg.Abort()
		s.out(replyDatabytes)
	case sink.werr != nil:
		msg.Abort()
		var ee *qmailqueue.ExitError
		if !errors.As(sink.werr, &ee) {
			ee = &qmailqueue.ExitError{Code: 53}
		}
		s.out(queueReply(ee))
		s.out("\r\n")
	default:
		if err := msg.Commit(s.mailFrom, s.rcpts); err != nil {
			s.out(queueReply(err))
			s.out("\r\n")
			return
		}
		b := make([]byte, 0, 64)
		b = append(b, "250 ok "...)
		b = strconv.AppendInt(b, s.now().Unix(), 10)
		b = append(b, " qp "...)
		b = strconv.AppendInt(b, int64(qp), 10)
		b = append(b, "\r\n"...)
		s.bw.Write(b)
	}
}
