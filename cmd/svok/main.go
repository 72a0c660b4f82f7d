// Command svok exits 0 when a supervise is running in the directory.
package main

import (
	"os"

	"tinymx/lib/strerr"
	"tinymx/lib/svstatus"
)

func main() {
	strerr.SetProg(os.Args[0])
	if len(os.Args) < 2 {
		strerr.Usage("svok dir")
	}
	os.Exit(svstatus.Svok(os.Args[1]))
}
