// Command tcpserver accepts TCP connections and runs a program for each,
// as ucspi-tcp 0.88's tcpserver does.
package main

import (
	"os"
	"time"

	"tinymx/lib/decimal"
	"tinymx/lib/getopt"
	"tinymx/lib/strerr"
	"tinymx/lib/ucspi"
)

const usage = "tcpserver [ -1UXpPhHrRoOdDqQv ] [ -c limit ] [ -x rules.cdb ] [ -B banner ] [ -g gid ] [ -u uid ] [ -b backlog ] [ -l localname ] [ -t timeout ] host port program"

func main() {
	ucspi.RunRole()
	strerr.Prog = "tcpserver"
	s := ucspi.NewServer("tcpserver")
	opts, args, err := getopt.Parse(os.Args[1:], "dDvqQhHrR1UXx:t:u:g:l:b:B:c:pPoO")
	if err != nil {
		strerr.Print(strerr.ProgName(os.Args[0]), ": ", err.Error(), "\n")
		strerr.Usage(usage)
	}
	for _, o := range opts {
		switch o.Letter {
		case 'b':
			s.Backlog = decimal.Ulong(o.Arg)
		case 'c':
			s.Limit = decimal.Ulong(o.Arg)
		case 'X':
			s.AllowNoRules = true
		case 'x':
			s.Rules = o.Arg
		case 'B':
			s.Banner = o.Arg
		case 'd', 'D':
			s.NoDelay = o.Letter == 'D'
		case 'v':
			s.Verbosity = ucspi.Verbose
		case 'q':
			s.Verbosity = ucspi.Quiet
		case 'Q':
			s.Verbosity = ucspi.Errors
		case 'p', 'P':
			s.Paranoid = o.Letter == 'p'
		case 'l':
			s.LocalName, s.HasLocalName = o.Arg, true
		case 'h', 'H':
			s.RemoteHost = o.Letter == 'h'
		case 'r', 'R':
			s.RemoteInfo = o.Letter == 'r'
		case 't':
			s.IdentTimeout = time.Duration(decimal.Ulong(o.Arg)) * time.Second
		case 'U':
			if v, ok := os.LookupEnv("UID"); ok {
				s.UID = decimal.Ulong(v)
			}
			if v, ok := os.LookupEnv("GID"); ok {
				s.GID = decimal.Ulong(v)
			}
		case 'u':
			s.UID = decimal.Ulong(o.Arg)
		case 'g':
			s.GID = decimal.Ulong(o.Arg)
		case '1':
			s.PrintPort = true
		case 'o', 'O':
			s.KeepIPOptions = o.Letter == 'o'
		}
	}
	host, port, argv := ucspi.Operands(args, s.Verbosity, usage)
	s.Argv = argv
	ucspi.Exit(s.Verbosity, s.Run(host, port))
}
