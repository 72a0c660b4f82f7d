package cdb

import (
	"bufio"
	"encoding/binary"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// ErrTooBig reports a database past the 4 GiB the format can address. djb's
// cdb_make reports it as ENOMEM, so tcprules says "out of memory".
var ErrTooBig error = &classError{"cdb: database too large", unix.ENOMEM}

const chunkSize = 4096

// slot is what the writer keeps per record: 8 bytes, whatever the record size.
type slot struct {
	h   uint32
	pos uint32
}

// Writer builds a cdb in a file, in djb's layout: records from offset 2048 in
// the order added, then the 256 hash tables, then the header at offset 0.
type Writer struct {
	f   *os.File
	buf *bufio.Writer
	pos uint64
	// slots in fixed-size chunks: appending never copies what is stored,
	// which for a million records was most of the writer's time.
	chunks [][]slot
	n      int
	err    error
	tmp    [8]byte
}

// NewWriter starts a database in f (which must be seekable). The writes go
// through a 64 KiB buffer: djb's 8 KiB makes the system calls most of the
// cost of a large tcprules run. The bytes written are the same.
func NewWriter(f *os.File) *Writer {
	w := &Writer{f: f, buf: bufio.NewWriterSize(f, 64<<10), pos: headerSize}
	if _, err := f.Seek(headerSize, io.SeekStart); err != nil {
		w.err = err
	}
	return w
}

func (w *Writer) pair(a, b uint32) error {
	binary.LittleEndian.PutUint32(w.tmp[:4], a)
	binary.LittleEndian.PutUint32(w.tmp[4:], b)
	_, err := w.buf.Write(w.tmp[:])
	return err
}

// Add appends a record. Duplicate keys are kept; lookups find the first.
func (w *Writer) Add(key, val []byte) error {
	if w.err != nil {
		return w.err
	}
	end := w.pos + 8 + uint64(len(key)) + uint64(len(val))
	if uint64(len(key)) > 0xffffffff || uint64(len(val)) > 0xffffffff || end > 0xffffffff {
		w.err = ErrTooBig
		return w.err
	}
	if err := w.pair(uint32(len(key)), uint32(len(val))); err != nil {
		w.err = err
		return err
	}
	if _, err := w.buf.Write(key); err != nil {
		w.err = err
		return err
	}
	if _, err := w.buf.Write(val); err != nil {
		w.err = err
		return err
	}
	if len(w.chunks) == 0 || len(w.chunks[len(w.chunks)-1]) == chunkSize {
		w.chunks = append(w.chunks, make([]slot, 0, chunkSize))
	}
	c := &w.chunks[len(w.chunks)-1]
	*c = append(*c, slot{h: Hash(key), pos: uint32(w.pos)})
	w.n++
	w.pos = end
	return nil
}

// Finish writes the hash tables and the header. It does not sync or close f.
func (w *Writer) Finish() error {
	if w.err != nil {
		return w.err
	}
	var count [256]uint32
	for _, c := range w.chunks {
		for _, s := range c {
			count[s.h&255]++
		}
	}
	// The tables take 16 bytes per record; check before writing any.
	if w.pos+16*uint64(w.n) > 0xffffffff {
		w.err = ErrTooBig
		return w.err
	}
	// Group the records by bucket, keeping insertion order inside each.
	var start [256]uint32
	var u uint32
	for i := range 256 {
		start[i] = u
		u += count[i]
	}
	split := make([]slot, w.n)
	next := start
	for _, c := range w.chunks {
		for _, s := range c {
			b := s.h & 255
			split[next[b]] = s
			next[b]++
		}
	}
	w.chunks = nil
	maxLen := uint32(1)
	for _, n := range count {
		maxLen = max(maxLen, 2*n)
	}
	table := make([]slot, maxLen)
	var header [headerSize]byte
	for i := range 256 {
		n := count[i]
		ln := 2 * n
		binary.LittleEndian.PutUint32(header[8*i:], uint32(w.pos))
		binary.LittleEndian.PutUint32(header[8*i+4:], ln)
		t := table[:ln]
		clear(t)
		for _, s := range split[start[i] : start[i]+n] {
			where := (s.h >> 8) % ln
			for t[where].pos != 0 {
				where++
				if where == ln {
					where = 0
				}
			}
			t[where] = s
		}
		for _, s := range t {
			if err := w.pair(s.h, s.pos); err != nil {
				w.err = err
				return err
			}
		}
		w.pos += 8 * uint64(ln)
	}
	if err := w.buf.Flush(); err != nil {
		w.err = err
		return err
	}
	if _, err := w.f.Seek(0, io.SeekStart); err != nil {
		w.err = err
		return err
	}
	if _, err := w.f.Write(header[:]); err != nil {
		w.err = err
		return err
	}
	w.err = errFinished
	return nil
}

var errFinished error = &classError{"cdb: writer finished", unix.EINVAL}

// classError is an error with its errno class, without fmt: qmail-smtpd
// links this package and starts once per connection.
type classError struct {
	text  string
	errno unix.Errno
}

func (e *classError) Error() string { return e.text + ": " + e.errno.Error() }
func (e *classError) Unwrap() error { return e.errno }
