// Package dnstest runs a tiny authoritative-looking DNS server inside a
// test, on UDP and TCP port 53 of a loopback address, so that programs
// using tinymx/lib/dns (or the C ucspi-tcp tools) can be pointed at it with
// DNSCACHEIP. Binding port 53 needs root, which the test machines have.
package dnstest

import (
	"encoding/binary"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	typeA    = 1
	typePTR  = 12
	typeTXT  = 16
	typeAAAA = 28
)

type rr struct {
	typ  uint16
	data []byte
}

// Server is a running test DNS server.
type Server struct {
	ip      string
	mu      sync.Mutex
	records map[string][]rr
	fail    map[string]bool
	trunc   map[string]bool
	drop    map[string]bool
	queries atomic.Int64
	udp     *net.UDPConn
	conns   map[net.Conn]bool
	closed  bool
	tcp     *net.TCPListener
	wg      sync.WaitGroup
}

// Start serves on ip:53 (UDP and TCP) until the test ends.
func Start(t testing.TB, ip string) *Server {
	t.Helper()
	s, err := listen(ip)
	if err != nil {
		t.Fatalf("dnstest: cannot listen on %s:53: %v", ip, err)
	}
	t.Cleanup(s.Close)
	return s
}

// StartFree serves on the first free address of 127.0.53.1-254 (a random
// starting point), so parallel tests do not collide.
func StartFree(t testing.TB) *Server {
	t.Helper()
	start := rand.IntN(254)
	for k := 0; k < 254; k++ {
		ip := "127.0.53." + itoa(1+(start+k)%254)
		if s, err := listen(ip); err == nil {
			t.Cleanup(s.Close)
			return s
		}
	}
	t.Fatalf("dnstest: no free address in 127.0.53.0/24")
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }

func listen(ip string) (*Server, error) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return nil, err
	}
	ap := netip.AddrPortFrom(a, 53)
	u, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
	if err != nil {
		return nil, err
	}
	l, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(ap))
	if err != nil {
		u.Close()
		return nil, err
	}
	s := &Server{ip: ip, udp: u, tcp: l, records: map[string][]rr{},
		conns: map[net.Conn]bool{}, fail: map[string]bool{}, trunc: map[string]bool{}, drop: map[string]bool{}}
	s.wg.Add(2)
	go s.serveUDP()
	go s.serveTCP()
	return s, nil
}

// IP is the address the server listens on (the value for DNSCACHEIP).
func (s *Server) IP() string { return s.ip }

// Close stops the server and waits for its goroutines.
func (s *Server) Close() {
	s.udp.Close()
	s.tcp.Close()
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Queries is the number of queries received so far (UDP and TCP).
func (s *Server) Queries() int { return int(s.queries.Load()) }

func key(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

func (s *Server) add(name string, r rr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(name)
	s.records[k] = append(s.records[k], r)
}

// AddA adds an A record ("1.2.3.4").
func (s *Server) AddA(name, ip string) {
	a := netip.MustParseAddr(ip).As4()
	s.add(name, rr{typeA, a[:]})
}

// AddAAAA adds an AAAA record.
func (s *Server) AddAAAA(name, ip string) {
	a := netip.MustParseAddr(ip).As16()
	s.add(name, rr{typeAAAA, a[:]})
}

// AddPTR adds a PTR record for ip (IPv4 or IPv6) pointing at name.
func (s *Server) AddPTR(ip, name string) {
	s.add(ReverseName(ip), rr{typePTR, wireName(name)})
}

// AddTXT adds one TXT record whose character-strings are parts (a part
// longer than 255 bytes is split).
func (s *Server) AddTXT(name string, parts ...string) {
	var d []byte
	for _, p := range parts {
		for {
			n := min(len(p), 255)
			d = append(d, byte(n))
			d = append(d, p[:n]...)
			p = p[n:]
			if len(p) == 0 {
				break
			}
		}
	}
	s.add(name, rr{typeTXT, d})
}

// AddRaw adds a record of any type with raw data (for odd-record tests).
func (s *Server) AddRaw(name string, typ uint16, data []byte) {
	s.add(name, rr{typ, append([]byte(nil), data...)})
}

// Fail makes every query for name answer SERVFAIL.
func (s *Server) Fail(name string) { s.set(s.fail, name) }

// Truncate makes UDP answers for name carry the TC bit and no records, so
// clients must retry over TCP.
func (s *Server) Truncate(name string) { s.set(s.trunc, name) }

// Drop makes the server ignore queries for name (clients time out).
func (s *Server) Drop(name string) { s.set(s.drop, name) }

func (s *Server) set(m map[string]bool, name string) {
	s.mu.Lock()
	m[key(name)] = true
	s.mu.Unlock()
}

// ReverseName is the in-addr.arpa or ip6.arpa name of ip.
func ReverseName(ip string) string {
	a := netip.MustParseAddr(ip)
	var b strings.Builder
	if a.Is4() {
		v := a.As4()
		for i := 3; i >= 0; i-- {
			b.WriteString(itoa(int(v[i])))
			b.WriteByte('.')
		}
		b.WriteString("in-addr.arpa")
		return b.String()
	}
	const hex = "0123456789abcdef"
	v := a.As16()
	for i := 15; i >= 0; i-- {
		b.WriteByte(hex[v[i]&15])
		b.WriteByte('.')
		b.WriteByte(hex[v[i]>>4])
		b.WriteByte('.')
	}
	b.WriteString("ip6.arpa")
	return b.String()
}

func wireName(name string) []byte {
	var w []byte
	for _, l := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		if l == "" {
			continue
		}
		w = append(w, byte(len(l)))
		w = append(w, l...)
	}
	return append(w, 0)
}

// readName reads an uncompressed question name as a dotted string.
func readName(p []byte, pos int) (string, int, bool) {
	var labels []string
	for {
		if pos >= len(p) {
			return "", 0, false
		}
		n := int(p[pos])
		pos++
		if n == 0 {
			return strings.Join(labels, "."), pos, true
		}
		if n >= 64 || pos+n > len(p) {
			return "", 0, false
		}
		labels = append(labels, string(p[pos:pos+n]))
		pos += n
	}
}

// answer builds the reply to query q; nil means stay silent.
func (s *Server) answer(q []byte, udp bool) []byte {
	s.queries.Add(1)
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:]) != 1 {
		return nil
	}
	name, end, ok := readName(q, 12)
	if !ok || end+4 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[end:])
	k := key(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.drop[k] {
		return nil
	}
	r := make([]byte, 12, 512)
	copy(r, q[:2])
	r[2] = 0x84 | q[2]&1 // QR, AA, RD echoed
	r[3] = 0x80          // RA
	r[5] = 1
	r = append(r, q[12:end+4]...)
	switch recs, found := s.records[k]; {
	case s.fail[k]:
		r[3] |= 2
	case udp && s.trunc[k]:
		r[2] |= 2
	case !found:
		r[3] |= 3
	default:
		n := 0
		for _, rec := range recs {
			if rec.typ != qtype {
				continue
			}
			r = append(r, 0xc0, 12) // pointer to the question name
			r = binary.BigEndian.AppendUint16(r, rec.typ)
			r = binary.BigEndian.AppendUint16(r, 1)
			r = binary.BigEndian.AppendUint32(r, 60)
			r = binary.BigEndian.AppendUint16(r, uint16(len(rec.data)))
			r = append(r, rec.data...)
			n++
		}
		binary.BigEndian.PutUint16(r[6:], uint16(n))
		if udp && len(r) > 512 {
			// Too big for plain UDP: question only, TC set, as a real
			// server answers a client that sends no EDNS0.
			r = r[:end+4]
			r[2] |= 2
			r[6], r[7] = 0, 0
		}
	}
	return r
}

func (s *Server) serveUDP() {
	defer s.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, from, err := s.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		if r := s.answer(buf[:n], true); r != nil {
			s.udp.WriteToUDPAddrPort(r, from)
		}
	}
}

func (s *Server) serveTCP() {
	defer s.wg.Done()
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			for {
				var l [2]byte
				if _, err := io.ReadFull(c, l[:]); err != nil {
					return
				}
				q := make([]byte, binary.BigEndian.Uint16(l[:]))
				if _, err := io.ReadFull(c, q); err != nil {
					return
				}
				r := s.answer(q, false)
				if r == nil {
					return
				}
				c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(r))), r...))
			}
		}()
	}
}
