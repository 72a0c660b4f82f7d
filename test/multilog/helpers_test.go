// Package multilog_test runs /usr/bin/multilog and ./bin/multilog on the same
// input and script and compares what they leave behind.
package multilog_test

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"tinymx/test/harness"
)

// result is one multilog run and the working directory it ran in.
type result struct {
	harness.Result
	root string
}

// both runs the C and the Go multilog with the same arguments, each in its own
// working directory, with stdin a regular file holding input.
func both(t *testing.T, input []byte, args ...string) (c, g result) {
	t.Helper()
	p := harness.Pair(t, "multilog")
	return runOne(t, p.C, "c", input, args...), runOne(t, p.Go, "g", input, args...)
}

func runOne(t *testing.T, bin, name string, input []byte, args ...string) result {
	t.Helper()
	root := filepath.Join(scratch(t), name)
	if err := os.MkdirAll(root, 0755); err != nil {
		t.Fatal(err)
	}
	return runIn(t, root, bin, input, args...)
}

// scratch is a temporary directory on tmpfs when there is one: the tests
// rotate often and every rotation fsyncs.
func scratch(t *testing.T) string {
	d, err := os.MkdirTemp("/dev/shm", "tinymx-multilog-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// runIn runs bin in root with stdin a regular file holding input.
func runIn(t *testing.T, root, bin string, input []byte, args ...string) result {
	t.Helper()
	j := harness.Job{Args: args, Dir: root, Stdin: string(input), StdinFile: true}
	return result{j.Run(t, bin), root}
}

// sameExit fails the test when the C run c and the Go run g differ in what
// they wrote or their exit code (the labels of their lines masked).
func sameExit(t *testing.T, c, g result) {
	t.Helper()
	harness.Same(t, "multilog", c.Result, g.Result, harness.Stamps)
}

type entry struct {
	name string // @ names normalised to @S / @U
	mode os.FileMode
	size int64
}

// listing returns the directory's entries, @ files first in name order (their
// age), then the others by name.
func listing(t *testing.T, dir string) []entry {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []entry
	for _, de := range des {
		fi, err := de.Info()
		if err != nil {
			t.Fatal(err)
		}
		n := de.Name()
		if len(n) == 27 && n[0] == '@' {
			if !regexp.MustCompile(`^@[0-9a-f]{24}\.[su]$`).MatchString(n) {
				t.Errorf("%s: bad archive name %q", dir, n)
			}
			n = "@" + strings.ToUpper(n[26:])
		}
		out = append(out, entry{n, fi.Mode(), fi.Size()})
	}
	sort.SliceStable(out, func(i, j int) bool {
		ai, aj := out[i].name[0] == '@', out[j].name[0] == '@'
		if ai != aj {
			return ai
		}
		if ai {
			return false // ReadDir sorted by full name already: keep age order
		}
		return out[i].name < out[j].name
	})
	return out
}

// content is every log file of dir in age order, then current, concatenated.
func content(t *testing.T, dir string) []byte {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, de := range des {
		if de.Name()[0] == '@' {
			d, _ := os.ReadFile(filepath.Join(dir, de.Name()))
			b.Write(d)
		}
	}
	d, _ := os.ReadFile(filepath.Join(dir, "current"))
	b.Write(d)
	return b.Bytes()
}

// sameDir checks that the C and the Go run left the same files, sizes, modes
// and bytes in dir (relative to each working directory).
func sameDir(t *testing.T, c, g result, dir string) {
	t.Helper()
	lc, lg := listing(t, filepath.Join(c.root, dir)), listing(t, filepath.Join(g.root, dir))
	if fmt.Sprint(lc) != fmt.Sprint(lg) {
		t.Errorf("%s: files differ\nC:  %v\nGo: %v", dir, lc, lg)
	}
	bc, bg := harness.Stamps.Bytes(content(t, filepath.Join(c.root, dir))), harness.Stamps.Bytes(content(t, filepath.Join(g.root, dir)))
	if !bytes.Equal(bc, bg) {
		t.Errorf("%s: content differs (C %d bytes, Go %d bytes)\n%s", dir, len(bc), len(bg), firstDiff(bc, bg))
	}
}

func firstDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := i - 40
	if lo < 0 {
		lo = 0
	}
	hi := func(x []byte) []byte {
		if i+40 < len(x) {
			return x[lo : i+40]
		}
		return x[lo:]
	}
	return fmt.Sprintf("at byte %d: C %q / Go %q", i, hi(a), hi(b))
}

// randomLog is random lines of 0..2500 bytes (no hex digits, so patterns
// never match a timestamp), sometimes without a final newline.
func randomLog(seed int64, lines int) []byte {
	r := rand.New(rand.NewSource(seed))
	sizes := []int{0, 1, 5, 50, 100, 200, 201, 511, 512, 513, 973, 974, 975, 999, 1000, 1001, 1500, 2500}
	alpha := []byte("xyz END*ghijk")
	var b bytes.Buffer
	for i := 0; i < lines; i++ {
		n := sizes[r.Intn(len(sizes))]
		if r.Intn(3) == 0 {
			n = r.Intn(2501)
		}
		for j := 0; j < n; j++ {
			b.WriteByte(alpha[r.Intn(len(alpha))])
		}
		if i < lines-1 || r.Intn(2) == 0 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}
