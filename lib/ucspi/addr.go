// Package ucspi is the UCSPI-TCP side shared by tcpserver and tcpclient:
// address formatting, the TCP* environment, the ident client, port names,
// the server's accept loop and the client's connect logic.
package ucspi

import (
	"net/netip"
	"strconv"
)

// FormatIP prints an address as the C programs do: a dotted quad for
// IPv4; for IPv6 the form of Debian's ucspi-tcp-ipv6: lowercase groups
// without leading zeros, the first of the longest runs of zero groups
// written "::" even when the run is a single group (RFC 5952 would not),
// and a v4-mapped address as ::ffff: and a dotted quad.
func FormatIP(a netip.Addr) string {
	if a.Is4() {
		return a.String()
	}
	b := a.As16()
	if a.Is4In6() {
		return "::ffff:" + netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}).String()
	}
	var g [8]uint16
	for i := range g {
		g[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	best, bestLen := -1, 0
	for i := 0; i < 8; {
		if g[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && g[j] == 0 {
			j++
		}
		if j-i > bestLen {
			best, bestLen = i, j-i
		}
		i = j
	}
	out := make([]byte, 0, 40)
	for i := 0; i < 8; i++ {
		if i == best {
			out = append(out, "::"...)
			i += bestLen - 1
			continue
		}
		if i > 0 && i != best+bestLen {
			out = append(out, ':')
		}
		out = strconv.AppendUint(out, uint64(g[i]), 16)
	}
	return string(out)
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
