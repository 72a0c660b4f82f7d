package ucspi

import (
	"errors"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"tinymx/lib/decimal"
	"tinymx/lib/pathexec"
	"tinymx/lib/strerr"
)

// handle does what the C program's forked child does before exec, in
// this process, then starts the program (or the helper) exactly once.
func (s *Server) handle(c *conn) {
	if s.Session != nil {
		s.session(c)
		return
	}
	var err error
	c.p, err = s.Prepare(&c.Accepted)
	switch {
	case err != nil:
		s.helper(c, strerr.ExitTemp, "", err)
	case c.p.Deny:
		s.helper(c, strerr.ExitPerm, "deny", nil)
	case s.admit(c):
		s.run(c)
	}
}

// run starts the program once, with the socket as fd 0 and fd 1, and logs
// its real pid in the C program's order.
func (s *Server) run(c *conn) {
	env := c.p.Env.Apply(s.Env)
	path, err := pathexec.Lookup(s.Argv[0], s.Env)
	if err == nil {
		attr := &syscall.ProcAttr{Env: env, Files: []uintptr{uintptr(c.FD), uintptr(c.FD), s.stderr}}
		s.mu.Lock()
		delete(s.inflight, c)
		var pid int
		pid, err = syscall.ForkExec(path, s.Argv, attr)
		if err == nil {
			s.children[pid] = child{ip: c.p.IP, counted: c.p.MaxConnIP > 0}
			s.pidLine(pid, c.p.IP)
			s.say(Verbose, c.p.Decision(s.Prog, "ok", pid))
			s.mu.Unlock()
			unix.Close(c.FD)
			return
		}
		s.mu.Unlock()
	}
	s.helper(c, strerr.ExitTemp, "ok", &stepError{"unable to run " + s.Argv[0], err})
}

// helperEnv marks the helper process: tcpserver started with it set only
// exits with its value. It stands in for the C program's forked child
// where no program runs (a denied or failed connection), so that the pid
// and end lines name a real process, as they do in the C program.
const helperEnv = "TINYMX_TCPSERVER_EXIT"

// RunRole takes up the role this process was re-executed for, if any,
// and does not return then: the helper exits with its code. tcpserver
// calls it first thing in main, so that the helper, started per
// connection, does no more. (The process a terminated server hands its
// connections to is a server with the same arguments: Run takes it up.)
func RunRole() {
	if v, ok := syscall.Getenv(helperEnv); ok {
		os.Exit(int(decimal.Ulong(v)))
	}
}

// helper starts the stand-in process that exits with code, and logs what
// the C child would have: the pid line, the decision line (word "deny", or
// "ok" before a failed exec, "" for none) and the warning of err.
func (s *Server) helper(c *conn, code int, word string, err error) {
	ch := child{ip: c.p.IP, counted: c.p.MaxConnIP > 0 && word == "ok"}
	s.mu.Lock()
	delete(s.inflight, c)
	pid, ferr := forkExit(code)
	if ferr != nil {
		// the re-executed helper: slower, but an ordinary fork+exec
		attr := &syscall.ProcAttr{Env: []string{helperEnv + "=" + strconv.Itoa(code)}}
		pid, ferr = syscall.ForkExec(s.Self, []string{s.Prog}, attr)
	}
	if ferr != nil {
		s.line(Errors, drop, "unable to fork: ", strerr.Errstr(ferr))
		s.release(ch)
		s.mu.Unlock()
		unix.Close(c.FD)
		return
	}
	s.children[pid] = ch
	s.pidLine(pid, c.p.IP)
	if word != "" {
		s.say(Verbose, c.p.Decision(s.Prog, word, pid))
	}
	var se *stepError
	if errors.As(err, &se) {
		s.line(Errors, drop, se.what, ": ", strerr.Errstr(se.err))
	}
	s.mu.Unlock()
	unix.Close(c.FD)
}
