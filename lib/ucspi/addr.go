package ucspi

import (
	"net/netip"
	"strconv"

	"golang.org/x/sys/unix"
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

// IPString is the address form of the TCP* variables, of rule lookups and
// of the messages: a v4-mapped client reads as plain IPv4.
func IPString(a netip.Addr) string { return FormatIP(a.Unmap()) }

// FormatPort prints a port in decimal.
func FormatPort(p uint16) string { return strconv.FormatUint(uint64(p), 10) }

// ipPort is an address in the messages: "IP port PORT".
func ipPort(ap netip.AddrPort) string {
	return IPString(ap.Addr()) + " port " + FormatPort(ap.Port())
}

// appendLogIP is an address in the ok and deny lines: on an IPv6 listener
// as it is (its colons kept), as ucspi-tcp-ipv6 writes it, else sanitised
// as every other field.
func appendLogIP(b []byte, a netip.Addr, v6 bool) []byte {
	if v6 {
		return append(b, FormatIP(a)...)
	}
	return Safe(b, FormatIP(a))
}

// ScanIP4 is djb's ip4_scan: four dot-separated decimal numbers at the
// start of s (trailing bytes ignored). ok is false when there are none.
func ScanIP4(s string) (netip.Addr, bool) {
	var ip [4]byte
	i := 0
	for k := 0; k < 4; k++ {
		if k > 0 {
			if i >= len(s) || s[i] != '.' {
				return netip.Addr{}, false
			}
			i++
		}
		j := i
		var n uint64
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			n = n*10 + uint64(s[j]-'0')
			j++
		}
		if j == i {
			return netip.Addr{}, false
		}
		ip[k] = byte(n)
		i = j
	}
	return netip.AddrFrom4(ip), true
}

// Sockaddr converts an address for the unix package.
func Sockaddr(ap netip.AddrPort) unix.Sockaddr {
	if ap.Addr().Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
}

// AddrPort converts a socket address from the unix package.
func AddrPort(sa unix.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port))
	}
	return netip.AddrPort{}
}
