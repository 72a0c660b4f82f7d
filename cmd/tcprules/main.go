// Command tcprules compiles rules for tcpserver: rules text on stdin, a cdb
// written to rules.tmp and renamed over rules.cdb.
package main

import (
	"errors"
	"os"

	"tinymx/lib/atomicfile"
	"tinymx/lib/cdb"
	"tinymx/lib/rules"
	"tinymx/lib/strerr"

	"golang.org/x/sys/unix"
)

func main() {
	// The C program names itself "tcprules" whatever argv[0] says.
	strerr.SetProg("tcprules")
	if len(os.Args) < 3 {
		strerr.Usage("tcprules rules.cdb rules.tmp")
	}
	fn, tmp := os.Args[1], os.Args[2]

	if tmp == "" {
		// atomicfile would pick a name of its own; open("") is ENOENT.
		strerr.Fatal(strerr.ExitTemp, unix.ENOENT, "unable to create ", tmp)
	}
	af, err := atomicfile.Create(fn, tmp, 0644)
	if err != nil {
		strerr.Fatal(strerr.ExitTemp, err, "unable to create ", tmp)
	}
	// We fsync ourselves: a failed fsync is "unable to write", a failed
	// rename "unable to move". On any failure the temp file stays, as in C.
	af.NoSync = true
	w := cdb.NewWriter(af.File())

	if stdinWasClosed() {
		strerr.Fatal(strerr.ExitTemp, unix.EBADF, "unable to read input")
	}
	var le *rules.LineError
	var re *rules.ReadError
	switch err := rules.Compile(os.Stdin, w); {
	case err == nil:
	case errors.As(err, &le):
		strerr.Fatal(strerr.ExitPerm, nil, "unable to parse this line: ", le.Line)
	case errors.As(err, &re):
		strerr.Fatal(strerr.ExitTemp, re.Err, "unable to read input")
	case errors.Is(err, rules.ErrNoMem):
		strerr.Fatal(strerr.ExitTemp, nil, "out of memory")
	default:
		strerr.Fatal(strerr.ExitTemp, err, "unable to write to ", tmp)
	}
	if err := w.Finish(); err != nil {
		strerr.Fatal(strerr.ExitTemp, err, "unable to write to ", tmp)
	}
	if err := af.File().Sync(); err != nil {
		strerr.Fatal(strerr.ExitTemp, err, "unable to write to ", tmp)
	}
	if err := af.Commit(); err != nil {
		var le *os.LinkError
		if errors.As(err, &le) {
			if errors.Is(err, unix.EEXIST) {
				// os.Rename refuses a directory target before asking the
				// kernel; rename(2) itself says EISDIR, as C reports.
				if err = unix.Rename(tmp, fn); err == nil {
					return
				}
			}
			strerr.Fatal(strerr.ExitTemp, err, "unable to move ", tmp, " to ", fn)
		}
		strerr.Fatal(strerr.ExitTemp, err, "unable to write to ", tmp)
	}
}

// stdinWasClosed tells whether we were started with fd 0 closed. The Go
// runtime then puts /dev/null there, opened read-write, and the empty input
// would replace every rule with nothing; the C program fails with EBADF.
func stdinWasClosed() bool {
	var st unix.Stat_t
	if unix.Fstat(0, &st) != nil {
		return true
	}
	fl, err := unix.FcntlInt(0, unix.F_GETFL, 0)
	return err == nil && fl&unix.O_ACCMODE == unix.O_RDWR &&
		st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == unix.Mkdev(1, 3)
}
