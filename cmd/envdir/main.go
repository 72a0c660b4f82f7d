// Command envdir runs a program with environment variables set from the
// files of a directory, as daemontools' envdir.
package main

import (
	"errors"
	"os"

	"tinymx/lib/envdir"
	"tinymx/lib/pathexec"
	"tinymx/lib/strerr"
)

func main() {
	strerr.SetProg("envdir")
	// No option parsing (spec §1.1); the original's usage exits 111, not 100.
	if len(os.Args) < 3 {
		strerr.Print("envdir: usage: envdir dir child\n")
		os.Exit(strerr.ExitTemp)
	}
	dir, argv := os.Args[1], os.Args[2:]
	var e pathexec.Edits
	if err := envdir.ReadDir(dir, &e); err != nil {
		var de *envdir.DirError
		if errors.As(err, &de) {
			strerr.Fatal(strerr.ExitTemp, de.Err, de.Msg)
		}
		strerr.Fatal(strerr.ExitTemp, err, "unable to read directory ", dir)
	}
	err := pathexec.Exec(argv, e.Apply(os.Environ()))
	strerr.Fatal(strerr.ExitTemp, err, "unable to run ", argv[0])
}
