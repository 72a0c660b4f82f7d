package ucspi

import (
	"errors"
	"net/netip"
	"strconv"

	"golang.org/x/sys/unix"

	"tinymx/lib/cdb"
	"tinymx/lib/dns"
	"tinymx/lib/rules"
)

const drop = "warning: dropping connection, "

// stepError is a failure of the connection's set-up, reported as
// "dropping connection, unable to ...: ERR" with exit 111.
type stepError struct {
	what string
	err  error
}

func (e *stepError) Error() string { return e.what }
func (e *stepError) Unwrap() error { return e.err }

func (s *Server) prepare(c *conn) error {
	fd := c.fd
	if !s.KeepIPOptions && !c.V6 {
		unix.SetsockoptString(fd, unix.IPPROTO_IP, unix.IP_OPTIONS, "")
	}
	if s.NoDelay {
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}
	if s.Banner != "" && !c.banner.Load() {
		if err := writeAll(fd, []byte(s.Banner)); err != nil {
			return &stepError{"unable to print banner", err}
		}
		c.banner.Store(true)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return &stepError{"unable to get local address", err}
	}
	local := AddrPort(sa)
	c.Local = netip.AddrPortFrom(local.Addr(), s.local.Port())

	if s.HasLocalName {
		c.LocalHost, c.HasLocalHost = s.LocalName, true
	} else if name, err := Name(c.Local.Addr()); err == nil && name != "" {
		c.LocalHost, c.HasLocalHost = name, true
	}
	if s.RemoteHost {
		if name, err := Name(c.Remote.Addr()); err == nil && name != "" {
			if !s.Paranoid || confirms(name, c.Remote.Addr()) {
				c.RemoteHost, c.HasRemoteHost = name, true
			}
		}
	}
	if s.RemoteInfo {
		info, err := Ident(local, c.Remote, s.IdentTimeout)
		if err == nil {
			c.RemoteInfo, c.HasRemoteInfo = CString(info), true
		}
	}
	c.Conn.Edits(&c.env)
	if s.Rules != "" {
		if err := s.rules(c); err != nil {
			return &stepError{"unable to read " + s.Rules, err}
		}
	}
	return nil
}

// rules opens the cdb afresh for every connection, so that a new
// tcprules run takes effect at once.
func (s *Server) rules(c *conn) error {
	db, err := cdb.Open(s.Rules)
	if err != nil {
		if s.AllowNoRules && errors.Is(err, unix.ENOENT) {
			return nil
		}
		return err
	}
	defer db.Close()
	var host, info *string
	if c.HasRemoteHost {
		h := CString(c.RemoteHost)
		host = &h
	}
	if c.HasRemoteInfo {
		info = &c.RemoteInfo
	}
	deny, vars, err := lookupRules(db, c.ipstr, host, info)
	if err != nil {
		return err
	}
	c.deny = deny
	for _, v := range vars {
		switch v.name {
		case "MAXCONNIP":
			// consumed: a tinymx extension the program never sees
			c.max = ulong(v.value)
			continue
		case "DIEMSG":
			c.die, c.hdie = v.value, true
		}
		c.env.Set(v.name, v.value)
	}
	return nil
}

type ruleVar struct{ name, value string }

// lookupRules finds the rule for a connection (A2.3's order) and decodes
// it: deny, and the variables to set in rule order. Entries without '='
// set nothing, as in the C program.
func lookupRules(db *cdb.CDB, ip string, host, info *string) (bool, []ruleVar, error) {
	_, data, found, err := rules.Lookup(db, ip, host, info)
	if err != nil || !found {
		return false, nil, err
	}
	deny, vars := rules.Decode(data)
	out := make([]ruleVar, 0, len(vars))
	for _, v := range vars {
		if v.HasValue {
			out = append(out, ruleVar{v.Name, v.Value})
		}
	}
	return deny, out, nil
}

// ulong is djb's scan_ulong.
func ulong(s string) uint64 {
	var n uint64
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + uint64(s[i]-'0')
	}
	return n
}

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

func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// admit applies the per-IP limit (MAXCONNIP). Over it the client reads
// DIEMSG (if any), the connection is closed and no program runs.
func (s *Server) admit(c *conn) bool {
	if c.max == 0 {
		return true
	}
	s.mu.Lock()
	n := s.perIP[c.ipstr]
	if n < c.max {
		s.perIP[c.ipstr] = n + 1
		s.mu.Unlock()
		return true
	}
	delete(s.inflight, c)
	s.mu.Unlock()
	if c.hdie {
		writeAll(c.fd, []byte(c.die+"\r\n"))
	}
	unix.Close(c.fd)
	s.line(Errors, drop, "per-IP limit ", strconv.FormatUint(c.max, 10), " reached for ", c.ipstr)
	s.mu.Lock()
	s.release(child{})
	s.mu.Unlock()
	return false
}
