package multilog

import (
	"bytes"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"tinymx/lib/tai64n"
)

// maxLine is the original's line buffer: the first 1000 bytes of a line
// (timestamp included) are matched and copied to status files; the rest
// goes straight to the directories.
const maxLine = 1000

// readSize is the original's input buffer, and the most read at once.
// Before each read everything selected so far is written to current, as
// the original does: these flushes decide where files end, and they bound
// what a kill -9 loses to the read being processed and the start of a line
// held from before it, the original's bound. (Reading more at once and
// cutting it into 1024-byte pieces gives the same files, but a kill then
// loses the whole unwritten rest of the bigger read.)
const readSize = 1024

// stampLen is the timestamp's length: '@', 24 hex digits, a space.
const stampLen = 26

// Logger runs a script over an input descriptor.
type Logger struct {
	script *Script
	dirs   []*Dir
	status []int
	in     int

	inbuf    [readSize]byte
	line     [maxLine + 1]byte
	linelen  int
	oldlen   int
	inLine   bool // a line has started (its timestamp is taken)
	overflow bool // the line passed 1000 bytes; the rest goes to the dirs
	newline  bool // the last byte read was a newline (or nothing was read)

	stampSec uint64
	stamp    [stampLen]byte

	// noNowait is set once a read with RWF_NOWAIT failed otherwise than
	// for want of input (a tty, a pipe on an older kernel): reads then
	// wait in poll first. With RWF_NOWAIT a read while input flows needs
	// no poll, one system call in three per 1024 bytes (bench/multilog.sh:
	// 10-25% more lines/s).
	noNowait bool

	exitasap    atomic.Bool
	forceRotate atomic.Bool
	wakeR       int
	wakeW       int
	sigc        chan os.Signal
}

// Start does what the original does before reading: umask 022, open every
// =file, restart every directory. Errors are fatal (exit 111).
func Start(args []string, in int) *Logger {
	unix.Umask(022)
	fd, err := unix.Open(".", oRead, 0)
	if err != nil {
		fatal(err, "unable to switch to current directory")
	}
	unix.Close(fd)
	l := &Logger{script: Parse(args), in: in, newline: true, oldlen: maxLine + 1}
	for i := range l.line {
		l.line[i] = '\n'
	}
	l.signals()
	for _, name := range l.script.Status {
		fd, err := unix.Open(name, oAppend, 0600)
		if err != nil {
			fatal(err, "unable to create ", name)
		}
		unix.Close(fd)
		fd, err = unix.Open(name, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			fatal(err, "unable to write ", name)
		}
		l.status = append(l.status, fd)
	}
	for _, spec := range l.script.Dirs {
		d := &Dir{DirSpec: spec, out: make([]byte, 0, outCap)}
		d.Restart()
		l.dirs = append(l.dirs, d)
	}
	return l
}

// signals turns SIGTERM and SIGALRM into flags and a byte on a pipe that
// wakes the poll, so no input is read once TERM says stop.
func (l *Logger) signals() {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		fatal(err, "unable to create pipe")
	}
	l.wakeR, l.wakeW = p[0], p[1]
	c := make(chan os.Signal, 4)
	l.sigc = c
	signal.Notify(c, syscall.SIGTERM, syscall.SIGALRM)
	go func() {
		for s := range c {
			if s == syscall.SIGTERM {
				l.exitasap.Store(true)
			} else {
				l.forceRotate.Store(true)
			}
			unix.Write(p[1], []byte{0})
		}
	}()
}

// Run processes input until EOF or TERM, then finishes every directory.
func (l *Logger) Run() {
	for {
		n := l.read(l.inbuf[:])
		if n <= 0 {
			break
		}
		l.newline = l.inbuf[n-1] == '\n'
		if l.script.Timestamp {
			l.stampNow()
		}
		l.process(l.inbuf[:n])
	}
	if l.inLine {
		if l.overflow {
			l.putc('\n')
		} else {
			l.endLine()
		}
	}
	for _, d := range l.dirs {
		d.Quit()
	}
}

// Close releases what Start took (a program just exits instead).
func (l *Logger) Close() {
	signal.Stop(l.sigc)
	close(l.sigc)
	for _, d := range l.dirs {
		unix.Close(d.cur)
		unix.Close(d.fd)
		d.lockf.Close()
	}
	for _, fd := range l.status {
		unix.Close(fd)
	}
	unix.Close(l.wakeR)
	unix.Close(l.wakeW)
}

// read writes out everything selected so far (the original's flushread),
// rotates on ALRM, stops on TERM at a line boundary, and otherwise waits
// for input and reads it. It returns <= 0 for end of input, after the
// same flush.
func (l *Logger) read(buf []byte) int {
	pfd := []unix.PollFd{{Fd: int32(l.in), Events: unix.POLLIN}, {Fd: int32(l.wakeR), Events: unix.POLLIN}}
	for {
		for _, d := range l.dirs {
			d.flushAll()
		}
		if l.forceRotate.Swap(false) {
			for _, d := range l.dirs {
				if d.bytes > 0 {
					d.rotate()
				}
			}
		}
		size := len(buf)
		if l.exitasap.Load() {
			if l.newline {
				return 0
			}
			size = 1
		}
		if !l.noNowait {
			n, err := unix.Preadv2(l.in, [][]byte{buf[:size]}, -1, unix.RWF_NOWAIT)
			if err == nil {
				return n
			}
			if err != unix.EAGAIN && err != unix.EINTR {
				// no RWF_NOWAIT for this input or kernel (EOPNOTSUPP,
				// ENOSYS, EINVAL), or a read error the plain read reports
				l.noNowait = true
			}
		}
		pfd[0].Revents, pfd[1].Revents = 0, 0
		if _, err := unix.Poll(pfd, -1); err != nil && err != unix.EINTR {
			return -1
		}
		if pfd[1].Revents != 0 {
			var b [16]byte
			unix.Read(l.wakeR, b[:])
			continue
		}
		if pfd[0].Revents == 0 {
			continue
		}
		if l.exitasap.Load() && size > 1 {
			continue
		}
		n, err := unix.Read(l.in, buf[:size])
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		return n
	}
}

// process handles one read of input.
func (l *Logger) process(p []byte) {
	for len(p) > 0 {
		if l.overflow {
			i := indexNL(p)
			if i < 0 {
				l.putBytes(p)
				return
			}
			l.putBytes(p[:i])
			l.putc('\n')
			l.overflow, l.inLine = false, false
			p = p[i+1:]
			continue
		}
		if !l.inLine {
			l.inLine = true
			l.linelen = 0
			if l.script.Timestamp {
				l.timestamp()
			}
		}
		room := maxLine - l.linelen
		q := p
		if len(q) > room {
			q = q[:room]
		}
		if i := indexNL(q); i >= 0 {
			l.linelen += copy(l.line[l.linelen:], q[:i])
			p = p[i+1:]
			l.endLine()
			continue
		}
		l.linelen += copy(l.line[l.linelen:], q)
		p = p[len(q):]
		if l.linelen == maxLine {
			l.dispatch()
			l.overflow = true
		}
	}
}

// endLine processes a complete line of at most 1000 bytes.
func (l *Logger) endLine() {
	l.dispatch()
	l.putc('\n')
	l.inLine = false
}

// stampNow sets the label for lines starting in the read just done. A
// line's label is the moment its first byte was read, which is that read,
// so one clock reading serves all the lines it starts. (The original reads
// the clock for each line as it gets to it; here that was a tenth of the
// CPU time with 100-byte lines.)
func (l *Logger) stampNow() {
	now := time.Now()
	sec := tai64n.Base + uint64(now.Unix())
	if sec != l.stampSec || l.stamp[0] != '@' {
		lab := tai64n.FromTime(now)
		lab.AppendText(l.stamp[:0])
		l.stamp[25] = ' '
		l.stampSec = sec
	}
	nano := uint32(now.Nanosecond()/1000*1000 + 500)
	for i := 24; i >= 17; i-- {
		l.stamp[i] = "0123456789abcdef"[nano&15]
		nano >>= 4
	}
}

func (l *Logger) timestamp() {
	copy(l.line[:], l.stamp[:])
	l.linelen = len(l.stamp)
}

// dispatch runs the script over the first 1000 bytes of the line and puts
// them into the selected directories.
func (l *Logger) dispatch() {
	line := l.line[:l.linelen]
	for i := l.linelen; i < l.oldlen; i++ {
		l.line[i] = '\n'
	}
	l.oldlen = l.linelen
	selected := true
	for _, a := range l.script.Actions {
		switch a.Kind {
		case ActSelect:
			if !selected && Match(a.Arg, line) {
				selected = true
			}
		case ActDeselect:
			if selected && Match(a.Arg, line) {
				selected = false
			}
		case ActAlert:
			if selected {
				l.alert(line)
			}
		case ActStatus:
			if selected {
				l.writeStatus(l.status[a.Index], a.Arg)
			}
		case ActDir:
			l.dirs[a.Index].selected = selected
		}
	}
	for _, d := range l.dirs {
		if d.selected {
			d.put(line)
		}
	}
}

func (l *Logger) alert(line []byte) {
	var b [maxLine + 4]byte
	var m []byte
	if len(line) > 200 {
		m = append(append(b[:0], line[:200]...), "...\n"...)
	} else {
		m = append(append(b[:0], line...), '\n')
	}
	unix.Write(2, m)
}

// writeStatus rewrites the status file with the line padded to 1001 bytes.
func (l *Logger) writeStatus(fd int, name string) {
	for {
		for {
			_, err := unix.Seek(fd, 0, 0)
			if err == nil {
				break
			}
			pause(err, "unable to move to beginning of ", name, ", pausing")
		}
		w, err := unix.Write(fd, l.line[:])
		if w == len(l.line) {
			return
		}
		if err == nil {
			err = unix.ENOSPC
		}
		pause(err, "unable to write ", name, ", pausing")
	}
}

func (l *Logger) putc(c byte) {
	for _, d := range l.dirs {
		if d.selected {
			d.putc(c)
		}
	}
}

func (l *Logger) putBytes(p []byte) {
	for _, d := range l.dirs {
		if d.selected {
			d.putBytes(p)
		}
	}
}

func indexNL(p []byte) int { return bytes.IndexByte(p, '\n') }
