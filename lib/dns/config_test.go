package dns

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// withinFiveSeconds runs f; if it is still running after 5 s, each FIFO
// gets a writer that comes and goes (ending an open(2) blocked on it) until
// f returns, and the test fails.
func withinFiveSeconds(t *testing.T, f func(), fifos ...string) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
		return
	case <-time.After(5 * time.Second):
	}
	for {
		for _, p := range fifos {
			if fd, err := syscall.Open(p, syscall.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				syscall.Close(fd)
			}
		}
		select {
		case <-done:
			t.Fatal("still waiting on a FIFO after 5 s")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// djb's openreadclose opens non-blocking: resolv.conf or the rewrite file
// replaced by a FIFO with no writer reads as an empty file.
func TestConfigFilesThatAreFifosReadAsEmpty(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0644); err != nil {
		t.Fatal(err)
	}
	old := resolvConf
	t.Cleanup(func() { resolvConf = old })
	resolvConf = fifo
	t.Setenv("DNSCACHEIP", "") // no quad in it: resolv.conf is read
	t.Setenv("DNSREWRITEFILE", fifo)
	withinFiveSeconds(t, func() {
		if ips, err := loadServers(); err != nil || len(ips) != 1 || ips[0] != [4]byte{127, 0, 0, 1} {
			t.Errorf("servers %v %v, want 127.0.0.1 alone", ips, err)
		}
		if rules, err := loadRewrite(); err != nil || len(rules) != 0 {
			t.Errorf("rewrite rules %q %v, want none", rules, err)
		}
	}, fifo)
}

// With a writer holding the FIFO and nothing written, read(2) says EAGAIN
// and djb's lookups fail with it (tcpserver: "temporary failure").
func TestConfigFifoWithIdleWriterIsATemporaryError(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0644); err != nil {
		t.Fatal(err)
	}
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	t.Setenv("DNSREWRITEFILE", fifo)
	done := make(chan error, 1)
	go func() {
		_, err := loadRewrite()
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, syscall.EAGAIN) {
			t.Fatalf("loadRewrite: %v, want EAGAIN", err)
		}
	case <-time.After(5 * time.Second):
		w.Close() // the blocked read ends with its writer
		<-done
		t.Fatal("loadRewrite waited 5 s on a FIFO")
	}
}
