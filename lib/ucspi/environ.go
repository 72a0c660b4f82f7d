package ucspi

import (
	"net/netip"

	"tinymx/lib/pathexec"
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

// Mapped reports whether an IPv6 listener's client came in over IPv4.
func (c *Conn) Mapped() bool { return c.Remote.Addr().Is4In6() }

func setOrUnset(e *pathexec.Edits, name, value string, ok bool) {
	if ok {
		e.Set(name, CString(value))
	} else {
		e.Unset(name)
	}
}

// Edits queues the environment tcpserver gives its program, in the C
// program's order (the order is visible after pathexec's reshuffling).
func (c *Conn) Edits(e *pathexec.Edits) {
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

// ClientEdits queues tcpclient's environment in the C program's order.
// Host names are set even when empty; a name not known (Has* false) is
// removed. Over IPv6 PROTO is TCP6 and the TCP* variables hold IPv6
// addresses, as ucspi-tcp-ipv6's tcpclient sets them.
func (c *Conn) ClientEdits(e *pathexec.Edits) {
	proto := "TCP"
	if c.Remote.Addr().Is6() && !c.Mapped() {
		proto = "TCP6"
	}
	e.Set("PROTO", proto)
	e.Set("TCPLOCALPORT", FormatPort(c.Local.Port()))
	e.Set("TCPLOCALIP", IPString(c.Local.Addr()))
	setOrUnset(e, "TCPLOCALHOST", c.LocalHost, c.HasLocalHost)
	e.Set("TCPREMOTEPORT", FormatPort(c.Remote.Port()))
	e.Set("TCPREMOTEIP", IPString(c.Remote.Addr()))
	setOrUnset(e, "TCPREMOTEHOST", c.RemoteHost, c.HasRemoteHost)
	setOrUnset(e, "TCPREMOTEINFO", c.RemoteInfo, c.HasRemoteInfo)
}

// CString cuts s at its first NUL, as a C string would end there.
func CString(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return s[:i]
		}
	}
	return s
}
