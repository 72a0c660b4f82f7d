// Command envuidgid runs a program with $UID and $GID set to an account's
// numeric ids, as daemontools' envuidgid.
package main

import (
	"os"
	"os/user"

	"tinymx/lib/pathexec"
	"tinymx/lib/strerr"
)

func main() {
	strerr.SetProg("envuidgid")
	// No option parsing (spec §1.1): "--" is an account name.
	if len(os.Args) < 3 {
		strerr.Usage("envuidgid account child")
	}
	account, argv := os.Args[1], os.Args[2:]
	// Like getpwnam, any failure to find the account is "unknown account".
	pw, err := user.Lookup(account)
	if err != nil {
		strerr.Fatal(strerr.ExitTemp, nil, "unknown account ", account)
	}
	var e pathexec.Edits
	e.Set("GID", pw.Gid)
	e.Set("UID", pw.Uid)
	err = pathexec.Exec(argv, e.Apply(os.Environ()))
	strerr.Fatal(strerr.ExitTemp, err, "unable to run ", argv[0])
}
