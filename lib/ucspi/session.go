package ucspi

import (
	"errors"
	"fmt"
	"runtime/debug"

	"golang.org/x/sys/unix"

	"tinymx/lib/strerr"
)

// session is handle for a server that serves connections in this process
// (Server.Session): the same preparation, verdict, limits and log lines
// as tcpserver's, with a session number where tcpserver logs a pid. A
// connection refused (deny, a failed lookup) ends with the wait status
// its C child would have had: exit 100 for deny, 111 for trouble.
func (s *Server) session(c *conn) {
	var err error
	c.p, err = s.prepareRecovering(&c.Accepted)
	switch {
	case err != nil:
		s.refuse(c, strerr.ExitTemp, "", err)
		return
	case c.p.Deny:
		s.refuse(c, strerr.ExitPerm, "deny", nil)
		return
	case !s.admit(c):
		return
	}
	ch := child{ip: c.p.IP, counted: c.p.MaxConnIP > 0}
	s.mu.Lock()
	delete(s.inflight, c)
	n := c.n
	s.pidLine(int(n), c.p.IP)
	s.say(Verbose, c.p.Decision(s.Prog, "ok", int(n)))
	s.mu.Unlock()
	status := s.Session(&c.Accepted, &c.p, n)
	s.mu.Lock()
	s.endLine(int(n), unix.WaitStatus(status))
	s.release(ch)
	s.mu.Unlock()
}

// prepareRecovering is Prepare, with a panic (a bug) turned into the
// failure of this connection alone: the process serves every other.
func (s *Server) prepareRecovering(a *Accepted) (p Prepared, err error) {
	defer func() {
		if e := recover(); e != nil {
			s.line(Errors, "warning: internal error: ", fmt.Sprint(e), "\n", string(debug.Stack()))
			if a != nil {
				p.IP = IPString(a.Remote.Addr())
			}
			err = &stepError{"unable to prepare connection", fmt.Errorf("internal error: %v", e)}
		}
	}()
	return s.Prepare(a)
}

// refuse logs a connection served by no session as helper does for
// tcpserver: its number, the decision line (word, "" for none), the
// warning of err, and its end with exit code.
func (s *Server) refuse(c *conn, code int, word string, err error) {
	s.mu.Lock()
	delete(s.inflight, c)
	n := c.n
	s.pidLine(int(n), c.p.IP)
	if word != "" {
		s.say(Verbose, c.p.Decision(s.Prog, word, int(n)))
	}
	var se *stepError
	if errors.As(err, &se) {
		s.line(Errors, drop, se.what, ": ", strerr.Errstr(se.err))
	}
	s.mu.Unlock()
	unix.Close(c.FD)
	s.mu.Lock()
	s.endLine(int(n), unix.WaitStatus(code<<8))
	s.release(child{ip: c.p.IP})
	s.mu.Unlock()
}
