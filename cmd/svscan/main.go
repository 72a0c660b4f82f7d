// Command svscan starts and monitors a collection of services.
package main

import (
	"os"
	"runtime"
	"runtime/debug"

	"golang.org/x/sys/unix"

	"tinymx/lib/scan"
	"tinymx/lib/strerr"
)

func main() {
	strerr.SetProg(os.Args[0])
	// It runs for months allocating a little per event; the default
	// GOGC lets the heap reach 4 MiB before the first collection, which
	// would be most of the RSS budget. At 10 % the floor is 400 KiB, and
	// collecting a heap this small costs nothing worth measuring. One P:
	// the work is sequential, and each extra P brings its own caches and
	// GC worker (measured: 2.6 MiB of RSS with two Ps, 2.2 MiB with one).
	debug.SetGCPercent(10)
	runtime.GOMAXPROCS(1)
	if len(os.Args) > 1 {
		if err := unix.Chdir(os.Args[1]); err != nil {
			strerr.Fatal(strerr.ExitTemp, err, "unable to chdir to ", os.Args[1])
		}
	}
	scan.Loop()
}
