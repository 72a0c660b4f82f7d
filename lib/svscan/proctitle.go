package svscan

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"tinymx/lib/strerr"
)

// Title is readproctitle's rolling error line: the last argument's bytes,
// living in the process's argv area, so that ps and /proc/PID/cmdline show
// the most recent output of svscan and its children.
type Title struct {
	b []byte
}

// NewTitle takes over the memory of arg, which must be one of os.Args:
// the Go runtime builds those strings on the kernel's argv area without a
// copy, so writing through them changes what /proc/PID/cmdline shows.
// It reports false when arg is shorter than 5 bytes, as readproctitle
// refuses such a title.
func NewTitle(arg string) (*Title, bool) {
	if len(arg) < 5 {
		return nil, false
	}
	b := unsafe.Slice(unsafe.StringData(arg), len(arg))
	for i := range b {
		b[i] = '.'
	}
	return &Title{b: b}, true
}

// Add appends c on the right, shifting the rest left; the first three
// dots never move, so the line always starts with "...". NUL is skipped,
// since it would cut the argument short.
func (t *Title) Add(c byte) {
	if c == 0 {
		return
	}
	copy(t.b[3:], t.b[4:])
	t.b[len(t.b)-1] = c
}

// Copy reads fd until end of file, byte by byte into the title. It
// returns 0 at end of file and 111 on a read error.
func (t *Title) Copy(fd int) int {
	var buf [1]byte
	for {
		n, err := unix.Read(fd, buf[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return strerr.ExitTemp
		}
		if n == 0 {
			return 0
		}
		t.Add(buf[0])
	}
}
