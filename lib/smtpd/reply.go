package smtpd

import "tinymx/lib/qmailqueue"

// Stock replies (notqmail 1.09), each a named constant as qmail-smtpd.c
// names each reply a function; spec §2.13.
const (
	replyOK          = "250 ok\r\n"
	replyFlushed     = "250 flushed\r\n"
	replyVrfy        = "252 send some mail, i'll try my best\r\n"
	replyHelp        = "214 notqmail home page: https://notqmail.org\r\n"
	replyGoAhead     = "354 go ahead\r\n"
	replyNomem       = "421 out of memory (#4.3.0)\r\n"
	replyControl     = "421 unable to read controls (#4.3.0)\r\n"
	replyIPme        = "421 unable to figure out my IP addresses (#4.3.0)\r\n"
	replyTimeout     = "451 timeout (#4.4.2)\r\n"
	replyStrayLF     = "451 See https://cr.yp.to/docs/smtplf.html.\r\n"
	replyQqt         = "451 qqt failure (#4.3.0)\r\n"
	replyUnimpl      = "502 unimplemented (#5.5.1)\r\n"
	replyWantMail    = "503 MAIL first (#5.5.1)\r\n"
	replyWantRcpt    = "503 RCPT first (#5.5.1)\r\n"
	replyDatabytes   = "552 sorry, that message size exceeds my databytes limit (#5.3.4)\r\n"
	replyBmf         = "553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)\r\n"
	replyNoGateway   = "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)\r\n"
	replyHops        = "554 too many hops, this message is looping (#5.4.6)\r\n"
	replySyntax      = "555 syntax error (#5.5.4)\r\n"
	replyLineTooLong = "500 line too long (#5.5.2)\r\n" // extension, spec §5.12
	// qmail-smtpd-server's, for a session still open when it stops or
	// one whose engine failed (a bug, recovered)
	replyShutdown = "421 service shutting down, closing connection (#4.3.2)\r\n"
	replyBug      = "421 internal error, closing connection (#4.3.0)\r\n"
)

// queueReply is the reply line (no CRLF) after the final dot when the
// queue did not take the message: 554 for qmail's permanent results, 451
// for the temporary ones, with qmail-queue's text (spec §3.3).
func queueReply(err error) string {
	r := qmailqueue.Result(err)
	if r == "" {
		return ""
	}
	if r[0] == 'D' {
		return "554 " + r[1:]
	}
	return "451 " + r[1:]
}
