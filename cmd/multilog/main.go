// Command multilog reads a log from stdin and applies its script: select
// lines, alert on stderr, keep status files, write rotated log directories.
package main

import (
	"os"

	"tinymx/lib/multilog"
	"tinymx/lib/strerr"
)

func main() {
	strerr.SetProg(os.Args[0])
	strerr.Prog = "multilog" // the original's messages always say multilog
	l := multilog.Start(os.Args[1:], 0)
	l.Run()
	os.Exit(0)
}
