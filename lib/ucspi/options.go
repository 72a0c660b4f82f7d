package ucspi

import (
	"os"
	"time"

	"tinymx/lib/decimal"
	"tinymx/lib/getopt"
)

// ServerOptions is tcpserver's option string for getopt.Parse.
const ServerOptions = "dDvqQhHrR1UXx:t:u:g:l:b:B:c:pPoO"

// Option applies one of tcpserver's options (ServerOptions) to s, with
// tcpserver's meaning: qmail-smtpd-server takes the same options. (-U
// reads $UID and $GID as envuidgid sets them.)
func (s *Server) Option(o getopt.Opt) {
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
		s.Verbosity = Verbose
	case 'q':
		s.Verbosity = Quiet
	case 'Q':
		s.Verbosity = Errors
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
