package crlf

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// StartedClosed tells whether fd was closed when the program started. The
// Go runtime then opens /dev/null read-write in its place, and a filter
// would copy to or from nothing and exit 0, where the C filter's read or
// write fails with EBADF and it exits 111. A descriptor the user opened on
// /dev/null read-write (<>/dev/null) looks the same; that is the price.
func StartedClosed(fd int) bool {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return true
	}
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	return err == nil && fl&unix.O_ACCMODE == unix.O_RDWR &&
		st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == unix.Mkdev(1, 3)
}

// badFD reads and writes nothing, failing as a closed descriptor does.
type badFD struct{}

func (badFD) Read([]byte) (int, error)  { return 0, unix.EBADF }
func (badFD) Write([]byte) (int, error) { return 0, unix.EBADF }

// Stdio returns the filter's input and output: os.Stdin and os.Stdout, or
// a closed descriptor's failure where the program started with fd 0 or 1
// closed (see StartedClosed).
func Stdio() (io.Reader, io.Writer) {
	var in io.Reader = os.Stdin
	var out io.Writer = os.Stdout
	if StartedClosed(0) {
		in = badFD{}
	}
	if StartedClosed(1) {
		out = badFD{}
	}
	return in, out
}
