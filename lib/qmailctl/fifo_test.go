package qmailctl

import (
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"tinymx/lib/cdb"
)

// mkfifo makes a FIFO at dir/name with no writer.
func mkfifo(t *testing.T, dir, name string) string {
	t.Helper()
	p := dir + "/" + name
	os.MkdirAll(dir+"/control", 0755)
	if err := syscall.Mkfifo(p, 0644); err != nil {
		t.Fatal(err)
	}
	return p
}

// holdWriter opens fifo for writing (O_RDWR, which never waits) until the
// test ends, so a reader finds a writer and no data.
func holdWriter(t *testing.T, fifo string) *os.File {
	t.Helper()
	f, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// bounded runs f, which must not wait on a FIFO (f reports with t.Error:
// it runs on another goroutine). If it is still running after 5 s the test
// fails, once rescue, called every 100 ms, has got f to return.
func bounded(t *testing.T, f func(), rescue func()) {
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
		rescue()
		select {
		case <-done:
			t.Fatal("still waiting on a FIFO after 5 s")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// unblock is the rescue for an open(2) blocked on either side of fifos: a
// reader and a writer come and go on each.
func unblock(fifos ...string) func() {
	return func() {
		for _, p := range fifos {
			for _, mode := range []int{syscall.O_RDONLY, syscall.O_WRONLY} {
				if fd, err := syscall.Open(p, mode|syscall.O_NONBLOCK, 0); err == nil {
					syscall.Close(fd)
				}
			}
		}
	}
}

func TestFifoWithoutWriterReadsAsAnEmptyFile(t *testing.T) {
	dir := t.TempDir()
	p := mkfifo(t, dir, "control/me")
	bounded(t, func() {
		if v, ok, err := ReadLine(p, Stock); v != "" || !ok || err != nil {
			t.Errorf("ReadLine: %q %v %v", v, ok, err)
		}
		if l, ok, err := ReadLines(p, Stock); len(l) != 1 || l[0] != "" || !ok || err != nil {
			t.Errorf("ReadLines: %q %v %v", l, ok, err)
		}
		if n, ok, err := ReadUint(p, Stock); n != 0 || ok || err != nil {
			t.Errorf("ReadUint: %d %v %v", n, ok, err)
		}
		if e, ok, err := ReadList(p); len(e) != 0 || !ok || err != nil {
			t.Errorf("ReadList: %q %v %v", e, ok, err)
		}
	}, unblock(p))
}

// notqmail's read fails with EAGAIN when a writer holds the FIFO open with
// nothing written: a temporary error (421), never a retry loop.
func TestFifoWithIdleWriterIsATemporaryError(t *testing.T) {
	dir := t.TempDir()
	p := mkfifo(t, dir, "control/rcpthosts")
	w := holdWriter(t, p)
	bounded(t, func() {
		if _, _, err := ReadList(p); !errors.Is(err, syscall.EAGAIN) {
			t.Errorf("ReadList: %v, want EAGAIN", err)
		}
		if _, err := LoadRcpthosts(dir); !errors.Is(err, syscall.EAGAIN) {
			t.Errorf("LoadRcpthosts: %v, want EAGAIN", err)
		}
	}, func() { w.Close(); unblock(p)() }) // a blocked read ends with its writer
}

func TestFifoWhoseWriterHasGoneReadsWhatWasWritten(t *testing.T) {
	dir := t.TempDir()
	p := mkfifo(t, dir, "control/me")
	w := holdWriter(t, p)
	bounded(t, func() {
		r, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			t.Error(err)
			return
		}
		defer r.Close() // keeps the data in the pipe after the writer goes
		w.WriteString("mx.example.org\n")
		w.Close()
		if v, ok, err := ReadLine(p, Stock); v != "mx.example.org" || !ok || err != nil {
			t.Errorf("ReadLine: %q %v %v", v, ok, err)
		}
	}, unblock(p))
}

// As notqmail's rcpthosts_init, a FIFO morercpthosts.cdb opens at start-up;
// a lookup that reaches it cannot read it (stock: lseek fails, 421).
func TestFifoMorercpthostsOpensButFailsItsLookups(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "control/rcpthosts", "example.org\n")
	p := mkfifo(t, dir, "control/morercpthosts.cdb")
	bounded(t, func() {
		r, err := LoadRcpthosts(dir)
		if err != nil {
			t.Errorf("LoadRcpthosts: %v", err)
			return
		}
		defer r.Close()
		if ok, err := r.Allowed([]byte("u@example.org")); !ok || err != nil {
			t.Errorf("listed domain: %v %v", ok, err)
		}
		if _, err := r.Allowed([]byte("u@other.test")); err == nil {
			t.Error("lookup in a FIFO cdb succeeded")
		}
	}, unblock(p))
}

func TestFifoRcpthostsIsAnEmptyListRefusingEveryDomain(t *testing.T) {
	dir := t.TempDir()
	p := mkfifo(t, dir, "control/rcpthosts")
	bounded(t, func() {
		r, err := LoadRcpthosts(dir)
		if err != nil {
			t.Errorf("LoadRcpthosts: %v", err)
			return
		}
		if ok, err := r.Allowed([]byte("u@example.org")); ok || err != nil {
			t.Errorf("allowed %v %v", ok, err)
		}
	}, unblock(p))
}

func TestFifoBadmailfromAndItsCDB(t *testing.T) {
	dir := t.TempDir()
	p := mkfifo(t, dir, "control/badmailfrom")
	bounded(t, func() {
		b, err := LoadBadmailfrom(dir)
		if err != nil {
			t.Errorf("LoadBadmailfrom: %v", err)
			return
		}
		if ok, err := b.Match([]byte("u@evil.example")); ok || err != nil {
			t.Errorf("plain FIFO: %v %v", ok, err)
		}
	}, unblock(p))
	c := mkfifo(t, dir, "control/badmailfrom.cdb")
	bounded(t, func() {
		b, err := LoadBadmailfrom(dir)
		if err != nil {
			t.Errorf("LoadBadmailfrom with cdb: %v", err)
			return
		}
		defer b.Close()
		if _, err := b.Match([]byte("u@evil.example")); err == nil {
			t.Error("lookup in a FIFO cdb succeeded")
		}
	}, unblock(p, c))
}

// qmail-newmrh's open_read is non-blocking too: a FIFO list compiles to
// an empty cdb.
func TestMakeCDBOfAFifoIsAnEmptyCDB(t *testing.T) {
	dir := t.TempDir()
	p := mkfifo(t, dir, "control/morercpthosts")
	bounded(t, func() {
		if err := MakeCDB(p, dir+"/m.cdb", dir+"/m.tmp"); err != nil {
			t.Error(err)
		}
	}, unblock(p))
	if t.Failed() {
		return
	}
	db, err := cdb.Open(dir + "/m.cdb")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := 0
	db.ForEach(func(k, v []byte) error { n++; return nil })
	if n != 0 {
		t.Fatalf("%d keys", n)
	}
}

// open_trunc is non-blocking as well: a FIFO temporary with no reader is
// ENXIO, not a wait for one.
func TestMakeCDBIntoAFifoTemporaryFailsAtOnce(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "control/morercpthosts", "a.test\n")
	tmp := mkfifo(t, dir, "control/morercpthosts.tmp")
	bounded(t, func() {
		err := MakeCDB(dir+"/control/morercpthosts", dir+"/control/morercpthosts.cdb", tmp)
		var me *MakeCDBError
		if !errors.As(err, &me) || me.Op != "write" || !errors.Is(err, syscall.ENXIO) {
			t.Errorf("MakeCDB: %v, want a write error ENXIO", err)
		}
	}, unblock(tmp))
}
