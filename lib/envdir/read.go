// Package envdir reads env directories as daemontools' envdir does: one
// variable per file, queued as pathexec edits.
package envdir

import (
	"bytes"
	"strings"

	"golang.org/x/sys/unix"

	"tinymx/lib/pathexec"
)

// MaxValue caps how much of a file's first line envdir reads. A longer
// line could never be passed to exec anyway (Linux caps one environment
// string at 128 KiB), and reading it whole would let a huge file eat memory.
const MaxValue = 1 << 20

// DirError is a failure while reading an environment directory. Msg is the
// original's wording ("unable to read directory DIR"); Err carries the errno.
type DirError struct {
	Msg string
	Err error
}

func (e *DirError) Error() string { return e.Msg }
func (e *DirError) Unwrap() error { return e.Err }

// ReadDir queues one edit per entry of dir, as envdir does: entries whose
// name starts with "." are skipped; an empty file removes the variable;
// otherwise the value is the first line with trailing spaces and tabs
// removed and every NUL turned into a newline.
//
// Like the original it changes into dir to read the entries and back to
// the starting directory afterwards, so its errors (and the order in which
// they are found) are the original's. Entries come in readdir order.
func ReadDir(dir string, e *pathexec.Edits) error {
	orig, err := unix.Open(".", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return &DirError{"unable to switch to current directory", err}
	}
	defer unix.Close(orig)
	if err := unix.Chdir(dir); err != nil {
		return &DirError{"unable to switch to directory " + dir, err}
	}
	names, err := readNames()
	if err != nil {
		return &DirError{"unable to read directory " + dir, err}
	}
	for _, name := range names {
		if name[0] == '.' {
			continue
		}
		val, ok, err := readValue(name)
		if err != nil {
			if err == unix.ENOMEM {
				return &DirError{"out of memory", nil}
			}
			return &DirError{"unable to read " + dir + "/" + name, err}
		}
		// A file that vanished between readdir and open (or a dangling
		// link) is skipped; the original reuses the previous file's
		// value for it, an accident.
		if ok {
			queue(e, name, val)
		}
	}
	if err := unix.Fchdir(orig); err != nil {
		return &DirError{"unable to switch to starting directory", err}
	}
	return nil
}

// queue adds the edit for file name with value val (nil: an empty file).
// The original queues the string "NAME=value", or "NAME" to remove, and
// takes the name to be everything before its first "=": a file named
// "A=B" holding x removes the first A and adds A=B=x, and an empty file
// named "A=B" removes the first A and adds A=B.
func queue(e *pathexec.Edits, name string, val []byte) {
	k := strings.IndexByte(name, '=')
	switch {
	case k >= 0 && val == nil:
		e.Set(name[:k], name[k+1:])
	case k >= 0:
		e.Set(name[:k], name[k+1:]+"="+string(val))
	case val == nil:
		e.Unset(name)
	default:
		e.Set(name, string(val))
	}
}

// readNames lists "." in the order the kernel returns the entries.
func readNames() ([]string, error) {
	fd, err := unix.Open(".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var names []string
	buf := make([]byte, 8192)
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			return names, nil
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
}

// readValue reads the first line of name. ok is false when the file does
// not exist; a nil value means the file is empty. The file is opened
// non-blocking, as the original's open_read, so a FIFO never hangs us: with
// no writer it reads as empty.
//
// The original reads the whole file, so a read error after the first line
// fails too: a FIFO whose writer has sent a line and stays open gives EAGAIN
// ("temporary failure"). We read on the same way, keeping nothing, but stop
// MaxValue bytes past the first line: a writer that never stops would
// otherwise keep us reading for ever.
func readValue(name string) (val []byte, ok bool, err error) {
	fd, err := unix.Open(name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err == unix.ENOENT {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer unix.Close(fd)
	var line []byte
	buf := make([]byte, 4096)
	total := 0
	complete := false // line holds the whole first line
	tail := 0         // bytes read past it
	for tail <= MaxValue {
		n, err := unix.Read(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, false, err
		}
		if n == 0 {
			break
		}
		total += n
		if complete {
			tail += n
			continue
		}
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			line = append(line, buf[:i]...)
			complete = true
			tail = n - i - 1
			continue
		}
		line = append(line, buf[:n]...)
		if len(line) > MaxValue {
			return nil, false, unix.ENOMEM
		}
	}
	if total == 0 {
		return nil, true, nil
	}
	return Value(line), true, nil
}

// Value turns a file's first line into the variable's value: trailing
// spaces and tabs removed (not "\r", and leading blanks are kept), then
// each NUL made a newline. The result is never nil.
func Value(line []byte) []byte {
	n := len(line)
	for n > 0 && (line[n-1] == ' ' || line[n-1] == '\t') {
		n--
	}
	v := make([]byte, n)
	for i := 0; i < n; i++ {
		c := line[i]
		if c == 0 {
			c = '\n'
		}
		v[i] = c
	}
	return v
}
