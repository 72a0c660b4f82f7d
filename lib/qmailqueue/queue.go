// Package qmailqueue hands accepted messages to a queue: either a
// qmail-queue-compatible program (qmail-queue, a filter, maildir-queue) or
// the built-in Maildir store run in-process.
//
// The message streams in before the envelope is known, exactly as
// qmail-smtpd feeds qmail-queue: bytes first (fd 0), envelope last (fd 1).
package qmailqueue

import (
	"errors"
	"io"
	"strconv"
)

// A Message receives the message bytes as they arrive, then the envelope.
type Message interface {
	io.Writer                              // message bytes, streamed (Received line first, then data)
	Commit(from string, to []string) error // envelope; returns nil only once the message is durable
	Abort()                                // drop it (client vanished, databytes exceeded...)
	// Pid is the qp number qmail-smtpd shows in "250 ok <time> qp <pid>":
	// the qmail-queue child's pid, or the receiving process's own for the
	// in-process store.
	Pid() int
}

// A Queue opens one Message per accepted DATA. qmail-smtpd calls Open
// before it sends 354; an error there is stock's "451 qqt failure (#4.3.0)".
type Queue interface{ Open() (Message, error) }

// Special values of ExitError.Code for outcomes that are not an exit code.
const (
	CodeCrashed      = -1  // the queue program was killed by a signal: "qq crashed"
	CodeWaitSurprise = -2  // waitpid failed: "qq waitpid surprise"
	CodeCustom       = 82  // notqmail 1.09: Text holds the fd-6 text
	CodeExecFailed   = 120 // the program could not be run: "unable to exec qq"
)

// ExitError carries qmail-queue's exit code; smtpd maps it to the reply of
// spec §3.3 (Reply does that mapping). Commit returns *ExitError for every
// failure, the in-process store included (53 disk full, 54 read error...).
type ExitError struct {
	Code int
	// Text is the custom result text a program wrote on fd 6 before it
	// exited 82 (only set when longer than 2 bytes, as notqmail 1.09);
	// its first byte is D (permanent) or anything else (temporary).
	Text string
}

func (e *ExitError) Error() string {
	if e.Code == CodeCustom && e.Text != "" {
		return "qmail-queue: " + e.Text
	}
	return "qmail-queue exited " + strconv.Itoa(e.Code)
}

// Result returns qmail's result text for err (nil gives ""): first byte
// D (permanent) or Z (temporary), then the text qmail-smtpd puts after
// 554 or 451. This is notqmail's qmail_close() table, spec §3.3; the SMTP
// reply itself is lib/smtpd's.
func Result(err error) string {
	if err == nil {
		return ""
	}
	var ee *ExitError
	if !errors.As(err, &ee) {
		return "Zqq temporary problem (#4.3.0)"
	}
	switch ee.Code {
	case CodeCrashed:
		return "Zqq crashed (#4.3.0)"
	case CodeWaitSurprise:
		return "Zqq waitpid surprise (#4.3.0)"
	case 0:
		return "Zqq read error (#4.3.0)" // exit 0 with the failure flag set
	case 11, 115:
		return "Denvelope address too long for qq (#5.1.3)"
	case 31:
		return "Dmail server permanently rejected message (#5.3.0)"
	case 51:
		return "Zqq out of memory (#4.3.0)"
	case 52:
		return "Zqq timeout (#4.3.0)"
	case 53:
		return "Zqq write error or disk full (#4.3.0)"
	case 54:
		return "Zqq read error (#4.3.0)"
	case 55:
		return "Zqq unable to read configuration (#4.3.0)"
	case 56:
		return "Zqq trouble making network connection (#4.3.0)"
	case 61:
		return "Zqq trouble in home directory (#4.3.0)"
	case 62, 63, 64, 65, 66:
		return "Zqq trouble creating files in queue (#4.3.0)"
	case 71:
		return "Zmail server temporarily rejected message (#4.3.0)"
	case 72:
		return "Zconnection to mail server timed out (#4.4.1)"
	case 73:
		return "Zconnection to mail server rejected (#4.4.1)"
	case 74:
		return "Zcommunication with mail server failed (#4.4.2)"
	case 81, 91:
		return "Zqq internal bug (#4.3.0)"
	case CodeExecFailed:
		return "Zunable to exec qq (#4.3.0)"
	case CodeCustom:
		if len(ee.Text) > 2 {
			if ee.Text[0] == 'D' {
				return ee.Text
			}
			return "Z" + ee.Text[1:]
		}
	}
	if ee.Code >= 11 && ee.Code <= 40 {
		return "Dqq permanent problem (#5.3.0)"
	}
	return "Zqq temporary problem (#4.3.0)"
}

// FromEnv picks the queue from the environment getenv reads (a session's,
// not necessarily the process's): $QMAILQUEUE, else the built-in Maildir
// store if $MAILDIRQUEUE, else <qmailhome>/bin/qmail-queue. The program
// runs in qmailhome, so a relative $QMAILQUEUE is relative to it.
func FromEnv(qmailhome string, getenv func(string) (string, bool)) Queue {
	if p, ok := getenv("QMAILQUEUE"); ok {
		return &Program{Path: p, Dir: qmailhome}
	}
	if d, ok := getenv("MAILDIRQUEUE"); ok {
		return &Maildir{Dir: d}
	}
	return &Program{Path: "bin/qmail-queue", Dir: qmailhome}
}

// ExitCode is the exit status a qmail-queue-compatible program gives for
// err: 0 for nil, the ExitError's code, else 81 (internal bug).
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) && ee.Code > 0 && ee.Code < 256 {
		return ee.Code
	}
	return 81
}
