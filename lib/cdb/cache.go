package cdb

import (
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// Cache keeps one database file open across lookups and opens it again
// when the file changes. tcprules renames a new file over the old one, so
// a new inode (or a new size or time stamp) means a new database; each
// Acquire costs one stat(2) instead of an open and a map. A lookup that
// started on the old file finishes on it: the old mapping is released when
// its last user is done.
type Cache struct {
	Path string

	mu  sync.Mutex
	cur *Snapshot
}

// Snapshot is a database as it was when acquired; call Release when done.
type Snapshot struct {
	DB *CDB

	c     *Cache
	id    fileID
	refs  int
	stale bool
}

type fileID struct {
	dev, ino     uint64
	size         int64
	mtime, ctime unix.Timespec
}

// Acquire returns the current database. Errors are those of Open (the file
// is missing or unreadable), so a caller reports them the same way.
func (c *Cache) Acquire() (*Snapshot, error) {
	var st unix.Stat_t
	for {
		err := unix.Stat(c.Path, &st)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "stat", Path: c.Path, Err: err}
		}
		break
	}
	id := fileID{st.Dev, st.Ino, st.Size, st.Mtim, st.Ctim}
	c.mu.Lock()
	if s := c.cur; s != nil && s.id == id {
		s.refs++
		c.mu.Unlock()
		return s, nil
	}
	c.mu.Unlock()

	db, st2, err := open(c.Path, true)
	if err != nil {
		return nil, err
	}
	// Identify what was opened, not what was stat'ed a moment before.
	s := &Snapshot{DB: db, c: c, id: fileID{st2.Dev, st2.Ino, st2.Size, st2.Mtim, st2.Ctim}, refs: 1}
	c.mu.Lock()
	if old := c.cur; old != nil {
		old.stale = true
		c.releaseLocked(old) // the cache's own reference
	}
	s.refs++ // the cache keeps one
	c.cur = s
	c.mu.Unlock()
	return s, nil
}

// Release ends a use of the snapshot.
func (s *Snapshot) Release() {
	s.c.mu.Lock()
	s.c.releaseLocked(s)
	s.c.mu.Unlock()
}

func (c *Cache) releaseLocked(s *Snapshot) {
	s.refs--
	if s.refs == 0 && s.stale {
		s.DB.Close()
	}
}

// Close drops the cache's reference; the database is closed when the last
// snapshot is released.
func (c *Cache) Close() {
	c.mu.Lock()
	if s := c.cur; s != nil {
		s.stale = true
		c.releaseLocked(s)
		c.cur = nil
	}
	c.mu.Unlock()
}
