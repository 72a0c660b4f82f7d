// Package lock takes the BSD flock(2) locks daemontools uses. They must be
// flock, not POSIX record locks, or C and Go programs would not exclude each
// other on the same supervise/lock or multilog lock file.
package lock

import (
	"os"

	"golang.org/x/sys/unix"
)

// OpenAppend opens path as djb's open_append: write-only, non-blocking,
// appending, created with mode 0600.
func OpenAppend(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|unix.O_NONBLOCK, 0600)
}

// Exclusive waits for an exclusive lock on f.
func Exclusive(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			return err
		}
	}
}

// TryExclusive takes an exclusive lock on f or fails at once with
// EWOULDBLOCK ("temporary failure") when another process holds it.
func TryExclusive(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err != unix.EINTR {
			return err
		}
	}
}
