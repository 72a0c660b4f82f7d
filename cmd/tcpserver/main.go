// Command tcpserver accepts TCP connections and runs a program for each,
// as ucspi-tcp 0.88's tcpserver does.
package main

import (
	"os"

	"tinymx/lib/getopt"
	"tinymx/lib/strerr"
	"tinymx/lib/ucspi"
)

const usage = "tcpserver [ -1UXpPhHrRoOdDqQv ] [ -c limit ] [ -x rules.cdb ] [ -B banner ] [ -g gid ] [ -u uid ] [ -b backlog ] [ -l localname ] [ -t timeout ] host port program"

func main() {
	ucspi.RunRole()
	strerr.Prog = "tcpserver"
	s := ucspi.NewServer("tcpserver")
	opts, args, err := getopt.Parse(os.Args[1:], ucspi.ServerOptions)
	if err != nil {
		strerr.Print(strerr.ProgName(os.Args[0]), ": ", err.Error(), "\n")
		strerr.Usage(usage)
	}
	for _, o := range opts {
		s.Option(o)
	}
	host, port, argv := ucspi.Operands(args, s.Verbosity, usage)
	s.Argv = argv
	ucspi.Exit(s.Verbosity, s.Run(host, port))
}
