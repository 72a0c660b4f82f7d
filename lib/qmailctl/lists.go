package qmailctl

import (
	"errors"
	"io/fs"
	"os"
	"sync"
	"syscall"

	"tinymx/lib/ascii"
	"tinymx/lib/cdb"
)

// Set is a set of strings that ignores ASCII case, and only ASCII case, as
// qmail's constmap.
type Set struct{ m map[string]struct{} }

// NewSet builds a set from list entries.
func NewSet(entries [][]byte) *Set {
	s := &Set{m: make(map[string]struct{}, len(entries))}
	for _, e := range entries {
		s.m[string(lower(e))] = struct{}{}
	}
	return s
}

// Has reports whether key is in the set, ignoring ASCII case.
func (s *Set) Has(key []byte) bool {
	if s == nil {
		return false
	}
	var buf [256]byte
	var k []byte
	if len(key) <= len(buf) {
		k = append(buf[:0], key...)
	} else {
		k = append([]byte(nil), key...)
	}
	_, ok := s.m[string(ascii.LowerInPlace(k))]
	return ok
}

// Len is the number of distinct entries.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.m)
}

func lower(b []byte) []byte { return ascii.LowerInPlace(append([]byte(nil), b...)) }

// LazyCDB is a cdb opened on its first lookup: qmail-smtpd starts once per
// connection and most connections never need the file, so start-up costs
// nothing however big it is (and a lookup reads only the records it needs, never the whole file).
//
// Lookups may run from many goroutines at once (a server whose sessions
// share one Rcpthosts): the open happens once, under once.
type LazyCDB struct {
	Path string
	once sync.Once
	db   *cdb.CDB
	err  error
}

// Has reports whether key is in the database (keys are stored lowercase by
// qmail-newmrh and qmail-newbmf; the caller lowercases). A missing file
// holds nothing; any other trouble is an error (stock: 421).
func (l *LazyCDB) Has(key []byte) (bool, error) {
	l.once.Do(func() {
		l.db, l.err = cdb.Open(l.Path)
		if l.err != nil && errors.Is(l.err, fs.ErrNotExist) {
			l.db, l.err = nil, nil
		}
	})
	if l.err != nil {
		return false, l.err
	}
	if l.db == nil {
		return false, nil
	}
	// Only the key matters, as for notqmail's cdb_find: a record whose
	// data runs past the end of the file still lists its key.
	return l.db.Has(key)
}

// Close releases the file if it was opened; no lookup may be running.
func (l *LazyCDB) Close() {
	if l.db != nil {
		l.db.Close()
		l.db = nil
	}
}

// checkReadable opens and closes path: stock opens its cdb at start-up and
// refuses to run (421) when that fails for any reason but ENOENT.
func checkReadable(path string) error {
	fd, err := openRead(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	return syscall.Close(fd)
}

// Rcpthosts decides which recipient domains qmail-smtpd accepts:
// control/rcpthosts, then control/morercpthosts.cdb.
type Rcpthosts struct {
	set  *Set // nil: no rcpthosts file, every domain allowed
	more LazyCDB
}

// LoadRcpthosts reads control/rcpthosts under dir ("" for the current
// directory, the qmail home). morercpthosts.cdb is consulted only when
// rcpthosts exists, as stock.
func LoadRcpthosts(dir string) (*Rcpthosts, error) {
	entries, ok, err := ReadList(join(dir, "control/rcpthosts"))
	if err != nil {
		return nil, err
	}
	r := &Rcpthosts{}
	if !ok {
		return r, nil
	}
	r.set = NewSet(entries)
	r.more.Path = join(dir, "control/morercpthosts.cdb")
	if err := checkReadable(r.more.Path); err != nil {
		return nil, err
	}
	return r, nil
}

// NewRcpthosts builds a Rcpthosts from entries (nil entries: no file, open
// relay) and an optional morercpthosts.cdb path.
func NewRcpthosts(entries [][]byte, exists bool, cdbPath string) *Rcpthosts {
	r := &Rcpthosts{}
	if exists {
		r.set = NewSet(entries)
		r.more.Path = cdbPath
	}
	return r
}

// Allowed reports whether addr may be a recipient: an address without '@'
// always is; otherwise the host after the last '@', lowercased, then each
// of its suffixes starting at a '.', is looked up in rcpthosts and then in
// morercpthosts.cdb. An empty host matches nothing.
func (r *Rcpthosts) Allowed(addr []byte) (bool, error) {
	if r == nil || r.set == nil {
		return true, nil
	}
	at := lastIndex(addr, '@')
	if at < 0 {
		return true, nil
	}
	host := lower(addr[at+1:])
	for j := 0; j < len(host); j++ {
		if j == 0 || host[j] == '.' {
			if _, ok := r.set.m[string(host[j:])]; ok {
				return true, nil
			}
		}
	}
	if r.more.Path == "" {
		return false, nil
	}
	for j := 0; j < len(host); j++ {
		if j == 0 || host[j] == '.' {
			ok, err := r.more.Has(host[j:])
			if err != nil {
				return false, err
			}
			if ok {
				return true, nil
			}
		}
	}
	return false, nil
}

// Close releases the cdb.
func (r *Rcpthosts) Close() {
	if r != nil {
		r.more.Close()
	}
}

// Badmailfrom decides which envelope senders are refused: the whole
// address, or its "@domain" part from the last '@', ignoring ASCII case.
type Badmailfrom struct {
	set *Set
	db  *LazyCDB
}

// LoadBadmailfrom reads control/badmailfrom under dir, or
// control/badmailfrom.cdb instead when that exists and is not older than
// the plain file (qmail-newbmf made it from the current list). A missing
// plain file with a cdb present means the cdb is the list.
func LoadBadmailfrom(dir string) (*Badmailfrom, error) {
	plain := join(dir, "control/badmailfrom")
	cdbPath := join(dir, "control/badmailfrom.cdb")
	cst, cerr := os.Stat(cdbPath)
	if cerr == nil {
		pst, perr := os.Stat(plain)
		if perr != nil && !errors.Is(perr, fs.ErrNotExist) {
			return nil, perr
		}
		if perr != nil || !cst.ModTime().Before(pst.ModTime()) {
			if err := checkReadable(cdbPath); err != nil {
				return nil, err
			}
			return &Badmailfrom{db: &LazyCDB{Path: cdbPath}}, nil
		}
	} else if !errors.Is(cerr, fs.ErrNotExist) {
		return nil, cerr
	}
	entries, ok, err := ReadList(plain)
	if err != nil {
		return nil, err
	}
	if !ok {
		return &Badmailfrom{}, nil
	}
	return &Badmailfrom{set: NewSet(entries)}, nil
}

// NewBadmailfrom builds a Badmailfrom from list entries.
func NewBadmailfrom(entries [][]byte) *Badmailfrom {
	return &Badmailfrom{set: NewSet(entries)}
}

// Match reports whether sender is listed. The empty sender never is.
func (b *Badmailfrom) Match(sender []byte) (bool, error) {
	if b == nil || len(sender) == 0 || (b.set == nil && b.db == nil) {
		return false, nil
	}
	key := lower(sender)
	at := lastIndex(key, '@')
	if b.set != nil {
		if _, ok := b.set.m[string(key)]; ok {
			return true, nil
		}
		if at >= 0 {
			_, ok := b.set.m[string(key[at:])]
			return ok, nil
		}
		return false, nil
	}
	ok, err := b.db.Has(key)
	if err != nil || ok {
		return ok, err
	}
	if at >= 0 {
		return b.db.Has(key[at:])
	}
	return false, nil
}

// Close releases the cdb.
func (b *Badmailfrom) Close() {
	if b != nil && b.db != nil {
		b.db.Close()
	}
}

func lastIndex(b []byte, c byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == c {
			return i
		}
	}
	return -1
}

func join(dir, rel string) string {
	if dir == "" {
		return rel
	}
	return dir + "/" + rel
}
