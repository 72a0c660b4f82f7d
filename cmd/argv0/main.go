// Command argv0 runs a program with a chosen argv[0].
package main

import (
	"os"
	"syscall"

	"tinymx/lib/pathexec"
	"tinymx/lib/strerr"
)

func main() {
	strerr.SetProg("argv0")
	if len(os.Args) < 3 {
		strerr.Usage("argv0 realname program [ arg ... ]")
	}
	// pathexec.Exec always passes the searched name as argv[0]; argv0 needs
	// them apart, so it searches with pathexec.Lookup (same PATH rules) and
	// execs the path found.
	env := os.Environ()
	path, err := pathexec.Lookup(os.Args[1], env)
	if err == nil {
		err = syscall.Exec(path, os.Args[2:], env)
	}
	strerr.Fatal(strerr.ExitTemp, err, "unable to run ", os.Args[1])
}
