package ucspi

import (
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"tinymx/lib/decimal"
	"tinymx/lib/footprint"
	"tinymx/lib/pathexec"
)

// Server is tcpserver after option parsing; NewServer gives the C
// program's defaults.
type Server struct {
	Prog          string // message prefix, "tcpserver"
	Limit         uint64 // -c
	Rules         string // -x, "" for none
	AllowNoRules  bool   // -X
	Banner        string // -B
	KeepIPOptions bool   // -o
	NoDelay       bool   // -D
	RemoteHost    bool   // -h
	Paranoid      bool   // -p
	LocalName     string // -l
	HasLocalName  bool
	RemoteInfo    bool          // -r
	IdentTimeout  time.Duration // -t
	Verbosity     int
	Backlog       uint64   // -b
	UID, GID      uint64   // -u, -g (-U): 0 keeps ours
	PrintPort     bool     // -1
	Argv          []string // the program and its arguments

	// Session, when set, serves each admitted connection in this process
	// instead of running Argv (qmail-smtpd-server): Serve calls it in the
	// connection's own goroutine, after Prepare and the per-IP limit, with
	// the connection's session number n (1, 2, ..., never reused; it
	// stands in the log lines where tcpserver has a pid). Session owns
	// a.FD and closes it; it returns the wait status the program would
	// have had, for the end line. Serve then neither reaps children nor
	// handles signals: the caller does (see Stop).
	Session func(a *Accepted, p *Prepared, n uint64) (status int)

	// Run sets these from its own environment.
	Env       []string // the environment the program starts from
	MaxConnIP uint64   // default per-IP limit (MAXCONNIP), 0 for none
	DieMsg    string   // default DIEMSG
	HasDieMsg bool
	Self      string // our own executable, for the helper process

	// finishing is set in the process that takes over the connections
	// in progress when a server gets SIGTERM (see handOver): it logs
	// no status and no end lines, as the C program's children do not.
	finishing bool

	local  netip.AddrPort
	stderr uintptr
	v6     bool

	mu       sync.Mutex
	room     *sync.Cond
	count    uint64
	children map[int]child
	perIP    map[string]uint64
	// inflight are the connections accepted whose program (or helper)
	// has not been started yet
	inflight map[*conn]bool
	signals  bool // handleSignals done
	// sessions numbers the connections of Session mode, as accepted
	sessions uint64
	listener *os.File // Serve's listening socket, for Stop
	stopped  bool
	// idleSince counts the times the server went idle, so that a
	// delayed trim knows whether a connection came in meanwhile
	idleSince uint64
}

// NewServer is a Server with the C program's defaults.
func NewServer(prog string) *Server {
	return &Server{
		Prog:         prog,
		Limit:        40,
		RemoteHost:   true,
		RemoteInfo:   true,
		IdentTimeout: 26 * time.Second,
		Verbosity:    Errors,
		Backlog:      20,
	}
}

// Run is tcpserver once its options are read: it listens on host's
// address at port and serves connections until SIGTERM, which exits 0.
// In the process a terminated server hands its connections to, it serves
// those and returns nil. Any other return is a *FatalError.
func (s *Server) Run(host string, port uint16) error {
	footprint.Server()
	if s.Self == "" {
		s.Self = "/proc/self/exe"
	}
	if marks, ok := os.LookupEnv(finishEnv); ok {
		s.environment()
		s.finish(marks)
		return nil
	}

	s.handleSignals()
	fd, local, err := s.Bind(host, port)
	if err != nil {
		return err
	}
	syscall.Close(0)
	syscall.Close(1)

	s.environment()
	footprint.DropText()
	s.Serve(fd, local)
	return nil
}

// Bind is tcpserver's start-up between its signals and its first accept:
// listen on host's address ("" or "0": every IPv4 address) at port, set
// -g and -u, and print the port for -1. It returns the listening socket
// and its address, for Serve.
func (s *Server) Bind(host string, port uint16) (int, netip.AddrPort, error) {
	if host == "" || host == "0" {
		host = "0.0.0.0"
	}
	addrs, err := hostAddrs(host)
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	fd, local, err := Listen(addrs[0], port, int(s.Backlog))
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	if err := s.setIDs(); err != nil {
		unix.Close(fd)
		return -1, netip.AddrPort{}, err
	}
	if s.PrintPort {
		os.Stdout.WriteString(FormatPort(local.Port()) + "\n")
	}
	return fd, local, nil
}

// Environment takes the defaults of the per-IP limit from our own
// environment and sets Env, what the program (or Session) starts from:
// ours, less MAXCONNIP. Run calls it; a Session server calls it before
// Serve.
func (s *Server) Environment() { s.environment() }

// setIDs is -g and -u, once the socket is bound.
func (s *Server) setIDs() error {
	if s.GID != 0 {
		if err := syscall.Setgroups([]int{int(s.GID)}); err != nil {
			return &FatalError{"unable to set gid", err}
		}
		if err := syscall.Setgid(int(s.GID)); err != nil {
			return &FatalError{"unable to set gid", err}
		}
	}
	if s.UID != 0 {
		if err := syscall.Setuid(int(s.UID)); err != nil {
			return &FatalError{"unable to set uid", err}
		}
	}
	return nil
}

// environment sets the program's environment: ours, less MAXCONNIP and
// the hand-over marker. MAXCONNIP and DIEMSG in our own environment are
// the defaults for the per-IP limit; MAXCONNIP is ours alone and never
// reaches the program.
func (s *Server) environment() {
	env := os.Environ()
	var e pathexec.Edits
	if _, ok := pathexec.Getenv(env, finishEnv); ok {
		e.Unset(finishEnv)
	}
	if v, ok := pathexec.Getenv(env, "MAXCONNIP"); ok {
		s.MaxConnIP = decimal.Ulong(v)
		e.Unset("MAXCONNIP")
	}
	env = e.Apply(env)
	s.DieMsg, s.HasDieMsg = pathexec.Getenv(env, "DIEMSG")
	s.Env = env
}

// stderrFD is the fd 2 the program inherits: ours, or none when it is
// closed.
func stderrFD() uintptr {
	if _, err := unix.FcntlInt(2, unix.F_GETFD, 0); err != nil {
		return ^uintptr(0)
	}
	return 2
}

func (s *Server) init(local netip.AddrPort) {
	s.local = local
	s.v6 = local.Addr().Is6()
	s.room = sync.NewCond(&s.mu)
	s.children = make(map[int]child)
	s.perIP = make(map[string]uint64)
	s.inflight = make(map[*conn]bool)
}
