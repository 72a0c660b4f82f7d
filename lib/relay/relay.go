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
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"tinymx/lib/crlf"
	"tinymx/lib/envdir"
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

// RunCopierIfAsked runs the copier and exits when this process is one;
// programs call it first thing in main.
func RunCopierIfAsked() {
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
	return &Error{"run " + argv[0], envdir.Exec(argv, os.Environ())}
}

// copier copies fd 0 to the program (fd 3) and the program's output (fd 4)
// to fd 1. It ends when the program's output ends or a write fails.
func copier(mode Mode, pid string) {
	signal.Ignore(syscall.SIGPIPE)
	toProg := os.NewFile(3, "|in")
	fromProg := os.NewFile(4, "|out")
	var logMu sync.Mutex
	record := func(p []byte, dir string) {
		if mode != Record {
			return
		}
		logMu.Lock()
		defer logMu.Unlock()
		writeRecord(os.Stderr, pid, p, dir)
	}
	var left, right crlf.Converter = crlf.Plain{}, crlf.Plain{}
	if mode == FixCR {
		left, right = &crlf.FixCR{}, &crlf.FixCR{}
	}

	go func() {
		buf := make([]byte, packet)
		var conv []byte
		for {
			n, _ := os.Stdin.Read(buf)
			if n <= 0 {
				toProg.Close()
				record(nil, " < ")
				return
			}
			record(buf[:n], " < ")
			conv = left.Convert(conv[:0], buf[:n])
			if _, err := toProg.Write(conv); err != nil {
				os.Exit(0)
			}
		}
	}()

	buf := make([]byte, packet)
	var conv []byte
	for {
		n, _ := fromProg.Read(buf)
		if n <= 0 {
			record(nil, " > ")
			return
		}
		record(buf[:n], " > ")
		conv = right.Convert(conv[:0], buf[:n])
		if _, err := os.Stdout.Write(conv); err != nil {
			return
		}
	}
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
