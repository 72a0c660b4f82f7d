package smtpd

import (
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"tinymx/lib/qmailctl"
	"tinymx/lib/qmailqueue"
)

// DefaultHome is stock's compile-time auto_qmail.
const DefaultHome = "/var/qmail"

// Getenv looks a variable up; os.LookupEnv in the program.
type Getenv func(name string) (string, bool)

// maxDatabytes keeps databytes+1 from wrapping as stock's 32-bit counter
// does, without stock's silent modulo 2^32 for absurd values (§2.10.5).
const maxDatabytes = 1<<32 - 2

// LoadConfig reads the control files under dir ("" is the current
// directory, the qmail home after the chdir) and the environment, in
// stock's start-up order. Any error but a missing file is stock's
// "421 unable to read controls".
func LoadConfig(dir string, getenv Getenv) (*Config, error) {
	syn := qmailctl.Stock
	if v, _ := getenv("QMAIL_CONTROL_SYNTAX"); v == "extended" {
		syn = qmailctl.Extended
	}
	path := func(name string) string {
		if dir == "" {
			return "control/" + name
		}
		return dir + "/control/" + name
	}
	cfg := &Config{Size: true, MaxLine: DefaultMaxLine, MaxHops: DefaultMaxHops}

	me, hasMe, err := qmailctl.ReadLine(path("me"), syn)
	if err != nil {
		return nil, err
	}
	greeting, ok, err := qmailctl.ReadLine(path("smtpgreeting"), syn)
	if err != nil {
		return nil, err
	}
	switch {
	case ok:
		cfg.Greeting = greeting
		if v, _ := getenv("QMAIL_SMTPD_MULTIGREETING"); v == "1" {
			lines, _, err := qmailctl.ReadLines(path("smtpgreeting"), syn)
			if err != nil {
				return nil, err
			}
			cfg.GreetingLines = lines
		}
	case hasMe:
		cfg.Greeting = me
	default:
		return nil, os.ErrNotExist
	}

	lip, ok, err := qmailctl.ReadLine(path("localiphost"), syn)
	if err != nil {
		return nil, err
	}
	switch {
	case ok:
		cfg.LocalIPHost, cfg.HasLocalIP = lip, true
	case hasMe:
		cfg.LocalIPHost, cfg.HasLocalIP = me, true
	}

	cfg.Timeout = DefaultTimeout
	if t, ok, err := qmailctl.ReadUint(path("timeoutsmtpd"), syn); err != nil {
		return nil, err
	} else if ok {
		// stock's int: the low 32 bits, signed; <= 0 becomes 1.
		secs := int32(uint32(t))
		if secs <= 0 {
			secs = 1
		}
		cfg.Timeout = time.Duration(secs) * time.Second
	}

	if cfg.Rcpthosts, err = qmailctl.LoadRcpthosts(dir); err != nil {
		return nil, err
	}
	if cfg.Badmailfrom, err = qmailctl.LoadBadmailfrom(dir); err != nil {
		return nil, err
	}

	if n, ok, err := qmailctl.ReadUint(path("databytes"), syn); err != nil {
		return nil, err
	} else if ok {
		cfg.Databytes = n
	}
	if v, ok := getenv("DATABYTES"); ok {
		cfg.Databytes, _ = qmailctl.ParseUint([]byte(v))
	}
	if cfg.Databytes > maxDatabytes {
		cfg.Databytes = maxDatabytes
	}

	if n, ok, err := qmailctl.ReadUint(path("maxhops"), syn); err != nil {
		return nil, err
	} else if ok && n > 0 {
		if n > 1<<30 {
			n = 1 << 30
		}
		cfg.MaxHops = int(n)
	}

	if v, _ := getenv("QMAIL_SMTPD_NOSIZE"); v == "1" {
		cfg.Size = false
	}
	if v, _ := getenv("QMAIL_SMTPD_STRICT_CRLF"); v == "1" {
		cfg.StrictCR = true
	}
	if v, ok := getenv("QMAIL_SMTPD_MAXLINE"); ok {
		if n, ok := qmailctl.ParseUint([]byte(v)); ok && n > 0 {
			if n > 1<<30 {
				n = 1 << 30
			}
			cfg.MaxLine = int(n)
		}
	}

	ri := &cfg.Received
	if ri.RemoteIP, ok = getenv("TCPREMOTEIP"); !ok {
		ri.RemoteIP = "unknown"
	}
	if ri.Local, ok = getenv("TCPLOCALHOST"); !ok {
		if ri.Local, ok = getenv("TCPLOCALIP"); !ok {
			ri.Local = "unknown"
		}
	}
	if ri.RemoteHost, ok = getenv("TCPREMOTEHOST"); !ok {
		ri.RemoteHost = "unknown"
	}
	ri.RemoteInfo, ri.HasInfo = getenv("TCPREMOTEINFO")
	cfg.RelayClient, cfg.HasRelay = getenv("RELAYCLIENT")
	return cfg, nil
}

// Home is the qmail home: $QMAILHOME when set and not empty, else
// /var/qmail.
func Home(getenv Getenv) string {
	if h, ok := getenv("QMAILHOME"); ok && h != "" {
		return h
	}
	return DefaultHome
}

// Run is the whole of qmail-smtpd after its fds are set up: chdir to the
// qmail home, read the controls, pick the queue, serve one session. It
// returns the exit status.
func Run(r io.Reader, w io.Writer, getenv Getenv, queue func(home string) qmailqueue.Queue) int {
	home := Home(getenv)
	if err := os.Chdir(home); err != nil {
		Refuse(w, replyControl)
		return 1
	}
	cfg, err := LoadConfig("", getenv)
	if err != nil {
		Refuse(w, replyControl)
		return 1
	}
	cfg.Queue = queue(home)
	code := Serve(cfg, r, w)
	cfg.Rcpthosts.Close()
	cfg.Badmailfrom.Close()
	return code
}

// Stdio returns fds 0 and 1 in non-blocking mode, so that the runtime
// poller gives reads and writes their deadlines (a plain blocking pipe
// cannot time out). fd 0 and 1 are often the same socket.
//
// Replies go out through a close-on-exec duplicate of fd 1: the Go
// runtime turns EPIPE on fd 1 or 2 into death by SIGPIPE, but on any other
// fd it leaves SIGPIPE alone and the write just fails, which ends the
// session with status 1 as stock's ignored SIGPIPE does. This costs no
// signal handling thread at start-up (signal.Notify starts two) and leaves
// SIGPIPE at its default for the queue programs we run.
func Stdio() (io.Reader, io.Writer) {
	unix.SetNonblock(0, true)
	unix.SetNonblock(1, true)
	out, err := unix.FcntlInt(1, unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
		out = 1
	}
	return os.NewFile(0, "/dev/stdin"), os.NewFile(uintptr(out), "/dev/stdout")
}

// RestoreStdio puts fds 0 and 1 back in blocking mode, for whatever shares
// them after we exit (a shell running qmail-smtpd on its terminal).
func RestoreStdio() {
	unix.SetNonblock(0, false)
	unix.SetNonblock(1, false)
}
