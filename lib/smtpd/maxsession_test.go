package smtpd

import (
	"bufio"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// serveOnPipe runs Serve with its input on a pollable pipe (so that
// deadlines work) and returns the client's end and the server's output.
func serveOnPipe(t *testing.T, cfg *Config) (client, server *os.File, replies *bufio.Reader, code chan int) {
	t.Helper()
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inR.Close(); inW.Close(); outR.Close(); outW.Close() })
	code = make(chan int, 1)
	go func() { code <- Serve(cfg, inR, outW) }()
	outR.SetReadDeadline(time.Now().Add(30 * time.Second))
	return inW, inR, bufio.NewReader(outR), code
}

func readLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	l, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read: %v (got %q)", err, l)
	}
	return strings.TrimRight(l, "\r\n")
}

func TestMaxSessionEndsASessionThatKeepsTalking(t *testing.T) {
	cfg := testConfig(&fakeQueue{})
	cfg.MaxSession = 300 * time.Millisecond
	in, _, out, code := serveOnPipe(t, cfg)
	readLine(t, out) // greeting
	start := time.Now()
	for {
		in.Write([]byte("NOOP\r\n"))
		l := readLine(t, out)
		if l == "451 timeout (#4.4.2)" {
			break
		}
		if l != "250 ok" || time.Since(start) > 20*time.Second {
			t.Fatalf("reply %q after %v", l, time.Since(start))
		}
		time.Sleep(20 * time.Millisecond) // the client's trickle
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("ended after %v, before MaxSession", d)
	}
	if c := <-code; c != 1 {
		t.Errorf("exit %d, want 1", c)
	}
}

func TestShutdownEndsAWaitingSessionWith421(t *testing.T) {
	cfg := testConfig(&fakeQueue{})
	cfg.Shutdown = new(atomic.Bool)
	in, srv, out, code := serveOnPipe(t, cfg)
	readLine(t, out)
	in.Write([]byte("NOOP\r\n"))
	readLine(t, out)
	// what a draining server does: the flag, then a read deadline in
	// the past to wake the session waiting for its next command
	cfg.Shutdown.Store(true)
	srv.SetReadDeadline(time.Unix(1, 0))
	if l := readLine(t, out); !strings.HasPrefix(l, "421 service shutting down") {
		t.Fatalf("reply %q, want 421", l)
	}
	if c := <-code; c != 1 {
		t.Errorf("exit %d, want 1", c)
	}
}
