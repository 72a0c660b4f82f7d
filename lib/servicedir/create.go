package servicedir

import (
	"os"
	"path/filepath"
	"syscall"
)

// Owner is an account's ids; nil means the file keeps the creator's.
type Owner struct{ UID, GID int }

// Accounts are the ids files are given to.
type Accounts struct {
	Acct    Owner // owns the Maildir
	LogAcct Owner // owns log/main and log/status (uid only, as qmail-conf)
}

// CreateError names the path that could not be made.
type CreateError struct {
	Path string
	Err  error
}

func (e *CreateError) Error() string { return "unable to create " + e.Path + ": " + e.Err.Error() }
func (e *CreateError) Unwrap() error { return e.Err }

// Create makes the service directory. D must not exist; on any failure
// everything created is removed again, so nothing is left half made.
func Create(c *Config, ids Accounts) error {
	if _, err := os.Lstat(c.Dir); err == nil {
		// D is not ours to touch, nor to remove
		return &CreateError{c.Dir, syscall.EEXIST}
	}
	top, err := mkParents(filepath.Dir(c.Dir))
	if err != nil {
		return err
	}
	if err := c.create(ids); err != nil {
		if top != "" {
			os.RemoveAll(top)
		} else {
			os.RemoveAll(c.Dir)
		}
		return err
	}
	return nil
}

// mkParents creates the missing parents of dir and returns the topmost
// one it made ("" when none), for removal on failure.
func mkParents(dir string) (string, error) {
	if _, err := os.Stat(dir); err == nil {
		return "", nil
	}
	top := dir
	for {
		parent := filepath.Dir(top)
		if _, err := os.Stat(parent); err == nil || parent == top {
			break
		}
		top = parent
	}
	if err := os.MkdirAll(dir, 0755); err != nil {
		return "", &CreateError{dir, err}
	}
	return top, nil
}

var noOwner = Owner{-1, -1}

func (c *Config) create(ids Accounts) error {
	d := c.Dir
	logOwner := Owner{ids.LogAcct.UID, -1}
	steps := []func() error{
		func() error { return mkdir(d, 03755, noOwner) },
		func() error { return file(d+"/run", c.RunScript(), 0755, noOwner) },
		func() error { return mkdir(d+"/env", 02755, noOwner) },
		func() error { return file(d+"/env/BACKLOG", "", 0644, noOwner) },
		func() error { return file(d+"/env/CONCURRENCY", line(c.Concurrency), 0644, noOwner) },
		func() error { return file(d+"/env/IP", line(c.IP), 0644, noOwner) },
		func() error { return file(d+"/env/LOCALNAME", line(c.LocalName), 0644, noOwner) },
		func() error { return file(d+"/env/PORT", line(c.Port), 0644, noOwner) },
		func() error { return file(d+"/env/REMOTEINFO", "", 0644, noOwner) },
		func() error { return file(d+"/env/REMOTENAME", "", 0644, noOwner) },
		func() error { return file(d+"/env/DATALIMIT", line(c.DataLimit), 0644, noOwner) },
		func() error { return file(d+"/tcp", "", 0644, noOwner) },
		func() error { return file(d+"/Makefile", c.Makefile(), 0644, noOwner) },
		func() error { return file(d+"/add-relayclient", c.AddRelayclient(), 0755, noOwner) },
		func() error { return mkdir(d+"/log", 02755, noOwner) },
		func() error { return mkdir(d+"/log/main", 02755, logOwner) },
		func() error { return file(d+"/log/status", "", 0644, logOwner) },
		func() error { return mkdir(d+"/log/env", 02755, noOwner) },
		func() error { return file(d+"/log/env/MAXFILESIZE", "", 0644, noOwner) },
		func() error { return file(d+"/log/env/MAXLOGFILES", "", 0644, noOwner) },
		func() error { return file(d+"/log/env/PROCESSOR", "", 0644, noOwner) },
		func() error { return file(d+"/log/run", c.LogRunScript(), 0755, noOwner) },
	}
	if c.QmailHome != "" {
		steps = append(steps, func() error {
			return file(d+"/env/QMAILHOME", line(c.QmailHome), 0644, noOwner)
		})
	}
	if c.MaildirQueue != "" {
		m := c.MaildirQueue
		steps = append(steps,
			func() error { return mkdir(m, 0700, ids.Acct) },
			func() error { return mkdir(m+"/tmp", 0700, ids.Acct) },
			func() error { return mkdir(m+"/new", 0700, ids.Acct) },
			func() error { return mkdir(m+"/cur", 0700, ids.Acct) },
			func() error { return file(d+"/env/MAILDIRQUEUE", line(m), 0644, noOwner) },
		)
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return syncDir(d)
}

// line is s as a one-line env file, or an empty file (which envdir takes
// as "remove the variable") when s is empty.
func line(s string) string {
	if s == "" {
		return ""
	}
	return s + "\n"
}

// mkdir creates dir with mode 0700, then sets its mode and owner, as
// qmail-conf does, so it is never open to others before it is complete.
func mkdir(dir string, mode os.FileMode, o Owner) error {
	if err := os.Mkdir(dir, 0700); err != nil {
		return &CreateError{dir, err}
	}
	return finish(dir, mode, o)
}

// file writes path (which must not exist), fsyncs and closes it, then
// sets its mode and owner.
func file(path, content string, mode os.FileMode, o Owner) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0600)
	if err != nil {
		return &CreateError{path, err}
	}
	_, err = f.WriteString(content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return &CreateError{path, err}
	}
	return finish(path, mode, o)
}

func finish(path string, mode os.FileMode, o Owner) error {
	if o != noOwner {
		if err := os.Lchown(path, o.UID, o.GID); err != nil {
			return &CreateError{path, err}
		}
	}
	// os.Chmod knows setuid/setgid/sticky only through its own flags
	m := mode.Perm()
	if mode&02000 != 0 {
		m |= os.ModeSetgid
	}
	if mode&01000 != 0 {
		m |= os.ModeSticky
	}
	if mode&04000 != 0 {
		m |= os.ModeSetuid
	}
	if err := os.Chmod(path, m); err != nil {
		return &CreateError{path, err}
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return &CreateError{dir, err}
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return &CreateError{dir, err}
	}
	return nil
}
