package svstatus

import (
	"errors"

	"golang.org/x/sys/unix"
)

// ProbeOK opens supervise/ok (relative to the current directory) for
// writing without blocking and closes it again. nil means a supervise is
// alive; unix.ENXIO means the fifo exists but no supervise reads it.
func ProbeOK() error {
	fd, err := unix.Open(OK, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	unix.Close(fd)
	return nil
}

// ControlError tells which step of sending commands failed: svc words the
// open and the write differently.
type ControlError struct {
	Open bool // the open failed (else the write)
	Err  error
}

func (e *ControlError) Error() string { return "control failed" }
func (e *ControlError) Unwrap() error { return e.Err }

// IsNotRunning reports whether err means no supervise reads the fifo:
// ENXIO on opening a fifo for writing without a reader.
func IsNotRunning(err error) bool { return errors.Is(err, unix.ENXIO) }

// SendControl writes cmds to supervise/control (relative to the current
// directory) with one write, as svc does: open non-blocking, so a missing
// supervise is ENXIO rather than a hang, then switch to blocking so the
// write waits for room instead of failing. With no commands nothing is
// written, but the open still tells whether supervise runs.
func SendControl(cmds []byte) error {
	fd, err := unix.Open(Control, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return &ControlError{Open: true, Err: err}
	}
	defer unix.Close(fd)
	if err := unix.SetNonblock(fd, false); err != nil {
		return &ControlError{Err: err}
	}
	if len(cmds) == 0 {
		return nil
	}
	for {
		_, err = unix.Write(fd, cmds)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return &ControlError{Err: err}
	}
	return nil
}
