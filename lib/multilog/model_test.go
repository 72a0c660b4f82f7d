package multilog

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// model is the original's input loop, buffer and c_write written the plain
// way: one byte at a time, 1024-byte reads, a real 512-byte buffer. It
// returns the files a run would leave, oldest first, current last. Stamps
// are 26 bytes of '@'.
func model(in []byte, size int, stamp bool) [][]byte {
	var files [][]byte
	var cur []byte
	var buf []byte
	cwrite := func(p []byte) int {
		if len(cur) >= size {
			files, cur = append(files, cur), nil
		}
		n := len(p)
		if n >= size-len(cur) {
			n = size - len(cur)
		}
		if len(cur)+n >= size-2000 {
			if k := bytes.LastIndexByte(p[:n], '\n'); k >= 0 {
				n = k + 1
			}
		}
		cur = append(cur, p[:n]...)
		if len(cur) >= size-2000 && p[n-1] == '\n' {
			files, cur = append(files, cur), nil
		}
		return n
	}
	allwrite := func(p []byte) {
		for len(p) > 0 {
			p = p[cwrite(p):]
		}
	}
	flush := func() {
		if len(buf) > 0 {
			b := buf
			buf = nil
			allwrite(b)
		}
	}
	put := func(p []byte) {
		if len(p) > 512-len(buf) {
			flush()
			if len(p) > 512 {
				allwrite(p)
				return
			}
		}
		buf = append(buf, p...)
	}
	pos, avail := 0, 0
	getc := func() (byte, bool) {
		if avail == 0 {
			flush() // before every read
			avail = len(in) - pos
			if avail > 1024 {
				avail = 1024
			}
			if avail == 0 {
				return 0, false
			}
		}
		avail--
		pos++
		return in[pos-1], true
	}
	for {
		var line []byte
		eof := false
		for len(line) < 1000 {
			ch, ok := getc()
			if !ok {
				if len(line) == 0 {
					flush()
					return append(files, cur)
				}
				eof = true
				break
			}
			if len(line) == 0 && stamp {
				line = append(line, []byte(strings.Repeat("@", 25)+" ")...)
			}
			if ch == '\n' {
				break
			}
			line = append(line, ch)
		}
		put(line)
		if len(line) == 1000 {
			for {
				ch, ok := getc()
				if !ok {
					eof = true
					break
				}
				if ch == '\n' {
					break
				}
				put([]byte{ch})
			}
		}
		put([]byte{'\n'})
		if eof {
			flush()
			return append(files, cur)
		}
	}
}

var stampRE = regexp.MustCompile(`(?m)^@[0-9a-f]{24} `)

// logged runs the Logger on in from a regular file and returns the files.
// With poll it waits in poll before every read, as where input refuses
// RWF_NOWAIT.
func logged(t *testing.T, in []byte, size int, stamp, poll bool) [][]byte {
	dir, err := os.MkdirTemp("/dev/shm", "tinymx-multilog-")
	if err != nil {
		dir = t.TempDir()
	}
	defer os.RemoveAll(dir)
	f, err := os.CreateTemp(dir, "in")
	if err != nil {
		t.Fatal(err)
	}
	f.Write(in)
	f.Seek(0, 0)
	defer f.Close()
	args := []string{fmt.Sprintf("s%d", size), "n100000", filepath.Join(dir, "d")}
	if stamp {
		args = append([]string{"t"}, args...)
	}
	l := Start(args, int(f.Fd()))
	l.noNowait = poll
	l.Run()
	l.Close()
	names, _ := filepath.Glob(filepath.Join(dir, "d", "@*"))
	names = append(names, filepath.Join(dir, "d", "current"))
	var out [][]byte
	for _, n := range names {
		b, _ := os.ReadFile(n)
		out = append(out, stampRE.ReplaceAll(b, []byte(strings.Repeat("@", 25)+" ")))
	}
	return out
}

func sameFiles(t *testing.T, in []byte, size int, stamp bool) {
	t.Helper()
	want := model(in, size, stamp)
	for _, poll := range []bool{false, true} {
		got := logged(t, in, size, stamp, poll)
		if len(want) != len(got) {
			t.Fatalf("s%d t=%v poll=%v: %d files, model %d", size, stamp, poll, len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(want[i], got[i]) {
				t.Fatalf("s%d t=%v poll=%v: file %d: %d bytes, model %d", size, stamp, poll, i, len(got[i]), len(want[i]))
			}
		}
	}
}

func TestFilesEndWhereTheOriginalsWould(t *testing.T) {
	var in []byte
	for i := 0; i < 400; i++ {
		in = append(in, bytes.Repeat([]byte{'a' + byte(i%26)}, (i*i*7)%2600)...)
		in = append(in, '\n')
	}
	for _, size := range []int{4096, 5000, 9999} {
		sameFiles(t, in, size, false)
		sameFiles(t, in, size, true)
		sameFiles(t, in[:len(in)-1], size, true)
	}
}

func FuzzFilesEndWhereTheOriginalsWould(f *testing.F) {
	f.Add([]byte("a\nb\n"), uint16(0), false)
	f.Add(bytes.Repeat([]byte("0123456789\n"), 1000), uint16(100), true)
	f.Add(bytes.Repeat([]byte("x"), 9000), uint16(1), false)
	f.Fuzz(func(t *testing.T, in []byte, extra uint16, stamp bool) {
		if len(in) > 1<<14 {
			return
		}
		sameFiles(t, in, MinSize+int(extra), stamp)
	})
}
