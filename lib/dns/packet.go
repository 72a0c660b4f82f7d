package dns

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// Record types and class used here.
const (
	typeA    = 1
	typePTR  = 12
	typeTXT  = 16
	typeAAAA = 28
	classIN  = 1
)

// Response packets are untrusted: every read below is checked against the
// packet length, and a malformed packet is EPROTO ("protocol error"), as in
// djb's dns_packet functions.

// skipName returns the position after the name at pos.
func skipName(p []byte, pos int) (int, error) {
	for pos < len(p) {
		c := p[pos]
		pos++
		if c >= 192 {
			return pos + 1, nil
		}
		if c >= 64 {
			break
		}
		if c == 0 {
			return pos, nil
		}
		pos += int(c)
	}
	return 0, unix.EPROTO
}

// getName expands the (possibly compressed) name at pos into wire format
// and returns it with the position after it. Pointer loops are cut off
// after 1000 steps.
func getName(p []byte, pos int) ([]byte, int, error) {
	name := make([]byte, 0, 64)
	loops := 0
	after := 0
	state := 0
	for {
		if pos >= len(p) {
			return nil, 0, unix.EPROTO
		}
		c := p[pos]
		pos++
		if loops++; loops >= 1000 {
			return nil, 0, unix.EPROTO
		}
		if state > 0 {
			if len(name)+1 > maxName {
				return nil, 0, unix.EPROTO
			}
			name = append(name, c)
			state--
			continue
		}
		for c >= 192 {
			if pos >= len(p) {
				return nil, 0, unix.EPROTO
			}
			where := int(c-192)<<8 | int(p[pos])
			pos++
			if after == 0 {
				after = pos
			}
			pos = where
			if pos >= len(p) {
				return nil, 0, unix.EPROTO
			}
			c = p[pos]
			pos++
			if loops++; loops >= 1000 {
				return nil, 0, unix.EPROTO
			}
		}
		if c >= 64 || len(name)+1 > maxName {
			return nil, 0, unix.EPROTO
		}
		name = append(name, c)
		if c == 0 {
			break
		}
		state = int(c)
	}
	if after != 0 {
		return name, after, nil
	}
	return name, pos, nil
}

// answers walks the answer section of p and calls f with each record's
// type, class and data offset/length. Like djb's parsers it trusts the
// header's answer count and stops with EPROTO when the packet runs out.
// f returns false to stop early.
func answers(p []byte, f func(typ, class uint16, pos, n int) (bool, error)) error {
	if len(p) < 12 {
		return unix.EPROTO
	}
	count := int(binary.BigEndian.Uint16(p[6:]))
	pos, err := skipName(p, 12)
	if err != nil {
		return err
	}
	pos += 4
	for ; count > 0; count-- {
		if pos, err = skipName(p, pos); err != nil {
			return err
		}
		if pos+10 > len(p) {
			return unix.EPROTO
		}
		typ := binary.BigEndian.Uint16(p[pos:])
		class := binary.BigEndian.Uint16(p[pos+2:])
		n := int(binary.BigEndian.Uint16(p[pos+8:]))
		pos += 10
		more, err := f(typ, class, pos, n)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
		pos += n
	}
	return nil
}

// parseA returns the A records of the answer section, in packet order.
func parseA(p []byte) ([][4]byte, error) {
	var out [][4]byte
	err := answers(p, func(typ, class uint16, pos, n int) (bool, error) {
		if typ == typeA && class == classIN && n == 4 {
			if pos+4 > len(p) {
				return false, unix.EPROTO
			}
			out = append(out, [4]byte(p[pos:pos+4]))
		}
		return true, nil
	})
	return out, err
}

// parseAAAA returns the AAAA records of the answer section.
func parseAAAA(p []byte) ([][16]byte, error) {
	var out [][16]byte
	err := answers(p, func(typ, class uint16, pos, n int) (bool, error) {
		if typ == typeAAAA && class == classIN && n == 16 {
			if pos+16 > len(p) {
				return false, unix.EPROTO
			}
			out = append(out, [16]byte(p[pos:pos+16]))
		}
		return true, nil
	})
	return out, err
}

// parseTXT concatenates the character-strings of every TXT answer, bytes
// outside 32..126 shown as '?', as djb's dns_txt_packet.
func parseTXT(p []byte) (string, error) {
	var out []byte
	err := answers(p, func(typ, class uint16, pos, n int) (bool, error) {
		if typ != typeTXT || class != classIN {
			return true, nil
		}
		if pos+n > len(p) {
			return false, unix.EPROTO
		}
		left := 0
		for _, c := range p[pos : pos+n] {
			if left == 0 {
				left = int(c)
				continue
			}
			left--
			if c < 32 || c > 126 {
				c = '?'
			}
			out = append(out, c)
		}
		return true, nil
	})
	return string(out), err
}

// parsePTR returns the first PTR answer as a dotted name, "" when none.
func parsePTR(p []byte) (string, error) {
	var out string
	err := answers(p, func(typ, class uint16, pos, n int) (bool, error) {
		if typ != typePTR || class != classIN {
			return true, nil
		}
		name, _, err := getName(p, pos)
		if err != nil {
			return false, err
		}
		out = toDot(name)
		return false, nil
	})
	return out, err
}

// header flags and checks used by the transport.

func truncated(p []byte) bool { return len(p) < 12 || p[2]&2 != 0 }

// serverFailed is any rcode but NOERROR and NXDOMAIN.
func serverFailed(p []byte) bool {
	if len(p) < 12 {
		return true
	}
	rcode := p[3] & 15
	return rcode != 0 && rcode != 3
}

// relevant says whether p answers query q: same id, one question, same
// name (any case), type and class.
func relevant(p, q []byte) bool {
	if len(p) < 12 || p[0] != q[0] || p[1] != q[1] || p[4] != 0 || p[5] != 1 {
		return false
	}
	name, pos, err := getName(p, 12)
	if err != nil || !nameEqual(name, q[12:]) || pos+4 > len(p) {
		return false
	}
	qn := nameLen(q[12:])
	return p[pos] == q[12+qn] && p[pos+1] == q[13+qn] && p[pos+2] == 0 && p[pos+3] == classIN
}

// buildQuery makes a recursive query for name (wire format) and qtype; the
// id bytes are filled in by the transport.
func buildQuery(name []byte, qtype uint16) []byte {
	q := make([]byte, 12, 12+len(name)+4)
	q[2] = 1 // RD
	q[5] = 1 // QDCOUNT
	q = append(q, name...)
	return append(q, byte(qtype>>8), byte(qtype), 0, classIN)
}
