package qmailctl

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"

	"tinymx/lib/strerr"
)

// NewCDBMain is qmail-newmrh and qmail-newbmf: chdir to the qmail home
// ($QMAILHOME or /var/qmail), compile control/NAME into control/NAME.cdb
// through control/NAME.tmp. It returns the exit status after printing any
// error in qmail-newmrh's words.
func NewCDBMain(name string) int {
	unix.Umask(033)
	home, _ := Home(os.LookupEnv)
	if err := os.Chdir(home); err != nil {
		strerr.Print(strerr.Message("fatal", err, "unable to chdir to ", home))
		return strerr.ExitTemp
	}
	src := "control/" + name
	err := MakeCDB(src, src+".cdb", src+".tmp")
	if err == nil {
		return 0
	}
	var me *MakeCDBError
	if !errors.As(err, &me) {
		me = &MakeCDBError{"write", err}
	}
	switch me.Op {
	case "read":
		strerr.Print(strerr.Message("fatal", me.Err, "unable to read ", src))
	case "write":
		strerr.Print(strerr.Message("fatal", me.Err, "unable to write to ", src, ".tmp"))
	default:
		strerr.Print(strerr.Message("fatal", me.Err, "unable to move ", src, ".tmp to ", src, ".cdb"))
	}
	return strerr.ExitTemp
}
