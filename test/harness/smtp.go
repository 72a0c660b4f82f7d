package harness

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// SMTP is a test's client side of an SMTP session: lines out, replies in,
// every read and write bounded by Timeout (Patience unless the test sets
// it; a bound is a hang guard).
type SMTP struct {
	T       testing.TB
	Conn    net.Conn
	R       *bufio.Reader
	Timeout time.Duration
}

// DialSMTP connects to addr; the connection closes when the test ends.
func DialSMTP(t testing.TB, addr string) *SMTP { return DialSMTPFrom(t, "", addr) }

// DialSMTPFrom connects to addr from the local address src ("" for any).
func DialSMTPFrom(t testing.TB, src, addr string) *SMTP {
	t.Helper()
	d := net.Dialer{Timeout: Patience}
	if src != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &SMTP{T: t, Conn: c, R: bufio.NewReaderSize(c, 65536), Timeout: Patience}
}

// Send writes s as it is (the caller adds CRLFs).
func (c *SMTP) Send(s string) {
	c.T.Helper()
	c.Conn.SetWriteDeadline(time.Now().Add(c.Timeout))
	if _, err := c.Conn.Write([]byte(s)); err != nil {
		c.T.Fatalf("write: %v", err)
	}
}

// Line reads one reply line without its CRLF.
func (c *SMTP) Line() string {
	c.T.Helper()
	c.Conn.SetReadDeadline(time.Now().Add(c.Timeout))
	l, err := c.R.ReadString('\n')
	if err != nil {
		c.T.Fatalf("read reply: %v (got %q)", err, l)
	}
	return strings.TrimRight(l, "\r\n")
}

// Expect reads a line and fails the test unless it starts with want.
func (c *SMTP) Expect(want string) string {
	c.T.Helper()
	got := c.Line()
	if !strings.HasPrefix(got, want) {
		c.T.Fatalf("reply %q, want %q", got, want)
	}
	return got
}

// Reply reads a whole (possibly multi-line) reply, returning its last line.
func (c *SMTP) Reply() string {
	c.T.Helper()
	for {
		l := c.Line()
		if len(l) < 4 || l[3] != '-' {
			return l
		}
	}
}

// EOF checks that the server closed the connection (after any lines it
// sent).
func (c *SMTP) EOF() {
	c.T.Helper()
	c.Conn.SetReadDeadline(time.Now().Add(c.Timeout))
	rest, err := c.R.ReadString('\n')
	if err == nil || rest != "" {
		c.T.Fatalf("want the connection closed, got %q (%v)", rest, err)
	}
}
