// Command supervise starts and monitors a service.
package main

import (
	"os"

	"tinymx/lib/footprint"
	"tinymx/lib/strerr"
	"tinymx/lib/supervise"
)

func main() {
	strerr.SetProg(os.Args[0])
	footprint.Idle()
	if len(os.Args) != 2 {
		strerr.Usage("supervise dir")
	}
	os.Exit(supervise.Run(os.Args[1]))
}
