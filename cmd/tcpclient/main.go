// Command tcpclient connects to a TCP server and runs a program with the
// connection on descriptors 6 and 7, as ucspi-tcp 0.88's tcpclient does.
package main

import (
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"tinymx/lib/dns"
	"tinymx/lib/envdir"
	"tinymx/lib/getopt"
	"tinymx/lib/strerr"
	"tinymx/lib/ucspi"
)

const usage = "tcpclient [ -hHrRdDqQv ] [ -i localip ] [ -p localport ] [ -T timeoutconn ] [ -l localname ] [ -t timeoutinfo ] host port program"

func main() {
	strerr.Prog = "tcpclient"
	// Descriptors 6 and 7 are the program's: whatever was there goes, as
	// in the C program, but they stay occupied (by /dev/null) until the
	// socket is moved there, so that the Go runtime cannot put its own
	// descriptors (the poller) on them and lose them to the dup.
	ucspi.ReserveFDs(6, 7)
	// The C program ignores SIGPIPE until it runs the program: a closed
	// fd 2 costs the -v line, not the connection. Caught (not ignored),
	// it is back at its default for the program.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)

	verbosity := 1
	nodelay := false
	remoteHost, remoteInfo := true, true
	identTimeout := uint64(26)
	ct1, ct2 := uint64(2), uint64(58)
	var localName *string
	localIP := netip.IPv4Unspecified()
	var localPort uint16
	opts, args, err := getopt.Parse(os.Args[1:], "dDvqQhHrRi:p:t:T:l:")
	if err != nil {
		strerr.Print(filepath.Base(os.Args[0]), ": ", err.Error(), "\n")
		strerr.Usage(usage)
	}
	for _, o := range opts {
		switch o.Letter {
		case 'd':
			nodelay = false
		case 'D':
			nodelay = true
		case 'v':
			verbosity = 2
		case 'q':
			verbosity = 0
		case 'Q':
			verbosity = 1
		case 'l':
			v := o.Arg
			localName = &v
		case 'h':
			remoteHost = true
		case 'H':
			remoteHost = false
		case 'r':
			remoteInfo = true
		case 'R':
			remoteInfo = false
		case 't':
			identTimeout = getopt.Ulong(o.Arg)
		case 'T':
			ct1, ct2 = ucspi.ParseTimeouts(o.Arg)
		case 'i':
			a, ok := ucspi.ScanIP4(o.Arg)
			if !ok {
				usageExit(verbosity)
			}
			localIP = a
		case 'p':
			localPort = uint16(getopt.Ulong(o.Arg))
		}
	}
	fatal := func(err error, msg ...string) {
		if verbosity > 0 {
			strerr.Fatal(111, err, msg...)
		}
		os.Exit(111)
	}
	if len(args) < 1 {
		usageExit(verbosity)
	}
	host := args[0]
	if host == "" || host == "0" {
		host = "127.0.0.1"
	}
	if len(args) < 2 {
		usageExit(verbosity)
	}
	port, err := ucspi.ParsePort(args[1])
	if err != nil {
		fatal(nil, "unable to figure out port number for ", args[1])
	}
	if len(args) < 3 {
		usageExit(verbosity)
	}
	argv := args[2:]

	addrs, err := addresses(host)
	if err != nil {
		fatal(err, "temporarily unable to figure out IP address for ", host)
	}
	if len(addrs) == 0 {
		fatal(nil, "no IP address for ", host)
	}
	warn := func(e *ucspi.ConnectError) {
		if verbosity > 0 {
			strerr.Print("tcpclient: ", e.Error(), ": ", strerr.Errstr(e.Err), "\n")
		}
	}
	fd, err := ucspi.Dial(addrs, port, netip.AddrPortFrom(localIP, localPort),
		time.Duration(ct1)*time.Second, time.Duration(ct2)*time.Second, warn)
	if err != nil {
		if fe, ok := err.(*ucspi.FatalError); ok {
			fatal(fe.Err, fe.What)
		}
		os.Exit(111)
	}
	if nodelay {
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		fatal(err, "unable to get local address")
	}
	local := ucspi.AddrPort(sa)
	if localName == nil {
		if name, err := ucspi.Name(local.Addr()); err == nil {
			localName = &name
		}
	}
	sa, err = unix.Getpeername(fd)
	if err != nil {
		fatal(err, "unable to get remote address")
	}
	remote := ucspi.AddrPort(sa)
	if verbosity >= 2 {
		strerr.Print("tcpclient: connected to ", ucspi.IPString(remote.Addr()), " port ", ucspi.FormatPort(remote.Port()), "\n")
	}
	var rhost, rinfo *string
	if remoteHost {
		if name, err := ucspi.Name(remote.Addr()); err == nil {
			rhost = &name
		}
	}
	if remoteInfo {
		if info, err := ucspi.Ident(local, remote, time.Duration(identTimeout)*time.Second); err == nil {
			rinfo = &info
		}
	}
	conn := ucspi.Conn{Local: local, Remote: remote}
	if localName != nil {
		conn.LocalHost, conn.HasLocalHost = *localName, true
	}
	if rhost != nil {
		conn.RemoteHost, conn.HasRemoteHost = *rhost, true
	}
	if rinfo != nil {
		conn.RemoteInfo, conn.HasRemoteInfo = *rinfo, true
	}
	var e envdir.Edits
	conn.ClientEdits(&e)

	if err := unix.Dup3(fd, 6, 0); err != nil {
		fatal(err, "unable to set up descriptor 6")
	}
	if fd != 6 {
		unix.Close(fd)
	}
	if err := unix.Dup3(6, 7, 0); err != nil {
		fatal(err, "unable to set up descriptor 7")
	}
	err = envdir.Exec(argv, e.Apply(os.Environ()))
	fatal(err, "unable to run ", argv[0])
}

func usageExit(verbosity int) {
	if verbosity > 0 {
		strerr.Usage(usage)
	}
	os.Exit(strerr.ExitPerm)
}

// addresses resolves the host argument: an IPv6 literal connects over
// IPv6 (a tinymx extension), anything else through djb's IPv4 lookup.
func addresses(host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil && a.Is6() && a.Zone() == "" {
		return []netip.Addr{a}, nil
	}
	ips, err := dns.IP4(host)
	if err != nil {
		return nil, err
	}
	out := make([]netip.Addr, len(ips))
	for i, ip := range ips {
		out[i] = netip.AddrFrom4(ip)
	}
	return out, nil
}
