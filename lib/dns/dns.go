// Package dns is djb's stub resolver as ucspi-tcp embeds it: servers from
// $DNSCACHEIP or /etc/resolv.conf, recursive queries over UDP with djb's
// retry schedule and TCP on truncation, names qualified by djb's rewrite
// rules. It never reads /etc/hosts and never uses nsswitch or net.Resolver,
// so tcpserver, tcpclient and rblsmtpd resolve exactly as the C programs.
//
// Errors wrap a unix.Errno (ETIMEDOUT, EAGAIN, EPROTO, ...) for
// strerr.Errstr.
package dns

import (
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"

	"tinymx/lib/ascii"
)

// IP4 returns the IPv4 addresses of a host argument after djb's
// qualification (dns_ip4_qualify): rewrite rules, then each "+"
// alternative in turn until one has addresses. Dotted quads are parsed
// locally. No address is an empty list, not an error.
func IP4(name string) ([][4]byte, error) {
	rules, err := rewriteCache.get(loadRewrite)
	if err != nil {
		return nil, err
	}
	return qualify(name, rules, IP4Raw)
}

// IP6 is IP4 for AAAA records; an IPv6 literal is parsed locally.
func IP6(name string) ([][16]byte, error) {
	if a, err := netip.ParseAddr(name); err == nil && a.Is6() && a.Zone() == "" {
		return [][16]byte{a.As16()}, nil
	}
	rules, err := rewriteCache.get(loadRewrite)
	if err != nil {
		return nil, err
	}
	return qualify(name, rules, IP6Raw)
}

// qualify applies rules to name, then expands "a+b+c" into "a"+"b",
// "a"+"c", ... trying each with lookup until one yields addresses.
func qualify[T any](name string, rules []string, lookup func(string) ([]T, error)) ([]T, error) {
	for _, r := range rules {
		name = rewrite(name, r)
	}
	plus := strings.IndexByte(name, '+')
	if plus < 0 {
		return lookup(name)
	}
	base, alts := name[:plus], strings.Split(name[plus+1:], "+")
	for _, alt := range alts {
		ips, err := lookup(base + alt)
		if err != nil || len(ips) > 0 {
			return ips, err
		}
	}
	return nil, nil
}

// rewrite applies one rule ("?suffix:repl", "=name:repl", "*suffix:repl",
// "-suffix:repl"; suffixes compared ignoring case) to work.
func rewrite(work, rule string) string {
	if rule == "" {
		return work
	}
	kind := rule[0]
	if kind != '?' && kind != '=' && kind != '*' && kind != '-' {
		return work
	}
	rule = rule[1:]
	colon := strings.IndexByte(rule, ':')
	if colon < 0 || len(work) < colon {
		return work
	}
	prefix := len(work) - colon
	if kind == '=' && prefix != 0 {
		return work
	}
	if !ascii.EqualFold(rule[:colon], work[prefix:]) {
		return work
	}
	if kind == '?' && strings.ContainsAny(work[:prefix], ".[]") {
		return work
	}
	if kind == '-' {
		prefix = 0
	}
	return work[:prefix] + rule[colon+1:]
}

// numeric parses a name made only of digits, dots and brackets as djb's
// dns_ip4 does: each dot-separated part is one byte (modulo 256), brackets
// are ignored, and the bytes are cut to a multiple of four ("1.2.3" has no
// address). ok is false when the name has another character.
func numeric(name string) ([][4]byte, bool) {
	var b []byte
	var code byte
	for i := 0; i <= len(name); i++ {
		c := byte('.')
		if i < len(name) {
			c = name[i]
		}
		switch {
		case c == '[' || c == ']':
		case c == '.':
			b = append(b, code)
			code = 0
		case c >= '0' && c <= '9':
			code = code*10 + (c - '0')
		default:
			return nil, false
		}
	}
	var ips [][4]byte
	for len(b) >= 4 {
		ips = append(ips, [4]byte(b[:4]))
		b = b[4:]
	}
	return ips, true
}

// IP4Raw looks name up as given (djb's dns_ip4, no qualification): local
// dotted-quad parsing, else an A query. The addresses come shuffled.
func IP4Raw(name string) ([][4]byte, error) {
	if ips, ok := numeric(name); ok {
		return ips, nil
	}
	p, err := query(name, typeA)
	if err != nil {
		return nil, err
	}
	ips, err := parseA(p)
	if err != nil {
		return nil, err
	}
	shuffle(ips)
	return ips, nil
}

// IP6Raw looks name up as given: an IPv6 literal locally, else an AAAA query.
func IP6Raw(name string) ([][16]byte, error) {
	if a, err := netip.ParseAddr(name); err == nil && a.Is6() && a.Zone() == "" {
		return [][16]byte{a.As16()}, nil
	}
	p, err := query(name, typeAAAA)
	if err != nil {
		return nil, err
	}
	ips, err := parseAAAA(p)
	if err != nil {
		return nil, err
	}
	shuffle(ips)
	return ips, nil
}

func shuffle[T any](s []T) {
	rand.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
}

// TXT returns every character-string of every TXT record of name
// (unqualified), concatenated, with bytes outside 32..126 shown as '?'.
// No record is "".
func TXT(name string) (string, error) {
	p, err := query(name, typeTXT)
	if err != nil {
		return "", err
	}
	return parseTXT(p)
}

// Name4 returns the first PTR name of ip (d.c.b.a.in-addr.arpa), in djb's
// dotted form (lower case, odd bytes as \ooo); "" when there is none.
func Name4(ip [4]byte) (string, error) {
	var b strings.Builder
	for i := 3; i >= 0; i-- {
		b.WriteString(strconv.Itoa(int(ip[i])))
		b.WriteByte('.')
	}
	b.WriteString("in-addr.arpa")
	return ptr(b.String())
}

// Name6 returns the first PTR name of ip under ip6.arpa; "" when none.
func Name6(ip [16]byte) (string, error) {
	const hex = "0123456789abcdef"
	b := make([]byte, 0, 72)
	for i := 15; i >= 0; i-- {
		b = append(b, hex[ip[i]&15], '.', hex[ip[i]>>4], '.')
	}
	return ptr(string(b) + "ip6.arpa")
}

func ptr(name string) (string, error) {
	p, err := query(name, typePTR)
	if err != nil {
		return "", err
	}
	return parsePTR(p)
}

func query(name string, qtype uint16) ([]byte, error) {
	wire, err := fromDot(name)
	if err != nil {
		return nil, err
	}
	return resolve(buildQuery(wire, qtype))
}
