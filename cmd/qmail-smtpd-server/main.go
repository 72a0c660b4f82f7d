// Command qmail-smtpd-server is qmail-smtpd served from one process:
// tcpserver's options and accept loop, and the qmail-smtpd engine for each
// connection in a goroutine, with no exec per connection.
package main

import (
	"os"

	"tinymx/lib/getopt"
	"tinymx/lib/qmailctl"
	"tinymx/lib/smtpd"
	"tinymx/lib/strerr"
	"tinymx/lib/ucspi"
)

const usage = "qmail-smtpd-server [ -1UXpPhHrRoOdDqQv ] [ -c limit ] [ -x rules.cdb ] [ -B banner ] [ -g gid ] [ -u uid ] [ -b backlog ] [ -l localname ] [ -t timeout ] [ host [ port [ checkpassword ... ] ] ]"

func main() {
	strerr.Prog = "qmail-smtpd-server"
	s := ucspi.NewServer(strerr.Prog)
	opts, args, err := getopt.Parse(os.Args[1:], ucspi.ServerOptions)
	if err != nil {
		strerr.Print(strerr.ProgName(os.Args[0]), ": ", err.Error(), "\n")
		strerr.Usage(usage)
	}
	hasLimit := false
	for _, o := range opts {
		s.Option(o)
		hasLimit = hasLimit || o.Letter == 'c'
	}
	home, _ := qmailctl.Home(os.LookupEnv)
	port, limit, err := smtpd.DaemonDefaults(home)
	if err != nil {
		ucspi.Exit(s.Verbosity, &ucspi.FatalError{What: "unable to read controls", Err: err})
	}
	if !hasLimit {
		s.Limit = limit
	}
	host := "0"
	if len(args) > 0 {
		host = args[0]
	}
	if len(args) > 1 {
		if port, err = ucspi.ParsePort(args[1]); err != nil {
			ucspi.Exit(s.Verbosity, &ucspi.FatalError{What: "unable to figure out port number for " + args[1]})
		}
	}
	d := smtpd.NewDaemon(s)
	if len(args) > 2 {
		d.Args = args[2:]
	}
	ucspi.Exit(s.Verbosity, d.Run(host, port))
}
