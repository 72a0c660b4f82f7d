package main

import (
	"encoding/binary"
	"os"
	"time"
)

// localZone is the C library's local time zone. Go's time.Local already
// reads $TZ and /etc/localtime the same way, except that it does not know
// POSIX rule strings such as TZ="<+0330>-3:30" or "AAA3BBB,M3.2.0,M11.1.0",
// which glibc accepts when no zone file has that name: for those we build
// a zone with no transitions whose rule string covers all time, as glibc does.
func localZone() *time.Location {
	tz, ok := os.LookupEnv("TZ")
	if !ok || tz == "" || tz[0] == ':' || tz == "UTC" {
		return time.Local
	}
	if tz[0] == '/' {
		if _, err := os.Stat(tz); err == nil {
			return time.Local
		}
	} else if _, err := time.LoadLocation(tz); err == nil {
		return time.Local
	}
	rules, err := time.LoadLocationFromTZData(tz, ruleTZif(tz, nil))
	if err != nil {
		return time.Local
	}
	// glibc computes a rule's change times for a year before 1970 as if
	// they fell in 1970, so every earlier moment is before both changes:
	// standard time, or daylight time where the rule's summer spans the
	// new year (southern hemisphere). Reproduce that with one transition
	// at the epoch, before which that fixed zone applies.
	jan := time.Date(1971, 1, 15, 12, 0, 0, 0, rules)
	name, off := jan.Zone()
	before := &fixed{name: name, offset: int32(off), dst: jan.IsDST()}
	if loc, err := time.LoadLocationFromTZData(tz, ruleTZif(tz, before)); err == nil {
		return loc
	}
	return rules
}

// fixed is one local time type of a TZif file.
type fixed struct {
	name   string
	offset int32
	dst    bool
}

// ruleTZif is a version 2 TZif file whose footer rule tz covers all time,
// or, when before is given, all time from the epoch on, with before in
// force until then.
func ruleTZif(tz string, before *fixed) []byte {
	var b []byte
	types := []fixed{{name: "UTC"}}
	if before != nil {
		types = []fixed{*before, {name: "UTC"}}
	}
	var chars []byte
	block := func(timeSize int) {
		b = append(b, "TZif2"...)
		b = append(b, make([]byte, 15)...)
		chars = chars[:0]
		for _, t := range types {
			chars = append(append(chars, t.name...), 0)
		}
		timecnt := uint32(0)
		if before != nil {
			timecnt = 1
		}
		// isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
		for _, n := range []uint32{0, 0, 0, timecnt, uint32(len(types)), uint32(len(chars))} {
			b = binary.BigEndian.AppendUint32(b, n)
		}
		if before != nil {
			b = append(b, make([]byte, timeSize)...) // the epoch
			b = append(b, 1)                         // switches to type 1
		}
		idx := 0
		for _, t := range types {
			b = binary.BigEndian.AppendUint32(b, uint32(t.offset))
			dst := byte(0)
			if t.dst {
				dst = 1
			}
			b = append(b, dst, byte(idx))
			idx += len(t.name) + 1
		}
		b = append(b, chars...)
	}
	block(4) // version 1 data
	block(8) // version 2 data
	b = append(b, '\n')
	b = append(b, tz...)
	return append(b, '\n')
}
