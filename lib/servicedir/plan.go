package servicedir

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"tinymx/lib/qmailctl"
)

// DataLimit is the RLIMIT_DATA the service runs under (env/DATALIMIT).
// qmail-conf's 250000 bytes kills any Go program at start-up: Linux counts
// every private writable mapping, and the Go runtime maps its heap arenas
// and thread stacks that way. Measured on 2026-11-23 (softlimit -d N
// tcpserver ... qmail-smtpd, one 10 MB message): at 32 MB the runtime
// cannot map its heap, at 64 MB tcpserver cannot start its threads, at
// 96 MB and above the message is taken. 256 MiB keeps a wide margin over
// that and still stops a runaway process long before it hurts the host;
// TestServiceStartsUnderDataLimitAndTakesTenMegabytes checks it.
const DataLimit = "268435456"

// UnknownAccountError is an account getpwnam does not know.
type UnknownAccountError struct{ Name string }

func (e *UnknownAccountError) Error() string { return "unknown account " + e.Name }

// ReadError is a control file that could not be read.
type ReadError struct {
	Path string
	Err  error
}

func (e *ReadError) Error() string { return "unable to read " + e.Path + ": " + e.Err.Error() }
func (e *ReadError) Unwrap() error { return e.Err }

// Plan works out what qmail-smtpd-conf acct logacct dir [ip] creates: it
// looks both accounts up, reads control/me and the Reisersmtp controls from
// the qmail home ($QMAILHOME or /var/qmail), and decides between qmail's
// queue and the built-in Maildir store.
func Plan(acct, logacct, dir, ip, binDir string) (*Config, Accounts, error) {
	var ids Accounts
	a, err := lookup(acct)
	if err != nil {
		return nil, ids, err
	}
	l, err := lookup(logacct)
	if err != nil {
		return nil, ids, err
	}
	ids = Accounts{Acct: a, LogAcct: l}
	home, homeSet := qmailctl.Home(os.LookupEnv)
	me, err := firstLine(filepath.Join(home, "control/me"))
	if err != nil {
		return nil, ids, err
	}
	if ip == "" {
		ip = "0"
	}
	c := &Config{
		Acct: acct, LogAcct: logacct, Dir: filepath.Clean(dir), IP: ip, BinDir: binDir,
		LocalName: me, Port: "25", DataLimit: DataLimit,
	}
	if homeSet {
		c.QmailHome = home
	}
	if port, err := firstLine(filepath.Join(home, "control/smtpdport")); err == nil && isNumber(port) {
		c.Port = port
	}
	if max, err := firstLine(filepath.Join(home, "control/maxclients")); err == nil && isNumber(max) {
		c.Concurrency = max
	}
	if _, err := os.Stat(filepath.Join(home, "bin/qmail-queue")); err != nil {
		c.MaildirQueue = c.Dir + "/maildir"
	}
	if me, err := user.Current(); err == nil && me.Username == acct && acct == logacct {
		c.Demo = true
	}
	return c, ids, nil
}

func lookup(name string) (Owner, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return Owner{}, &UnknownAccountError{name}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return Owner{uid, gid}, nil
}

// firstLine is a qmail control file's first line without trailing
// spaces, tabs and CR. qmailctl reads it as qmail-smtpd will, non-blocking:
// a FIFO there reads as an empty file instead of hanging us.
func firstLine(path string) (string, error) {
	s, ok, err := qmailctl.ReadLine(path, qmailctl.Stock)
	if err == nil && !ok {
		err = &os.PathError{Op: "open", Path: path, Err: syscall.ENOENT}
	}
	if err != nil {
		return "", &ReadError{path, err}
	}
	return strings.TrimRight(s, "\r\t "), nil
}

func isNumber(s string) bool {
	if s == "" || len(s) > 9 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
