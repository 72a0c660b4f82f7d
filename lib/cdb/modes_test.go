package cdb

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// modes opens the same bytes every way a CDB can hold them.
func modes(t testing.TB, b []byte) map[string]*CDB {
	t.Helper()
	p := filepath.Join(t.TempDir(), "m.cdb")
	if err := os.WriteFile(p, b, 0644); err != nil {
		t.Fatal(err)
	}
	out := map[string]*CDB{"bytes": FromBytes(b)}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if out["read"], err = Open(p); err != nil {
		t.Fatal(err)
	}
	readLimitVar = 0
	defer func() { readLimitVar = readLimit }()
	if out["mapped"], err = OpenFile(f); err != nil {
		t.Fatal(err)
	}
	if out["pread"], err = Open(p); err != nil {
		t.Fatal(err)
	}
	if !out["pread"].pread || !out["mapped"].mapped {
		t.Fatal("modes not reached")
	}
	t.Cleanup(func() {
		for _, db := range out {
			db.Close()
		}
	})
	return out
}

func TestEveryModeFindsTheSameRecords(t *testing.T) {
	recs := []rec{{"a", "1"}, {"b", "2"}, {"a", "3"}, {"", "empty"}, {"a", "4"}, {"nodata", ""}}
	long := string(bytes.Repeat([]byte("k"), 1000))
	recs = append(recs, rec{long, "long key"}, rec{long[:999] + "j", "almost"})
	for i := range 3000 {
		recs = append(recs, rec{fmt.Sprintf("key%d", i), fmt.Sprintf("val%d", i)})
	}
	for name, db := range modes(t, build(t, recs)) {
		var got []string
		it := db.Find([]byte("a"))
		for it.Next() {
			got = append(got, string(it.Value()))
		}
		if it.Err() != nil || fmt.Sprint(got) != "[1 3 4]" {
			t.Errorf("%s: Find a = %v %v", name, got, it.Err())
		}
		for _, r := range recs[3:] {
			v, ok, err := db.Get([]byte(r.k))
			if !ok || err != nil || string(v) != r.v {
				if r.k != "a" {
					t.Fatalf("%s: Get %.20q = %q %v %v", name, r.k, v, ok, err)
				}
			}
		}
		if _, ok, err := db.Get([]byte(long[:999] + "x")); ok || err != nil {
			t.Errorf("%s: near-miss long key found: %v", name, err)
		}
		n := 0
		if err := db.ForEach(func(k, v []byte) error { n++; return nil }); err != nil || n != len(recs) {
			t.Errorf("%s: ForEach %d records, %v", name, n, err)
		}
		if db.Size() != len(build(t, recs)) {
			t.Errorf("%s: Size %d", name, db.Size())
		}
	}
}

func TestEveryModeReportsTruncationAsProtocolError(t *testing.T) {
	b := build(t, []rec{{"1.2.3.4", ""}, {"k", "value"}})
	for _, n := range []int{100, 2047, 2060} {
		for name, db := range modes(t, b[:n]) {
			errs := 0
			for _, k := range []string{"1.2.3.4", "k"} {
				if _, _, err := db.Get([]byte(k)); err != nil {
					if !errors.Is(err, unix.EPROTO) {
						t.Fatalf("%s n=%d: %v", name, n, err)
					}
					errs++
				}
			}
			if errs == 0 {
				t.Fatalf("%s n=%d: no error", name, n)
			}
		}
	}
}

func TestPreadModeSurvivesCorruption(t *testing.T) {
	b := build(t, []rec{{"a", "1"}, {"bb", "22"}, {"a", "3"}})
	for i := 0; i < len(b); i += 5 {
		c := bytes.Clone(b)
		c[i] ^= 0xff
		exercise(modes(t, c)["pread"])
	}
}

func TestPreadModeHoldsItsFileUntilClose(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.cdb")
	var recs []rec
	for i := range 5000 {
		recs = append(recs, rec{fmt.Sprintf("key%d", i), "v"})
	}
	os.WriteFile(p, build(t, recs), 0644)
	db, err := Open(p)
	if err != nil || !db.pread {
		t.Fatalf("%v: a %d-byte file should be read on demand", err, db.Size())
	}
	// tcprules renames a new file over it: we keep reading the old one.
	os.WriteFile(p+".tmp", build(t, []rec{{"other", "x"}}), 0644)
	os.Rename(p+".tmp", p)
	if v, ok, err := db.Get([]byte("key4999")); !ok || err != nil || string(v) != "v" {
		t.Fatalf("%q %v %v", v, ok, err)
	}
	db.Close()
	if _, _, err := db.Get([]byte("key1")); err == nil {
		t.Fatal("read after Close")
	}
}

func BenchmarkOpenGetCloseLarge(b *testing.B) {
	p := filepath.Join(b.TempDir(), "x.cdb")
	var recs []rec
	for i := range 100000 {
		recs = append(recs, rec{fmt.Sprintf("10.%d.%d.", i/256, i%256), "+X=1\x00"})
	}
	os.WriteFile(p, build(b, recs), 0644)
	key := []byte("10.5.5.")
	b.ReportAllocs()
	for b.Loop() {
		db, err := Open(p)
		if err != nil {
			b.Fatal(err)
		}
		db.Get(key)
		db.Get([]byte("nope"))
		db.Close()
	}
}
