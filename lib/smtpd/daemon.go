package smtpd

import (
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"tinymx/lib/decimal"
	"tinymx/lib/pathexec"
	"tinymx/lib/qmailctl"
	"tinymx/lib/qmailqueue"
	"tinymx/lib/strerr"
	"tinymx/lib/ucspi"
)

// Daemon is qmail-smtpd-server: tcpserver's accept loop (Server, in
// Session mode) running this engine for each connection in a goroutine
// of one process, where tcpserver + qmail-smtpd fork and exec a program.
// Each session sees what qmail-smtpd would: the process's environment
// with the connection's TCP* variables and its rule's variables, as its
// own (never os.Setenv); the control files it reads are shared by all
// sessions while they do not change (controlCache); the Maildir store of
// a directory is one for all sessions.
type Daemon struct {
	Server *ucspi.Server
	Args   []string // what would follow qmail-smtpd: the checkpassword command, unused yet
	// Grace is how long sessions in progress may go on after TERM
	// (QMAIL_SMTPD_GRACE); the rest are then answered 421.
	Grace time.Duration
	// MaxSession is the bound of a session whose environment has no
	// QMAIL_SMTPD_MAXSESSION.
	MaxSession time.Duration

	controls controlCache

	mu       sync.Mutex
	maildirs map[string]*qmailqueue.Maildir
	live     map[*liveSession]bool
	stopping bool // past the grace period: new sessions get 421 at once
}

type liveSession struct {
	f        *os.File
	shutdown atomic.Bool
}

// Default settings of the variables only qmail-smtpd-server reads.
const (
	DefaultGrace      = 300 * time.Second
	DefaultMaxSession = 3600 * time.Second
	// drainTail bounds the wait for the 421s once the grace is over.
	drainTail = 10 * time.Second
)

// NewDaemon is qmail-smtpd-server's Daemon around s, with Grace from
// $QMAIL_SMTPD_GRACE (seconds) and the default MaxSession.
func NewDaemon(s *ucspi.Server) *Daemon {
	d := &Daemon{Server: s, Grace: DefaultGrace, MaxSession: DefaultMaxSession}
	if v, ok := os.LookupEnv("QMAIL_SMTPD_GRACE"); ok {
		d.Grace = time.Duration(min(decimal.Ulong(v), maxSessionSecs)) * time.Second
	}
	return d
}

// Run listens on host:port, drops to -u/-g, and serves sessions until
// TERM or QUIT: the listening socket is closed at once, sessions in
// progress get Grace to finish, the rest 421; then Run returns nil (exit
// 0). SIGHUP makes every next session read the control files again.
// Any other return is a *ucspi.FatalError.
func (d *Daemon) Run(host string, port uint16) error {
	s := d.Server
	s.Session = d.session
	// Set up before -1 says the port, as tcpserver, so that none is lost.
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM, syscall.SIGQUIT)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	// A log reader that went away costs the log lines, not the server.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)

	// Bind drops to -u (when not 0); decide before it says the port.
	if s.UID == 0 && (unix.Getuid() == 0 || unix.Geteuid() == 0) {
		if v, _ := os.LookupEnv("QMAIL_SMTPD_ROOT"); v != "1" {
			return &ucspi.FatalError{What: "refusing to run sessions as root: use -u and -g (or -U), or set QMAIL_SMTPD_ROOT=1"}
		}
	}
	fd, local, err := s.Bind(host, port)
	if err != nil {
		return err
	}
	// /dev/null, not closed, on fds 0 and 1: an accepted socket must
	// never land there (the runtime kills a process whose write to fd 1
	// meets EPIPE).
	if null, err := unix.Open("/dev/null", unix.O_RDWR, 0); err == nil {
		unix.Dup2(null, 0)
		unix.Dup2(null, 1)
		if null > 1 {
			unix.Close(null)
		}
	}
	s.Environment()

	go func() {
		for range hup {
			d.controls.reload()
		}
	}()
	served := make(chan struct{})
	go func() {
		s.Serve(fd, local)
		close(served)
	}()
	<-term
	s.Stop()
	<-served
	d.drain()
	return nil
}

// drain waits for the sessions in progress, at most Grace, then answers
// the rest 421 and waits a little for those answers to go out.
func (d *Daemon) drain() {
	s := d.Server
	until := time.Now().Add(d.Grace)
	for s.Active() > 0 && time.Now().Before(until) {
		time.Sleep(20 * time.Millisecond)
	}
	d.mu.Lock()
	d.stopping = true
	for ls := range d.live {
		ls.shutdown.Store(true)
		ls.f.SetReadDeadline(time.Unix(1, 0))
	}
	d.mu.Unlock()
	until = time.Now().Add(drainTail)
	for s.Active() > 0 && time.Now().Before(until) {
		time.Sleep(20 * time.Millisecond)
	}
}

// session is ucspi's Session: what qmail-smtpd does for one connection,
// with the wait status it would have exited with.
func (d *Daemon) session(a *ucspi.Accepted, p *ucspi.Prepared, n uint64) (status int) {
	unix.SetNonblock(a.FD, true) // so that the poller gives it deadlines
	f := os.NewFile(uintptr(a.FD), "conn")
	ls := &liveSession{f: f}
	d.mu.Lock()
	if d.live == nil {
		d.live = make(map[*liveSession]bool)
	}
	d.live[ls] = true
	if d.stopping {
		ls.shutdown.Store(true)
	}
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.live, ls)
		d.mu.Unlock()
		f.Close()
	}()
	defer func() {
		// A bug (not one of the engine's own ends, which Serve
		// recovers): this session alone ends, as its own process would
		// have died; every other goes on.
		if e := recover(); e != nil {
			strerr.Print(strerr.Prog, ": warning: session ", strconv.FormatUint(n, 10),
				" failed: ", fmt.Sprint(e), "\n", string(debug.Stack()))
			f.SetWriteDeadline(time.Now().Add(10 * time.Second))
			f.Write([]byte(replyBug))
			status = 2 << 8 // a Go program's exit on a panic
		}
	}()
	if ls.shutdown.Load() {
		Refuse(f, replyShutdown)
		return 1 << 8
	}
	env := p.Env.Apply(d.Server.Env)
	getenv := func(name string) (string, bool) { return pathexec.Getenv(env, name) }
	home, _ := qmailctl.Home(getenv)
	cfg, release, err := d.controls.config(home, controlOptions(getenv))
	if err != nil {
		Refuse(f, replyControl)
		return 1 << 8
	}
	defer release()
	cfg.applyEnv(getenv)
	if _, ok := getenv("QMAIL_SMTPD_MAXSESSION"); !ok {
		cfg.MaxSession = d.MaxSession
	}
	cfg.Shutdown = &ls.shutdown
	cfg.Queue = d.queue(home, getenv, env, n)
	return Serve(cfg, f, f) << 8
}

// queue is the session's queue as qmailqueue.FromEnv picks it, with the
// session's environment for a program, and the one Maildir of its
// directory, numbering its messages with the session number.
func (d *Daemon) queue(home string, getenv Getenv, env []string, n uint64) qmailqueue.Queue {
	switch q := qmailqueue.FromEnv(home, getenv).(type) {
	case *qmailqueue.Program:
		q.Env = env
		return q
	case *qmailqueue.Maildir:
		d.mu.Lock()
		if d.maildirs == nil {
			d.maildirs = make(map[string]*qmailqueue.Maildir)
		}
		m := d.maildirs[q.Dir]
		if m == nil {
			m = q
			d.maildirs[q.Dir] = m
		}
		d.mu.Unlock()
		return m.Session(int(n))
	default:
		return q
	}
}

// Defaults of qmail-smtpd-server's operands and -c, from the qmail home's
// control files as qmail-smtpd-conf reads them: control/smtpdport (else
// 25) and control/maxclients (else 500).
func DaemonDefaults(home string) (port uint16, limit uint64, err error) {
	port, limit = 25, 500
	if n, ok, err := qmailctl.ReadUint(controlPath(home, "smtpdport"), qmailctl.Stock); err != nil {
		return 0, 0, err
	} else if ok && n > 0 && n < 65536 {
		port = uint16(n)
	}
	if n, ok, err := qmailctl.ReadUint(controlPath(home, "maxclients"), qmailctl.Stock); err != nil {
		return 0, 0, err
	} else if ok && n > 0 {
		limit = n
	}
	return port, limit, nil
}
