// Command readproctitle keeps the latest error output of svscan in its
// process title.
package main

import (
	"os"

	"tinymx/lib/svscan"
)

func main() {
	if len(os.Args) < 2 {
		os.Exit(100)
	}
	t, ok := svscan.NewTitle(os.Args[len(os.Args)-1])
	if !ok {
		os.Exit(100)
	}
	os.Exit(t.Copy(0))
}
