// Command pgrphack runs a program in a new session and process group, as
// daemontools' pgrphack.
package main

import (
	"os"
	"syscall"

	"tinymx/lib/pathexec"
	"tinymx/lib/strerr"
)

func main() {
	strerr.SetProg("pgrphack")
	if len(os.Args) < 2 {
		strerr.Usage("pgrphack child")
	}
	argv := os.Args[1:]
	// A process group leader cannot setsid; the original ignores that too.
	syscall.Setsid()
	err := pathexec.Exec(argv, os.Environ())
	strerr.Fatal(strerr.ExitTemp, err, "unable to run ", argv[0])
}
