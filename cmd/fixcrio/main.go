// Command fixcrio runs a program and with a CR inserted before every bare LF of its input and output.
package main

import (
	"errors"
	"os"

	"tinymx/lib/relay"
	"tinymx/lib/strerr"
)

func main() {
	relay.RunCopierIfAsked()
	strerr.SetProg("fixcrio")
	if len(os.Args) < 2 {
		strerr.Usage("fixcrio program [ arg ... ]")
	}
	err := relay.Exec(relay.FixCR, os.Args[1:])
	var re *relay.Error
	errors.As(err, &re)
	strerr.Fatal(strerr.ExitTemp, re.Err, re.Error())
}
