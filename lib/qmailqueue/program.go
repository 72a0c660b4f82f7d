package qmailqueue

import (
	"bufio"
	"errors"
	"io"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Program runs a qmail-queue-compatible program once per message, as
// notqmail's qmail_open/qmail_close: message on its fd 0, envelope on its
// fd 1, custom error text on its fd 6, fd 2 inherited, environment
// inherited, working directory Dir.
type Program struct {
	Path string // executed directly (no PATH search); relative to Dir
	Dir  string // the qmail home
	// Env is the program's environment; nil inherits ours. A server
	// of many sessions gives each session's own.
	Env []string

	mu    sync.Mutex
	spare *bufio.Writer // reused between the messages of a session
}

// Open starts the program before qmail-smtpd says 354. A program that
// cannot be run still gives a Message: like stock's forked child that
// fails to exec, it swallows the data and Commit reports exit 120 (or 61
// when Dir is unusable), so the client hears about it after the final dot.
func (p *Program) Open() (Message, error) {
	mr, mw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	er, ew, err := os.Pipe()
	if err != nil {
		mr.Close()
		mw.Close()
		return nil, err
	}
	xr, xw, err := os.Pipe()
	if err != nil {
		mr.Close()
		mw.Close()
		er.Close()
		ew.Close()
		return nil, err
	}
	attr := &os.ProcAttr{
		Dir:   p.Dir,
		Env:   p.Env,
		Files: []*os.File{mr, er, os.Stderr, nil, nil, nil, xw},
	}
	// The child chdirs to Dir before execve, so a relative Path is
	// relative to the qmail home, as stock.
	proc, err := os.StartProcess(p.Path, []string{p.Path}, attr)
	mr.Close()
	er.Close()
	xw.Close()
	if err != nil {
		mw.Close()
		ew.Close()
		xr.Close()
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.ENOMEM) {
			// fork itself failed: stock's "qqt failure" before 354.
			return nil, err
		}
		code := CodeExecFailed
		if p.Dir != "" {
			if cerr := unix.Access(p.Dir, unix.X_OK); cerr != nil {
				code = 61
			}
		}
		return &deadMessage{code: code}, nil
	}
	m := &programMessage{p: p, proc: proc, mw: mw, ew: ew, xr: xr}
	p.mu.Lock()
	m.bw, p.spare = p.spare, nil
	p.mu.Unlock()
	if m.bw == nil {
		m.bw = bufio.NewWriterSize(fdWriter{m}, 16384)
	} else {
		m.bw.Reset(fdWriter{m})
	}
	return m, nil
}

type programMessage struct {
	p      *Program
	proc   *os.Process
	mw     *os.File // message pipe (child's fd 0)
	ew     *os.File // envelope pipe (child's fd 1)
	xr     *os.File // error-text pipe (child's fd 6)
	bw     *bufio.Writer
	failed bool // stock's flagerr: a pipe write failed
	done   bool
}

// fdWriter writes to the message pipe and remembers a failure instead of
// returning it: stock keeps reading the client's data to the final dot.
type fdWriter struct{ m *programMessage }

func (w fdWriter) Write(b []byte) (int, error) {
	if !w.m.failed {
		if _, err := w.m.mw.Write(b); err != nil {
			w.m.failed = true
		}
	}
	return len(b), nil
}

func (m *programMessage) Pid() int { return m.proc.Pid }

func (m *programMessage) Write(b []byte) (int, error) {
	if m.failed || m.done {
		return len(b), nil
	}
	return m.bw.Write(b)
}

func (m *programMessage) Commit(from string, to []string) error {
	if m.done {
		return &ExitError{Code: 81}
	}
	m.done = true
	if !m.failed {
		m.bw.Flush()
	}
	m.mw.Close()
	if !m.failed {
		env := AppendEnvelope(nil, from, to)
		if _, err := m.ew.Write(env); err != nil {
			m.failed = true
		}
	}
	m.ew.Close()
	return m.finish()
}

// finish reads fd 6 to EOF before waiting, as notqmail 1.09.
func (m *programMessage) finish() error {
	var text [256]byte
	n, _ := io.ReadFull(m.xr, text[:255])
	io.Copy(io.Discard, m.xr)
	m.xr.Close()
	m.bw.Reset(nil)
	m.p.mu.Lock()
	m.p.spare = m.bw
	m.p.mu.Unlock()
	st, err := m.proc.Wait()
	if err != nil {
		return &ExitError{Code: CodeWaitSurprise}
	}
	ws, ok := st.Sys().(syscall.WaitStatus)
	if !ok || ws.Signaled() {
		return &ExitError{Code: CodeCrashed}
	}
	code := ws.ExitStatus()
	switch {
	case code == 0 && !m.failed:
		return nil
	case code == 0:
		return &ExitError{Code: 0}
	case code == CodeCustom && n > 2:
		return &ExitError{Code: code, Text: string(text[:n])}
	}
	return &ExitError{Code: code}
}

// Abort closes both pipes without the envelope's final NUL: a real
// qmail-queue then exits 54 and queues nothing. The child is reaped.
func (m *programMessage) Abort() {
	if m.done {
		return
	}
	m.done = true
	m.failed = true
	m.mw.Close()
	m.ew.Close()
	m.finish()
}

// deadMessage stands for a program that could not be started.
type deadMessage struct {
	code int
	done bool
}

func (d *deadMessage) Pid() int                    { return 0 }
func (d *deadMessage) Write(b []byte) (int, error) { return len(b), nil }
func (d *deadMessage) Abort()                      { d.done = true }
func (d *deadMessage) Commit(string, []string) error {
	d.done = true
	return &ExitError{Code: d.code}
}
