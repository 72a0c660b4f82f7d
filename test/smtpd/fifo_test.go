package smtpd_test

import (
	"os"
	"syscall"
	"testing"
)

// TestFifoControlFilesNeitherHangSessionsNorFillTheServer: FIFOs with no
// writer in place of control/me and control/rcpthosts read as empty files,
// as notqmail's non-blocking open_read, so every connection gets its
// greeting. With a blocking open the first session would wait for a writer
// for ever and, under tcpserver -c1, no later connection would be served.
func TestFifoControlFilesNeitherHangSessionsNorFillTheServer(t *testing.T) {
	s := startStack(t, config{children: 1})
	for _, name := range []string{"me", "rcpthosts"} {
		p := s.home + "/control/" + name
		os.Remove(p)
		if err := syscall.Mkfifo(p, 0644); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 3; i++ {
		c := dial(t, s.addr)
		c.Expect("220  ESMTP")
		c.Send("MAIL FROM:<a@x.test>\r\nRCPT TO:<bob@example.org>\r\nRCPT TO:<postmaster>\r\nQUIT\r\n")
		c.Expect("250 ok")
		c.Expect("553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)")
		c.Expect("250 ok")
		c.Expect("221 ")
		c.Conn.Close()
		s.waitIdle(t)
	}
}
