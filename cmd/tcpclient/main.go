// Command tcpclient connects to a TCP server and runs a program with the
// connection on descriptors 6 and 7, as ucspi-tcp 0.88's tcpclient does.
package main

import (
	"os"
	"time"

	"tinymx/lib/decimal"
	"tinymx/lib/getopt"
	"tinymx/lib/strerr"
	"tinymx/lib/ucspi"
)

const usage = "tcpclient [ -hHrRdDqQv ] [ -i localip ] [ -p localport ] [ -T timeoutconn ] [ -l localname ] [ -t timeoutinfo ] host port program"

func main() {
	strerr.Prog = "tcpclient"
	c := ucspi.NewClient("tcpclient")
	opts, args, err := getopt.Parse(os.Args[1:], "dDvqQhHrRi:p:t:T:l:")
	if err != nil {
		strerr.Print(strerr.ProgName(os.Args[0]), ": ", err.Error(), "\n")
		strerr.Usage(usage)
	}
	for _, o := range opts {
		switch o.Letter {
		case 'd', 'D':
			c.NoDelay = o.Letter == 'D'
		case 'v':
			c.Verbosity = ucspi.Verbose
		case 'q':
			c.Verbosity = ucspi.Quiet
		case 'Q':
			c.Verbosity = ucspi.Errors
		case 'l':
			c.LocalName, c.HasLocalName = o.Arg, true
		case 'h', 'H':
			c.RemoteHost = o.Letter == 'h'
		case 'r', 'R':
			c.RemoteInfo = o.Letter == 'r'
		case 't':
			c.IdentTimeout = time.Duration(decimal.Ulong(o.Arg)) * time.Second
		case 'T':
			x, y := ucspi.ParseTimeouts(o.Arg)
			c.ConnectTimeout, c.RetryTimeout = time.Duration(x)*time.Second, time.Duration(y)*time.Second
		case 'i':
			a, ok := ucspi.ScanIP4(o.Arg)
			if !ok {
				ucspi.Usage(c.Verbosity, usage)
			}
			c.LocalIP = a
		case 'p':
			c.LocalPort = uint16(decimal.Ulong(o.Arg))
		}
	}
	host, port, argv := ucspi.Operands(args, c.Verbosity, usage)
	c.Argv = argv
	ucspi.Exit(c.Verbosity, c.Run(host, port))
}
