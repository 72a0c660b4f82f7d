package smtpd

import (
	"bytes"
	"testing"
)

// refBlast is the spec's DATA table (§2.10.2) and hop rule (§2.10.4)
// written the slow, obvious way: one byte at a time, no fast paths.
func refBlast(in []byte, strict bool) (stored []byte, hops, used int, end bool, bad bool) {
	state := stBOL
	inHeader := true
	var line []byte // raw bytes of the current header line so far
	for i, c := range in {
		if inHeader {
			line = append(line, c)
			n := len(line)
			if n == 8 && bytes.EqualFold(line, []byte("received")) && asciiCaseOnly(line, "received") {
				hops++
			}
			if n == 9 && asciiCaseOnly(line, "delivered") {
				hops++
			}
			if n == 2 && line[0] == '\r' && line[1] == '\n' {
				inHeader = false
			}
			if c == '\n' {
				line = line[:0]
			}
		}
		switch state {
		case stMid, stBOL, stDot:
			if c == '\n' {
				return stored, hops, i, false, true
			}
		}
		switch state {
		case stMid:
			if c == '\r' {
				state = stCR
			} else {
				stored = append(stored, c)
			}
		case stBOL:
			switch c {
			case '.':
				state = stDot
			case '\r':
				state = stCR
			default:
				stored, state = append(stored, c), stMid
			}
		case stDot:
			if c == '\r' {
				state = stDotCR
			} else {
				stored, state = append(stored, c), stMid
			}
		case stDotCR:
			if c == '\n' {
				return stored, hops, i + 1, true, false
			}
			if strict {
				return stored, hops, i, false, true
			}
			stored = append(stored, '.', '\r')
			if c == '\r' {
				state = stCR
			} else {
				stored, state = append(stored, c), stMid
			}
		case stCR:
			switch {
			case c == '\n':
				stored, state = append(stored, '\n'), stBOL
			case strict:
				return stored, hops, i, false, true
			case c == '\r':
				stored = append(stored, '\r')
			default:
				stored, state = append(stored, '\r', c), stMid
			}
		}
	}
	return stored, hops, len(in), false, false
}

// asciiCaseOnly: each byte equals the word's byte in lower or upper case.
func asciiCaseOnly(b []byte, word string) bool {
	for i := range b {
		if b[i] != word[i] && b[i] != word[i]-'a'+'A' {
			return false
		}
	}
	return true
}

// FuzzDataMachine feeds the engine's DATA machine in chunks cut at
// arbitrary points and compares it with refBlast.
func FuzzDataMachine(f *testing.F) {
	f.Add([]byte("Received: x\r\nDelivered-To: y\r\n\r\n..a\r\n.\rX\r\nb\r.\r\n.\r\nNEXT"), uint8(3), false)
	f.Add([]byte("a\r\n.\n"), uint8(1), true)
	f.Add([]byte("RECEIVED\r\nreCEIVED\r\n\r\nx\r\r\n.\r\n"), uint8(7), false)
	f.Fuzz(func(t *testing.T, in []byte, cut uint8, strict bool) {
		wantStored, wantHops, wantUsed, wantEnd, wantBad := refBlast(in, strict)
		m := newDataMachine(strict)
		var got bytes.Buffer
		sink := newDataSink(&got, 0)
		step := int(cut)%13 + 1
		used, end, bad := 0, false, false
		for used < len(in) && !end && !bad {
			hi := used + step
			if hi > len(in) {
				hi = len(in)
			}
			n, done, err := m.feed(in[used:hi], sink)
			used += n
			end, bad = done, err != nil
		}
		sink.flush()
		if bad != wantBad || end != wantEnd || m.hops != wantHops || !bytes.Equal(got.Bytes(), wantStored) {
			t.Fatalf("in %q: got stored %q hops %d end %v bad %v; want %q %d %v %v",
				in, got.Bytes(), m.hops, end, bad, wantStored, wantHops, wantEnd, wantBad)
		}
		if end && used != wantUsed {
			t.Fatalf("in %q: consumed %d, want %d", in, used, wantUsed)
		}
	})
}
