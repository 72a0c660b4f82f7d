// Package tai64n handles djb's TAI64N labels: 8 bytes of TAI64 seconds and 4
// of nanoseconds, big-endian, written as "@" and 24 lowercase hex digits.
// Like daemontools it ignores leap seconds: label = 2^62 + 10 + unix seconds.
package tai64n

import (
	"encoding/binary"
	"time"
)

// Base is the TAI64 label of the Unix epoch, as daemontools computes it.
const Base = uint64(1)<<62 + 10

// Label is a packed TAI64N label.
type Label [12]byte

// Now is the label of the current time.
func Now() Label { return FromTime(time.Now()) }

// FromTime labels t as daemontools does: the nanosecond field is
// microseconds*1000+500, since it reads the clock with gettimeofday.
func FromTime(t time.Time) Label {
	var l Label
	binary.BigEndian.PutUint64(l[:8], Base+uint64(t.Unix()))
	binary.BigEndian.PutUint32(l[8:], uint32(t.Nanosecond()/1000*1000+500))
	return l
}

// Time is the moment l names.
func (l Label) Time() time.Time {
	sec := int64(binary.BigEndian.Uint64(l[:8]) - Base)
	return time.Unix(sec, int64(binary.BigEndian.Uint32(l[8:])))
}

const hexdigits = "0123456789abcdef"

// AppendText appends "@" and 24 lowercase hex digits.
func (l Label) AppendText(b []byte) []byte {
	b = append(b, '@')
	for _, c := range l {
		b = append(b, hexdigits[c>>4], hexdigits[c&15])
	}
	return b
}

func (l Label) String() string { return string(l.AppendText(make([]byte, 0, 25))) }

// Parse reads "@" and exactly 24 lowercase hex digits at the start of s.
// It reports the bytes used (25) and false when s does not start with one.
func Parse(s []byte) (Label, int, bool) {
	var l Label
	if len(s) < 25 || s[0] != '@' {
		return l, 0, false
	}
	for i := 0; i < 12; i++ {
		hi, ok1 := unhex(s[1+2*i])
		lo, ok2 := unhex(s[2+2*i])
		if !ok1 || !ok2 {
			return l, 0, false
		}
		l[i] = hi<<4 | lo
	}
	return l, 25, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// FormatLocal appends t as tai64nlocal prints it, "YYYY-MM-DD HH:MM:SS." and
// the nanoseconds in nine digits, in t's location. The year is not padded.
func FormatLocal(b []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = appendInt(b, y, 1)
	b = append(b, '-')
	b = appendInt(b, int(mo), 2)
	b = append(b, '-')
	b = appendInt(b, d, 2)
	b = append(b, ' ')
	b = appendInt(b, h, 2)
	b = append(b, ':')
	b = appendInt(b, mi, 2)
	b = append(b, ':')
	b = appendInt(b, s, 2)
	b = append(b, '.')
	return appendInt(b, t.Nanosecond(), 9)
}

// appendInt appends n in decimal, zero-padded to width digits.
func appendInt(b []byte, n, width int) []byte {
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	var buf [20]byte
	i := len(buf)
	for n >= 10 || width > 1 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		width--
	}
	i--
	buf[i] = byte('0' + n)
	return append(b, buf[i:]...)
}

// PackTAI64 is the 8-byte TAI64 label of a Unix time (supervise's status).
func PackTAI64(unixSec int64) [8]byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], Base+uint64(unixSec))
	return b
}

// UnpackTAI64 is the Unix time of an 8-byte TAI64 label.
func UnpackTAI64(b [8]byte) int64 {
	return int64(binary.BigEndian.Uint64(b[:]) - Base)
}
