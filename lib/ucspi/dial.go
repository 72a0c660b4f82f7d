package ucspi

import (
	"errors"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// ConnectError is one failed attempt: "unable to connect to IP port PORT".
type ConnectError struct {
	Addr netip.AddrPort
	Err  error
}

func (e *ConnectError) Error() string {
	return "unable to connect to " + ipPort(e.Addr)
}
func (e *ConnectError) Unwrap() error { return e.Err }

// Dial connects as tcpclient does. With one address a single attempt gets
// first+second; otherwise every address is tried with first, and those
// that timed out are tried again with second (when it is not zero). Each
// failure that is not retried is passed to warn. The socket is blocking
// and close-on-exec; its fd is returned.
func Dial(addrs []netip.Addr, port uint16, local netip.AddrPort, first, second time.Duration, warn func(*ConnectError)) (int, error) {
	if len(addrs) == 1 {
		first += second
		second = 0
	}
	for pass := 0; pass < 2; pass++ {
		timeout := first
		if pass == 1 {
			timeout = second
		}
		var again []netip.Addr
		for _, a := range addrs {
			fd, err := dialOne(a, port, local, timeout)
			if err == nil {
				return fd, nil
			}
			var fe *FatalError
			if errors.As(err, &fe) {
				return -1, err
			}
			if pass == 0 && second > 0 && errors.Is(err, unix.ETIMEDOUT) {
				again = append(again, a)
				continue
			}
			warn(&ConnectError{netip.AddrPortFrom(a, port), err})
		}
		addrs = again
	}
	return -1, errors.New("unable to connect")
}

func dialOne(a netip.Addr, port uint16, local netip.AddrPort, timeout time.Duration) (int, error) {
	family := unix.AF_INET
	if a.Is6() {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return -1, &FatalError{"unable to create socket", err}
	}
	bind := local
	if a.Is6() && bind.Addr().Is4() {
		if bind.Addr().IsUnspecified() {
			bind = netip.AddrPortFrom(netip.IPv6Unspecified(), bind.Port())
		} else {
			bind = netip.AddrPortFrom(netip.AddrFrom16(bind.Addr().As16()), bind.Port())
		}
	}
	if err := unix.Bind(fd, Sockaddr(bind)); err != nil {
		unix.Close(fd)
		return -1, &FatalError{"unable to bind socket", err}
	}
	if err := connectTimeout(fd, netip.AddrPortFrom(a, port), timeout); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// connectTimeout is djb's timeoutconn: a non-blocking connect, then wait
// for writability until the deadline (ETIMEDOUT), then SO_ERROR.
func connectTimeout(fd int, to netip.AddrPort, timeout time.Duration) error {
	err := unix.Connect(fd, Sockaddr(to))
	if err == nil {
		return nil
	}
	if err != unix.EINPROGRESS {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		ms := int(time.Until(deadline) / time.Millisecond)
		if ms < 0 {
			ms = 0
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		n, err := unix.Poll(pfd, ms)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			if time.Now().Before(deadline) {
				continue
			}
			return unix.ETIMEDOUT
		}
		soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			return err
		}
		if soerr != 0 {
			return unix.Errno(soerr)
		}
		return nil
	}
}
