package cdb

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCacheReusesUntilTcprulesStyleRenameThenSwitches(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "rules.cdb")
	put := func(v string) {
		tmp := filepath.Join(dir, "rules.tmp")
		if err := os.WriteFile(tmp, build(t, []rec{{"k", v}}), 0644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, p); err != nil {
			t.Fatal(err)
		}
	}
	c := &Cache{Path: p}
	defer c.Close()
	if _, err := c.Acquire(); !errors.Is(err, unix.ENOENT) {
		t.Fatalf("missing file: %v", err)
	}
	put("one")
	s1, err := c.Acquire()
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := c.Acquire()
	if s1 != s2 {
		t.Fatal("unchanged file opened twice")
	}
	s2.Release()
	put("two")
	s3, err := c.Acquire()
	if err != nil || s3 == s1 {
		t.Fatalf("replaced file not reopened: %v", err)
	}
	// The old snapshot still reads the old database until released.
	if v, ok, err := s1.DB.Get([]byte("k")); !ok || err != nil || string(v) != "one" {
		t.Fatalf("old snapshot: %q %v %v", v, ok, err)
	}
	if v, _, _ := s3.DB.Get([]byte("k")); string(v) != "two" {
		t.Fatalf("new snapshot: %q", v)
	}
	s1.Release()
	s3.Release()

	// Many readers while the file is replaced.
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 300 {
				s, err := c.Acquire()
				if err != nil {
					t.Error(err)
					return
				}
				if v, ok, err := s.DB.Get([]byte("k")); !ok || err != nil || len(v) == 0 {
					t.Errorf("%q %v %v", v, ok, err)
				}
				s.Release()
			}
		}()
	}
	for i := range 50 {
		put(string(rune('a' + i%26)))
	}
	wg.Wait()
}

func BenchmarkCacheAcquireGet(b *testing.B) {
	p := filepath.Join(b.TempDir(), "x.cdb")
	os.WriteFile(p, build(b, []rec{{"1.2.3.4", "+X=1\x00"}, {"", ""}}), 0644)
	c := &Cache{Path: p}
	b.ReportAllocs()
	for b.Loop() {
		s, err := c.Acquire()
		if err != nil {
			b.Fatal(err)
		}
		s.DB.Get([]byte("1.2.3."))
		s.Release()
	}
}
