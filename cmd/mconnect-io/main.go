// Command mconnect-io is mconnect's terminal side under tcpclient: it sends
// stdin to the server on fd 7 with CR before every LF, and copies the
// server's replies from fd 6 to stdout until the server closes.
package main

import (
	"os"
	"os/signal"
	"syscall"

	"tinymx/lib/crlf"
)

func main() {
	signal.Ignore(syscall.SIGPIPE)
	// The original forks a child for the stdin side and kills it when the
	// server hangs up; a goroutine does the same job. Like the child's
	// exit, stdin's EOF does not close fd 7.
	go crlf.Pump(os.Stdin, os.NewFile(7, "fd7"), crlf.AddCR{})
	crlf.Pump(os.NewFile(6, "fd6"), os.Stdout, crlf.Plain{})
	os.Exit(0)
}
