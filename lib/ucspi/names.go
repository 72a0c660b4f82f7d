package ucspi

import (
	"net/netip"

	"tinymx/lib/dns"
)

// Name is the PTR lookup of an address (IPv4 or IPv6): "" when there is
// no name, an error when DNS fails.
func Name(a netip.Addr) (string, error) {
	if a.Is4() || a.Is4In6() {
		return dns.Name4(a.Unmap().As4())
	}
	return dns.Name6(a.As16())
}

// confirms is -p: one of name's addresses must be the client's.
func confirms(name string, a netip.Addr) bool {
	if a.Is4() || a.Is4In6() {
		ips, err := dns.IP4Raw(name)
		if err != nil {
			return false
		}
		want := a.Unmap().As4()
		for _, ip := range ips {
			if ip == want {
				return true
			}
		}
		return false
	}
	ips, err := dns.IP6Raw(name)
	if err != nil {
		return false
	}
	want := a.As16()
	for _, ip := range ips {
		if ip == want {
			return true
		}
	}
	return false
}
