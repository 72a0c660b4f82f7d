// maildir-queue is a qmail-queue-compatible program that stores each
// message once in the Maildir $MAILDIRQUEUE. Like qmail-queue it prints
// nothing: its exit code is the whole answer.
package main

import (
	"bufio"
	"os"
	"time"

	"tinymx/lib/qmailqueue"
)

func main() {
	os.Exit(run())
}

func run() (code int) {
	defer func() {
		if recover() != nil {
			code = 81 // qmail-queue: "any crash exits 81"
		}
	}()
	// qmail-queue gives up after 24 hours (exit 52).
	time.AfterFunc(24*time.Hour, func() { os.Exit(52) })
	// An unset, empty or relative $MAILDIRQUEUE is exit 55, decided by the
	// store itself, as for qmail-smtpd's built-in store.
	q := &qmailqueue.Maildir{Dir: os.Getenv("MAILDIRQUEUE")}
	return qmailqueue.ExitCode(q.Store(os.Stdin, bufio.NewReaderSize(os.NewFile(1, "envelope"), 4096)))
}
