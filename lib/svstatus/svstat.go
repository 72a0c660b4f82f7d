package svstatus

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"tinymx/lib/strerr"
	"tinymx/lib/tai64n"
)

// AppendLine appends svstat's text for the service in the current
// directory (without the "DIR: " prefix and the newline). now is the
// current TAI64 seconds label value. rec is the record buffer, kept by the
// caller from one service to the next: daemontools' svstat reads every
// status file into one static buffer, and what a failed read leaves there
// is what it prints (see below).
func AppendLine(b []byte, now uint64, rec *[Size]byte) []byte {
	normallyUp := true
	if _, err := os.Stat("down"); err == nil {
		normallyUp = false
	} else if !errors.Is(err, unix.ENOENT) {
		return append(append(b, "unable to stat down: "...), strerr.Errstr(err)...)
	}
	if err := ProbeOK(); err != nil {
		if IsNotRunning(err) {
			return append(b, "supervise not running"...)
		}
		return append(append(b, "unable to open supervise/ok: "...), strerr.Errstr(err)...)
	}
	fd, err := unix.Open(StatusPath, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return append(append(b, "unable to open supervise/status: "...), strerr.Errstr(err)...)
	}
	n, err := unix.Read(fd, rec[:])
	unix.Close(fd)
	if err == nil && n < Size {
		return append(b, "unable to read supervise/status: bad format"...)
	}
	// A failed read (status is a directory: EISDIR) is no error to
	// daemontools' svstat: it compares read's -1 with the record size as
	// unsigned, so it goes on and prints the buffer as the last read left
	// it: the record of an earlier argument, the head of a short one laid
	// over it, or zeros. Interchangeable output means the same here.
	s, _ := Decode(rec[:])
	return Format(b, s, normallyUp, now)
}

// NowTAI64 is the current time as a TAI64 seconds value.
func NowTAI64() uint64 {
	l := tai64n.Now()
	return binary.BigEndian.Uint64(l[:8])
}

// Format appends the state words of s as svstat prints them.
func Format(b []byte, s Status, normallyUp bool, now uint64) []byte {
	when := binary.BigEndian.Uint64(s.When[:8])
	if now < when {
		when = now
	}
	if s.Pid != 0 {
		b = append(b, "up (pid "...)
		b = strconv.AppendUint(b, uint64(s.Pid), 10)
		b = append(b, ") "...)
	} else {
		b = append(b, "down "...)
	}
	// svstat passes the difference through a double; huge values round.
	b = appendDouble(b, float64(now-when))
	b = append(b, " seconds"...)
	if s.Pid != 0 && !normallyUp {
		b = append(b, ", normally down"...)
	}
	if s.Pid == 0 && normallyUp {
		b = append(b, ", normally up"...)
	}
	if s.Pid != 0 && s.Paused != 0 {
		b = append(b, ", paused"...)
	}
	if s.Pid == 0 && s.Want == WantUp {
		b = append(b, ", want up"...)
	}
	if s.Pid != 0 && s.Want == WantDown {
		b = append(b, ", want down"...)
	}
	return b
}

// appendDouble prints a non-negative integral double as svstat's
// buffer_put of the unsigned long conversion does.
func appendDouble(b []byte, d float64) []byte {
	if d >= math.MaxUint64 {
		return strconv.AppendUint(b, math.MaxUint64, 10)
	}
	return strconv.AppendUint(b, uint64(d), 10)
}
