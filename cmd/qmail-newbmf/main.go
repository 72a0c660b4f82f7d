// Command qmail-newbmf compiles control/badmailfrom into control/badmailfrom.cdb,
// atomically, for qmail-smtpd. It takes no arguments.
package main

import (
	"os"

	"tinymx/lib/qmailctl"
	"tinymx/lib/strerr"
)

func main() {
	strerr.SetProg(os.Args[0])
	os.Exit(qmailctl.NewCDBMain("badmailfrom"))
}
