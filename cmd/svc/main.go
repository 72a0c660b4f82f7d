// Command svc controls services monitored by supervise.
package main

import (
	"os"

	"tinymx/lib/getopt"
	"tinymx/lib/strerr"
	"tinymx/lib/svstatus"
)

const usage = "svc options: u up, d down, o once, x exit, p pause, c continue, h hup, a alarm, i interrupt, t term, k kill\n"

func main() {
	strerr.SetProg(os.Args[0])
	opts, dirs, err := getopt.Parse(os.Args[1:], "udopchaitkx")
	if err != nil {
		strerr.Print(strerr.Prog, ": ", err.Error(), "\n")
		strerr.Print(usage)
		os.Exit(strerr.ExitPerm)
	}
	letters := make([]byte, 0, len(opts))
	for _, o := range opts {
		letters = append(letters, o.Letter)
	}
	os.Exit(svstatus.Svc(svstatus.Commands(letters), dirs))
}
