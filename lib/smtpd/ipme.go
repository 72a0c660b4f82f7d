package smtpd

import "syscall"

// LocalIPv4 lists the IPv4 addresses of this host's interfaces (stock's
// ipme) through netlink, plus 0.0.0.0 which stock always includes. It runs
// only when an address has a "[d.d.d.d]" domain, so a connection that never
// sends one never pays for it.
func LocalIPv4() ([][4]byte, error) {
	ips := [][4]byte{{0, 0, 0, 0}}
	rib, err := syscall.NetlinkRIB(syscall.RTM_GETADDR, syscall.AF_INET)
	if err != nil {
		return nil, err
	}
	msgs, err := syscall.ParseNetlinkMessage(rib)
	if err != nil {
		return nil, err
	}
	for i := range msgs {
		m := &msgs[i]
		if m.Header.Type != syscall.RTM_NEWADDR {
			continue
		}
		attrs, err := syscall.ParseNetlinkRouteAttr(m)
		if err != nil {
			return nil, err
		}
		for _, a := range attrs {
			if (a.Attr.Type == syscall.IFA_LOCAL || a.Attr.Type == syscall.IFA_ADDRESS) && len(a.Value) == 4 {
				ips = append(ips, [4]byte(a.Value))
			}
		}
	}
	return ips, nil
}
