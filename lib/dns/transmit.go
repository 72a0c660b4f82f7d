package dns

import (
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// udpMax is the largest UDP answer accepted; a bigger one is ignored, as
// djb's resolver (which never sends EDNS0) does.
const udpMax = 512

// Recursive queries go through rounds of UDP attempts over every server,
// waiting 3, 11 and 45 seconds per attempt (djb's schedule minus its first
// 1-second round, which only iterative queries use).
var udpTimeouts = []time.Duration{3 * time.Second, 11 * time.Second, 45 * time.Second}

// tcpTimeout bounds each TCP phase (connect+send, then the answer).
var tcpTimeout = 10 * time.Second

// dnsPort is 53; tests never change it: DNSCACHEIP takes addresses only.
const dnsPort = 53

// errnoOf extracts the errno from a net error; timeouts are ETIMEDOUT.
func errnoOf(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return unix.ETIMEDOUT
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		return en
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return unix.EIO
	}
	return unix.EIO
}

// resolve sends query q (built by buildQuery) to the configured servers and
// returns the first acceptable answer.
func resolve(q []byte) ([]byte, error) {
	servers, err := serverCache.get(loadServers)
	if err != nil {
		return nil, err
	}
	return exchange(servers, q)
}

// exchange follows djb's dns_transmit for a recursive query: UDP to each
// server in turn per round; an answer with TC set switches to TCP for good;
// SERVFAIL-like answers and refused ports move on to the next server,
// except in the second round, where the client keeps waiting out the full
// timeout. The error is the last failure seen (ETIMEDOUT, EAGAIN for a
// failing server, ECONNREFUSED, ...).
func exchange(servers [][4]byte, q []byte) ([]byte, error) {
	var last error = unix.EIO
	for round, timeout := range udpTimeouts {
		loop := round + 1 // djb's udploop number
		for _, s := range servers {
			if s == [4]byte{} {
				continue
			}
			p, tcp, err := udpTry(s, q, timeout, loop)
			if tcp {
				return tcpExchange(servers, q)
			}
			if err == nil {
				return p, nil
			}
			last = err
		}
	}
	return nil, last
}

func setID(q []byte) {
	id := rand.Uint32()
	q[0], q[1] = byte(id), byte(id>>8)
}

func udpTry(s [4]byte, q []byte, timeout time.Duration, loop int) ([]byte, bool, error) {
	setID(q)
	conn, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.AddrFrom4(s), dnsPort)))
	if err != nil {
		return nil, false, errnoOf(err)
	}
	defer conn.Close()
	if _, err := conn.Write(q); err != nil {
		return nil, false, errnoOf(err)
	}
	deadline := time.Now().Add(timeout)
	conn.SetReadDeadline(deadline)
	buf := make([]byte, udpMax+1)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			e := errnoOf(err)
			if e == unix.ECONNREFUSED && loop == 2 && time.Now().Before(deadline) {
				continue
			}
			return nil, false, e
		}
		p := buf[:n]
		if n > udpMax || !relevant(p, q) {
			continue
		}
		if truncated(p) {
			return nil, true, nil
		}
		if serverFailed(p) {
			if loop == 2 {
				continue
			}
			return nil, false, unix.EAGAIN
		}
		return append([]byte(nil), p...), false, nil
	}
}

// tcpExchange asks each server over TCP in turn until one answers well.
func tcpExchange(servers [][4]byte, q []byte) ([]byte, error) {
	var last error = unix.EIO
	for _, s := range servers {
		if s == [4]byte{} {
			continue
		}
		p, err := tcpTry(s, q)
		if err == nil {
			return p, nil
		}
		last = err
	}
	return nil, last
}

func tcpTry(s [4]byte, q []byte) ([]byte, error) {
	setID(q)
	addr := netip.AddrPortFrom(netip.AddrFrom4(s), dnsPort).String()
	conn, err := net.DialTimeout("tcp4", addr, tcpTimeout)
	if err != nil {
		return nil, errnoOf(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(tcpTimeout))
	msg := make([]byte, 2, 2+len(q))
	binary.BigEndian.PutUint16(msg, uint16(len(q)))
	if _, err := conn.Write(append(msg, q...)); err != nil {
		return nil, errnoOf(err)
	}
	conn.SetDeadline(time.Now().Add(tcpTimeout))
	var l [2]byte
	if _, err := io.ReadFull(conn, l[:]); err != nil {
		return nil, errnoOf(err)
	}
	// The length field caps the allocation at 64 KiB.
	p := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(conn, p); err != nil {
		return nil, errnoOf(err)
	}
	if !relevant(p, q) || truncated(p) {
		return nil, unix.EIO
	}
	if serverFailed(p) {
		return nil, unix.EAGAIN
	}
	return p, nil
}
