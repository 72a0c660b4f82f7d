// Command readproctitle keeps the latest error output of svscan in its
// process title.
package main

import (
	"os"

	"tinymx/lib/strerr"
	"tinymx/lib/svscan"
)

func main() {
	if len(os.Args) < 2 {
		os.Exit(strerr.ExitPerm)
	}
	t, ok := svscan.NewTitle(os.Args[len(os.Args)-1])
	if !ok {
		os.Exit(strerr.ExitPerm)
	}
	os.Exit(t.Copy(0))
}
