// Command svscan starts and monitors a collection of services.
package main

import (
	"os"

	"golang.org/x/sys/unix"

	"tinymx/lib/footprint"
	"tinymx/lib/strerr"
	"tinymx/lib/svscan"
)

func main() {
	strerr.SetProg(os.Args[0])
	footprint.Idle()
	if len(os.Args) > 1 {
		if err := unix.Chdir(os.Args[1]); err != nil {
			strerr.Fatal(strerr.ExitTemp, err, "unable to chdir to ", os.Args[1])
		}
	}
	svscan.Loop()
}
