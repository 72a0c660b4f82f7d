package main

import (
	"bytes"
	"errors"
	"io"
	"time"

	"tinymx/lib/tai64n"
)

// maxStamp bounds how many bytes of one label are kept for copying the line
// through unchanged when the label cannot be converted. The arithmetic
// below is exact for any length (it wraps as the original's does).
const maxStamp = 4096

// filter is tai64nlocal's state machine, fed any chunks of input.
type filter struct {
	loc *time.Location
	out []byte

	inLine  bool   // inside a line, copying
	inStamp bool   // after "@", reading lowercase hex digits
	raw     []byte // the label's bytes so far, "@" included
	secs    uint64 // all digits but the last eight, wrapping
	nanos   uint32 // the last eight digits

	// The formatted "YYYY-MM-DD HH:MM:SS." of the last second converted:
	// log lines come many to a second.
	lastSecs   int64
	lastPrefix []byte
	haveLast   bool
}

func newFilter(loc *time.Location) *filter {
	return &filter{loc: loc, out: make([]byte, 0, 80<<10), raw: make([]byte, 0, 32)}
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) }

// Write processes one chunk of input, appending to f.out.
func (f *filter) Write(p []byte) {
	for len(p) > 0 {
		switch {
		case f.inStamp:
			i := 0
			for ; i < len(p); i++ {
				c := p[i]
				var u byte
				switch {
				case c >= '0' && c <= '9':
					u = c - '0'
				case c >= 'a' && c <= 'f':
					u = c - 'a' + 10
				default:
					goto end
				}
				f.secs = f.secs<<4 + uint64(f.nanos>>28)
				f.nanos = f.nanos<<4 + uint32(u)
				if len(f.raw) < maxStamp {
					f.raw = append(f.raw, c)
				}
			}
			return
		end:
			p = p[i:]
			f.inStamp = false
			f.inLine = true
			f.stamp()
		case f.inLine:
			if i := bytes.IndexByte(p, '\n'); i >= 0 {
				f.out = append(f.out, p[:i+1]...)
				p = p[i+1:]
				f.inLine = false
			} else {
				f.out = append(f.out, p...)
				return
			}
		case p[0] == '@':
			f.inStamp = true
			f.raw = append(f.raw[:0], '@')
			f.secs, f.nanos = 0, 0
			p = p[1:]
		default:
			f.inLine = true
		}
	}
}

// TAI64 label of the Unix epoch, as daemontools computes it (no leap seconds).
const base = uint64(1)<<62 + 10

// Years outside this range are copied through unchanged: before year 0
// the original prints the year as a huge unsigned number, past 2^31-1 it
// crashes or wraps, and from about year 5,881,000 on (2^31 days after 1970)
// glibc stops applying daylight saving rules, so no output there is right.
const (
	minYear = 0
	maxYear = 5881000
)

// stamp appends the converted label, or the label's own bytes when it
// names no time the original could print.
func (f *filter) stamp() {
	secs := int64(f.secs - base)
	if !f.haveLast || secs != f.lastSecs {
		if !f.format(secs) {
			f.out = append(f.out, f.raw...)
			return
		}
	}
	f.out = append(f.out, f.lastPrefix...)
	f.out = appendNanos(f.out, f.nanos)
}

// format caches the date and time of secs; false when out of range.
// Go's time arithmetic is exact well beyond the years allowed here.
func (f *filter) format(secs int64) bool {
	const limit = int64(1) << 48 // about 8.9e6 years either way
	if secs > limit || secs < -limit {
		return false
	}
	t := time.Unix(secs, 0).In(f.loc)
	if y := t.Year(); y < minYear || y > maxYear {
		return false
	}
	b := tai64n.FormatLocal(f.lastPrefix[:0], t)
	f.lastPrefix = b[:len(b)-9] // drop the nine zero nanoseconds
	f.lastSecs = secs
	f.haveLast = true
	return true
}

// appendNanos prints n zero-padded to nine digits; a field over 999999999
// gets ten digits, as the original prints it.
func appendNanos(b []byte, n uint32) []byte {
	var d [10]byte
	i := len(d)
	for j := 0; j < 9 || n > 0; j++ {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, d[i:]...)
}
