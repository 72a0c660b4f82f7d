package rules

import (
	"bytes"

	"tinymx/lib/cdb"
)

// Lookup finds the rule for a client in the order of ucspi-tcp's rules.c;
// the first key present wins:
//
//	info@ip, info@=host, ip, =host,
//	each prefix of ip ending in '.' or ':', longest first,
//	=.suffix for each dot of host from the left, =, and the empty key.
//
// host and info are nil when not known; a known empty string still counts
// (tcprulescheck treats a set but empty TCPREMOTEHOST that way). IPv6
// addresses are looked up as given (tcpserver passes the compressed form,
// "2001:db8::1"), then cut after each ':' or '.' as ucspi-tcp-ipv6 does:
// "2001:db8::", "2001:db8:", "2001:". For an IPv4 address this is exactly
// the stock order.
//
// data points into db. found is false when no key matched (allow, no
// variables). err is a read error of the database (corrupt file).
func Lookup(db *cdb.CDB, ip string, host *string, info *string) (key string, data []byte, found bool, err error) {
	var l lookup
	l.db = db
	l.run(ip, host, info)
	return l.key, l.data, l.found, l.err
}

// lookup keeps the key being built on the caller's stack: tcpserver runs
// one per connection against databases of 100,000 rules.
type lookup struct {
	db    *cdb.CDB
	buf   [256]byte
	key   string
	data  []byte
	found bool
	err   error
}

// try reports whether the search is over (found, or a read error).
func (l *lookup) try(k []byte) bool {
	v, ok, err := l.db.Get(k)
	if err != nil {
		l.err = err
		return true
	}
	if ok {
		l.key, l.data, l.found = string(k), v, true
	}
	return ok
}

func (l *lookup) run(ip string, host, info *string) {
	k := l.buf[:0]
	if info != nil {
		k = append(append(append(k[:0], *info...), '@'), ip...)
		if l.try(k) {
			return
		}
		if host != nil {
			k = append(append(append(k[:0], *info...), "@="...), *host...)
			if l.try(k) {
				return
			}
		}
	}
	k = append(k[:0], ip...)
	if l.try(k) {
		return
	}
	if host != nil {
		k = append(append(k[:0], '='), *host...)
		if l.try(k) {
			return
		}
	}
	k = append(k[:0], ip...)
	for n := len(k); n > 0; n-- {
		if c := k[n-1]; c == '.' || c == ':' {
			if l.try(k[:n]) {
				return
			}
		}
	}
	if host != nil {
		h := *host
		for i := 0; i < len(h); i++ {
			if h[i] == '.' {
				k = append(append(k[:0], '='), h[i:]...)
				if l.try(k) {
					return
				}
			}
		}
		k = append(k[:0], '=')
		if l.try(k) {
			return
		}
	}
	l.try(k[:0])
}

// Var is one "+NAME=value" entry of a rule; HasValue is false for an entry
// without '=' (hand-made cdbs only), which tcpserver ignores and
// tcprulescheck prints as NAME alone.
type Var struct {
	Name, Value string
	HasValue    bool
}

// Decode reads rule data: NUL-terminated entries, "D" denies, "+NAME=value"
// sets a variable, anything else (and bytes after the last NUL) is ignored.
// Scanning stops at the first "D", as tcprulescheck's does: env holds the
// variables before it.
func Decode(data []byte) (deny bool, env []Var) {
	for {
		i := bytes.IndexByte(data, 0)
		if i < 0 {
			return false, env
		}
		e := data[:i]
		data = data[i+1:]
		if len(e) == 0 {
			continue
		}
		switch e[0] {
		case 'D':
			return true, env
		case '+':
			e = e[1:]
			if eq := bytes.IndexByte(e, '='); eq >= 0 {
				env = append(env, Var{Name: string(e[:eq]), Value: string(e[eq+1:]), HasValue: true})
			} else {
				env = append(env, Var{Name: string(e)})
			}
		}
	}
}
