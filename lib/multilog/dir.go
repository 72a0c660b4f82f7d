package multilog

import (
	"bytes"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"tinymx/lib/lock"
	"tinymx/lib/strerr"
	"tinymx/lib/tai64n"
)

// Pause is how long multilog waits before retrying a failed disk operation.
// The original pauses 5 seconds and retries forever: a full disk blocks
// multilog, and through the pipe its writer, but never loses a line.
var Pause = 5 * time.Second

// bufSize is the original's per-directory buffer. Its flush points decide
// where a file may end, so it is simulated exactly (see put, vflush); only
// the system calls are batched, one write per read instead of one per
// flush.
const bufSize = 512

// outCap is the most Dir.out holds, so it never grows. Everything is
// written out before each read; one read of readSize bytes then yields at
// most the line held from before it (maxLine bytes, timestamp included, and
// its newline) and, for each byte read, a timestamped empty line.
const outCap = maxLine + 1 + readSize*(stampLen+1)

const (
	oAppend = unix.O_WRONLY | unix.O_NONBLOCK | unix.O_APPEND | unix.O_CREAT | unix.O_CLOEXEC
	oTrunc  = unix.O_WRONLY | unix.O_NONBLOCK | unix.O_TRUNC | unix.O_CREAT | unix.O_CLOEXEC
	oRead   = unix.O_RDONLY | unix.O_NONBLOCK | unix.O_CLOEXEC
)

// Dir is one automatically rotated log directory.
type Dir struct {
	DirSpec
	fd       int      // the directory; every file is reached with *at calls, never chdir
	lockf    *os.File // held for the life of the process
	cur      int      // current
	bytes    uint64   // size of current, counting bytes not yet written
	selected bool

	// out holds bytes for current not yet written: out[:committed] went
	// through the simulated write (c_write) already; out[committed:] is the
	// simulated 512-byte buffer (used bytes) or a segment being written.
	out       []byte
	committed int
	used      int
}

func pause(err error, msg ...string) {
	strerr.Warn(err, msg...)
	time.Sleep(Pause)
}

func retry(f func() error, msg ...string) {
	for {
		err := f()
		if err == nil {
			return
		}
		pause(err, msg...)
	}
}

func fatal(err error, msg ...string) {
	strerr.Fatal(strerr.ExitTemp, err, msg...)
}

// Restart opens the directory as the original does at start-up: lock it,
// append to a cleanly closed current (mode 0744), or else recover what a
// crash left behind and start an empty current.
func (d *Dir) Restart() {
	unix.Mkdir(d.Name, 0700)
	fd, err := unix.Open(d.Name, oRead, 0)
	if err == nil {
		var st unix.Stat_t
		if err = unix.Fstat(fd, &st); err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			err = unix.ENOTDIR
		}
		if err != nil {
			unix.Close(fd)
		}
	}
	if err != nil {
		fatal(err, "unable to open directory ", d.Name)
	}
	d.fd = fd
	lfd, err := unix.Openat(d.fd, "lock", oAppend, 0600)
	if err == nil {
		d.lockf = os.NewFile(uintptr(lfd), "lock")
		err = lock.TryExclusive(d.lockf)
	}
	if err != nil {
		fatal(err, "unable to lock directory ", d.Name)
	}

	var st unix.Stat_t
	if err := unix.Fstatat(d.fd, "current", &st, 0); err != nil {
		if err != unix.ENOENT {
			fatal(err, "unable to stat ", d.Name, "/current")
		}
	} else if st.Mode&0100 != 0 {
		fd, err := unix.Openat(d.fd, "current", oAppend, 0600)
		if err != nil {
			fatal(err, "unable to append to ", d.Name, "/current")
		}
		if err := unix.Fchmod(fd, 0644); err != nil {
			fatal(err, "unable to set mode of ", d.Name, "/current")
		}
		d.cur = fd
		d.bytes = uint64(st.Size)
		return
	}

	unix.Unlinkat(d.fd, "state", 0)
	unix.Unlinkat(d.fd, "newstate", 0)
	processed := false
	if err := unix.Fstatat(d.fd, "processed", &st, 0); err != nil {
		if err != unix.ENOENT {
			fatal(err, "unable to stat ", d.Name, "/processed")
		}
	} else if st.Mode&0100 != 0 {
		processed = true
	}
	if processed {
		unix.Unlinkat(d.fd, "previous", 0)
		d.finish("processed", "s")
	} else {
		unix.Unlinkat(d.fd, "processed", 0)
		d.finish("previous", "u")
	}
	d.finish("current", "u")

	sfd, err := unix.Openat(d.fd, "state", oTrunc, 0644)
	if err != nil {
		fatal(err, "unable to write to ", d.Name, "/state")
	}
	unix.Close(sfd)
	cfd, err := unix.Openat(d.fd, "current", oAppend, 0600)
	if err != nil {
		fatal(err, "unable to write to ", d.Name, "/current")
	}
	if err := unix.Fchmod(cfd, 0644); err != nil {
		fatal(err, "unable to set mode of ", d.Name, "/current")
	}
	d.cur = cfd
	d.bytes = 0
}

// put is djb's buffer_put on the simulated 512-byte buffer (len(p) <= 1000).
func (d *Dir) put(p []byte) {
	if len(p) > bufSize-d.used {
		d.vflush()
	}
	d.out = append(d.out, p...)
	if len(p) > bufSize {
		d.allwrite(len(p))
	} else {
		d.used += len(p)
	}
}

// putc is buffer_PUTC.
func (d *Dir) putc(c byte) {
	if d.used == bufSize {
		d.vflush()
	}
	d.out = append(d.out, c)
	d.used++
}

// putBytes is buffer_PUTC for each byte of p, in bulk.
func (d *Dir) putBytes(p []byte) {
	for len(p) > 0 {
		if d.used == bufSize {
			d.vflush()
		}
		n := bufSize - d.used
		if n > len(p) {
			n = len(p)
		}
		d.out = append(d.out, p[:n]...)
		d.used += n
		p = p[n:]
	}
}

// vflush is buffer_flush: the buffered bytes go through c_write.
func (d *Dir) vflush() {
	if d.used > 0 {
		n := d.used
		d.used = 0
		d.allwrite(n)
	}
}

// allwrite passes out[committed:committed+n] through the original's c_write
// until all of it is accounted for. c_write may write less than it is given:
// near the size limit it stops after the last newline and rotates, so a file
// ends at a line boundary once it holds size-2000 bytes, or mid-line at size.
func (d *Dir) allwrite(n int) {
	for n > 0 {
		if d.bytes >= d.Size {
			d.rotate()
		}
		w := n
		if uint64(w) >= d.Size-d.bytes {
			w = int(d.Size - d.bytes)
		}
		if d.bytes+uint64(w) >= d.Size-2000 {
			if k := bytes.LastIndexByte(d.out[d.committed:d.committed+w], '\n'); k >= 0 {
				w = k + 1
			}
		}
		d.committed += w
		d.bytes += uint64(w)
		n -= w
		if d.bytes >= d.Size-2000 && d.out[d.committed-1] == '\n' {
			d.rotate()
		}
	}
}

// sync writes the committed bytes to current, retrying forever.
func (d *Dir) sync() {
	p := d.out[:d.committed]
	for len(p) > 0 {
		w, err := unix.Write(d.cur, p)
		if w > 0 {
			p = p[w:]
			continue
		}
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err == nil {
			err = unix.ENOSPC
		}
		pause(err, "unable to write to ", d.Name, "/current, pausing")
	}
	rest := copy(d.out, d.out[d.committed:])
	d.out = d.out[:rest]
	d.committed = 0
}

// rotate is the original's fullcurrent: current becomes previous, a new
// current is started, and previous goes through the processor (if any) to
// become an @timestamp.s file.
func (d *Dir) rotate() {
	d.sync()
	retry(func() error { return unix.Fsync(d.cur) }, "unable to write ", d.Name, "/current to disk, pausing")
	unix.Close(d.cur)
	retry(func() error { return unix.Renameat(d.fd, "current", d.fd, "previous") },
		"unable to rename current to previous in directory ", d.Name, ", pausing")
	retry(func() error {
		fd, err := unix.Openat(d.fd, "current", oAppend, 0600)
		d.cur = fd
		return err
	}, "unable to create ", d.Name, "/current, pausing")
	d.bytes = 0
	retry(func() error { return unix.Fchmod(d.cur, 0644) }, "unable to set mode of ", d.Name, "/current, pausing")
	retry(func() error { return unix.Fchmodat(d.fd, "previous", 0744, 0) }, "unable to set mode of ", d.Name, "/previous, pausing")
	if !d.HasProcessor {
		d.finish("previous", "s")
		return
	}
	d.runProcessor()
	fd := d.openRetry("processed")
	retry(func() error { return unix.Fsync(fd) }, "unable to write ", d.Name, "/processed to disk, pausing")
	retry(func() error { return unix.Fchmod(fd, 0744) }, "unable to set mode of ", d.Name, "/processed, pausing")
	unix.Close(fd)
	fd = d.openRetry("newstate")
	retry(func() error { return unix.Fsync(fd) }, "unable to write ", d.Name, "/newstate to disk, pausing")
	unix.Close(fd)
	retry(func() error { return unix.Unlinkat(d.fd, "previous", 0) }, "unable to remove ", d.Name, "/previous, pausing")
	retry(func() error { return unix.Renameat(d.fd, "newstate", d.fd, "state") },
		"unable to rename newstate to state in directory ", d.Name, ", pausing")
	d.finish("processed", "s")
}

// openRetry opens name in the directory for appending, retrying forever.
func (d *Dir) openRetry(name string) int {
	for {
		fd, err := unix.Openat(d.fd, name, oAppend, 0600)
		if err == nil {
			return fd
		}
		pause(err, "unable to create ", d.Name, "/", name, ", pausing")
	}
}

// finish gives file its final @timestamp name (unless a crash already
// linked it) and trims the old files down to Num-1.
func (d *Dir) finish(file, code string) {
	var st unix.Stat_t
	for {
		err := unix.Fstatat(d.fd, file, &st, 0)
		if err == nil {
			break
		}
		if err == unix.ENOENT {
			return
		}
		pause(err, "unable to stat ", d.Name, "/", file, ", pausing")
	}
	if st.Nlink == 1 {
		for {
			name := string(tai64n.Now().AppendText(make([]byte, 0, 28))) + "." + code
			err := unix.Linkat(d.fd, file, d.fd, name, 0)
			if err == nil {
				break
			}
			pause(err, "unable to link to ", d.Name, "/", name, ", pausing")
		}
	}
	retry(func() error { return unix.Unlinkat(d.fd, file, 0) }, "unable to remove ", d.Name, "/", file, ", pausing")
	for {
		done, err := d.trim()
		if done {
			return
		}
		if err != nil {
			pause(err, "unable to read ", d.Name, ", pausing")
		}
	}
}

// trim removes the oldest @ file when there are Num or more (names of at
// least 25 bytes starting with @, oldest = lowest first 25 bytes). It reports
// true when nothing more needs removing.
func (d *Dir) trim() (bool, error) {
	fd, err := unix.Openat(d.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, err
	}
	f := os.NewFile(uintptr(fd), d.Name)
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return false, err
	}
	oldest := "@z"
	count := uint64(0)
	for _, n := range names {
		if len(n) >= 25 && n[0] == '@' {
			count++
			if n < oldest {
				oldest = n[:25]
			}
		}
	}
	if count < d.Num {
		return true, nil
	}
	for _, n := range names {
		if len(n) >= 25 && n[0] == '@' && n[:len(oldest)] == oldest {
			if unix.Unlinkat(d.fd, n, 0) != nil {
				// The original would loop here forever; give up trimming.
				return true, nil
			}
			return false, nil
		}
	}
	// No name starts with the sentinel "@z": the original loops forever.
	return true, nil
}

// flushAll writes everything selected so far to current (the original
// flushes before every read).
func (d *Dir) flushAll() {
	d.vflush()
	if d.committed > 0 {
		d.sync()
	}
}

// Quit flushes, syncs and marks current complete with mode 0744.
func (d *Dir) Quit() {
	d.flushAll()
	retry(func() error { return unix.Fsync(d.cur) }, "unable to write ", d.Name, "/current to disk, pausing")
	retry(func() error { return unix.Fchmod(d.cur, 0744) }, "unable to set mode of ", d.Name, "/current, pausing")
}
