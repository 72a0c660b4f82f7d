package rulestest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"tinymx/lib/cdb"
	"tinymx/test/harness"
)

type record struct{ k, v []byte }

// randomRecords mixes binary keys, empty keys and data, and duplicates.
func randomRecords(n int, seed uint64) []record {
	r := rand.New(rand.NewPCG(seed, 7))
	recs := make([]record, 0, n)
	for i := range n {
		var k, v []byte
		switch r.IntN(10) {
		case 0:
			k = nil
		case 1, 2:
			if len(recs) > 0 {
				k = recs[r.IntN(len(recs))].k
				break
			}
			fallthrough
		default:
			k = make([]byte, r.IntN(40))
			for j := range k {
				k[j] = byte(r.IntN(256))
			}
			k = append(k, fmt.Sprint(i)...)
		}
		v = make([]byte, r.IntN(60))
		for j := range v {
			v[j] = byte(r.IntN(256))
		}
		recs = append(recs, record{k, v})
	}
	return recs
}

// dumpText is the cdbmake input / cdbdump output format.
func dumpText(recs []record) []byte {
	var b bytes.Buffer
	for _, r := range recs {
		fmt.Fprintf(&b, "+%d,%d:%s->%s\n", len(r.k), len(r.v), r.k, r.v)
	}
	b.WriteByte('\n')
	return b.Bytes()
}

func writeOurs(t *testing.T, path string, recs []record) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := cdb.NewWriter(f)
	for _, r := range recs {
		if err := w.Add(r.k, r.v); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCdbWriterIsByteIdenticalToCdbmakeAndDumpsAlike(t *testing.T) {
	cdbmake := harness.Peer(t, "cdbmake")
	cdbdump := harness.Peer(t, "cdbdump")
	tiny := harness.Peer(t, "cdb")
	for _, n := range []int{0, 1, 3, 600, 30000} {
		dir := t.TempDir()
		recs := randomRecords(n, uint64(n))
		text := dumpText(recs)
		ours := filepath.Join(dir, "ours.cdb")
		writeOurs(t, ours, recs)
		if r := run(t, dir, text, nil, cdbmake, "theirs.cdb", "theirs.tmp"); r.Code != 0 {
			t.Fatalf("cdbmake: %+v", r)
		}
		if !bytes.Equal(readFile(t, ours), readFile(t, filepath.Join(dir, "theirs.cdb"))) {
			t.Fatalf("n=%d: our cdb differs from cdbmake's", n)
		}
		f, _ := os.Open(ours)
		cmd := exec.Command(cdbdump)
		cmd.Stdin = f
		r := harness.Run(t, timeout, cmd)
		f.Close()
		if r.Code != 0 || r.Stdout != string(text) {
			t.Fatalf("n=%d: cdbdump rc=%d %s; output differs", n, r.Code, r.Stderr)
		}
		r = harness.Run(t, timeout, exec.Command(tiny, "-d", ours))
		if r.Code != 0 || r.Stdout != string(text) {
			t.Fatalf("n=%d: cdb -d rc=%d %s; output differs", n, r.Code, r.Stderr)
		}
	}
}

func TestCdbReaderReadsWhatTinycdbAndCdbmakeWrite(t *testing.T) {
	cdbmake := harness.Peer(t, "cdbmake")
	tiny := harness.Peer(t, "cdb")
	recs := randomRecords(20000, 99)
	text := dumpText(recs)
	dir := t.TempDir()
	if r := run(t, dir, text, nil, tiny, "-c", "tiny.cdb"); r.Code != 0 {
		t.Fatalf("cdb -c: %+v", r)
	}
	if r := run(t, dir, text, nil, cdbmake, "make.cdb", "make.tmp"); r.Code != 0 {
		t.Fatalf("cdbmake: %+v", r)
	}
	for _, name := range []string{"tiny.cdb", "make.cdb"} {
		db, err := cdb.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var got []record
		if err := db.ForEach(func(k, v []byte) error {
			got = append(got, record{bytes.Clone(k), bytes.Clone(v)})
			return nil
		}); err != nil {
			t.Fatalf("%s: ForEach: %v", name, err)
		}
		if !bytes.Equal(dumpText(got), text) {
			t.Fatalf("%s: records differ", name)
		}
		// Every key: Find yields its records in insertion order.
		want := map[string][][]byte{}
		for _, r := range recs {
			want[string(r.k)] = append(want[string(r.k)], r.v)
		}
		for k, vals := range want {
			it := db.Find([]byte(k))
			i := 0
			for it.Next() {
				if i >= len(vals) || !bytes.Equal(it.Value(), vals[i]) {
					t.Fatalf("%s: key %q record %d differs", name, k, i)
				}
				i++
			}
			if it.Err() != nil || i != len(vals) {
				t.Fatalf("%s: key %q: %d of %d records, %v", name, k, i, len(vals), it.Err())
			}
			v, ok, err := db.Get([]byte(k))
			if !ok || err != nil || !bytes.Equal(v, vals[0]) {
				t.Fatalf("%s: Get %q", name, k)
			}
		}
		if _, ok, err := db.Get([]byte("no such key at all")); ok || err != nil {
			t.Fatalf("%s: absent key: %v %v", name, ok, err)
		}
		db.Close()
	}
}

func TestCdbWriterHandlesAMillionKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.cdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := cdb.NewWriter(f)
	var k []byte
	for i := range 1000000 {
		k = fmt.Appendf(k[:0], "key%d", i)
		if err := w.Add(k, k[3:]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	db, err := cdb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, i := range []int{0, 1, 499999, 999999} {
		v, ok, err := db.Get(fmt.Appendf(nil, "key%d", i))
		if !ok || err != nil || string(v) != fmt.Sprint(i) {
			t.Fatalf("key%d: %q %v %v", i, v, ok, err)
		}
	}
	if tiny := "/usr/bin/cdb"; harness.NeedPeer(t, tiny) != "" {
		r := run(t, "", nil, nil, tiny, "-q", path, "key777777")
		if r.Code != 0 || r.Stdout != "777777" {
			t.Fatalf("cdb -q on our million-key cdb: %+v", r)
		}
	}
}
