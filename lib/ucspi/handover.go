package ucspi

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// handleSignals sets up what SIGTERM and the signals tcpserver leaves at
// their default do. Run calls it where the C program sets up its signals,
// before listening, so that none is lost once -1 says the port.
func (s *Server) handleSignals() {
	if s.signals {
		return
	}
	s.signals = true
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	go func() {
		<-term
		s.mu.Lock()
		s.handOver()
		os.Exit(0)
	}()
	dieByDefault()
	// The C program ignores SIGPIPE: a log reader that went away costs
	// the log lines, not the server. Caught (not ignored), it is back at
	// its default for the program.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
}

// dieByDefault makes the signals the Go runtime catches and then ignores
// (SIGALRM, SIGUSR1, ...) or answers with a stack dump and exit 2
// (SIGQUIT) end tcpserver as their default action ends the C program:
// svc -a must stop it. (A signal ignored when tcpserver started cannot be
// told apart here, except SIGHUP and SIGINT, which are left to the runtime.)
func dieByDefault() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGALRM, unix.SIGVTALRM,
		unix.SIGXCPU, unix.SIGXFSZ, unix.SIGIO, unix.SIGPWR, unix.SIGSTKFLT)
	go func() {
		sig := (<-c).(syscall.Signal)
		// struct sigaction, all zero: SIG_DFL, no flags, empty mask
		var act [4]uintptr
		unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
		unix.Kill(os.Getpid(), sig)
		select {}
	}()
}

// finishEnv marks the process that takes over a terminated server's
// connections in progress: one byte per connection, on fds 3, 4, ...:
// 'b' when its banner was written already, '-' when not.
const finishEnv = "TINYMX_TCPSERVER_FINISH"

// handOver is SIGTERM, with s.mu held for good so that no more programs
// start here. The C program exits at once, but the children it forked for
// connections still in their lookups go on and run the program. Ours are
// goroutines of this process, so a copy of tcpserver (same arguments and
// environment) takes their sockets over, redoes the lookups and starts
// the programs, logging their pid and ok lines, and exits.
func (s *Server) handOver() {
	if len(s.inflight) == 0 || s.Self == "" {
		return
	}
	files := []uintptr{^uintptr(0), ^uintptr(0), s.stderr}
	marks := make([]byte, 0, len(s.inflight))
	for c := range s.inflight {
		files = append(files, uintptr(c.FD))
		if c.Banner.Load() {
			marks = append(marks, 'b')
		} else {
			marks = append(marks, '-')
		}
	}
	env := append(os.Environ(), finishEnv+"="+string(marks))
	syscall.ForkExec(s.Self, os.Args, &syscall.ProcAttr{Env: env, Files: files})
}

// finish is the process handOver starts (Run takes that role up): it
// serves the sockets on fds 3, 4, ... (marks as in finishEnv) and returns
// once every program (or helper) is started.
func (s *Server) finish(marks string) {
	s.finishing = true
	s.stderr = stderrFD()
	var wg sync.WaitGroup
	for i := 0; i < len(marks); i++ {
		fd := 3 + i
		unix.CloseOnExec(fd)
		la, err1 := unix.Getsockname(fd)
		ra, err2 := unix.Getpeername(fd)
		if err1 != nil || err2 != nil {
			unix.Close(fd)
			continue
		}
		if s.inflight == nil {
			s.init(AddrPort(la))
		}
		c := newConn(fd, AddrPort(ra))
		c.Banner.Store(marks[i] == 'b')
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.handle(c)
		}()
	}
	wg.Wait()
}
