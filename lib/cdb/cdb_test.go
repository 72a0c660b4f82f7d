package cdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

type rec struct{ k, v string }

func build(t testing.TB, recs []rec) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.cdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWriter(f)
	for _, r := range recs {
		if err := w.Add([]byte(r.k), []byte(r.v)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEmptyDatabaseIsHeaderPointingAtItsEnd(t *testing.T) {
	b := build(t, nil)
	if len(b) != 2048 {
		t.Fatalf("len %d", len(b))
	}
	for i := range 256 {
		if p := binary.LittleEndian.Uint32(b[8*i:]); p != 2048 {
			t.Fatalf("entry %d pos %d", i, p)
		}
		if n := binary.LittleEndian.Uint32(b[8*i+4:]); n != 0 {
			t.Fatalf("entry %d slots %d", i, n)
		}
	}
}

func TestHashIsDjbs(t *testing.T) {
	// h("") = 5381; h("a") = (5381*33)^'a'.
	if Hash(nil) != 5381 || Hash([]byte("a")) != (5381*33)^'a' {
		t.Fatal("hash")
	}
}

func TestGetFindsFirstOfDuplicatesAndFindWalksAllInOrder(t *testing.T) {
	recs := []rec{{"a", "1"}, {"b", "2"}, {"a", "3"}, {"", "empty"}, {"a", "4"}}
	db := FromBytes(build(t, recs))
	v, ok, err := db.Get([]byte("a"))
	if err != nil || !ok || string(v) != "1" {
		t.Fatalf("Get a = %q %v %v", v, ok, err)
	}
	var got []string
	it := db.Find([]byte("a"))
	for it.Next() {
		got = append(got, string(it.Value()))
	}
	if it.Err() != nil || fmt.Sprint(got) != "[1 3 4]" {
		t.Fatalf("Find a = %v %v", got, it.Err())
	}
	v, ok, _ = db.Get(nil)
	if !ok || string(v) != "empty" {
		t.Fatalf("empty key = %q %v", v, ok)
	}
	if _, ok, err := db.Get([]byte("zz")); ok || err != nil {
		t.Fatalf("missing key found: %v %v", ok, err)
	}
	var all []string
	if err := db.ForEach(func(k, v []byte) error { all = append(all, string(k)+"="+string(v)); return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(all) != "[a=1 b=2 a=3 =empty a=4]" {
		t.Fatalf("ForEach %v", all)
	}
}

func TestManyKeysRoundTrip(t *testing.T) {
	var recs []rec
	for i := range 20000 {
		recs = append(recs, rec{fmt.Sprintf("key%d", i), fmt.Sprintf("val%d", i*7)})
	}
	db := FromBytes(build(t, recs))
	for i := range 20000 {
		v, ok, err := db.Get([]byte(fmt.Sprintf("key%d", i)))
		if err != nil || !ok || string(v) != fmt.Sprintf("val%d", i*7) {
			t.Fatalf("key%d: %q %v %v", i, v, ok, err)
		}
	}
}

func TestOpenMapsFileAndEmptyFileSaysInvalidArgument(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.cdb")
	os.WriteFile(p, build(t, []rec{{"k", "v"}}), 0644)
	db, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	v, ok, err := db.Get([]byte("k"))
	if !ok || err != nil || string(v) != "v" {
		t.Fatalf("%q %v %v", v, ok, err)
	}
	db.Close()

	e := filepath.Join(dir, "empty.cdb")
	os.WriteFile(e, nil, 0644)
	db, err = Open(e)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Get([]byte("k")); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("empty file: %v", err)
	}
	db.Close()
	if _, err := Open(filepath.Join(dir, "none")); !errors.Is(err, unix.ENOENT) {
		t.Fatalf("missing: %v", err)
	}
}

func TestTruncatedFileIsProtocolError(t *testing.T) {
	b := build(t, []rec{{"1.2.3.4", ""}, {"k", "value"}})
	for _, n := range []int{100, 2047, 2048, 2060} {
		db := FromBytes(b[:n])
		var errs int
		for _, k := range []string{"1.2.3.4", "k"} {
			_, _, err := db.Get([]byte(k))
			if err != nil {
				if !errors.Is(err, unix.EPROTO) || !IsFormat(err) {
					t.Fatalf("n=%d: %v", n, err)
				}
				errs++
			}
		}
		if errs == 0 {
			t.Fatalf("n=%d: no error", n)
		}
	}
}

func TestCorruptPositionsNeverPanic(t *testing.T) {
	b := build(t, []rec{{"a", "1"}, {"bb", "22"}, {"a", "3"}})
	for i := 0; i < len(b); i++ {
		for _, x := range []byte{0xff, 0x80, 0x01} {
			c := bytes.Clone(b)
			c[i] ^= x
			exercise(FromBytes(c))
		}
	}
}

func TestWriterRefusesPastFourGiB(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "x"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := NewWriter(f)
	w.pos = 0xffffff00
	if err := w.Add(make([]byte, 300), nil); !errors.Is(err, unix.ENOMEM) {
		t.Fatalf("%v", err)
	}
}

func exercise(db *CDB) {
	var keys [][]byte
	db.ForEach(func(k, v []byte) error {
		if len(keys) < 64 {
			keys = append(keys, bytes.Clone(k))
		}
		return nil
	})
	keys = append(keys, nil, []byte("a"), []byte("1.2.3.4"))
	for _, k := range keys {
		db.Get(k)
		it := db.Find(k)
		for n := 0; it.Next() && n < 1000; n++ {
			_ = it.Value()
		}
	}
}

func FuzzReader(f *testing.F) {
	f.Add(build(f, []rec{{"a", "1"}, {"b", "2"}, {"a", "3"}}))
	f.Add(build(f, nil))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		mem := FromBytes(b)
		exercise(mem)
		// The same bytes read with pread must give the same answers (on
		// small inputs: a long probe costs one system call per slot).
		if len(b) > 8192 {
			return
		}
		fd, err := unix.MemfdCreate("fuzz", unix.MFD_CLOEXEC)
		if err != nil {
			t.Skip("no memfd")
		}
		defer unix.Close(fd)
		if _, err := unix.Pwrite(fd, b, 0); err != nil && len(b) > 0 {
			t.Fatal(err)
		}
		pr := &CDB{pread: true, fd: fd, size: uint64(len(b))}
		for _, k := range [][]byte{nil, []byte("a"), []byte("bb"), []byte("1.2.3.4")} {
			v1, ok1, err1 := mem.Get(k)
			v2, ok2, err2 := pr.Get(k)
			if ok1 != ok2 || (err1 == nil) != (err2 == nil) || !bytes.Equal(v1, v2) {
				t.Fatalf("key %q: memory %q %v %v, pread %q %v %v", k, v1, ok1, err1, v2, ok2, err2)
			}
			// Has finds at least what Get finds, in both modes alike.
			h1, herr1 := mem.Has(k)
			h2, herr2 := pr.Has(k)
			if h1 != h2 || (herr1 == nil) != (herr2 == nil) || (ok1 && !h1) {
				t.Fatalf("key %q: Has memory %v %v, pread %v %v; Get %v", k, h1, herr1, h2, herr2, ok1)
			}
		}
	})
}

// A record whose data length runs past the end of the file: Has finds its
// key, as djb's cdb_find does (it never reads the data), while Get, which
// must return the data, reports a format error.
func TestHasFindsAKeyWhoseDataRunsPastTheEnd(t *testing.T) {
	b := build(t, []rec{{"a.test", ""}})
	binary.LittleEndian.PutUint32(b[headerSize+4:], 1<<30) // the record's dlen
	for _, db := range []*CDB{FromBytes(b), preadOf(t, b)} {
		if ok, err := db.Has([]byte("a.test")); !ok || err != nil {
			t.Errorf("pread %v: Has = %v, %v; want true, nil", db.pread, ok, err)
		}
		if ok, err := db.Has([]byte("b.test")); ok || err != nil {
			t.Errorf("pread %v: Has(absent) = %v, %v", db.pread, ok, err)
		}
		if _, _, err := db.Get([]byte("a.test")); !IsFormat(err) {
			t.Errorf("pread %v: Get error %v, want a format error", db.pread, err)
		}
	}
}

// preadOf is a database read on demand from a memfd holding b.
func preadOf(t *testing.T, b []byte) *CDB {
	fd, err := unix.MemfdCreate("cdb", unix.MFD_CLOEXEC)
	if err != nil {
		t.Skip("no memfd")
	}
	t.Cleanup(func() { unix.Close(fd) })
	if _, err := unix.Pwrite(fd, b, 0); err != nil {
		t.Fatal(err)
	}
	return &CDB{pread: true, fd: fd, size: uint64(len(b))}
}

func BenchmarkGet(b *testing.B) {
	var recs []rec
	for i := range 100000 {
		recs = append(recs, rec{fmt.Sprintf("10.%d.%d.", i/256, i%256), "+X=1\x00"})
	}
	db := FromBytes(build(b, recs))
	key := []byte("10.5.5.")
	b.ReportAllocs()
	for b.Loop() {
		db.Get(key)
	}
}

func BenchmarkOpenGetClose(b *testing.B) {
	p := filepath.Join(b.TempDir(), "x.cdb")
	os.WriteFile(p, build(b, []rec{{"1.2.3.4", "+X=1\x00"}, {"", ""}}), 0644)
	b.ReportAllocs()
	for b.Loop() {
		db, err := Open(p)
		if err != nil {
			b.Fatal(err)
		}
		db.Get([]byte("1.2.3."))
		db.Close()
	}
}
