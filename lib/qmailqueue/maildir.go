package qmailqueue

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"tinymx/lib/fdio"
)

// Maildir is the built-in store: each message is written once into the
// Maildir Dir, headed by qmail-queue's own Received line, a Return-Path
// and Delivered-To (one recipient) or X-Envelope-To (several) lines.
//
// Durability: the file is written in tmp/, fsynced, linked into new/,
// and new/ is fsynced before Commit returns nil. Nothing partial is ever
// visible in new/.
//
// The message streams in before the envelope, and the envelope decides
// the first lines of the file: up to SpillAt bytes are held in memory;
// past that the body goes to a nameless scratch file in tmp/ that Commit copies
// behind the header in the kernel (copy_file_range), so memory stays
// bounded whatever the size.
type Maildir struct {
	Dir string
	// Pid and UID for the Received line; 0 means os.Getpid()/os.Getuid().
	Pid, UID int
	// SpillAt is the in-memory limit before the body goes to a scratch
	// file; 0 means DefaultSpillAt.
	SpillAt int

	// Any number of messages may be open at once (one process serving
	// many sessions): mu guards only the open new/ directory, never a
	// write or an fsync.
	mu      sync.Mutex
	newfd   int // open new/ directory, for fsync, when newOpen
	newOpen bool
}

// Buffers are shared by every message of the process: a session's next
// message, or another session's, reuses them instead of allocating.
var (
	bodyPool   = sync.Pool{New: func() any { return new([]byte) }}
	writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 16384) }}
)

// DefaultSpillAt is the body size held in memory before spilling.
const DefaultSpillAt = 64 << 10

// FileMode is the mode of the stored messages.
const FileMode = 0600

var (
	seq      atomic.Uint64
	hostOnce sync.Once
	hostPart string
)

// uniqueName returns a Maildir base name: TIME.MusecPpidQseq.HOST, unique
// per process by the sequence number and across processes by the pid.
func uniqueName(now time.Time, pid int) string {
	hostOnce.Do(func() {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "localhost"
		}
		// Maildir names cannot hold / or :; encode them as the
		// Maildir convention does.
		b := make([]byte, 0, len(h))
		for i := 0; i < len(h); i++ {
			switch h[i] {
			case '/':
				b = append(b, `\057`...)
			case ':':
				b = append(b, `\072`...)
			default:
				b = append(b, h[i])
			}
		}
		hostPart = string(b)
	})
	b := make([]byte, 0, 64)
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = append(b, ".M"...)
	b = strconv.AppendInt(b, int64(now.Nanosecond()/1000), 10)
	b = append(b, 'P')
	b = strconv.AppendInt(b, int64(pid), 10)
	b = append(b, 'Q')
	b = strconv.AppendUint(b, seq.Add(1), 10)
	b = append(b, '.')
	b = append(b, hostPart...)
	return string(b)
}

// ErrConfig is the store's answer when Dir is not an absolute path
// (qmail-queue's exit 55, "qq unable to read configuration"): an empty
// $MAILDIRQUEUE would otherwise make "/tmp/NAME" and "/new/NAME" of the
// system's root, and a relative one would depend on the directory the
// program happens to run in.
var ErrConfig error = &ExitError{Code: 55}

// Open starts a message. Nothing touches the disk until the body passes
// SpillAt or Commit is called; with a Dir that is not absolute nothing
// ever does, and Commit returns ErrConfig once the message has been read,
// so the client gets qmail-queue's reply after its dot.
func (q *Maildir) Open() (Message, error) { return q.open(0) }

// Session is q as one session of a process serving many sees it: its
// messages give qp (the session number) as their qp and in their
// Received line, where a process per session gives its pid. File names
// keep the process id, which makes them unique across processes.
func (q *Maildir) Session(qp int) Queue { return maildirSession{q, qp} }

type maildirSession struct {
	q  *Maildir
	qp int
}

func (s maildirSession) Open() (Message, error) { return s.q.open(s.qp) }

// open starts a message numbered qp (0: the pid, as Open).
func (q *Maildir) open(qp int) (Message, error) {
	m := &maildirMessage{q: q, start: time.Now(), spill: -1}
	if !strings.HasPrefix(q.Dir, "/") {
		m.err = ErrConfig
	}
	m.body = bodyPool.Get().(*[]byte)
	m.buf = (*m.body)[:0]
	m.pid = q.Pid
	if m.pid == 0 {
		m.pid = os.Getpid()
	}
	m.namePid = m.pid
	if qp != 0 {
		m.pid = qp
	}
	return m, nil
}

type maildirMessage struct {
	q     *Maildir
	start time.Time
	pid   int // the qp and the Received line's number
	// namePid is the pid in file names (TIME.MusecPpidQseq.HOST)
	namePid int
	body    *[]byte // the pooled buffer buf came from
	buf     []byte
	spill   int // scratch file fd (no name), -1 when none
	spillN  int64
	err     error // first write error (exit code 53)
	done    bool
}

func (m *maildirMessage) Pid() int { return m.pid }

func (m *maildirMessage) Write(b []byte) (int, error) {
	if m.err != nil || m.done {
		return len(b), nil
	}
	if m.spill < 0 {
		limit := m.q.SpillAt
		if limit <= 0 {
			limit = DefaultSpillAt
		}
		if len(m.buf)+len(b) <= limit {
			m.buf = append(m.buf, b...)
			return len(b), nil
		}
		if err := m.startSpill(); err != nil {
			m.err = err
			return len(b), nil
		}
	}
	if err := fdio.WriteAll(m.spill, b); err != nil {
		m.err = &ExitError{Code: 53}
		return len(b), nil
	}
	m.spillN += int64(len(b))
	return len(b), nil
}

func (m *maildirMessage) startSpill() error {
	fd, err := m.q.scratch(m.namePid)
	if err != nil {
		return createErr(err, 63)
	}
	m.spill = fd
	if err := fdio.WriteAll(fd, m.buf); err != nil {
		return &ExitError{Code: 53}
	}
	m.spillN = int64(len(m.buf))
	m.buf = m.buf[:0]
	return nil
}

// scratch opens a file for a large body in tmp/ that has no name, so a
// process killed mid-DATA leaves nothing behind (Maildir readers would
// only clear a named one after 36 hours): O_TMPFILE, or where the file
// system refuses it, a new name unlinked at once.
func (q *Maildir) scratch(pid int) (int, error) {
	dir := q.Dir + "/tmp"
	fd, err := unix.Open(dir, unix.O_RDWR|unix.O_TMPFILE|unix.O_CLOEXEC, FileMode)
	if err == nil {
		return fd, nil
	}
	if err != unix.EOPNOTSUPP && err != unix.EISDIR && err != unix.EINVAL {
		return -1, err
	}
	name := dir + "/" + uniqueName(time.Now(), pid)
	fd, err = unix.Open(name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, FileMode)
	if err != nil {
		return -1, err
	}
	unix.Unlink(name)
	return fd, nil
}

func (m *maildirMessage) dropSpill() {
	if m.spill >= 0 {
		unix.Close(m.spill)
		m.spill = -1
	}
}

// release returns the body buffer for the session's next message.
func (m *maildirMessage) release() {
	m.done = true
	m.dropSpill()
	if cap(m.buf) <= 2*DefaultSpillAt {
		*m.body = m.buf[:0]
		bodyPool.Put(m.body)
	}
	m.buf, m.body = nil, nil
}

func (m *maildirMessage) Abort() {
	if !m.done {
		m.release()
	}
}

func (m *maildirMessage) Commit(from string, to []string) error {
	if m.done {
		return &ExitError{Code: 81}
	}
	defer m.release()
	if m.err != nil {
		return m.err
	}
	from, to, err := checkEnvelope(from, to)
	if err != nil {
		return err
	}
	return m.store(from, to)
}

func (m *maildirMessage) store(from string, to []string) error {
	q := m.q
	base := uniqueName(m.start, m.namePid)
	tmp := q.Dir + "/tmp/" + base
	fd, err := unix.Open(tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, FileMode)
	for try := 0; err == unix.EEXIST && try < 3; try++ {
		base = uniqueName(time.Now(), m.namePid)
		tmp = q.Dir + "/tmp/" + base
		fd, err = unix.Open(tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, FileMode)
	}
	if err != nil {
		return createErr(err, 63)
	}
	fail := func(code int) error {
		unix.Close(fd)
		unix.Unlink(tmp)
		return &ExitError{Code: code}
	}
	w := writerPool.Get().(*bufio.Writer)
	defer writerPool.Put(w)
	w.Reset(rawFD(fd))
	uid := q.UID
	if q.UID == 0 {
		uid = os.Getuid()
	}
	writeHeader(w, m.start, m.pid, uid, from, to)
	w.Write(m.buf)
	if err := w.Flush(); err != nil {
		return fail(53)
	}
	w.Reset(nil)
	step("write")
	if m.spill >= 0 {
		if err := copyFD(fd, m.spill, m.spillN); err != nil {
			return fail(53)
		}
	}
	if err := unix.Fsync(fd); err != nil {
		return fail(53)
	}
	step("fsync")
	if err := unix.Close(fd); err != nil {
		unix.Unlink(tmp)
		return &ExitError{Code: 53}
	}
	dst := q.Dir + "/new/" + base
	for try := 0; ; try++ {
		err := unix.Link(tmp, dst)
		if err == nil {
			break
		}
		if err != unix.EEXIST || try == 3 {
			unix.Unlink(tmp)
			return createErr(err, 66)
		}
		// Never overwrite: a clock stepped back or a reused pid gave
		// an existing name; take the next one.
		dst = q.Dir + "/new/" + uniqueName(time.Now(), m.namePid)
	}
	step("link")
	unix.Unlink(tmp)
	if err := q.syncNew(); err != nil {
		// Not durable: take it back, so a retry never makes a duplicate.
		unix.Unlink(dst)
		return &ExitError{Code: 53}
	}
	step("fsync new")
	return nil
}

// trace, when set by a test, sees each durability step in order.
var trace func(step string)

func step(s string) {
	if trace != nil {
		trace(s)
	}
}

// syncNew makes the link into new/ durable. The directory is opened once
// and fsynced without the lock, so concurrent commits overlap (the file
// system batches them into one journal commit) instead of queueing.
func (q *Maildir) syncNew() error {
	q.mu.Lock()
	if !q.newOpen {
		fd, err := unix.Open(q.Dir+"/new", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			q.mu.Unlock()
			return err
		}
		q.newfd, q.newOpen = fd, true
	}
	fd := q.newfd
	q.mu.Unlock()
	return unix.Fsync(fd)
}

// Close releases the open new/ directory, once no message is being
// committed. The Maildir stays usable.
func (q *Maildir) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.newOpen {
		unix.Close(q.newfd)
		q.newOpen = false
	}
}

// createErr maps a failure to create a file: a full disk or quota is 53,
// anything else the queue-trouble code given.
func createErr(err error, code int) error {
	if errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EDQUOT) {
		return &ExitError{Code: 53}
	}
	return &ExitError{Code: code}
}

// copyFD appends the first n bytes of the file src to dst, in the kernel.
func copyFD(dst, src int, n int64) error {
	var off int64
	for off < n {
		k, err := unix.CopyFileRange(src, &off, dst, nil, int(min(n-off, 1<<30)), 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil || k == 0 {
			return copyRW(dst, src, off, n, err)
		}
	}
	return nil
}

// copyRW is the fallback where copy_file_range is refused (EXDEV on old
// kernels, ENOSYS, EINVAL on some file systems).
func copyRW(dst, src int, off, n int64, cerr error) error {
	if cerr != nil && cerr != unix.EXDEV && cerr != unix.ENOSYS && cerr != unix.EINVAL && cerr != unix.EOPNOTSUPP {
		return cerr
	}
	var b [32768]byte
	for off < n {
		k, err := unix.Pread(src, b[:min(int64(len(b)), n-off)], off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if k == 0 {
			return unix.EIO
		}
		if err := fdio.WriteAll(dst, b[:k]); err != nil {
			return err
		}
		off += int64(k)
	}
	return nil
}

type rawFD int

func (f rawFD) Write(b []byte) (int, error) {
	if err := fdio.WriteAll(int(f), b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Store is maildir-queue's whole job: copy the message from msg to EOF,
// read the envelope from env, store. A read error on either is exit 54.
func (q *Maildir) Store(msg io.Reader, env io.ByteReader) error {
	m, err := q.Open()
	if err != nil {
		return &ExitError{Code: 53}
	}
	buf := make([]byte, 65536)
	for {
		n, err := msg.Read(buf)
		if n > 0 {
			m.Write(buf[:n])
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			m.Abort()
			return &ExitError{Code: 54}
		}
	}
	from, to, err := ReadEnvelope(env)
	if err != nil {
		m.Abort()
		return err
	}
	return m.Commit(from, to)
}
