package smtpd

import (
	"time"

	"tinymx/lib/qmailqueue"
)

// safeByte is received.c's issafe: everything else is written as '?'.
// notqmail 1.09 keeps '[' and ']'.
func safeByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '.', '@', '%', '+', '/', '=', ':', '-', '[', ']':
		return true
	}
	return false
}

func appendSafe(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !safeByte(c) {
			c = '?'
		}
		b = append(b, c)
	}
	return b
}

// ReceivedInfo is what the Received line says about a connection.
type ReceivedInfo struct {
	Local      string // TCPLOCALHOST, else TCPLOCALIP, else "unknown"
	RemoteIP   string // TCPREMOTEIP or "unknown"
	RemoteHost string // TCPREMOTEHOST or "unknown"
	RemoteInfo string // TCPREMOTEINFO
	HasInfo    bool   // TCPREMOTEINFO is set
}

// AppendReceived appends qmail-smtpd's two-line Received header:
//
//	Received: from HOST (HELO helo) (info@IP)
//	  by LOCAL with SMTP; 5 Jan 2025 09:03:07 -0000
//
// The HELO part is there when hasHelo (the HELO value differs from the
// remote host, ignoring ASCII case).
func AppendReceived(b []byte, ri *ReceivedInfo, helo string, hasHelo bool, protocol string, t time.Time) []byte {
	b = append(b, "Received: from "...)
	b = appendSafe(b, ri.RemoteHost)
	if hasHelo {
		b = append(b, " (HELO "...)
		b = appendSafe(b, helo)
		b = append(b, ')')
	}
	b = append(b, " ("...)
	if ri.HasInfo {
		b = appendSafe(b, ri.RemoteInfo)
		b = append(b, '@')
	}
	b = appendSafe(b, ri.RemoteIP)
	b = append(b, ")\n  by "...)
	b = appendSafe(b, ri.Local)
	b = append(b, " with "...)
	b = append(b, protocol...)
	b = append(b, "; "...)
	b = qmailqueue.AppendDate822(b, t)
	return append(b, '\n')
}
