package qmailctl

import (
	"os"

	"tinymx/lib/ascii"
	"tinymx/lib/atomicfile"
	"tinymx/lib/cdb"
)

// MakeCDBError says which step of MakeCDB failed, so the program can word
// its message as qmail-newmrh does.
type MakeCDBError struct {
	Op  string // "read", "write" or "rename"
	Err error
}

func (e *MakeCDBError) Error() string { return "unable to " + e.Op + " control file" }
func (e *MakeCDBError) Unwrap() error { return e.Err }

// MakeCDB compiles the list file src into the cdb dst through the fixed
// temporary tmp (qmail-newmrh: control/morercpthosts.tmp), atomically: the
// old dst stays until the new one is complete and fsynced. Keys are the
// list entries lowercased, values empty; the list syntax is the extended
// one qmail-smtpd reads lists with.
func MakeCDB(src, dst, tmp string) error {
	data, ok, err := readFile(src)
	if err == nil && !ok {
		_, err = os.Stat(src) // the ENOENT itself, for the message
	}
	if err != nil {
		return &MakeCDBError{"read", err}
	}
	f, err := atomicfile.Create(dst, tmp, 0644)
	if err != nil {
		return &MakeCDBError{"write", err}
	}
	w := cdb.NewWriter(f.File())
	for _, e := range ListEntries(data) {
		if err := w.Add(ascii.LowerInPlace(e), nil); err != nil {
			f.Abort()
			return &MakeCDBError{"write", err}
		}
	}
	if err := w.Finish(); err != nil {
		f.Abort()
		return &MakeCDBError{"write", err}
	}
	// fsync here, not in Commit, so that a failure reads as a write error
	// as in qmail-newmrh; Commit's own failure is then the rename's.
	if err := f.File().Sync(); err != nil {
		f.Abort()
		return &MakeCDBError{"write", err}
	}
	f.NoSync = true
	if err := f.Commit(); err != nil {
		return &MakeCDBError{"rename", err}
	}
	return nil
}
