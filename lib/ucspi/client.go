package ucspi

import (
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"tinymx/lib/decimal"
	"tinymx/lib/pathexec"
	"tinymx/lib/strerr"
)

// Client is tcpclient after option parsing; NewClient gives the C
// program's defaults.
type Client struct {
	Prog           string // message prefix, "tcpclient"
	Verbosity      int
	NoDelay        bool          // -D
	RemoteHost     bool          // -h
	RemoteInfo     bool          // -r
	IdentTimeout   time.Duration // -t
	LocalName      string        // -l
	HasLocalName   bool
	LocalIP        netip.Addr    // -i
	LocalPort      uint16        // -p
	ConnectTimeout time.Duration // -T x: for each address
	RetryTimeout   time.Duration // -T +y: again for those that timed out
	Argv           []string      // the program and its arguments
}

// NewClient is a Client with the C program's defaults. It is tcpclient's
// first step, and does what the C program does before reading its
// options. Descriptors 6 and 7 are the program's: whatever was there
// goes, but they stay occupied (by /dev/null) until the socket is moved
// there, so that the Go runtime cannot put its own descriptors (the
// poller) on them and lose them to the dup. And SIGPIPE is ignored until
// the program runs: a closed fd 2 costs the -v line (or the usage), not
// the connection. Caught (not ignored), it is back at its default for the
// program.
func NewClient(prog string) *Client {
	ReserveFDs(6, 7)
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	return &Client{
		Prog:           prog,
		Verbosity:      Errors,
		RemoteHost:     true,
		RemoteInfo:     true,
		IdentTimeout:   26 * time.Second,
		LocalIP:        netip.IPv4Unspecified(),
		ConnectTimeout: 2 * time.Second,
		RetryTimeout:   58 * time.Second,
	}
}

// Run is tcpclient once its options are read: it connects to host's
// address at port and runs Argv with the connection on descriptors 6 and
// 7 and the TCP* variables set. It returns only on failure: a
// *FatalError, or an error saying no address answered (each attempt has
// been reported).
func (c *Client) Run(host string, port uint16) error {
	if host == "" || host == "0" {
		host = "127.0.0.1"
	}
	addrs, err := hostAddrs(host)
	if err != nil {
		return err
	}
	fd, err := Dial(addrs, port, netip.AddrPortFrom(c.LocalIP, c.LocalPort), c.ConnectTimeout, c.RetryTimeout, c.warn)
	if err != nil {
		return err
	}
	if c.NoDelay {
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}
	var conn Conn
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return &FatalError{"unable to get local address", err}
	}
	conn.Local = AddrPort(sa)
	if c.HasLocalName {
		conn.LocalHost, conn.HasLocalHost = c.LocalName, true
	} else if name, err := Name(conn.Local.Addr()); err == nil {
		conn.LocalHost, conn.HasLocalHost = name, true
	}
	sa, err = unix.Getpeername(fd)
	if err != nil {
		return &FatalError{"unable to get remote address", err}
	}
	conn.Remote = AddrPort(sa)
	if c.Verbosity >= Verbose {
		strerr.Print(c.Prog, ": connected to ", ipPort(conn.Remote), "\n")
	}
	if c.RemoteHost {
		if name, err := Name(conn.Remote.Addr()); err == nil {
			conn.RemoteHost, conn.HasRemoteHost = name, true
		}
	}
	if c.RemoteInfo {
		if info, err := Ident(conn.Local, conn.Remote, c.IdentTimeout); err == nil {
			conn.RemoteInfo, conn.HasRemoteInfo = info, true
		}
	}
	var e pathexec.Edits
	conn.ClientEdits(&e)

	if err := unix.Dup3(fd, 6, 0); err != nil {
		return &FatalError{"unable to set up descriptor 6", err}
	}
	if fd != 6 {
		unix.Close(fd)
	}
	if err := unix.Dup3(6, 7, 0); err != nil {
		return &FatalError{"unable to set up descriptor 7", err}
	}
	err = pathexec.Exec(c.Argv, e.Apply(os.Environ()))
	return &FatalError{"unable to run " + c.Argv[0], err}
}

// warn reports a connection attempt that failed for good.
func (c *Client) warn(e *ConnectError) {
	if c.Verbosity > Quiet {
		strerr.Print(c.Prog, ": ", e.Error(), ": ", strerr.Errstr(e.Err), "\n")
	}
}

// ParseTimeouts reads -T's "x+y": "x" alone is x+0, "+y" is 0+y.
func ParseTimeouts(s string) (uint64, uint64) {
	x, n := decimal.UlongLen(s)
	if n < len(s) && s[n] == '+' {
		n++
	}
	y, _ := decimal.UlongLen(s[n:])
	return x, y
}

// ReserveFDs puts /dev/null on each of fds (closing what was there), so
// that nothing else opened before they are overwritten lands on them.
// A descriptor the Go runtime already uses (its poller) is left alone.
func ReserveFDs(fds ...int) {
	null, err := unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return
	}
	for _, fd := range fds {
		if fd == null {
			null = -1
			continue
		}
		if link, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd)); err == nil && strings.Contains(link, "eventpoll") {
			continue
		}
		unix.Dup3(null, fd, unix.O_CLOEXEC)
	}
	if null >= 0 {
		unix.Close(null)
	}
}
