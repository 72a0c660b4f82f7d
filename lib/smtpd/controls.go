package smtpd

import (
	"sync"

	"golang.org/x/sys/unix"
)

// controlCache keeps the control files of a server of many sessions read
// once, and as fresh as a qmail-smtpd started per connection would read
// them: before each session every file loadControls reads is stat'ed,
// and a file that came, went, or changed (a new inode from a rename, a
// new size, mtime or ctime) makes that session read them all again. A
// session keeps the reading it started with, as stock keeps what it read
// at start-up; the Rcpthosts and Badmailfrom of a reading replaced are
// closed once its last session ends.
type controlCache struct {
	mu      sync.Mutex
	entries map[controlKey]*controlEntry
}

type controlKey struct {
	home string
	opts controlOpts
}

type controlEntry struct {
	cfg   *Config // what loadControls read; sessions take copies
	ids   controlIDs
	refs  int // sessions using it, plus one while cached
	stale bool
}

// fileID tells one version of a file from another.
type fileID struct {
	exists       bool
	dev, ino     uint64
	size         int64
	mode         uint32
	mtime, ctime unix.Timespec
}

type controlIDs [len(controlFiles)]fileID

// statControls identifies each control file of home. ok is false when
// a reading of them must not be reused: one is not a regular file (a
// FIFO reads differently each time) or cannot be stat'ed for a reason
// other than its absence.
func statControls(home string) (ids controlIDs, ok bool) {
	ok = true
	var st unix.Stat_t
	for i, name := range controlFiles {
		err := unix.Stat(controlPath(home, name), &st)
		for err == unix.EINTR {
			err = unix.Stat(controlPath(home, name), &st)
		}
		switch {
		case err == unix.ENOENT || err == unix.ENOTDIR:
			continue
		case err != nil:
			ok = false
			continue
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG {
			ok = false
		}
		ids[i] = fileID{true, st.Dev, st.Ino, st.Size, st.Mode, st.Mtim, st.Ctim}
	}
	return ids, ok
}

// config returns a session's own copy of home's controls as read with
// opts, and the function to call when the session ends.
func (c *controlCache) config(home string, opts controlOpts) (*Config, func(), error) {
	key := controlKey{home, opts}
	ids, cacheable := statControls(home)
	if cacheable {
		c.mu.Lock()
		if e := c.entries[key]; e != nil && e.ids == ids {
			e.refs++
			c.mu.Unlock()
			cfg := *e.cfg
			return &cfg, func() { c.release(e) }, nil
		}
		c.mu.Unlock()
	}
	base, err := loadControls(home, opts)
	if err != nil {
		return nil, nil, err
	}
	// A file that changed while they were read: this session's alone.
	if ids2, ok := statControls(home); !cacheable || !ok || ids2 != ids {
		cfg := *base
		return &cfg, func() { closeControls(base) }, nil
	}
	e := &controlEntry{cfg: base, ids: ids, refs: 2}
	c.mu.Lock()
	if c.entries == nil {
		c.entries = make(map[controlKey]*controlEntry)
	}
	if old := c.entries[key]; old != nil {
		c.dropLocked(old)
	}
	c.entries[key] = e
	c.mu.Unlock()
	cfg := *base
	return &cfg, func() { c.release(e) }, nil
}

func (c *controlCache) release(e *controlEntry) {
	c.mu.Lock()
	e.refs--
	if e.refs == 0 {
		closeControls(e.cfg)
	}
	c.mu.Unlock()
}

// dropLocked takes e out of use for new sessions; c.mu is held.
func (c *controlCache) dropLocked(e *controlEntry) {
	if e.stale {
		return
	}
	e.stale = true
	e.refs--
	if e.refs == 0 {
		closeControls(e.cfg)
	}
}

// reload forgets every reading (SIGHUP): the next session of each home
// reads its files again, changed or not.
func (c *controlCache) reload() {
	c.mu.Lock()
	for k, e := range c.entries {
		c.dropLocked(e)
		delete(c.entries, k)
	}
	c.mu.Unlock()
}

func closeControls(cfg *Config) {
	cfg.Rcpthosts.Close()
	cfg.Badmailfrom.Close()
}
