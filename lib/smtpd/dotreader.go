package smtpd

import (
	"bufio"
	"errors"
	"io"
)

// Errors that end a session during DATA with the smtplf reply.
var (
	errBareLF = errors.New("bare LF in DATA")
	errBareCR = errors.New("bare CR in DATA (strict mode)")
)

// DATA byte states, named after what was last seen (stock's 0..4).
const (
	stMid   = iota // inside a line
	stBOL          // just after CRLF (and at the start)
	stDot          // BOL + "."
	stDotCR        // BOL + ".\r"
	stCR           // a CR not yet classified
)

// dataMachine is stock's blast(): it unstuffs dots, turns CRLF into LF,
// counts hops in the header, and ends at CRLF.CRLF and nothing else. Every
// bare LF is fatal; a bare CR is kept (or fatal in strict mode). It works
// on raw input bytes and never holds more than the reader's buffer.
type dataMachine struct {
	state    int
	inHeader bool
	pos      int // bytes since the last LF, while in the header (max 9)
	maybeRcv bool
	maybeEnd bool // the line may be "\r\n": the end of the header
	maybeDlv bool
	hops     int
	strict   bool
}

func newDataMachine(strict bool) dataMachine {
	return dataMachine{state: stBOL, inHeader: true, maybeRcv: true, maybeEnd: true, maybeDlv: true, strict: strict}
}

// header runs stock's hop counter over one raw byte: a header line counts
// when it starts with "received" (8 bytes) or "delivered" (9), each byte
// matching in either case; the header ends at a line starting "\r\n".
func (m *dataMachine) header(c byte) {
	if m.pos < 9 {
		if c != "delivered"[m.pos] && c != "DELIVERED"[m.pos] {
			m.maybeDlv = false
		}
		if m.maybeDlv && m.pos == 8 {
			m.hops++
		}
		if m.pos < 8 {
			if c != "received"[m.pos] && c != "RECEIVED"[m.pos] {
				m.maybeRcv = false
			}
			if m.maybeRcv && m.pos == 7 {
				m.hops++
			}
		}
		if m.pos < 2 {
			if c != "\r\n"[m.pos] {
				m.maybeEnd = false
			}
			if m.maybeEnd && m.pos == 1 {
				m.inHeader = false
			}
		}
		m.pos++
	}
	if c == '\n' {
		m.pos = 0
		m.maybeRcv, m.maybeEnd, m.maybeDlv = true, true, true
	}
}

// feed runs the machine over p, emitting stored bytes to out. It returns
// how many bytes of p it consumed and whether the final dot was seen (the
// bytes after it are not consumed: they are the next commands).
func (m *dataMachine) feed(p []byte, out *dataSink) (int, bool, error) {
	for i := 0; i < len(p); i++ {
		c := p[i]
		if m.inHeader && (m.pos < 9 || c == '\n') {
			m.header(c)
		} else if m.state == stMid {
			// Fast path: copy the run of ordinary bytes in one go. Past
			// the ninth byte of a header line only an LF matters to the
			// hop counter, and the run stops before one.
			j := i
			for j < len(p) && p[j] != '\r' && p[j] != '\n' {
				j++
			}
			if j > i {
				out.emit(p[i:j])
				i = j - 1
				continue
			}
		}
		switch m.state {
		case stMid:
			switch c {
			case '\n':
				return i, false, errBareLF
			case '\r':
				m.state = stCR
				continue
			}
		case stBOL:
			switch c {
			case '\n':
				return i, false, errBareLF
			case '.':
				m.state = stDot
				continue
			case '\r':
				m.state = stCR
				continue
			}
			m.state = stMid
		case stDot:
			switch c {
			case '\n':
				return i, false, errBareLF
			case '\r':
				m.state = stDotCR
				continue
			}
			m.state = stMid // the first dot of the line is dropped
		case stDotCR:
			if c == '\n' {
				return i + 1, true, nil
			}
			if m.strict {
				return i, false, errBareCR
			}
			out.emit1('.')
			out.emit1('\r')
			if c == '\r' {
				m.state = stCR
				continue
			}
			m.state = stMid
		case stCR:
			if c == '\n' {
				m.state = stBOL
				break
			}
			if m.strict {
				return i, false, errBareCR
			}
			if c != '\r' {
				out.emit1('\r')
				m.state = stMid
			}
		}
		out.emit1(c)
	}
	return len(p), false, nil
}

// run feeds the machine from br until the final dot, consuming exactly the
// bytes up to and including it.
func (m *dataMachine) run(br *bufio.Reader, out *dataSink) error {
	for {
		if _, err := br.Peek(1); err != nil {
			return err
		}
		p, _ := br.Peek(br.Buffered())
		n, done, err := m.feed(p, out)
		br.Discard(n)
		if err != nil || done {
			return err
		}
	}
}

// dataSink counts the stored bytes and streams them to the queue through a
// small buffer. Past the databytes limit, or after a write error, it only
// counts: the rest of the message is read and dropped.
type dataSink struct {
	w     io.Writer
	buf   []byte
	n     uint64 // stored bytes so far (not the Received line)
	limit uint64 // databytes; 0 = none
	over  bool
	werr  error
}

const sinkSize = 8192

func newDataSink(w io.Writer, limit uint64) *dataSink {
	return &dataSink{w: w, buf: make([]byte, 0, sinkSize), limit: limit}
}

func (s *dataSink) emit(p []byte) {
	s.n += uint64(len(p))
	if s.limit > 0 && s.n > s.limit {
		s.over = true
	}
	if s.over || s.werr != nil {
		return
	}
	if len(s.buf)+len(p) > cap(s.buf) {
		s.flush()
		if len(p) >= cap(s.buf) {
			s.write(p)
			return
		}
	}
	s.buf = append(s.buf, p...)
}

func (s *dataSink) emit1(c byte) {
	s.n++
	if s.limit > 0 && s.n > s.limit {
		s.over = true
	}
	if s.over || s.werr != nil {
		return
	}
	if len(s.buf) == cap(s.buf) {
		s.flush()
	}
	s.buf = append(s.buf, c)
}

// raw writes bytes that do not count toward databytes (the Received line).
func (s *dataSink) raw(p []byte) {
	if len(s.buf)+len(p) > cap(s.buf) {
		s.flush()
	}
	if len(p) > cap(s.buf) {
		s.write(p)
		return
	}
	s.buf = append(s.buf, p...)
}

func (s *dataSink) write(p []byte) {
	if s.werr != nil {
		return
	}
	if _, err := s.w.Write(p); err != nil {
		s.werr = err
	}
}

func (s *dataSink) flush() {
	if len(s.buf) > 0 && !s.over {
		s.write(s.buf)
	}
	s.buf = s.buf[:0]
}
