// Package ucspi is the UCSPI-TCP side shared by tcpserver and tcpclient:
// address formatting, the TCP* environment, the ident client, port names,
// the server's accept loop and the client's connect logic.
package ucspi

import (
	"net/netip"
	"strconv"
)

// FormatIP prints an address as the C programs do: a dotted quad for
// IPv4, and for IPv6 the compressed form of Debian's ucspi-tcp-ipv6
// (a v4-mapped address keeps its ::ffff: prefix there).
func FormatIP(a netip.Addr) string {
	return a.String()
}

// Unmap returns the IPv4 address inside a v4-mapped IPv6 one, and a
// unchanged otherwise.
func Unmap(a netip.Addr) netip.Addr {
	if a.Is4In6() {
		return a.Unmap()
	}
	return a
}

// FormatPort prints a port in decimal.
func FormatPort(p uint16) string { return strconv.FormatUint(uint64(p), 10) }

// Safe is djb's safecats: the field as it appears in tcpserver's ok and
// deny lines. Bytes outside 33..126, '%' and ':' become '?', and a field of
// 100 bytes or more is cut to 100 bytes followed by "...". The C program
// works on NUL-terminated strings, so a NUL ends the field.
func Safe(b []byte, s string) []byte {
	for i := 0; i < 100; i++ {
		if i >= len(s) || s[i] == 0 {
			return b
		}
		c := s[i]
		if c < 33 || c > 126 || c == '%' || c == ':' {
			c = '?'
		}
		b = append(b, c)
	}
	return append(b, "..."...)
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
