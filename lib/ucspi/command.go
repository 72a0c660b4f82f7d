package ucspi

import (
	"errors"
	"os"

	"tinymx/lib/strerr"
)

// FatalError is a failure that ends tcpserver or tcpclient at once:
// "PROG: fatal: WHAT: ERR", without ": ERR" when Err is nil.
type FatalError struct {
	What string
	Err  error
}

func (e *FatalError) Error() string { return e.What }
func (e *FatalError) Unwrap() error { return e.Err }

// Exit ends the program with what Run returned: 0 for nil, else 111, and
// a FatalError is said first unless verbosity is Quiet. Any other error
// (tcpclient found no address that answers) has been reported already.
func Exit(verbosity int, err error) {
	if err == nil {
		os.Exit(0)
	}
	var fe *FatalError
	if errors.As(err, &fe) && verbosity > Quiet {
		strerr.Fatal(strerr.ExitTemp, fe.Err, fe.What)
	}
	os.Exit(strerr.ExitTemp)
}

// Usage ends the program with exit 100, saying "PROG: usage: TEXT" unless
// verbosity is Quiet.
func Usage(verbosity int, text string) {
	if verbosity > Quiet {
		strerr.Usage(text)
	}
	os.Exit(strerr.ExitPerm)
}
