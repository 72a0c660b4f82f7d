// Command qmail-smtpd receives mail by SMTP on fds 0 and 1 (run by
// tcpserver once per connection) and hands it to a qmail-queue program or
// the built-in Maildir store. Arguments are ignored, as stock.
package main

import (
	"os"

	"tinymx/lib/qmailqueue"
	"tinymx/lib/smtpd"
)

func main() {
	// A write to a client that went away must fail, not kill us: Stdio
	// writes through a duplicate of fd 1, where the runtime leaves SIGPIPE
	// alone (not Ignore: an ignored signal stays ignored across exec, and
	// the queue programs we start must get the default disposition).
	in, out := smtpd.Stdio()
	code := smtpd.Run(in, out, os.LookupEnv, qmailqueue.FromEnv)
	smtpd.RestoreStdio()
	os.Exit(code)
}
