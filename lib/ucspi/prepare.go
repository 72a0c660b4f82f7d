package ucspi

import (
	"errors"
	"net/netip"
	"strconv"

	"golang.org/x/sys/unix"

	"tinymx/lib/cdb"
	"tinymx/lib/decimal"
	"tinymx/lib/fdio"
	"tinymx/lib/pathexec"
	"tinymx/lib/rules"
)

// Prepared is what the C program's forked child knows of a connection
// when it is about to run the program: its environment and its verdict.
type Prepared struct {
	Conn                     // addresses and names: the TCP* variables and the ok and deny lines
	IP        string         // the client's address in rules and the pid line (v4-mapped: IPv4)
	Env       pathexec.Edits // the TCP* variables, then those the rule sets
	Deny      bool           // the rule says deny
	MaxConnIP uint64         // the per-IP limit, 0 for none: the rule's, else the server's
	DieMsg    string         // what a client over that limit reads, when HasDieMsg
	HasDieMsg bool
}

const drop = "warning: dropping connection, "

// stepError is a failure of the connection's set-up, reported as
// "dropping connection, unable to ...: ERR" with exit 111.
type stepError struct {
	what string
	err  error
}

func (e *stepError) Error() string { return e.what }
func (e *stepError) Unwrap() error { return e.err }

// Prepare does for one connection what the C program's forked child does
// before it runs the program: the socket options and the banner, the
// names, ident and the rules. It reads s's settings and writes only to
// a (its socket and Banner): no fork, no exec, no change to the process
// (environment, directory) or to the server's counts, so any number of
// goroutines may call it at once. The per-IP limit is not applied here:
// it needs the server's count of the client's connections (see admit).
// TCPLOCALPORT is the port of the listener s serves, as in the C program.
// On an error p.IP is still set, for the log lines.
func (s *Server) Prepare(a *Accepted) (p Prepared, err error) {
	p.IP = IPString(a.Remote.Addr())
	p.V6, p.Remote = s.v6, a.Remote
	p.MaxConnIP, p.DieMsg, p.HasDieMsg = s.MaxConnIP, s.DieMsg, s.HasDieMsg
	fd := a.FD
	if !s.KeepIPOptions && !p.V6 {
		unix.SetsockoptString(fd, unix.IPPROTO_IP, unix.IP_OPTIONS, "")
	}
	if s.NoDelay {
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}
	if s.Banner != "" && !a.Banner.Load() {
		if err := fdio.WriteAll(fd, []byte(s.Banner)); err != nil {
			return p, &stepError{"unable to print banner", err}
		}
		a.Banner.Store(true)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return p, &stepError{"unable to get local address", err}
	}
	local := AddrPort(sa)
	p.Local = netip.AddrPortFrom(local.Addr(), s.local.Port())

	if s.HasLocalName {
		p.LocalHost, p.HasLocalHost = s.LocalName, true
	} else if name, err := Name(p.Local.Addr()); err == nil && name != "" {
		p.LocalHost, p.HasLocalHost = name, true
	}
	if s.RemoteHost {
		if name, err := Name(p.Remote.Addr()); err == nil && name != "" {
			if !s.Paranoid || confirms(name, p.Remote.Addr()) {
				p.RemoteHost, p.HasRemoteHost = name, true
			}
		}
	}
	if s.RemoteInfo {
		info, err := Ident(local, p.Remote, s.IdentTimeout)
		if err == nil {
			p.RemoteInfo, p.HasRemoteInfo = CString(info), true
		}
	}
	p.Conn.Edits(&p.Env)
	if s.Rules != "" {
		if err := s.rules(&p); err != nil {
			return p, &stepError{"unable to read " + s.Rules, err}
		}
	}
	return p, nil
}

// rules opens the cdb afresh for every connection, so that a new
// tcprules run takes effect at once. The rule is found in A2.3's order;
// its entries without '=' set nothing, as in the C program.
func (s *Server) rules(p *Prepared) error {
	db, err := cdb.Open(s.Rules)
	if err != nil {
		if s.AllowNoRules && errors.Is(err, unix.ENOENT) {
			return nil
		}
		return err
	}
	defer db.Close()
	var host, info *string
	if p.HasRemoteHost {
		h := CString(p.RemoteHost)
		host = &h
	}
	if p.HasRemoteInfo {
		info = &p.RemoteInfo
	}
	_, data, found, err := rules.Lookup(db, p.IP, host, info)
	if err != nil || !found {
		return err
	}
	deny, vars := rules.Decode(data)
	p.Deny = deny
	for _, v := range vars {
		if !v.HasValue {
			continue
		}
		switch v.Name {
		case "MAXCONNIP":
			// consumed: a tinymx extension the program never sees
			p.MaxConnIP = decimal.Ulong(v.Value)
			continue
		case "DIEMSG":
			p.DieMsg, p.HasDieMsg = v.Value, true
		}
		p.Env.Set(v.Name, v.Value)
	}
	return nil
}

// admit applies the per-IP limit (MAXCONNIP). Over it the client reads
// DIEMSG (if any), the connection is closed and no program runs.
func (s *Server) admit(c *conn) bool {
	if c.p.MaxConnIP == 0 {
		return true
	}
	s.mu.Lock()
	n := s.perIP[c.p.IP]
	if n < c.p.MaxConnIP {
		s.perIP[c.p.IP] = n + 1
		s.mu.Unlock()
		return true
	}
	delete(s.inflight, c)
	s.mu.Unlock()
	if c.p.HasDieMsg {
		fdio.WriteAll(c.FD, []byte(c.p.DieMsg+"\r\n"))
	}
	unix.Close(c.FD)
	s.line(Errors, drop, "per-IP limit ", strconv.FormatUint(c.p.MaxConnIP, 10), " reached for ", c.p.IP)
	s.mu.Lock()
	s.release(child{})
	s.mu.Unlock()
	return false
}
