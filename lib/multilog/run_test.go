package multilog

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestRunAllocatesNothingPerRead: a megabyte is a thousand 1024-byte reads;
// an allocation in the read loop would show up a thousand times. Lines of
// every kind are in it (short, 1000 bytes and longer, empty), timestamped,
// into two directories, one of them taking only some lines.
func TestRunAllocatesNothingPerRead(t *testing.T) {
	dir, err := os.MkdirTemp("/dev/shm", "tinymx-multilog-")
	if err != nil {
		dir = t.TempDir()
	}
	defer os.RemoveAll(dir)
	var in bytes.Buffer
	for i := 0; in.Len() < 1<<20; i++ {
		in.Write(bytes.Repeat([]byte{'a' + byte(i%26)}, (i*i*7)%2600))
		in.WriteByte('\n')
	}
	f, err := os.CreateTemp(dir, "in")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write(in.Bytes())
	f.Seek(0, 0)
	// s16777215: no rotation, which lists the directory (and allocates)
	l := Start([]string{"t", "s16777215", filepath.Join(dir, "all"), "-*", "+*b*", filepath.Join(dir, "b")}, int(f.Fd()))
	defer l.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	l.Run()
	runtime.ReadMemStats(&after)
	// not zero: the runtime may allocate on its own now and then
	reads := uint64(in.Len() / readSize)
	if n := after.Mallocs - before.Mallocs; n >= reads/10 {
		t.Fatalf("%d allocations for %d reads", n, reads)
	}
}
