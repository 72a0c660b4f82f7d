package rbl

import (
	"bufio"
	"io"

	"tinymx/lib/ascii"
)

// maxCommand bounds what is kept of one command line; the rest of a longer
// line is read and dropped. Only the verb matters, and no verb that means
// anything is that long.
const maxCommand = 1024

const (
	greeting = "220 rblsmtpd.local\r\n"
	okReply  = "250 rblsmtpd.local\r\n"
	byeReply = "221 rblsmtpd.local\r\n"
)

// Converse greets, then answers each command: QUIT ends it with 221, HELO,
// EHLO, MAIL, RSET and NOOP get 250, everything else (RCPT, DATA, message
// text, empty lines) gets message. EOF, a read error or a partial last
// line ends it quietly. Every reply is written at once, unbuffered.
func Converse(r io.Reader, w io.Writer, message string) {
	refuse := message + "\r\n"
	io.WriteString(w, greeting)
	in := bufio.NewReaderSize(r, 64)
	line := make([]byte, 0, 128)
	for {
		line = line[:0]
		for {
			ch, err := in.ReadByte()
			if err != nil {
				return
			}
			if ch == '\n' {
				break
			}
			if ch == 0 {
				// NUL is stored as '\n' inside the command, as qmail's
				// commands() does: it can never match a verb.
				ch = '\n'
			}
			if len(line) < maxCommand {
				line = append(line, ch)
			} else if len(line) == maxCommand {
				line = append(line, '\n') // marks the cut: matches no verb
			}
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		verb := line
		for i, ch := range line {
			if ch == ' ' {
				verb = line[:i]
				break
			}
		}
		switch lower(verb) {
		case "quit":
			io.WriteString(w, byeReply)
			return
		case "helo", "ehlo", "mail", "rset", "noop":
			io.WriteString(w, okReply)
		default:
			io.WriteString(w, refuse)
		}
	}
}

// lower folds ASCII letters only (djb's case_equals).
func lower(b []byte) string {
	if len(b) > 4 {
		return ""
	}
	out := make([]byte, len(b))
	for i, ch := range b {
		out[i] = ascii.Lower(ch)
	}
	return string(out)
}
