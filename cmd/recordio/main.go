// Command recordio runs a program and logs its input and output on stderr.
package main

import (
	"errors"
	"os"

	"tinymx/lib/relay"
	"tinymx/lib/strerr"
)

func main() {
	relay.RunCopierIfAsked()
	strerr.SetProg("recordio")
	if len(os.Args) < 2 {
		strerr.Usage("recordio program [ arg ... ]")
	}
	err := relay.Exec(relay.Record, os.Args[1:])
	var re *relay.Error
	errors.As(err, &re)
	strerr.Fatal(strerr.ExitTemp, re.Err, re.Error())
}
