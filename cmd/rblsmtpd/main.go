// Command rblsmtpd blocks mail from RBL-listed clients: it either runs the
// SMTP server given as arguments or talks a refusing SMTP conversation.
package main

import (
	"os"
	"strconv"
	"time"

	"tinymx/lib/decimal"
	"tinymx/lib/getopt"
	"tinymx/lib/pathexec"
	"tinymx/lib/rbl"
	"tinymx/lib/strerr"
)

const usage = "rblsmtpd [ -b ] [ -R ] [ -t timeout ] [ -r base ] [ -a base ] smtpd [ arg ... ]"

func main() {
	strerr.SetProg("rblsmtpd")
	ip := os.Getenv("TCPREMOTEIP")
	env, set := os.LookupEnv("RBLSMTPD")
	c := rbl.New(ip, env, set)
	timeout := uint64(60)

	opts, args, err := getopt.Parse(os.Args[1:], "bBcCt:r:a:")
	for _, o := range opts {
		switch o.Letter {
		case 'b':
			c.Bounce = true
		case 'B':
			c.Bounce = false
		case 'c':
			c.FailClosed = true
		case 'C':
			c.FailClosed = false
		case 't':
			timeout = decimal.Ulong(o.Arg)
		case 'r':
			c.RBL(o.Arg)
		case 'a':
			c.AntiRBL(o.Arg)
		}
	}
	if err != nil {
		// sgetopt names the program after argv[0], all after the last '/'
		// (even when empty); the usage line that follows says rblsmtpd.
		strerr.Print(strerr.ProgName(os.Args[0]), ": ", err.Error(), "\n")
		strerr.Usage(usage)
	}
	if len(args) == 0 {
		strerr.Usage(usage)
	}

	if c.Blocked() {
		msg := c.Message()
		strerr.Print("rblsmtpd: ", ip, " pid ", strconv.Itoa(os.Getpid()), ": ", msg, "\n")
		if timeout == 0 {
			os.Stdout.WriteString(msg + "\r\n")
			os.Exit(0)
		}
		// SIGALRM in the original: the conversation just stops. alarm()
		// takes an unsigned int, so the timeout wraps at 2^32 and a
		// multiple of 2^32 means no alarm at all.
		if secs := uint32(timeout); secs != 0 {
			time.AfterFunc(time.Duration(secs)*time.Second, func() { os.Exit(0) })
		}
		rbl.Converse(os.Stdin, os.Stdout, msg)
		os.Exit(0)
	}
	err = pathexec.Exec(args, os.Environ())
	strerr.Fatal(strerr.ExitTemp, err, "unable to run ", args[0])
}
