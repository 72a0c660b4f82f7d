package ucspi

import (
	"errors"
	"os"

	"tinymx/lib/strerr"
)

// Verbosity levels of -q, -Q and -v.
const (
	Quiet   = 0
	Errors  = 1
	Verbose = 2
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

// Operands reads what both programs take after their options, "host port
// program ...", as the C programs do: a missing operand is a usage error,
// a port that is neither digits nor a tcp service exit 111, found before
// a missing program.
func Operands(args []string, verbosity int, usage string) (host string, port uint16, argv []string) {
	if len(args) < 2 {
		Usage(verbosity, usage)
	}
	port, err := ParsePort(args[1])
	if err != nil {
		Exit(verbosity, &FatalError{What: "unable to figure out port number for " + args[1]})
	}
	if len(args) < 3 {
		Usage(verbosity, usage)
	}
	return args[0], port, args[2:]
}
