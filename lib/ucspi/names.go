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

// hostAddrs resolves a host argument: an IPv6 literal (a tinymx
// extension) is itself; anything else goes through djb's IPv4 lookup.
// Finding no address is an error, as trouble with DNS is.
func hostAddrs(host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil && a.Is6() && a.Zone() == "" {
		return []netip.Addr{a}, nil
	}
	ips, err := dns.IP4(host)
	if err != nil {
		return nil, &FatalError{"temporarily unable to figure out IP address for " + host, err}
	}
	if len(ips) == 0 {
		return nil, &FatalError{"no IP address for " + host, nil}
	}
	out := make([]netip.Addr, len(ips))
	for i, ip := range ips {
		out[i] = netip.AddrFrom4(ip)
	}
	return out, nil
}
