// Package svstatus owns supervise's files that other programs read: the
// 18-byte supervise/status record and the control and ok fifos.
//
// The record is daemontools 0.76's, byte for byte, so that C and Go svc,
// svstat, svok and supervise can be mixed on one tree.
package svstatus

import (
	"encoding/binary"
	"errors"
	"os"

	"tinymx/lib/atomicfile"
	"tinymx/lib/tai64n"
)

// Size is the length of the status record.
const Size = 18

// Want bytes (offset 17).
const (
	WantUp   = 'u'
	WantDown = 'd'
	WantOnce = 0 // svc -o: run once, no automatic restart
)

// Status is one decoded record.
type Status struct {
	When   tai64n.Label // last pid change
	Pid    uint32       // 0 when ./run is not running
	Paused byte         // 1 after svc -p while running
	Want   byte         // WantUp, WantDown or WantOnce
}

// Encode packs s as supervise writes it: TAI64N big-endian, pid
// little-endian (daemontools stores it in host order on a little-endian
// machine, and every reader since depends on that layout).
func (s Status) Encode() [Size]byte {
	var b [Size]byte
	copy(b[:12], s.When[:])
	binary.LittleEndian.PutUint32(b[12:16], s.Pid)
	b[16] = s.Paused
	b[17] = s.Want
	return b
}

// ErrBadFormat is a record shorter than 18 bytes; svstat calls it "bad format".
var ErrBadFormat = errors.New("bad format")

// Decode unpacks a record; extra bytes are ignored, as svstat does.
func Decode(b []byte) (Status, error) {
	var s Status
	if len(b) < Size {
		return s, ErrBadFormat
	}
	copy(s.When[:], b[:12])
	s.Pid = binary.LittleEndian.Uint32(b[12:16])
	s.Paused = b[16]
	s.Want = b[17]
	return s, nil
}

// Paths relative to the service directory.
const (
	Dir        = "supervise"
	LockPath   = "supervise/lock"
	Control    = "supervise/control"
	OK         = "supervise/ok"
	StatusPath = "supervise/status"
	StatusNew  = "supervise/status.new"
)

// WriteStep says which step of a status write failed, for supervise's
// warnings (each has its own wording).
type WriteStep int

const (
	StepOpen WriteStep = iota + 1
	StepWrite
	StepPartial
	StepRename
)

// WriteError is a failed status write.
type WriteError struct {
	Step WriteStep
	Err  error
}

func (e *WriteError) Error() string { return "status write failed" }
func (e *WriteError) Unwrap() error { return e.Err }

// Write replaces supervise/status (relative to the current directory) with
// s: one write to status.new, then rename, so a reader sees the old record
// or the new one, never a torn one. No fsync, as the original: the record
// is rewritten on every state change and is worthless after a reboot.
func Write(s Status) error {
	b := s.Encode()
	f, err := atomicfile.Create(StatusPath, StatusNew, 0644)
	if err != nil {
		return &WriteError{StepOpen, err}
	}
	f.NoSync = true
	n, err := f.Write(b[:])
	if err != nil {
		f.File().Close()
		return &WriteError{StepWrite, err}
	}
	if n < Size {
		f.File().Close()
		return &WriteError{StepPartial, nil}
	}
	if err := f.Commit(); err != nil {
		var le *os.LinkError
		if errors.As(err, &le) {
			return &WriteError{StepRename, err}
		}
		return &WriteError{StepWrite, err}
	}
	return nil
}
