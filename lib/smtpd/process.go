package smtpd

import (
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"

	"tinymx/lib/qmailctl"
	"tinymx/lib/qmailqueue"
)

// Run is the whole of qmail-smtpd after its fds are set up: read the
// controls under the qmail home, pick the queue, serve one session. It
// returns the exit status. Everything comes from getenv and goes by path:
// unlike stock it never changes the process's directory, so a process
// serving many sessions can run it for each. (A qmail home that stock
// could not chdir to has no readable control/me either: the same 421.)
func Run(r io.Reader, w io.Writer, getenv Getenv, queue func(home string, getenv Getenv) qmailqueue.Queue) int {
	home, _ := qmailctl.Home(getenv)
	cfg, err := LoadConfig(home, getenv)
	if err != nil {
		Refuse(w, replyControl)
		return 1
	}
	cfg.Queue = queue(home, getenv)
	code := Serve(cfg, r, w)
	cfg.Rcpthosts.Close()
	cfg.Badmailfrom.Close()
	return code
}

// Stdio returns fds 0 and 1 in non-blocking mode, so that the runtime
// poller gives reads and writes their deadlines (a plain blocking pipe
// cannot time out). fd 0 and 1 are often the same socket.
//
// Replies go out through a close-on-exec duplicate of fd 1: the Go
// runtime turns EPIPE on fd 1 or 2 into death by SIGPIPE, but on any other
// fd it leaves SIGPIPE alone and the write just fails, which ends the
// session with status 1 as stock's ignored SIGPIPE does. This costs no
// signal handling thread at start-up (signal.Notify starts two) and leaves
// SIGPIPE at its default for the queue programs we run.
func Stdio() (io.Reader, io.Writer) {
	unix.SetNonblock(0, true)
	unix.SetNonblock(1, true)
	out, err := unix.FcntlInt(1, unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
		out = 1
	}
	return os.NewFile(0, "/dev/stdin"), os.NewFile(uintptr(out), "/dev/stdout")
}

// RestoreStdio puts fds 0 and 1 back in blocking mode, for whatever shares
// them after we exit (a shell running qmail-smtpd on its terminal).
func RestoreStdio() {
	unix.SetNonblock(0, false)
	unix.SetNonblock(1, false)
}
