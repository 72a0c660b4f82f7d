// qmail-smtpd-conf acct logacct D [ip]: create a qmail-smtpd service
// directory for svscan.
package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"tinymx/lib/servicedir"
	"tinymx/lib/strerr"
)

const usage = "qmail-smtpd-conf acct logacct /smtpd [ ip ]"

func main() {
	strerr.SetProg("qmail-smtpd-conf")
	args := os.Args[1:]
	if len(args) < 3 || !strings.HasPrefix(args[2], "/") {
		strerr.Usage(usage)
	}
	ip := ""
	if len(args) > 3 {
		ip = args[3]
	}
	c, ids, err := servicedir.Plan(args[0], args[1], args[2], ip, binDir())
	if err == nil {
		err = servicedir.Create(c, ids)
	}
	var unknown *servicedir.UnknownAccountError
	var read *servicedir.ReadError
	var create *servicedir.CreateError
	switch {
	case err == nil:
	case errors.As(err, &unknown):
		strerr.Fatal(strerr.ExitTemp, nil, "unknown account ", unknown.Name)
	case errors.As(err, &read):
		strerr.Fatal(strerr.ExitTemp, read.Err, "unable to read ", read.Path)
	case errors.As(err, &create):
		strerr.Fatal(strerr.ExitTemp, create.Err, "unable to create ", create.Path)
	default:
		strerr.Fatal(strerr.ExitTemp, err, "unable to create ", c.Dir)
	}
}

// binDir is where this program is installed: the scripts it writes name
// the other tinymx programs from there.
func binDir() string {
	exe, err := os.Executable()
	if err != nil {
		strerr.Fatal(strerr.ExitTemp, err, "unable to find my own directory")
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	return filepath.Dir(exe)
}
