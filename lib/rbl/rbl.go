// Package rbl holds rblsmtpd's logic: the decision made from $RBLSMTPD and
// the -r/-a lookups, and the fake SMTP conversation that refuses mail.
package rbl

import (
	"net/netip"
	"strings"

	"tinymx/lib/dns"
)

type decision int

const (
	undecided decision = iota
	accept
	reject // 451
	bounce // 553
)

// Checker accumulates the decision. Options are applied in command-line
// order and lookups happen as they come, so -b/-c only affect the -r/-a
// options after them, and every lookup is skipped once decided.
type Checker struct {
	reversed      string
	decision      decision
	text          string
	mustNotBounce bool
	Bounce        bool // -b: RBL hits get 553 (default -B: 451)
	FailClosed    bool // -c: a lookup error refuses (default -C: accepts)

	// Lookups, replaceable in tests.
	TXT func(name string) (string, error)
	IP4 func(name string) ([][4]byte, error)
}

// New starts from $TCPREMOTEIP (ip) and $RBLSMTPD (env, set).
func New(ip, env string, set bool) *Checker {
	c := &Checker{reversed: Reverse(ip), TXT: dns.TXT, IP4: dns.IP4Raw}
	if set {
		switch {
		case env == "":
			c.decision = accept
		case env[0] == '-':
			c.decision, c.text = bounce, env[1:]
		default:
			c.decision, c.text = reject, env
		}
	}
	return c
}

// Reverse turns "1.2.3.4" into "4.3.2.1.": the dot-separated parts in
// reverse order, each followed by a dot, as rblsmtpd builds it (an empty
// leading part is dropped, other empty parts kept).
//
// Extension: an IPv6 address (only an IPv6 tcpserver sets one) becomes the
// nibble form RBLs use ("1.0.0.0....8.b.d.0.1.0.0.2."), and an IPv4-mapped
// one ("::ffff:1.2.3.4") the IPv4 form. The C program, Debian's IPv6 build
// included, would query "2001:db8::1.base", which no list can answer.
func Reverse(ip string) string {
	if strings.IndexByte(ip, ':') >= 0 {
		if a, err := netip.ParseAddr(ip); err == nil && a.Zone() == "" {
			if a.Is4In6() {
				return Reverse(a.Unmap().String())
			}
			const hex = "0123456789abcdef"
			b := make([]byte, 0, 64)
			v := a.As16()
			for i := 15; i >= 0; i-- {
				b = append(b, hex[v[i]&15], '.', hex[v[i]>>4], '.')
			}
			return string(b)
		}
	}
	out := make([]byte, 0, len(ip)+1)
	i := len(ip)
	for i > 0 {
		j := i
		for j > 0 && ip[j-1] != '.' {
			j--
		}
		out = append(out, ip[j:i]...)
		out = append(out, '.')
		if j == 0 {
			break
		}
		i = j - 1
	}
	return string(out)
}

// RBL looks up the TXT record of the reversed IP under base (-r base).
func (c *Checker) RBL(base string) {
	if c.decision != undecided {
		return
	}
	text, err := c.TXT(c.reversed + base)
	if err != nil {
		c.mustNotBounce = true
		if c.FailClosed {
			c.decision, c.text = reject, "temporary RBL lookup error"
		}
		return
	}
	c.text = text
	if text != "" {
		if c.Bounce {
			c.decision = bounce
		} else {
			c.decision = reject
		}
	}
}

// AntiRBL accepts when the reversed IP under base has an A record (-a base).
func (c *Checker) AntiRBL(base string) {
	if c.decision != undecided {
		return
	}
	ips, err := c.IP4(c.reversed + base)
	if err != nil {
		c.mustNotBounce = true
		if !c.FailClosed {
			c.decision = accept
		}
		return
	}
	if len(ips) > 0 {
		c.decision = accept
	}
}

// Blocked says whether the client gets the refusing conversation.
func (c *Checker) Blocked() bool { return c.decision == reject || c.decision == bounce }

// Message is the refusal: "451 " or "553 " and the text cut to 200 bytes,
// bytes outside 32..126 shown as '?'.
func (c *Checker) Message() string {
	code := "553 "
	if c.mustNotBounce || c.decision == reject {
		code = "451 "
	}
	text := c.text
	if len(text) > 200 {
		text = text[:200]
	}
	b := []byte(code + text)
	for i, ch := range b {
		if ch < 32 || ch > 126 {
			b[i] = '?'
		}
	}
	return string(b)
}
