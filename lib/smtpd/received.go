package smtpd

import (
	"strconv"
	"time"
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
	b = AppendDate822(b, t)
	return append(b, '\n')
}

const monthNames = "JanFebMarAprMayJunJulAugSepOctNovDec"

// AppendDate822 appends qmail's date822fmt form in UTC:
// "5 Jan 2025 09:03:07 -0000" (day without leading zero).
func AppendDate822(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, m, d := t.Date()
	hh, mm, ss := t.Clock()
	b = strconv.AppendInt(b, int64(d), 10)
	b = append(b, ' ')
	b = append(b, monthNames[(m-1)*3:m*3]...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(y), 10)
	b = append(b, ' ')
	b = append2(b, hh)
	b = append(b, ':')
	b = append2(b, mm)
	b = append(b, ':')
	b = append2(b, ss)
	return append(b, " -0000"...)
}

func append2(b []byte, n int) []byte {
	return append(b, byte('0'+n/10), byte('0'+n%10))
}
