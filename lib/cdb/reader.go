// Package cdb reads and writes djb's constant database format, byte for byte
// as cdbmake and tcprules write it.
//
// The reader takes untrusted files: every position and length read from the
// file is checked against the file size before it is used, and a file that
// does not hold together is reported as ErrFormat (which wraps EPROTO, djb's
// "protocol error"), never a panic and never an allocation the file asks for.
// As in djb's library, nothing is checked up front: a lookup touches only the
// header slot, the hash table and the records it needs, so a damaged file
// fails only for the keys that reach the damage.
package cdb

import (
	"encoding/binary"
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// headerSize is the fixed table of 256 (position, slots) pairs.
const headerSize = 2048

type formatError struct{}

func (formatError) Error() string { return "cdb: format error" }
func (formatError) Unwrap() error { return unix.EPROTO }

// ErrFormat reports a file that is not a well-formed cdb (truncated, or a
// position or length pointing outside the file). errors.Is(err, unix.EPROTO)
// holds for it, so strerr prints "protocol error" as djb's programs do.
var ErrFormat error = formatError{}

// CDB is an open constant database. It is safe for concurrent readers.
type CDB struct {
	data   []byte
	mapped bool
	// initErr is returned by every lookup: djb's cdb_init never fails, the
	// first read does (an empty file cannot be mapped: EINVAL).
	initErr error
}

// Hash is djb's cdb hash: h = ((h << 5) + h) ^ c from 5381.
func Hash(key []byte) uint32 {
	h := uint32(5381)
	for _, c := range key {
		h = ((h << 5) + h) ^ uint32(c)
	}
	return h
}

// Open maps the file read-only. The returned slices point into the mapping
// and stay valid until Close. It uses the system calls directly (no
// *os.File): tcpserver opens the rules afresh for every connection.
func Open(path string) (*CDB, error) {
	db, _, err := open(path)
	return db, err
}

// open is Open, also returning the identity of the file it opened.
func open(path string) (*CDB, *unix.Stat_t, error) {
	var fd int
	var err error
	for {
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	db, err := mapFD(fd, path, &st)
	return db, &st, err
}

// OpenFile maps an open file; f may be closed afterwards.
func OpenFile(f *os.File) (*CDB, error) {
	var st unix.Stat_t
	return mapFD(int(f.Fd()), f.Name(), &st)
}

func mapFD(fd int, name string, stp *unix.Stat_t) (*CDB, error) {
	if err := unix.Fstat(fd, stp); err != nil {
		return nil, &os.PathError{Op: "fstat", Path: name, Err: err}
	}
	st := stp
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		// djb's tcprulescheck crashes here; read(2) would say EISDIR.
		return nil, &os.PathError{Op: "read", Path: name, Err: unix.EISDIR}
	}
	size := st.Size
	if size == 0 {
		// djb maps the file, falls back to read(2), and the empty file then
		// reports "invalid argument" from the failed mmap: keep that wording.
		return &CDB{initErr: &os.PathError{Op: "mmap", Path: name, Err: unix.EINVAL}}, nil
	}
	if size < 0 || int64(int(size)) != size {
		return nil, &os.PathError{Op: "mmap", Path: name, Err: unix.EFBIG}
	}
	if size <= readLimit {
		return readSmall(fd, name, int(size))
	}
	b, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, &os.PathError{Op: "mmap", Path: name, Err: err}
	}
	return &CDB{data: b, mapped: true}, nil
}

// readLimit is the size up to which Open reads the file instead of mapping
// it: on a multi-threaded process mmap+munmap costs far more than one pread
// (measured: 220 us against 15 us), and tcpserver opens the rules on every
// connection. The buffer is bounded by this limit, whatever the file says.
const readLimit = 64 << 10

func readSmall(fd int, name string, size int) (*CDB, error) {
	b := make([]byte, size)
	n := 0
	for n < size {
		r, err := unix.Pread(fd, b[n:], int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: name, Err: err}
		}
		if r == 0 {
			break // the file shrank under us: what we have is the file
		}
		n += r
	}
	return &CDB{data: b[:n]}, nil
}

// FromBytes reads a cdb held in memory; b must not change while in use.
func FromBytes(b []byte) *CDB { return &CDB{data: b} }

// Close unmaps the file. Slices returned earlier become invalid.
func (c *CDB) Close() error {
	if c.mapped && c.data != nil {
		b := c.data
		c.data = nil
		c.mapped = false
		return unix.Munmap(b)
	}
	c.data = nil
	return nil
}

// Size is the length of the database in bytes.
func (c *CDB) Size() int { return len(c.data) }

// read returns n bytes at pos, or ErrFormat when they are not all in the file.
func (c *CDB) read(pos, n uint64) ([]byte, error) {
	size := uint64(len(c.data))
	if pos > size || size-pos < n {
		return nil, ErrFormat
	}
	return c.data[pos : pos+n], nil
}

func (c *CDB) u32pair(pos uint64) (uint32, uint32, error) {
	b, err := c.read(pos, 8)
	if err != nil {
		return 0, 0, err
	}
	return binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:]), nil
}

// Get returns the data of the first record with key. The slice points into
// the database (no copy).
func (c *CDB) Get(key []byte) (val []byte, ok bool, err error) {
	var p probe
	return c.next(key, &p)
}

// probe is the position of a lookup in its hash table. It holds no
// pointers, so a key built on the caller's stack stays there.
type probe struct {
	khash   uint32
	hpos    uint64
	hslots  uint64
	kpos    uint64
	loop    uint64
	started bool
}

// next finds the next record of key from p, as djb's cdb_findnext.
func (c *CDB) next(key []byte, p *probe) ([]byte, bool, error) {
	if c.initErr != nil {
		return nil, false, c.initErr
	}
	if !p.started {
		p.started = true
		h := Hash(key)
		hpos, hslots, err := c.u32pair(uint64(h<<3) & 2047)
		if err != nil {
			return nil, false, err
		}
		if hslots == 0 {
			return nil, false, nil
		}
		p.khash = h
		p.hpos = uint64(hpos)
		p.hslots = uint64(hslots)
		p.kpos = p.hpos + (uint64(h>>8)%p.hslots)<<3
	}
	for p.loop < p.hslots {
		h, pos, err := c.u32pair(p.kpos)
		if err != nil {
			return nil, false, err
		}
		if pos == 0 {
			break
		}
		p.loop++
		p.kpos += 8
		if p.kpos == p.hpos+p.hslots<<3 {
			p.kpos = p.hpos
		}
		if h != p.khash {
			continue
		}
		klen, dlen, err := c.u32pair(uint64(pos))
		if err != nil {
			return nil, false, err
		}
		if uint64(klen) != uint64(len(key)) {
			continue
		}
		k, err := c.read(uint64(pos)+8, uint64(klen))
		if err != nil {
			return nil, false, err
		}
		if string(k) != string(key) {
			continue
		}
		v, err := c.read(uint64(pos)+8+uint64(klen), uint64(dlen))
		if err != nil {
			return nil, false, err
		}
		return v, true, nil
	}
	p.loop = p.hslots
	return nil, false, nil
}

// Iterator walks the records of one key in insertion order.
type Iterator struct {
	c    *CDB
	key  []byte
	p    probe
	val  []byte
	err  error
	done bool
}

// Find starts a lookup of every record with key:
//
//	it := db.Find(k); for it.Next() { use(it.Value()) }; if it.Err() != nil { ... }
func (c *CDB) Find(key []byte) Iterator {
	return Iterator{c: c, key: key}
}

// Next advances to the next record with the key; false at the end or on error.
func (it *Iterator) Next() bool {
	if it.done {
		return false
	}
	v, ok, err := it.c.next(it.key, &it.p)
	it.val, it.err = v, err
	if !ok {
		it.done = true
	}
	return ok
}

// Value is the data of the current record (points into the database).
func (it *Iterator) Value() []byte { return it.val }

// Err is the error that ended the iteration, if any.
func (it *Iterator) Err() error { return it.err }

// ForEach calls fn for every record in file order, as cdbdump does: records
// run from the end of the header to the first hash table. An error from fn
// stops the walk and is returned.
func (c *CDB) ForEach(fn func(key, val []byte) error) error {
	if c.initErr != nil {
		return c.initErr
	}
	eod, _, err := c.u32pair(0)
	if err != nil {
		return err
	}
	pos := uint64(headerSize)
	for pos < uint64(eod) {
		klen, dlen, err := c.u32pair(pos)
		if err != nil {
			return err
		}
		k, err := c.read(pos+8, uint64(klen))
		if err != nil {
			return err
		}
		v, err := c.read(pos+8+uint64(klen), uint64(dlen))
		if err != nil {
			return err
		}
		if err := fn(k, v); err != nil {
			return err
		}
		pos += 8 + uint64(klen) + uint64(dlen)
	}
	if pos != uint64(eod) {
		return ErrFormat
	}
	return nil
}

// IsFormat reports whether err says the database is malformed.
func IsFormat(err error) bool { return errors.Is(err, ErrFormat) }
