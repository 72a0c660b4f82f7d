package harness

import (
	"net"
	"sync"
	"testing"
)

// Listen listens on TCP addr ("127.0.0.1:0": a port of its own) until the
// test ends; the test fails when it cannot.
func Listen(t testing.TB, addr string) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// Serve accepts connections on l until the test ends (or l is closed) and
// hands each to handle, in a goroutine of its own, closing it when handle
// returns.
func Serve(t testing.TB, l net.Listener, handle func(c net.Conn)) {
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
}

// Silent accepts every connection on l and never answers: each stays
// open, neither read nor written, until the test ends. A client waiting
// for an answer there (an ident lookup) waits out its own timeout.
func Silent(t testing.TB, l net.Listener) {
	var mu sync.Mutex
	var held []net.Conn
	closed := false
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		closed = true
		for _, c := range held {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			if closed {
				c.Close()
			} else {
				held = append(held, c)
			}
			mu.Unlock()
		}
	}()
}
