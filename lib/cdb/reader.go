// Package cdb reads and writes djb's constant database format, byte for byte
// as cdbmake and tcprules write it.
//
// The reader takes untrusted files: every position and length read from the
// file is checked against the file size before it is used, and a file that
// does not hold together is reported as ErrFormat (which wraps EPROTO, djb's
// "protocol error"), never a panic and never an allocation the file asks for
// beyond its own size.
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
//
// It holds the file in one of three ways: in memory (FromBytes, and files
// up to 64 KiB, read at Open), mapped (OpenFile, and the Cache, which keeps
// a database across lookups), or read with pread(2) on demand (larger
// files at Open: mapping and unmapping a file costs more than the dozen
// small reads a lookup needs, and tcpserver opens the rules per connection).
type CDB struct {
	data   []byte
	mapped bool
	// pread mode: fd is open until Close, size is the file size then.
	pread bool
	fd    int
	size  uint64
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

// Open opens the file read-only: small files are read at once, larger ones
// are read on demand (see CDB). Slices returned by lookups stay valid until
// Close. It uses the system calls directly (no *os.File): tcpserver opens
// the rules afresh for every connection.
func Open(path string) (*CDB, error) {
	db, _, err := open(path, false)
	return db, err
}

// open is Open (or, with mapLarge, maps large files), also returning the
// identity of the file it opened.
func open(path string, mapLarge bool) (*CDB, *unix.Stat_t, error) {
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
	var st unix.Stat_t
	db, err := mapFD(fd, path, &st, !mapLarge)
	if db == nil || !db.pread {
		unix.Close(fd)
	}
	return db, &st, err
}

// OpenFile maps an open file; f may be closed afterwards.
func OpenFile(f *os.File) (*CDB, error) {
	var st unix.Stat_t
	return mapFD(int(f.Fd()), f.Name(), &st, false)
}

// mapFD makes a CDB of fd: in memory when small, else kept open for pread
// (keepFD: the CDB then owns fd) or mapped.
func mapFD(fd int, name string, stp *unix.Stat_t, keepFD bool) (*CDB, error) {
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
	if size <= readLimitVar {
		return readSmall(fd, name, int(size))
	}
	if keepFD {
		return &CDB{pread: true, fd: fd, size: uint64(size)}, nil
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

var readLimitVar int64 = readLimit // tests lower it to reach pread mode

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

// Close releases the file. Slices returned earlier by a mapped database
// become invalid.
func (c *CDB) Close() error {
	if c.pread {
		c.pread = false
		c.size = 0
		return unix.Close(c.fd)
	}
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
func (c *CDB) Size() int {
	if c.pread {
		return int(c.size)
	}
	return len(c.data)
}

// read returns n bytes at pos, or ErrFormat when they are not all in the
// file. In pread mode the bytes go to buf when they fit, else to a new
// slice (n is then checked against the file size first).
func (c *CDB) read(pos, n uint64, buf []byte) ([]byte, error) {
	size := uint64(len(c.data))
	if c.pread {
		size = c.size
	}
	if pos > size || size-pos < n {
		return nil, ErrFormat
	}
	if !c.pread {
		return c.data[pos : pos+n], nil
	}
	var b []byte
	if n <= uint64(len(buf)) {
		b = buf[:n]
	} else {
		b = make([]byte, n)
	}
	if err := c.preadFull(b, pos); err != nil {
		return nil, err
	}
	return b, nil
}

func (c *CDB) preadFull(b []byte, pos uint64) error {
	for off := 0; off < len(b); {
		r, err := unix.Pread(c.fd, b[off:], int64(pos)+int64(off))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if r == 0 {
			return ErrFormat // the file shrank under us
		}
		off += r
	}
	return nil
}

func (c *CDB) u32pair(pos uint64) (uint32, uint32, error) {
	var buf [8]byte
	b, err := c.read(pos, 8, buf[:])
	if err != nil {
		return 0, 0, err
	}
	return binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:]), nil
}

// keyAt reports whether the klen bytes at pos equal key, reading them in
// small pieces in pread mode so that no buffer depends on the file.
func (c *CDB) keyAt(pos uint64, key []byte) (bool, error) {
	if !c.pread {
		k, err := c.read(pos, uint64(len(key)), nil)
		return err == nil && string(k) == string(key), err
	}
	if pos > c.size || c.size-pos < uint64(len(key)) {
		return false, ErrFormat
	}
	var buf [128]byte
	for off := 0; off < len(key); off += len(buf) {
		part := key[off:min(off+len(buf), len(key))]
		b := buf[:len(part)]
		if err := c.preadFull(b, pos+uint64(off)); err != nil {
			return false, err
		}
		if string(b) != string(part) {
			return false, nil
		}
	}
	return true, nil
}

// Get returns the data of the first record with key. The slice points into
// the database (no copy) unless the database is read on demand.
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

// Has reports whether a record with key exists. Like djb's cdb_find,
// which qmail-smtpd calls for morercpthosts.cdb, it reads the key and not
// the data, so a record whose data length runs past the end of the file
// is still found (Get reports ErrFormat for it).
func (c *CDB) Has(key []byte) (bool, error) {
	var p probe
	_, _, ok, err := c.locate(key, &p)
	return ok, err
}

// next finds the next record of key from p and reads its data.
func (c *CDB) next(key []byte, p *probe) ([]byte, bool, error) {
	dpos, dlen, ok, err := c.locate(key, p)
	if !ok || err != nil {
		return nil, false, err
	}
	v, err := c.read(dpos, dlen, nil)
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// locate finds the next record of key from p, as djb's cdb_findnext, and
// returns where its data starts and the length the record gives, not yet
// checked against the file.
func (c *CDB) locate(key []byte, p *probe) (dpos, dlen uint64, ok bool, err error) {
	if c.initErr != nil {
		return 0, 0, false, c.initErr
	}
	if !p.started {
		p.started = true
		h := Hash(key)
		hpos, hslots, err := c.u32pair(uint64(h<<3) & 2047)
		if err != nil {
			return 0, 0, false, err
		}
		if hslots == 0 {
			return 0, 0, false, nil
		}
		p.khash = h
		p.hpos = uint64(hpos)
		p.hslots = uint64(hslots)
		p.kpos = p.hpos + (uint64(h>>8)%p.hslots)<<3
	}
	for p.loop < p.hslots {
		h, pos, err := c.u32pair(p.kpos)
		if err != nil {
			return 0, 0, false, err
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
		klen, n, err := c.u32pair(uint64(pos))
		if err != nil {
			return 0, 0, false, err
		}
		if uint64(klen) != uint64(len(key)) {
			continue
		}
		same, err := c.keyAt(uint64(pos)+8, key)
		if err != nil {
			return 0, 0, false, err
		}
		if !same {
			continue
		}
		return uint64(pos) + 8 + uint64(klen), uint64(n), true, nil
	}
	p.loop = p.hslots
	return 0, 0, false, nil
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

// Value is the data of the current record (points into the database unless
// it is read on demand).
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
		k, err := c.read(pos+8, uint64(klen), nil)
		if err != nil {
			return err
		}
		v, err := c.read(pos+8+uint64(klen), uint64(dlen), nil)
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
