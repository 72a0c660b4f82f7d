package harness

import (
	"os"
	"os/signal"
	"syscall"
)

// A suite started with SIGHUP or SIGINT ignored (under nohup, or from a
// shell's background job) would pass the ignored disposition to every
// program it runs, and a test that checks what a signal does to a program
// (tcpserver dies of HUP, as C's) would fail for a reason outside the
// test. Catching them here undoes that: a caught signal is back at its
// default in the programs this process execs. Signals not ignored at start
// keep their default here too.
func init() {
	for _, sig := range []os.Signal{syscall.SIGHUP, syscall.SIGINT} {
		if signal.Ignored(sig) {
			signal.Notify(make(chan os.Signal, 1), sig)
		}
	}
}
