// Command setlock runs a program while holding a flock on a file, as
// daemontools' setlock.
//
// The Go runtime would keep two cgroup files open on descriptors 3 and 4;
// the C setlock hands the program its lock on descriptor 3, so we ask the
// runtime not to read the cgroup limits.
//
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0
package main

import (
	"os"

	"tinymx/lib/getopt"
	"tinymx/lib/lock"
	"tinymx/lib/pathexec"
	"tinymx/lib/strerr"

	"golang.org/x/sys/unix"
)

const usage = "setlock [ -nNxX ] file program [ arg ... ]"

func main() {
	strerr.SetProg("setlock")
	opts, args, err := getopt.Parse(os.Args[1:], "nNxX")
	if err != nil {
		strerr.Print(strerr.ProgName(os.Args[0]), ": ", err.Error(), "\n")
		strerr.Usage(usage)
	}
	nodelay, quiet := false, false
	for _, o := range opts {
		switch o.Letter {
		case 'n':
			nodelay = true
		case 'N':
			nodelay = false
		case 'x':
			quiet = true
		case 'X':
			quiet = false
		}
	}
	if len(args) < 2 {
		strerr.Usage(usage)
	}
	file, argv := args[0], args[1:]
	f, err := lock.OpenAppend(file)
	if err != nil {
		if quiet {
			os.Exit(0)
		}
		strerr.Fatal(strerr.ExitTemp, err, "unable to open ", file)
	}
	if nodelay {
		err = lock.TryExclusive(f)
	} else {
		err = lock.Exclusive(f)
	}
	if err != nil {
		if quiet {
			os.Exit(0)
		}
		strerr.Fatal(strerr.ExitTemp, err, "unable to lock ", file)
	}
	// The program inherits the locked descriptor, so the lock lasts until
	// it and everything it starts have closed it.
	if _, err := unix.FcntlInt(f.Fd(), unix.F_SETFD, 0); err != nil {
		strerr.Fatal(strerr.ExitTemp, err, "unable to lock ", file)
	}
	err = pathexec.Exec(argv, os.Environ())
	// -x does not hide a failure to run the program, as in the original.
	strerr.Fatal(strerr.ExitTemp, err, "unable to run ", argv[0])
}
