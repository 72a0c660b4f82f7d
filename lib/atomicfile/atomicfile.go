// Package atomicfile writes files that other programs read: the data goes to
// a temporary file in the same directory (rename is atomic only within one
// file system, and a directory is always on one), is fsynced, and is renamed
// over the target, so a reader sees the old file or the whole new one.
package atomicfile

import (
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// File is a pending replacement of a file.
type File struct {
	f      *os.File
	tmp    string
	path   string
	NoSync bool // skip the fsync where the original does (supervise's status)
	done   bool
}

var seq atomic.Uint64

// Create opens a temporary file for path. With tmp empty the name is unique
// and beside path; otherwise it is exactly tmp, as the original names it
// (tcprules' rules.tmp, supervise's status.new) and it is truncated.
func Create(path, tmp string, perm os.FileMode) (*File, error) {
	if tmp != "" {
		// Non-blocking, as the originals' open_trunc (O_NDELAY): a FIFO
		// someone left at the fixed name fails with ENXIO instead of
		// waiting for a reader; on a regular file the flag does nothing.
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NONBLOCK, perm)
		if err != nil {
			return nil, err
		}
		return &File{f: f, tmp: tmp, path: path}, nil
	}
	dir, base := filepath.Split(path)
	for {
		name := filepath.Join(dir, "."+base+".tmp"+strconv.Itoa(os.Getpid())+"."+
			strconv.FormatInt(time.Now().UnixNano(), 36)+strconv.FormatUint(seq.Add(1), 10))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if os.IsExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &File{f: f, tmp: name, path: path}, nil
	}
}

// Write writes to the temporary file.
func (a *File) Write(b []byte) (int, error) { return a.f.Write(b) }

// File returns the temporary file, for seeking writers (cdb).
func (a *File) File() *os.File { return a.f }

// TempName is the temporary file's name.
func (a *File) TempName() string { return a.tmp }

// Commit makes the new contents visible: fsync, close, rename.
func (a *File) Commit() error {
	if a.done {
		return os.ErrClosed
	}
	a.done = true
	if !a.NoSync {
		if err := a.f.Sync(); err != nil {
			a.f.Close()
			return err
		}
	}
	if err := a.f.Close(); err != nil {
		return err
	}
	return rename(a.tmp, a.path)
}

// rename asks the kernel directly: os.Rename refuses a directory target
// with EEXIST before trying, where the C programs report the kernel's
// EISDIR.
func rename(from, to string) error {
	if err := syscall.Rename(from, to); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}

// Abort drops the new contents and removes the temporary file.
func (a *File) Abort() {
	if a.done {
		return
	}
	a.done = true
	a.f.Close()
	os.Remove(a.tmp)
}

// WriteFile replaces path with data atomically.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	f, err := Create(path, "", perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	if err := f.Commit(); err != nil {
		os.Remove(f.tmp)
		return err
	}
	return nil
}
