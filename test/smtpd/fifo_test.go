package smtpd_test

import (
	"os"
	"syscall"
	"testing"
	"time"
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
		c.to = 5 * time.Second
		c.expect("220  ESMTP")
		c.send("MAIL FROM:<a@x.test>\r\nRCPT TO:<bob@example.org>\r\nRCPT TO:<postmaster>\r\nQUIT\r\n")
		c.expect("250 ok")
		c.expect("553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)")
		c.expect("250 ok")
		c.expect("221 ")
		c.c.Close()
		s.waitIdle(t)
	}
}
