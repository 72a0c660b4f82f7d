package ucspi

import (
	"net/netip"
	"sync"
	"time"
)

// Verbosity levels of tcpserver's -q, -Q and -v.
const (
	Quiet   = 0
	Errors  = 1
	Verbose = 2
)

// Server is tcpserver after option parsing. The zero value is not useful:
// the program sets every field the C program has a default for.
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
	Argv          []string // the program and its arguments
	Env           []string // the environment the program starts from
	MaxConnIP     uint64   // default per-IP limit (MAXCONNIP), 0 for none
	DieMsg        string   // default DIEMSG
	HasDieMsg     bool
	Self          string // our own executable, for the helper process

	// Finishing is set in the process that takes over the connections
	// in progress when a server gets SIGTERM (see handOver): it logs
	// no status and no end lines, as the C program's children do not.
	Finishing bool

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
	signals  bool // HandleSignals done
	// idleSince counts the times the server went idle, so that a
	// delayed trim knows whether a connection came in meanwhile
	idleSince uint64
}

func (s *Server) init(local netip.AddrPort) {
	s.local = local
	s.v6 = local.Addr().Is6()
	s.room = sync.NewCond(&s.mu)
	s.children = make(map[int]child)
	s.perIP = make(map[string]uint64)
	s.inflight = make(map[*conn]bool)
}
