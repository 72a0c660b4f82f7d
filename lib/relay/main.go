package relay

import (
	"errors"
	"os"

	"tinymx/lib/strerr"
)

// Main is the whole of recordio and fixcrio: serve as the copier when
// re-executed for that, else check the arguments and run the program
// under mode. It returns only through exit.
func Main(prog string, mode Mode) {
	RunRole()
	strerr.SetProg(prog)
	if len(os.Args) < 2 {
		strerr.Usage(prog + " program [ arg ... ]")
	}
	err := Exec(mode, os.Args[1:])
	var re *Error
	if !errors.As(err, &re) {
		strerr.Fatal(strerr.ExitTemp, err, "unable to run ", os.Args[1])
	}
	strerr.Fatal(strerr.ExitTemp, re.Err, re.Error())
}
