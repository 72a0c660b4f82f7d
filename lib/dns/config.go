package dns

import (
	"os"
	"strings"
	"sync"
	"time"

	"tinymx/lib/fdio"
)

// The server list and the rewrite rules are read once and kept for ten
// minutes or 10000 uses, whichever ends first, as djb's resolver does; a
// long-running tcpserver thus notices a changed resolv.conf.
const (
	configTTL  = 10 * time.Minute
	configUses = 10000
	maxServers = 16
)

type cached[T any] struct {
	mu       sync.Mutex
	ok       bool
	uses     int
	deadline time.Time
	val      T
}

func (c *cached[T]) get(load func() (T, error)) (T, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if !c.ok || c.uses <= 0 || now.After(c.deadline) {
		v, err := load()
		if err != nil {
			c.ok = false
			return v, err
		}
		c.val, c.ok, c.uses, c.deadline = v, true, configUses, now.Add(configTTL)
	}
	c.uses--
	return c.val, nil
}

var (
	serverCache  cached[[][4]byte]
	rewriteCache cached[[]string]
)

// ResetConfig forgets the cached server list and rewrite rules, so the next
// lookup reads $DNSCACHEIP, /etc/resolv.conf and friends again (tests).
func ResetConfig() {
	serverCache.mu.Lock()
	serverCache.ok = false
	serverCache.mu.Unlock()
	rewriteCache.mu.Lock()
	rewriteCache.ok = false
	rewriteCache.mu.Unlock()
}

var resolvConf = "/etc/resolv.conf"

// maxConfig caps how much of resolv.conf or the rewrite file is read: real
// ones are a few hundred bytes, and a FIFO with a busy writer would
// otherwise be read for ever.
const maxConfig = 1 << 20

// readOptional reads a small config file; a missing file is (nil, false, nil).
//
// It opens non-blocking, as djb's openreadclose (open_read is O_NDELAY): a
// FIFO in place of the file then reads as empty when it has no writer,
// where a blocking open would hang every lookup waiting for one. A writer
// with nothing written makes read(2) say EAGAIN, which is returned (djb:
// "temporary failure"), never retried. Plain system calls for the same
// reason: an *os.File would park on EAGAIN in the poller.
func readOptional(path string) ([]byte, bool, error) { return fdio.ReadFile(path, maxConfig) }

// scanIP4 parses "a.b.c.d" at the start of s like djb's ip4_scan: each part
// one or more digits taken modulo 256. It returns the bytes consumed, 0 when
// s does not start with a dotted quad.
func scanIP4(s string) ([4]byte, int) {
	var ip [4]byte
	pos := 0
	for k := 0; k < 4; k++ {
		if k > 0 {
			if pos >= len(s) || s[pos] != '.' {
				return ip, 0
			}
			pos++
		}
		start := pos
		var v byte
		for pos < len(s) && s[pos] >= '0' && s[pos] <= '9' {
			v = v*10 + (s[pos] - '0')
			pos++
		}
		if pos == start {
			return ip, 0
		}
		ip[k] = v
	}
	return ip, pos
}

// loadServers builds the server list: $DNSCACHEIP (quads, separated by
// dots only, as djb parses it), else resolv.conf nameservers, else
// 127.0.0.1. At most 16 servers.
func loadServers() ([][4]byte, error) {
	var ips [][4]byte
	if x, ok := os.LookupEnv("DNSCACHEIP"); ok {
		for len(ips) < maxServers {
			if x != "" && x[0] == '.' {
				x = x[1:]
				continue
			}
			ip, n := scanIP4(x)
			if n == 0 {
				break
			}
			ips = append(ips, ip)
			x = x[n:]
		}
	}
	if len(ips) == 0 {
		data, ok, err := readOptional(resolvConf)
		if err != nil {
			return nil, err
		}
		if ok {
			for _, line := range strings.Split(string(data), "\n") {
				if !strings.HasPrefix(line, "nameserver ") && !strings.HasPrefix(line, "nameserver\t") {
					continue
				}
				rest := strings.TrimLeft(line[10:], " \t")
				if len(ips) >= maxServers {
					continue
				}
				if ip, n := scanIP4(rest); n > 0 {
					if ip == [4]byte{} {
						ip = [4]byte{127, 0, 0, 1}
					}
					ips = append(ips, ip)
				}
			}
		}
	}
	if len(ips) == 0 {
		ips = append(ips, [4]byte{127, 0, 0, 1})
	}
	return ips, nil
}

// loadRewrite builds the qualification rules (djb's dns_resolvconfrewrite):
// the lines of $DNSREWRITEFILE (default /etc/dnsrewrite) if it exists, else
// rules made from $LOCALDOMAIN, else from the first search/domain line of
// resolv.conf, else from the host name's domain.
func loadRewrite() ([]string, error) {
	file, ok := os.LookupEnv("DNSREWRITEFILE")
	if !ok {
		file = "/etc/dnsrewrite"
	}
	data, ok, err := readOptional(file)
	if err != nil {
		return nil, err
	}
	if ok {
		var rules []string
		lines := strings.Split(string(data), "\n")
		if strings.HasSuffix(string(data), "\n") || len(data) == 0 {
			lines = lines[:len(lines)-1]
		}
		for _, l := range lines {
			rules = append(rules, strings.TrimRight(l, " \t\r"))
		}
		return rules, nil
	}
	if x, ok := os.LookupEnv("LOCALDOMAIN"); ok {
		var b strings.Builder
		b.WriteString("?:")
		for _, d := range strings.Split(x, " ") {
			b.WriteString("+.")
			b.WriteString(d)
		}
		return []string{b.String(), "*.:"}, nil
	}
	data, ok, err = readOptional(resolvConf)
	if err != nil {
		return nil, err
	}
	if ok {
		for _, line := range strings.Split(string(data), "\n") {
			if len(line) < 7 {
				continue
			}
			switch line[:7] {
			case "search ", "search\t", "domain ", "domain\t":
			default:
				continue
			}
			var b strings.Builder
			b.WriteString("?:")
			for _, w := range strings.FieldsFunc(line[7:], func(r rune) bool { return r == ' ' || r == '\t' }) {
				b.WriteString("+.")
				b.WriteString(w)
			}
			return []string{b.String(), "*.:"}, nil
		}
	}
	host, err := os.Hostname()
	if err != nil {
		return nil, err
	}
	if i := strings.IndexByte(host, '.'); i >= 0 {
		return []string{"?:" + host[i:], "*.:"}, nil
	}
	return []string{"*.:"}, nil
}
