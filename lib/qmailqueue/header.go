package qmailqueue

import (
	"bufio"
	"strconv"
	"time"
)

var months = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// AppendDate822 appends qmail's date822fmt of t in UTC, without the
// newline: "5 Jan 2025 09:03:07 -0000".
func AppendDate822(b []byte, t time.Time) []byte {
	t = t.UTC()
	b = strconv.AppendInt(b, int64(t.Day()), 10)
	b = append(b, ' ')
	b = append(b, months[t.Month()-1]...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(t.Year()), 10)
	b = append(b, ' ')
	b = append2(b, t.Hour())
	b = append(b, ':')
	b = append2(b, t.Minute())
	b = append(b, ':')
	b = append2(b, t.Second())
	return append(b, " -0000"...)
}

func append2(b []byte, n int) []byte {
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

// AppendReceived appends qmail-queue's own trace line:
// "Received: (qmail PID invoked by uid UID); DATE\n".
func AppendReceived(b []byte, t time.Time, pid, uid int) []byte {
	b = append(b, "Received: (qmail "...)
	b = strconv.AppendInt(b, int64(pid), 10)
	b = append(b, " invoked by uid "...)
	b = strconv.AppendInt(b, int64(uid), 10)
	b = append(b, "); "...)
	b = AppendDate822(b, t)
	return append(b, '\n')
}

// writeHeader writes the lines the store puts above the message: the
// Received line, Return-Path, then Delivered-To for one recipient or one
// X-Envelope-To per recipient for several. As qmail-local does, a LF in
// an address becomes '_' so an address can never start a new header.
func writeHeader(w *bufio.Writer, t time.Time, pid, uid int, from string, to []string) {
	var line [128]byte
	w.Write(AppendReceived(line[:0], t, pid, uid))
	w.WriteString("Return-Path: <")
	writeAddr(w, from)
	w.WriteString(">\n")
	if len(to) == 1 {
		w.WriteString("Delivered-To: ")
		writeAddr(w, to[0])
		w.WriteByte('\n')
		return
	}
	for _, r := range to {
		w.WriteString("X-Envelope-To: ")
		writeAddr(w, r)
		w.WriteByte('\n')
	}
}

func writeAddr(w *bufio.Writer, a string) {
	for i := 0; i < len(a); i++ {
		c := a[i]
		if c == '\n' {
			c = '_'
		}
		w.WriteByte(c)
	}
}
