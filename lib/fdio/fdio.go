// Package fdio writes to raw descriptors, where the programs keep no
// *os.File (per-connection code, the in-process store).
package fdio

import "golang.org/x/sys/unix"

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
