// Package multilog_test runs /usr/bin/multilog and ./bin/multilog on the same
// input and script and compares what they leave behind.
package multilog_test

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"tinymx/test/harness"
)

const cMultilog = "/usr/bin/multilog"

var stampRE = regexp.MustCompile(`(?m)^@[0-9a-f]{24} `)

// normStamps replaces line timestamps so C and Go output compare equal.
func normStamps(b []byte) []byte { return stampRE.ReplaceAll(b, []byte("@T ")) }

type result struct {
	stderr []byte
	code   int
	root   string // the working directory it ran in
}

// both runs the C and the Go multilog with the same arguments, each in its own
// working directory, with stdin a regular file holding input.
func both(t *testing.T, input []byte, args ...string) (c, g result) {
	t.Helper()
	c = runOne(t, harness.NeedPeer(t, cMultilog), "c", input, args...)
	g = runOne(t, harness.Bin(t, "multilog"), "g", input, args...)
	return c, g
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

func goBin(t *testing.T) string { return harness.Bin(t, "multilog") }

// runIn runs bin in root with stdin a regular file holding input.
func runIn(t *testing.T, root, bin string, input []byte, args ...string) result {
	t.Helper()
	in := filepath.Join(scratch(t), "in")
	if err := os.WriteFile(in, input, 0644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(bin, args...)
	cmd.Dir = root
	cmd.Stdin = f
	_, stderr, code := harness.Run(t, 60*time.Second, cmd)
	return result{stderr: stderr, code: code, root: root}
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
	bc, bg := normStamps(content(t, filepath.Join(c.root, dir))), normStamps(content(t, filepath.Join(g.root, dir)))
	if !bytes.Equal(bc, bg) {
		t.Errorf("%s: content differs (C %d bytes, Go %d bytes)\n%s", dir, len(bc), len(bg), firstDiff(bc, bg))
	}
}

func sameExit(t *testing.T, c, g result) {
	t.Helper()
	if c.code != g.code || !bytes.Equal(normStamps(c.stderr), normStamps(g.stderr)) {
		t.Errorf("exit/stderr differ\nC:  %d %q\nGo: %d %q", c.code, trunc(c.stderr), g.code, trunc(g.stderr))
	}
}

func trunc(b []byte) []byte {
	if len(b) > 600 {
		return b[:600]
	}
	return b
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
