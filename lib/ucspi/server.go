package ucspi

import (
	"errors"
	"net/netip"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"tinymx/lib/cdb"
	"tinymx/lib/dns"
	"tinymx/lib/envdir"
	"tinymx/lib/strerr"
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

	fd     int
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

type child struct {
	ip      string
	counted bool // holds a place in perIP
}

// Status prints "tcpserver: status: N/LIMIT" when verbose.
func (s *Server) status() {
	if s.Verbosity < Verbose || s.Finishing {
		return
	}
	b := make([]byte, 0, 64)
	b = append(b, s.Prog...)
	b = append(b, ": status: "...)
	b = strconv.AppendUint(b, s.count, 10)
	b = append(b, '/')
	b = strconv.AppendUint(b, s.Limit, 10)
	b = append(b, '\n')
	os.Stderr.Write(b)
}

func (s *Server) say(level int, b []byte) {
	if s.Verbosity >= level {
		os.Stderr.Write(b)
	}
}

func (s *Server) line(level int, parts ...string) {
	if s.Verbosity < level {
		return
	}
	b := make([]byte, 0, 128)
	b = append(b, s.Prog...)
	b = append(b, ": "...)
	for _, p := range parts {
		b = append(b, p...)
	}
	b = append(b, '\n')
	os.Stderr.Write(b)
}

// Serve takes over the listening socket fd (bound to local) and accepts
// connections until SIGTERM, which exits 0 and leaves the children alone.
func (s *Server) Serve(fd int, local netip.AddrPort) {
	s.fd, s.local = fd, local
	// the program inherits our fd 2, or none when it is closed
	s.stderr = 2
	if _, err := unix.FcntlInt(2, unix.F_GETFD, 0); err != nil {
		s.stderr = ^uintptr(0)
	}
	s.init(local)

	s.HandleSignals()
	chld := make(chan os.Signal, 1)
	signal.Notify(chld, syscall.SIGCHLD)
	go s.reap(chld)

	// Accepting through Go's poller, not in a blocking accept(2), keeps
	// the server going on one thread: the scheduler never waits for a
	// blocked accept to hand its processor back.
	unix.SetNonblock(fd, true)
	lf := os.NewFile(uintptr(fd), "listener")
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
		for s.count >= s.Limit {
			s.room.Wait()
		}
		s.mu.Unlock()
		nfd, sa, err := accept()
		if err != nil {
			continue
		}
		c := s.newConn(nfd, AddrPort(sa))
		s.mu.Lock()
		s.count++
		s.status()
		s.inflight[c] = true
		s.mu.Unlock()
		go s.handle(c)
	}
}

// HandleSignals sets up what SIGTERM and the signals tcpserver leaves at
// their default do; the program calls it where the C program sets up its
// signals, before listening, so that none is lost once -1 says the port.
func (s *Server) HandleSignals() {
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
				if s.Verbosity >= Verbose {
					b := make([]byte, 0, 64)
					b = append(b, s.Prog...)
					b = append(b, ": end "...)
					b = strconv.AppendInt(b, int64(pid), 10)
					b = append(b, " status "...)
					b = strconv.AppendUint(b, uint64(uint32(ws)), 10)
					b = append(b, '\n')
					os.Stderr.Write(b)
				}
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
		debug.FreeOSMemory()
		TrimResident()
	}
}

// conn is one accepted connection on its way to the program.
type conn struct {
	Conn
	fd     int
	banner atomic.Bool // -B written (handOver must not write it again)
	ipstr  string      // client address for the pid line and rules (v4-mapped: IPv4)
	env    envdir.Edits
	deny   bool
	max    uint64
	die    string
	hdie   bool
}

const drop = "warning: dropping connection, "

func (s *Server) init(local netip.AddrPort) {
	s.local = local
	s.v6 = local.Addr().Is6()
	s.room = sync.NewCond(&s.mu)
	s.children = make(map[int]child)
	s.perIP = make(map[string]uint64)
	s.inflight = make(map[*conn]bool)
}

func (s *Server) newConn(fd int, remote netip.AddrPort) *conn {
	c := &conn{fd: fd, max: s.MaxConnIP, die: s.DieMsg, hdie: s.HasDieMsg}
	c.V6 = s.v6
	c.Remote = remote
	c.ipstr = IPString(remote.Addr())
	return c
}

// FinishEnv marks the process that takes over a terminated server's
// connections in progress: one byte per connection, on fds 3, 4, ...:
// 'b' when its banner was written already, '-' when not.
const FinishEnv = "TINYMX_TCPSERVER_FINISH"

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
		files = append(files, uintptr(c.fd))
		if c.banner.Load() {
			marks = append(marks, 'b')
		} else {
			marks = append(marks, '-')
		}
	}
	env := append(os.Environ(), FinishEnv+"="+string(marks))
	syscall.ForkExec(s.Self, os.Args, &syscall.ProcAttr{Env: env, Files: files})
}

// Finish is the process handOver starts: it serves the sockets on fds
// 3, 4, ... (marks as in FinishEnv) and returns once every program (or
// helper) is started.
func (s *Server) Finish(marks string) {
	s.Finishing = true
	s.stderr = 2
	if _, err := unix.FcntlInt(2, unix.F_GETFD, 0); err != nil {
		s.stderr = ^uintptr(0)
	}
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
		c := s.newConn(fd, AddrPort(ra))
		c.banner.Store(marks[i] == 'b')
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.handle(c)
		}()
	}
	wg.Wait()
}

// handle does what the C program's forked child does before exec, in
// this process, then starts the program (or the helper) exactly once.
func (s *Server) handle(c *conn) {
	if err := s.prepare(c); err != nil {
		s.helper(c, 111, "", err)
		return
	}
	if c.deny {
		s.helper(c, 100, "deny", nil)
		return
	}
	if !s.admit(c) {
		return
	}
	s.run(c)
}

// stepError is a failure of the connection's set-up, reported as
// "dropping connection, unable to ...: ERR" with exit 111.
type stepError struct {
	what string
	err  error
}

func (e *stepError) Error() string { return e.what }
func (e *stepError) Unwrap() error { return e.err }

func (s *Server) prepare(c *conn) error {
	fd := c.fd
	if !s.KeepIPOptions && !c.V6 {
		unix.SetsockoptString(fd, unix.IPPROTO_IP, unix.IP_OPTIONS, "")
	}
	if s.NoDelay {
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}
	if s.Banner != "" && !c.banner.Load() {
		if err := writeAll(fd, []byte(s.Banner)); err != nil {
			return &stepError{"unable to print banner", err}
		}
		c.banner.Store(true)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return &stepError{"unable to get local address", err}
	}
	local := AddrPort(sa)
	c.Local = netip.AddrPortFrom(local.Addr(), s.local.Port())

	if s.HasLocalName {
		c.LocalHost, c.HasLocalHost = s.LocalName, true
	} else if name, err := Name(c.Local.Addr()); err == nil && name != "" {
		c.LocalHost, c.HasLocalHost = name, true
	}
	if s.RemoteHost {
		if name, err := Name(c.Remote.Addr()); err == nil && name != "" {
			if !s.Paranoid || confirms(name, c.Remote.Addr()) {
				c.RemoteHost, c.HasRemoteHost = name, true
			}
		}
	}
	if s.RemoteInfo {
		info, err := Ident(local, c.Remote, s.IdentTimeout)
		if err == nil {
			c.RemoteInfo, c.HasRemoteInfo = CString(info), true
		}
	}
	c.Conn.Edits(&c.env)
	if s.Rules != "" {
		if err := s.rules(c); err != nil {
			return &stepError{"unable to read " + s.Rules, err}
		}
	}
	return nil
}

// rules opens the cdb afresh for every connection, so that a new
// tcprules run takes effect at once.
func (s *Server) rules(c *conn) error {
	db, err := cdb.Open(s.Rules)
	if err != nil {
		if s.AllowNoRules && errors.Is(err, unix.ENOENT) {
			return nil
		}
		return err
	}
	defer db.Close()
	var host, info *string
	if c.HasRemoteHost {
		h := CString(c.RemoteHost)
		host = &h
	}
	if c.HasRemoteInfo {
		info = &c.RemoteInfo
	}
	deny, vars, err := lookupRules(db, c.ipstr, host, info)
	if err != nil {
		return err
	}
	c.deny = deny
	for _, v := range vars {
		switch v.name {
		case "MAXCONNIP":
			// consumed: a tinymx extension the program never sees
			c.max = ulong(v.value)
			continue
		case "DIEMSG":
			c.die, c.hdie = v.value, true
		}
		c.env.Set(v.name, v.value)
	}
	return nil
}

type ruleVar struct{ name, value string }

// ulong is djb's scan_ulong.
func ulong(s string) uint64 {
	var n uint64
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + uint64(s[i]-'0')
	}
	return n
}

// Name is the PTR lookup of an address (IPv4 or IPv6): "" when there is
// no name, an error when DNS fails.
func Name(a netip.Addr) (string, error) {
	if a.Is4() || a.Is4In6() {
		return dns.Name4(a.Unmap().As4())
	}
	return dns.Name6(a.As16())
}

// confirms is -p: one of name's addresses must be the client's.
func confirms(name string, a netip.Addr) bool {
	if a.Is4() || a.Is4In6() {
		ips, err := dns.IP4Raw(name)
		if err != nil {
			return false
		}
		want := a.Unmap().As4()
		for _, ip := range ips {
			if ip == want {
				return true
			}
		}
		return false
	}
	ips, err := dns.IP6Raw(name)
	if err != nil {
		return false
	}
	want := a.As16()
	for _, ip := range ips {
		if ip == want {
			return true
		}
	}
	return false
}

func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// admit applies the per-IP limit (MAXCONNIP). Over it the client reads
// DIEMSG (if any), the connection is closed and no program runs.
func (s *Server) admit(c *conn) bool {
	if c.max == 0 {
		return true
	}
	s.mu.Lock()
	n := s.perIP[c.ipstr]
	if n < c.max {
		s.perIP[c.ipstr] = n + 1
		s.mu.Unlock()
		return true
	}
	delete(s.inflight, c)
	s.mu.Unlock()
	if c.hdie {
		writeAll(c.fd, []byte(c.die+"\r\n"))
	}
	unix.Close(c.fd)
	s.line(Errors, drop, "per-IP limit ", strconv.FormatUint(c.max, 10), " reached for ", c.ipstr)
	s.mu.Lock()
	s.release(child{})
	s.mu.Unlock()
	return false
}

// run starts the program once, with the socket as fd 0 and fd 1, and logs
// its real pid in the C program's order.
func (s *Server) run(c *conn) {
	env := c.env.Apply(s.Env)
	path, err := envdir.Lookup(s.Argv[0], s.Env)
	if err == nil {
		attr := &syscall.ProcAttr{Env: env, Files: []uintptr{uintptr(c.fd), uintptr(c.fd), s.stderr}}
		s.mu.Lock()
		delete(s.inflight, c)
		var pid int
		pid, err = syscall.ForkExec(path, s.Argv, attr)
		if err == nil {
			s.children[pid] = child{ip: c.ipstr, counted: c.max > 0}
			s.pidLine(c, pid)
			s.say(Verbose, c.Decision(s.Prog, "ok", pid))
			s.mu.Unlock()
			unix.Close(c.fd)
			return
		}
		s.mu.Unlock()
	}
	s.helper(c, 111, "ok", &stepError{"unable to run " + s.Argv[0], err})
}

func (s *Server) pidLine(c *conn, pid int) {
	s.line(Verbose, "pid ", strconv.Itoa(pid), " from ", c.ipstr)
}

// HelperEnv marks the helper process: tcpserver started with it set only
// exits with its value. It stands in for the C program's forked child
// where no program runs (a denied or failed connection), so that the pid
// and end lines name a real process, as they do in the C program.
const HelperEnv = "TINYMX_TCPSERVER_EXIT"

// HelperExit is the code the helper exits with, when this process is one.
func HelperExit() (int, bool) {
	v, ok := syscall.Getenv(HelperEnv)
	if !ok {
		return 0, false
	}
	return int(ulong(v)), true
}

// helper starts the stand-in process that exits with code, and logs what
// the C child would have: the pid line, the decision line (word "deny", or
// "ok" before a failed exec, "" for none) and the warning of err.
func (s *Server) helper(c *conn, code int, word string, err error) {
	ch := child{ip: c.ipstr, counted: c.max > 0 && word == "ok"}
	s.mu.Lock()
	delete(s.inflight, c)
	pid, ferr := forkExit(code)
	if ferr != nil {
		// the re-executed helper: slower, but an ordinary fork+exec
		attr := &syscall.ProcAttr{Env: []string{HelperEnv + "=" + strconv.Itoa(code)}}
		pid, ferr = syscall.ForkExec(s.Self, []string{s.Prog}, attr)
	}
	if ferr != nil {
		s.line(Errors, drop, "unable to fork: ", strerr.Errstr(ferr))
		s.release(ch)
		s.mu.Unlock()
		unix.Close(c.fd)
		return
	}
	s.children[pid] = ch
	s.pidLine(c, pid)
	if word != "" {
		s.say(Verbose, c.Decision(s.Prog, word, pid))
	}
	var se *stepError
	if errors.As(err, &se) {
		s.line(Errors, drop, se.what, ": ", strerr.Errstr(se.err))
	}
	s.mu.Unlock()
	unix.Close(c.fd)
}
