package ucspi

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

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
		return -1, netip.AddrPort{}, &FatalError{"unable to create socket", err}
	}
	fail := func(what string, err error) (int, netip.AddrPort, error) {
		unix.Close(fd)
		return -1, netip.AddrPort{}, &FatalError{what, err}
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if family == unix.AF_INET6 {
		unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0)
	}
	if err := unix.Bind(fd, Sockaddr(netip.AddrPortFrom(addr, port))); err != nil {
		return fail("unable to bind", err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return fail("unable to get local address", err)
	}
	if err := unix.Listen(fd, backlog); err != nil {
		return fail("unable to listen", err)
	}
	return fd, AddrPort(sa), nil
}
