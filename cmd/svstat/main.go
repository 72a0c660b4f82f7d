// Command svstat prints the status of services monitored by supervise.
package main

import (
	"os"

	"tinymx/lib/strerr"
	"tinymx/lib/svstatus"
)

func main() {
	strerr.SetProg(os.Args[0])
	os.Exit(svstatus.Svstat(os.Args[1:]))
}
