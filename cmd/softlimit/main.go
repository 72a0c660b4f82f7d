// Command softlimit runs a program with lower soft resource limits, as
// daemontools' softlimit.
package main

import (
	"errors"
	"os"
	"strings"

	"tinymx/lib/envdir"
	"tinymx/lib/getopt"
	"tinymx/lib/rlimit"
	"tinymx/lib/strerr"
)

const usage = "softlimit [-a allbytes] [-c corebytes] [-d databytes] [-f filebytes] [-l lockbytes] [-m membytes] [-o openfiles] [-p processes] [-r residentbytes] [-s stackbytes] [-t cpusecs] child"

func main() {
	strerr.SetProg("softlimit")
	opts, argv, perr := getopt.Parse(os.Args[1:], rlimit.Letters)
	// The original sets each limit as it parses, so options before a bad
	// one take effect (and may fail) before the getopt message.
	for _, o := range opts {
		if err := rlimit.SetOption(o.Letter, o.Arg); err != nil {
			var le *rlimit.Error
			if errors.As(err, &le) {
				strerr.Fatal(strerr.ExitTemp, le.Err, le.Op, " failed")
			}
			strerr.Usage(usage)
		}
	}
	if perr != nil {
		strerr.Print(progName(), ": ", perr.Error(), "\n")
		strerr.Usage(usage)
	}
	if len(argv) == 0 {
		strerr.Usage(usage)
	}
	err := envdir.Exec(argv, os.Environ())
	strerr.Fatal(strerr.ExitTemp, err, "unable to run ", argv[0])
}

// progName is the basename of argv[0]: djb's getopt names the program so in
// its messages, while the usage and fatal lines use the fixed name.
func progName() string {
	p := os.Args[0]
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		p = p[i+1:]
	}
	return p
}
