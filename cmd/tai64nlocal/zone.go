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
	if loc, err := time.LoadLocationFromTZData(tz, ruleOnlyTZif(tz)); err == nil {
		return loc
	}
	return time.Local
}

// ruleOnlyTZif is a version 2 TZif file with one UTC type, no transitions
// and tz as its footer rule.
func ruleOnlyTZif(tz string) []byte {
	var b []byte
	block := func() {
		b = append(b, "TZif2"...)
		b = append(b, make([]byte, 15)...)
		// isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
		for _, n := range []uint32{0, 0, 0, 0, 1, 4} {
			b = binary.BigEndian.AppendUint32(b, n)
		}
		b = append(b, 0, 0, 0, 0, 0, 0) // utoff 0, isdst 0, desigidx 0
		b = append(b, "UTC\x00"...)
	}
	block() // version 1 data
	block() // version 2 data (no 64-bit times, since there are none)
	b = append(b, '\n')
	b = append(b, tz...)
	return append(b, '\n')
}
