// Command softlimit runs a program with lower soft resource limits, as
// daemontools' softlimit.
package main

import (
	"os"

	"tinymx/lib/getopt"
	"tinymx/lib/rlimit"
	"tinymx/lib/strerr"
)

const usage = "softlimit [-a allbytes] [-c corebytes] [-d databytes] [-f filebytes] [-l lockbytes] [-m membytes] [-o openfiles] [-p processes] [-r residentbytes] [-s stackbytes] [-t cpusecs] child"

func main() {
	strerr.SetProg("softlimit")
	opts, argv, perr := getopt.Parse(os.Args[1:], rlimit.Letters)
	run := argv
	if len(run) == 0 {
		run = []string{""}
	}
	// Everything that needs memory happens before the first limit is
	// lowered; from there to the exec nothing is allocated, and limits are
	// put back before any message is written.
	l, err := rlimit.NewLimiter(run, os.Environ())
	if err != nil {
		strerr.Fatal(strerr.ExitTemp, err, "unable to run ", run[0])
	}
	// The original sets each limit as it parses, so options before a bad
	// one take effect (and may fail) before the getopt message.
	for _, o := range opts {
		if op, err := l.Apply(o.Letter, o.Arg); err != nil {
			l.Restore()
			if op == "" {
				strerr.Usage(usage)
			}
			strerr.Fatal(strerr.ExitTemp, err, op, " failed")
		}
	}
	if perr != nil {
		l.Restore()
		strerr.Print(strerr.ProgName(os.Args[0]), ": ", perr.Error(), "\n")
		strerr.Usage(usage)
	}
	if len(argv) == 0 {
		l.Restore()
		strerr.Usage(usage)
	}
	errno := l.Exec()
	l.Restore()
	strerr.Fatal(strerr.ExitTemp, errno, "unable to run ", argv[0])
}
