package ucspi

import (
	"net/netip"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"tinymx/lib/footprint"
)

// Serve takes over the listening socket fd (bound to local) and accepts
// connections until SIGTERM, which exits 0 and leaves the children alone.
func (s *Server) Serve(fd int, local netip.AddrPort) {
	s.stderr = stderrFD()
	s.init(local)

	if s.Session == nil {
		s.handleSignals()
		chld := make(chan os.Signal, 1)
		signal.Notify(chld, syscall.SIGCHLD)
		go s.reap(chld)
	}

	// Accepting through Go's poller, not in a blocking accept(2), keeps
	// the server going on one thread: the scheduler never waits for a
	// blocked accept to hand its processor back.
	unix.SetNonblock(fd, true)
	lf := os.NewFile(uintptr(fd), "listener")
	s.mu.Lock()
	s.listener = lf
	if s.stopped {
		lf.Close()
	}
	s.mu.Unlock()
	rc, err := lf.SyscallConn()
	if err != nil {
		rc = nil
	}
	accept := func() (int, unix.Sockaddr, error) {
		if rc == nil {
			unix.SetNonblock(fd, false)
			return unix.Accept4(fd, unix.SOCK_CLOEXEC)
		}
		var nfd int
		var sa unix.Sockaddr
		var aerr error
		err := rc.Read(func(fd uintptr) bool {
			nfd, sa, aerr = unix.Accept4(int(fd), unix.SOCK_CLOEXEC)
			return aerr != unix.EAGAIN
		})
		if err != nil {
			return -1, nil, err
		}
		return nfd, sa, aerr
	}

	s.mu.Lock()
	s.status()
	time.AfterFunc(idleTrim, func() { s.trimIfIdle(0) })
	s.mu.Unlock()
	for {
		s.mu.Lock()
		for s.count >= s.Limit && !s.stopped {
			s.room.Wait()
		}
		stopped := s.stopped
		s.mu.Unlock()
		if stopped {
			return
		}
		nfd, sa, err := accept()
		if err != nil {
			continue
		}
		c := newConn(nfd, AddrPort(sa))
		s.mu.Lock()
		if s.Session != nil {
			// numbered in the order of accept, as the C program's
			// children get their pids
			s.sessions++
			c.n = s.sessions
		}
		s.count++
		s.status()
		s.inflight[c] = true
		s.mu.Unlock()
		go s.handle(c)
	}
}

// Stop closes the listening socket of Serve at once and makes Serve
// return; connections already accepted go on. It is for Session mode,
// whose caller handles SIGTERM (tcpserver's own SIGTERM exits).
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.stopped = true
	if s.listener != nil {
		s.listener.Close()
	}
	if s.room != nil {
		s.room.Broadcast()
	}
}

// Active is the number of connections accepted and not yet ended.
func (s *Server) Active() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// reap collects exited children on SIGCHLD and logs their raw wait status.
func (s *Server) reap(chld chan os.Signal) {
	for range chld {
		for {
			var ws unix.WaitStatus
			pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
			if err == unix.EINTR {
				continue
			}
			if err != nil || pid <= 0 {
				break
			}
			// Taking the lock after wait4 matters: whoever started pid
			// holds it until pid is registered and its lines written.
			s.mu.Lock()
			if c, ok := s.children[pid]; ok {
				delete(s.children, pid)
				s.endLine(pid, ws)
				s.release(c)
			}
			s.mu.Unlock()
		}
	}
}

// release gives back a connection's place; s.mu is held.
func (s *Server) release(c child) {
	if c.counted {
		if s.perIP[c.ip] <= 1 {
			delete(s.perIP, c.ip)
		} else {
			s.perIP[c.ip]--
		}
	}
	s.count--
	s.status()
	s.room.Signal()
	if s.count == 0 {
		s.idleSince++
		gen := s.idleSince
		time.AfterFunc(idleTrim, func() { s.trimIfIdle(gen) })
	}
}

// idleTrim is how long the server must have had no connection before it
// gives memory back.
const idleTrim = 2 * time.Second

// trimIfIdle returns freed heap and the program text pages the last
// connections touched, when nothing happened since generation gen.
func (s *Server) trimIfIdle(gen uint64) {
	s.mu.Lock()
	idle := s.count == 0 && s.idleSince == gen
	s.mu.Unlock()
	if idle {
		footprint.Release()
	}
}

type child struct {
	ip      string
	counted bool // holds a place in perIP
}

// Accepted is a connection as the accept loop hands it on.
type Accepted struct {
	FD     int
	Remote netip.AddrPort
	// Banner is set once -B's banner is written, so that the process a
	// terminated server hands the connection to does not write it again.
	Banner atomic.Bool
}

// conn is one accepted connection on its way to the program.
type conn struct {
	Accepted
	p Prepared
	n uint64 // session number, in Session mode
}

func newConn(fd int, remote netip.AddrPort) *conn {
	c := &conn{}
	c.FD, c.Remote = fd, remote
	return c
}
