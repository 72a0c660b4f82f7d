package smtpd

import "bytes"

// MaxAddr is the longest address stock accepts: it refuses an address
// whose length with its terminating NUL exceeds 900.
const MaxAddr = 899

// ParseAddr extracts the address from a MAIL or RCPT argument as stock's
// addrparse does, before localiphost substitution and the length check.
// The keywords FROM: and TO: are not checked. With a '<' the address runs
// to the first unquoted, unescaped '>'; without one it starts after the
// first ':' (leading spaces skipped; no ':' at all gives the empty address)
// and runs to the first unquoted space. A leading source route "@a,@b:" is
// dropped; a backslash copies the next byte; '"' toggles quoting and is
// removed. rest is what follows the terminator (the ESMTP parameters).
// arg must already end at the first NUL of the command line.
func ParseAddr(arg []byte) (addr, rest []byte) {
	term := byte('>')
	if i := bytes.IndexByte(arg, '<'); i >= 0 {
		arg = arg[i+1:]
	} else {
		term = ' '
		if i := bytes.IndexByte(arg, ':'); i >= 0 {
			arg = arg[i+1:]
		} else {
			arg = nil
		}
		for len(arg) > 0 && arg[0] == ' ' {
			arg = arg[1:]
		}
	}
	if len(arg) > 0 && arg[0] == '@' {
		if i := bytes.IndexByte(arg, ':'); i >= 0 {
			arg = arg[i+1:]
		} else {
			arg = nil
		}
	}
	addr = make([]byte, 0, len(arg))
	esc, quoted := false, false
	for i, c := range arg {
		if esc {
			addr = append(addr, c)
			esc = false
			continue
		}
		if !quoted && c == term {
			return addr, arg[i+1:]
		}
		switch c {
		case '\\':
			esc = true
		case '"':
			quoted = !quoted
		default:
			addr = append(addr, c)
		}
	}
	return addr, nil
}

// bracketIPv4 parses "[d.d.d.d]" filling all of s. Stock keeps each number
// modulo 256; a number above 255 is refused here instead (spec §2.6).
func bracketIPv4(s []byte) (ip [4]byte, ok bool) {
	if len(s) < 9 || s[0] != '[' || s[len(s)-1] != ']' {
		return ip, false
	}
	s = s[1 : len(s)-1]
	for k := 0; k < 4; k++ {
		if k > 0 {
			if len(s) == 0 || s[0] != '.' {
				return ip, false
			}
			s = s[1:]
		}
		n, digits := 0, 0
		for digits < len(s) && s[digits] >= '0' && s[digits] <= '9' {
			if n <= 255 {
				n = n*10 + int(s[digits]-'0')
			}
			digits++
		}
		if digits == 0 || n > 255 {
			return ip, false
		}
		ip[k] = byte(n)
		s = s[digits:]
	}
	return ip, len(s) == 0
}

// localIPDomain returns the index of the '[' of a trailing "@[d.d.d.d]"
// in addr, and the address; ok is false when addr has no such literal.
func localIPDomain(addr []byte) (at int, ip [4]byte, ok bool) {
	at = bytes.LastIndexByte(addr, '@')
	if at < 0 {
		return 0, ip, false
	}
	ip, ok = bracketIPv4(addr[at+1:])
	return at + 1, ip, ok
}
