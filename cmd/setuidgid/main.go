// Command setuidgid runs a program under an account's uid and gid, with no
// supplementary groups, as daemontools' setuidgid.
package main

import (
	"os"
	"os/user"
	"strconv"
	"syscall"

	"tinymx/lib/envdir"
	"tinymx/lib/strerr"
)

func main() {
	strerr.SetProg("setuidgid")
	// No option parsing (spec §1.1): "--" is an account name.
	if len(os.Args) < 3 {
		strerr.Usage("setuidgid account child")
	}
	account, argv := os.Args[1], os.Args[2:]
	pw, err := user.Lookup(account)
	if err != nil {
		strerr.Fatal(strerr.ExitTemp, nil, "unknown account ", account)
	}
	uid, _ := strconv.Atoi(pw.Uid)
	gid, _ := strconv.Atoi(pw.Gid)
	// Go's Setgroups, Setgid and Setuid change every thread of the process
	// (Linux credentials are per thread), so nothing keeps the old ids.
	// A failed setgroups is reported as setgid, as the original's prot_gid.
	if err := syscall.Setgroups([]int{gid}); err != nil {
		strerr.Fatal(strerr.ExitTemp, err, "unable to setgid")
	}
	if err := syscall.Setgid(gid); err != nil {
		strerr.Fatal(strerr.ExitTemp, err, "unable to setgid")
	}
	if err := syscall.Setuid(uid); err != nil {
		strerr.Fatal(strerr.ExitTemp, err, "unable to setuid")
	}
	err = envdir.Exec(argv, os.Environ())
	strerr.Fatal(strerr.ExitTemp, err, "unable to run ", argv[0])
}
