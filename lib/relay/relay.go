// Package relay puts a copier process between a program and its stdin and
// stdout, as recordio and fixcrio do: the copier logs or rewrites what
// passes, and the program runs in the original process, so its PID is the
// one the user started (and the one recordio prints).
//
// C forks and copies in the child. Go cannot fork without exec, so the
// copier is this same binary re-executed from /proc/self/exe, told by an
// environment marker that only the copier ever sees; the original process
// then moves the pipes onto fds 0 and 1 and execs the program.
package relay

import (
	"errors"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"tinymx/lib/crlf"
	"tinymx/lib/pathexec"
)

// helperEnv marks the re-executed copier: "record:PID" or "fixcr:PID".
const helperEnv = "TINYMX_RELAY_COPIER"

// Mode selects what the copier does with the bytes it copies.
type Mode string

const (
	Record Mode = "record" // recordio: log every packet on fd 2
	FixCR  Mode = "fixcr"  // fixcrio: CR before each bare LF, both ways
)

// packet is the most the copier reads at once, as the originals.
const packet = 256

// Error says which step failed, for "PROG: fatal: unable to STEP: ERR".
type Error struct {
	Step string // "create pipe", "fork", "move descriptors", "run NAME"
	Err  error
}

func (e *Error) Error() string { return "unable to " + e.Step }
func (e *Error) Unwrap() error { return e.Err }

// RunRole takes up the role this process was re-executed for, if any,
// and does not return then: the copier copies, then exits. Main calls it
// first thing.
func RunRole() {
	v, ok := os.LookupEnv(helperEnv)
	if !ok {
		return
	}
	mode, pid, _ := strings.Cut(v, ":")
	copier(Mode(mode), pid)
	os.Exit(0)
}

// Exec starts the copier and execs argv in this process with fd 0 reading
// from the copier and fd 1 writing to it. It returns only on failure.
func Exec(mode Mode, argv []string) error {
	var in, out [2]int
	if err := unix.Pipe2(in[:], unix.O_CLOEXEC); err != nil {
		return &Error{"create pipe", err}
	}
	if err := unix.Pipe2(out[:], unix.O_CLOEXEC); err != nil {
		return &Error{"create pipe", err}
	}
	env := append(os.Environ(), helperEnv+"="+string(mode)+":"+strconv.Itoa(os.Getpid()))
	files := []*os.File{os.Stdin, os.Stdout, os.Stderr,
		os.NewFile(uintptr(in[1]), "|in"), os.NewFile(uintptr(out[0]), "|out")}
	attr := &os.ProcAttr{Files: files, Env: env}
	// /proc/self/exe runs this very binary even when its file has been
	// removed or replaced (a package upgrade under a running service);
	// its path, which os.Executable gives, may then be gone. Without /proc,
	// that path is all we have.
	p, err := os.StartProcess("/proc/self/exe", []string{os.Args[0]}, attr)
	if errors.Is(err, unix.ENOENT) {
		if self, e := os.Executable(); e == nil {
			p, err = os.StartProcess(self, []string{os.Args[0]}, attr)
		}
	}
	if err != nil {
		return &Error{"fork", err}
	}
	p.Release()
	files[3].Close()
	files[4].Close()
	// dup2 clears close-on-exec on the new descriptor; the originals close
	// at exec.
	if err := unix.Dup2(in[0], 0); err != nil {
		return &Error{"move descriptors", err}
	}
	if err := unix.Dup2(out[1], 1); err != nil {
		return &Error{"move descriptors", err}
	}
	return &Error{"run " + argv[0], pathexec.Exec(argv, os.Environ())}
}

// copier copies fd 0 to the program (fd 3) and the program's output (fd 4)
// to fd 1. Like the C copiers it is one poll loop that reads a packet from
// a side only once the previous one has been written, and handles the
// input side before the output side when both are ready: so input EOF is
// logged before output EOF when both are there at once (a program that
// reads nothing and exits), as in C. It ends when the program's output
// ends or a write fails.
func copier(mode Mode, pid string) {
	signal.Ignore(syscall.SIGPIPE)
	const toProg, fromProg = 3, 4
	var left, right crlf.Converter = crlf.Plain{}, crlf.Plain{}
	if mode == FixCR {
		left, right = &crlf.FixCR{}, &crlf.FixCR{}
	}
	record := func(p []byte, dir string) {
		if mode == Record {
			writeRecord(stderr{}, pid, p, dir)
		}
	}
	// status per side: 0 reading, 1 writing buf[pos:], -1 done (input only).
	var lstat, rstat int
	var lbuf, rbuf []byte
	var lpos, rpos int
	pkt := make([]byte, packet)
	var arr [3]unix.PollFd
	for {
		fds := arr[:0]
		io0, ioLeft, ioRight, io1 := -1, -1, -1, -1
		switch lstat {
		case 0:
			io0 = len(fds)
			fds = append(fds, unix.PollFd{Fd: 0, Events: unix.POLLIN})
		case 1:
			ioLeft = len(fds)
			fds = append(fds, unix.PollFd{Fd: toProg, Events: unix.POLLOUT})
		}
		if rstat == 0 {
			ioRight = len(fds)
			fds = append(fds, unix.PollFd{Fd: fromProg, Events: unix.POLLIN})
		} else {
			io1 = len(fds)
			fds = append(fds, unix.PollFd{Fd: 1, Events: unix.POLLOUT})
		}
		if _, err := unix.Poll(fds, -1); err != nil && err != unix.EINTR {
			return
		}
		ready := func(i int) bool { return i >= 0 && fds[i].Revents != 0 }

		if ready(io0) {
			n, _ := unix.Read(0, pkt)
			if n <= 0 {
				lstat = -1
				unix.Close(toProg)
				record(nil, " < ")
			} else {
				record(pkt[:n], " < ")
				lbuf, lpos, lstat = left.Convert(lbuf[:0], pkt[:n]), 0, 1
			}
		}
		if ready(ioLeft) {
			n, err := unix.Write(toProg, lbuf[lpos:])
			if err != nil {
				return
			}
			if lpos += n; lpos == len(lbuf) {
				lstat = 0
			}
		}
		if ready(ioRight) {
			n, _ := unix.Read(fromProg, pkt)
			if n <= 0 {
				record(nil, " > ")
				return
			}
			record(pkt[:n], " > ")
			rbuf, rpos, rstat = right.Convert(rbuf[:0], pkt[:n]), 0, 1
		}
		if ready(io1) {
			n, err := unix.Write(1, rbuf[rpos:])
			if err != nil {
				return
			}
			if rpos += n; rpos == len(rbuf) {
				rstat = 0
			}
		}
	}
}

// stderr writes to fd 2 with one write(2) per call, errors ignored.
type stderr struct{}

func (stderr) Write(p []byte) (int, error) {
	n, err := unix.Write(2, p)
	return max(n, 0), err
}

// writeRecord logs one packet as recordio does: one line per piece split
// at LF, "PID < piece \n" for a piece that ended a line, "PID < piece+\n"
// for a trailing partial line, each line in one write. A nil packet is EOF.
func writeRecord(w interface{ Write([]byte) (int, error) }, pid string, p []byte, dir string) {
	line := make([]byte, 0, len(pid)+len(dir)+packet+2)
	if p == nil {
		w.Write(append(append(append(line, pid...), dir...), "[EOF]\n"...))
		return
	}
	for len(p) > 0 {
		line = append(append(line[:0], pid...), dir...)
		i := 0
		for i < len(p) && p[i] != '\n' {
			i++
		}
		line = append(line, p[:i]...)
		if i == len(p) {
			w.Write(append(line, "+\n"...))
			return
		}
		w.Write(append(line, " \n"...))
		p = p[i+1:]
	}
}
