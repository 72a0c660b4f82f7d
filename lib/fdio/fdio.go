// Package fdio reads and writes with raw descriptors, where the programs
// keep no *os.File (per-connection code, the in-process store, files read
// at every start).
package fdio

import (
	"errors"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// WriteAll writes all of b to fd, retrying interrupted and short writes.
// A write that takes nothing and reports no error (which would otherwise
// loop forever) is EIO.
func WriteAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return unix.EIO
		}
		b = b[n:]
	}
	return nil
}

// OpenRead opens path read-only, close-on-exec and non-blocking, as djb's
// open_read (O_NDELAY): a FIFO put where a file was expected then opens at
// once instead of waiting for a writer. Errors are *os.PathError.
func OpenRead(path string) (int, error) {
	for {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return fd, nil
	}
}

// ReadFile reads a whole small file others may have replaced, as djb's
// openreadclose: opened by OpenRead, so a FIFO with no writer reads as
// empty and one held by an idle writer fails with EAGAIN (never retried,
// never waited for). A missing file gives (nil, false, nil); more than max
// bytes is EFBIG. Plain system calls: an *os.File costs more system calls
// and would park in the poller on EAGAIN.
func ReadFile(path string, max int) (data []byte, exists bool, err error) {
	fd, err := OpenRead(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false, nil
		}
		return nil, false, err
	}
	defer unix.Close(fd)
	buf := make([]byte, 0, 512)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, false, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return buf, true, nil
		}
		buf = buf[:len(buf)+n]
		if len(buf) > max {
			return nil, false, &os.PathError{Op: "read", Path: path, Err: unix.EFBIG}
		}
	}
}
