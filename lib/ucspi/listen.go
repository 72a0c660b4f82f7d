package ucspi

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// ListenError says which step of setting up the listening socket failed,
// in the words of tcpserver's messages ("unable to bind").
type ListenError struct {
	Step string
	Err  error
}

func (e *ListenError) Error() string { return "unable to " + e.Step }
func (e *ListenError) Unwrap() error { return e.Err }

// Listen opens a blocking, close-on-exec TCP socket on addr:port with
// SO_REUSEADDR, as tcpserver does, and returns it with its local address
// (port 0 asks the kernel for one). An IPv6 address gets an IPv6 socket
// that also takes v4-mapped clients.
func Listen(addr netip.Addr, port uint16, backlog int) (int, netip.AddrPort, error) {
	family := unix.AF_INET
	if addr.Is6() {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, netip.AddrPort{}, &ListenError{"create socket", err}
	}
	fail := func(step string, err error) (int, netip.AddrPort, error) {
		unix.Close(fd)
		return -1, netip.AddrPort{}, &ListenError{step, err}
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if family == unix.AF_INET6 {
		unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0)
	}
	if err := unix.Bind(fd, Sockaddr(netip.AddrPortFrom(addr, port))); err != nil {
		return fail("bind", err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return fail("get local address", err)
	}
	if err := unix.Listen(fd, backlog); err != nil {
		return fail("listen", err)
	}
	return fd, AddrPort(sa), nil
}
