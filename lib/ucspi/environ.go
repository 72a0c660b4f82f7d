package ucspi

import (
	"net/netip"

	"tinymx/lib/envdir"
)

// Conn is what the TCP environment says about one connection.
type Conn struct {
	// V6 is set on an IPv6 listener (the ucspi-tcp-ipv6 extension): the
	// TCP6* copies are added, and PROTO is TCP6 unless the client is a
	// v4-mapped address.
	V6                    bool
	Local, Remote         netip.AddrPort
	LocalHost, RemoteHost string
	HasLocalHost          bool
	HasRemoteHost         bool
	RemoteInfo            string
	HasRemoteInfo         bool
}

// IPString is the address form of the TCP* variables and of rule lookups:
// a v4-mapped client reads as plain IPv4.
func IPString(a netip.Addr) string { return FormatIP(Unmap(a)) }

// Mapped reports whether an IPv6 listener's client came in over IPv4.
func (c *Conn) Mapped() bool { return c.Remote.Addr().Is4In6() }

func setOrUnset(e *envdir.Edits, name, value string, ok bool) {
	if ok {
		e.Set(name, CString(value))
	} else {
		e.Unset(name)
	}
}

// Edits queues the environment tcpserver gives its program, in the C
// program's order (the order is visible after pathexec's reshuffling).
func (c *Conn) Edits(e *envdir.Edits) {
	proto := "TCP"
	if c.V6 && !c.Mapped() {
		proto = "TCP6"
	}
	lport := FormatPort(c.Local.Port())
	rport := FormatPort(c.Remote.Port())
	e.Set("PROTO", proto)
	e.Set("TCPLOCALIP", IPString(c.Local.Addr()))
	e.Set("TCPLOCALPORT", lport)
	setOrUnset(e, "TCPLOCALHOST", c.LocalHost, c.HasLocalHost)
	if c.V6 {
		e.Set("TCP6LOCALIP", FormatIP(c.Local.Addr()))
		e.Set("TCP6LOCALPORT", lport)
		setOrUnset(e, "TCP6LOCALHOST", c.LocalHost, c.HasLocalHost)
	}
	e.Set("TCPREMOTEIP", IPString(c.Remote.Addr()))
	e.Set("TCPREMOTEPORT", rport)
	setOrUnset(e, "TCPREMOTEHOST", c.RemoteHost, c.HasRemoteHost)
	if c.V6 {
		e.Set("TCP6REMOTEIP", FormatIP(c.Remote.Addr()))
		e.Set("TCP6REMOTEPORT", rport)
		setOrUnset(e, "TCP6REMOTEHOST", c.RemoteHost, c.HasRemoteHost)
	}
	setOrUnset(e, "TCPREMOTEINFO", c.RemoteInfo, c.HasRemoteInfo)
	if c.V6 {
		setOrUnset(e, "TCP6REMOTEINFO", c.RemoteInfo, c.HasRemoteInfo)
	}
}

// Decision is tcpserver's "ok" or "deny" line for pid:
// "tcpserver: ok PID LOCALHOST:LOCALIP:LOCALPORT REMOTEHOST:REMOTEIP:REMOTEINFO:REMOTEPORT".
// Every field is sanitised as djb's safecats does; on an IPv6 listener the
// addresses are written as they are (their colons kept), as
// ucspi-tcp-ipv6 writes them.
func (c *Conn) Decision(prog, word string, pid int) []byte {
	b := make([]byte, 0, 160)
	b = append(b, prog...)
	b = append(b, ": "...)
	b = append(b, word...)
	b = append(b, ' ')
	b = appendInt(b, pid)
	b = append(b, ' ')
	if c.HasLocalHost {
		b = Safe(b, c.LocalHost)
	}
	b = append(b, ':')
	b = c.ip(b, c.Local.Addr())
	b = append(b, ':')
	b = appendInt(b, int(c.Local.Port()))
	b = append(b, ' ')
	if c.HasRemoteHost {
		b = Safe(b, c.RemoteHost)
	}
	b = append(b, ':')
	b = c.ip(b, c.Remote.Addr())
	b = append(b, ':')
	if c.HasRemoteInfo {
		b = Safe(b, c.RemoteInfo)
	}
	b = append(b, ':')
	b = appendInt(b, int(c.Remote.Port()))
	return append(b, '\n')
}

func (c *Conn) ip(b []byte, a netip.Addr) []byte {
	if c.V6 {
		return append(b, FormatIP(a)...)
	}
	return Safe(b, FormatIP(a))
}

func appendInt(b []byte, n int) []byte {
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	var d [20]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, d[i:]...)
}
