package multilog_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"tinymx/test/harness"
)

func TestMultilogProcessorOutputAndStateMatchC(t *testing.T) {
	t.Parallel()
	in := randomLog(11, 60)
	for _, script := range [][]string{
		{"s4096", "!tr x-z X-Z; cat <&4 >/dev/null; echo st >&5", "./d"},
		{"s4096", "n3", "!grep -v END; true", "./d"},
		{"s4096", "!", "./d"}, // an empty processor is still one: it empties the files
		// what the processor inherits: limits, umask, environment, descriptors
		{"s4096", "!cat >/dev/null; ulimit -n; ulimit -Hn; umask; env | grep -v ^PWD= | sort; ls /proc/self/fd", "./d"},
		{"t", "s5000", "!sed s/$/:p/", "./d", "s4096", "./d2"},
	} {
		c, g := both(t, in, script...)
		sameExit(t, c, g)
		sameDir(t, c, g, "d")
		if !bytes.Equal(readFile(c.root, "d/state"), readFile(g.root, "d/state")) {
			t.Errorf("%v: state differs", script)
		}
		if _, err := os.Stat(filepath.Join(c.root, "d2")); err == nil {
			sameDir(t, c, g, "d2")
		}
	}
}

func readFile(dir, name string) []byte {
	b, _ := os.ReadFile(filepath.Join(dir, name))
	return b
}

// A processor that fails once is retried after the 5 s pause with the
// original's warning, and its input is kept.
func TestMultilogRetriesFailingProcessorKeepingInput(t *testing.T) {
	t.Parallel()
	in := []byte(strings.Repeat("0123456789 fail once\n", 300))
	c, g := both(t, in, "s4096", "!test -e failed || { touch failed; exit 1; }; cat", "./pf")
	sameExit(t, c, g)
	if g.Stderr != "multilog: warning: processor failed in ./pf, pausing\n" {
		t.Errorf("stderr %q", g.Stderr)
	}
	sameDir(t, c, g, "pf")
	if got := content(t, filepath.Join(g.root, "pf")); !bytes.Equal(got, in) {
		t.Errorf("lost input: %d of %d bytes", len(got), len(in))
	}
}

// kill -9 while the processor runs (previous, processed and newstate all
// exist), then a restart: the directory is recovered as the original does
// (previous and current become .u files) and the logs hold the first input
// up to what was read but not written, then all of the second.
func TestMultilogRecoversFromKillDuringRotation(t *testing.T) {
	t.Parallel()
	for name, bin := range harness.Pair(t, "multilog").All() {
		root := scratch(t)
		l := startLive(t, bin, root, "s4096", "!test -e slept || { touch slept; exec sleep 30; }; cat", "./d")
		var in1 bytes.Buffer
		for i := 0; in1.Len() < 6000; i++ {
			fmt.Fprintf(&in1, "first %d\n", i)
		}
		l.w.Write(in1.Bytes())
		harness.WaitFor(t, 10*time.Second, name+": processor running", func() bool {
			_, e1 := os.Stat(filepath.Join(root, "d/previous"))
			_, e2 := os.Stat(filepath.Join(root, "d/newstate"))
			return e1 == nil && e2 == nil
		})
		syscall.Kill(-l.proc.Pid(), syscall.SIGKILL)
		l.wait(t)

		in2 := []byte("second run\n")
		r := runIn(t, root, bin, in2, "s4096", "!cat", "./d")
		if r.Code != 0 || r.Stderr != "" {
			t.Fatalf("%s restart: %d %q", name, r.Code, r.Stderr)
		}
		var names []string
		for _, e := range listing(t, filepath.Join(root, "d")) {
			if e.name != "slept" {
				names = append(names, e.name)
			}
		}
		if got := strings.Join(names, " "); got != "@U @U current lock state" {
			t.Errorf("%s: after restart: %s", name, got)
		}
		got := content(t, filepath.Join(root, "d"))
		if !bytes.HasSuffix(got, in2) {
			t.Fatalf("%s: second input missing", name)
		}
		first := got[:len(got)-len(in2)]
		if !bytes.HasPrefix(in1.Bytes(), first) || len(first) < 4096-2000 {
			t.Errorf("%s: first run kept %d of %d bytes, not a prefix", name, len(first), in1.Len())
		}
	}
}

// TestMultilogFullDiskBlocksWriterAndKeepsEveryLine fills a small tmpfs:
// multilog warns, stops reading so the writer blocks, retries, and once
// space is freed it resumes with every line kept in order.
func TestMultilogFullDiskBlocksWriterAndKeepsEveryLine(t *testing.T) {
	t.Parallel()
	harness.NeedRoot(t)
	for name, bin := range harness.Pair(t, "multilog").All() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fullDisk(t, bin)
		})
	}
}

func fullDisk(t *testing.T, bin string) {
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tinymx-multilog", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	filler := filepath.Join(mnt, "filler")
	if err := os.WriteFile(filler, make([]byte, 1900<<10), 0644); err != nil {
		t.Fatal(err)
	}
	l := startLive(t, bin, mnt, "t", "s16384", "n1000", "./d")
	var input bytes.Buffer
	for i := 0; input.Len() < 400<<10; i++ {
		fmt.Fprintf(&input, "line %d %s\n", i, strings.Repeat("y", i%150))
	}
	writerDone := make(chan struct{})
	go func() {
		l.w.Write(input.Bytes())
		l.w.Close()
		close(writerDone)
	}()
	harness.WaitFor(t, 20*time.Second, "the disk-full warning", func() bool {
		return strings.Contains(l.errText(), "multilog: warning: unable to write to ./d/current, pausing: out of disk space\n")
	})
	select {
	case <-writerDone:
		t.Fatal("the writer finished although the disk is full")
	default:
	}
	os.Remove(filler)
	harness.WaitFor(t, 30*time.Second, "the writer to finish", func() bool {
		select {
		case <-writerDone:
			return true
		default:
			return false
		}
	})
	l.wait(t)
	got := content(t, filepath.Join(mnt, "d"))
	if !harness.StampRE.Match(got) {
		t.Fatal("no timestamps")
	}
	lines := bytes.Split(got, []byte("\n"))
	for _, ln := range lines[:len(lines)-1] {
		if !harness.StampRE.Match(ln) {
			t.Fatalf("line without a stamp: %q", ln)
		}
	}
	if got := harness.StampRE.ReplaceAll(got, nil); !bytes.Equal(got, input.Bytes()) {
		t.Errorf("log (%d bytes) != input (%d bytes): %s", len(got), input.Len(), firstDiff(input.Bytes(), got))
	}
}

func (l *live) errText() string {
	b, _ := os.ReadFile(l.errf)
	return string(b)
}

// After kill -9 the next run keeps the old current as an @….u file (mode
// 0644, as it was) and starts a new one, as the original does.
func TestMultilogKeepsCrashedCurrentAsU(t *testing.T) {
	t.Parallel()
	var lists []string
	for name, bin := range harness.Pair(t, "multilog").All() {
		root := scratch(t)
		l := startLive(t, bin, root, "./d")
		l.w.WriteString("a\nb\n")
		harness.WaitFor(t, 5*time.Second, name+": lines in current", func() bool { return len(l.file("d/current")) == 4 })
		syscall.Kill(-l.proc.Pid(), syscall.SIGKILL)
		l.wait(t)
		r := runIn(t, root, bin, []byte("c\n"), "./d")
		if r.Code != 0 || r.Stderr != "" {
			t.Fatalf("%s restart: %d %q", name, r.Code, r.Stderr)
		}
		lists = append(lists, fmt.Sprint(listing(t, filepath.Join(root, "d"))))
		if got := string(content(t, filepath.Join(root, "d"))); got != "a\nb\nc\n" {
			t.Errorf("%s: content %q", name, got)
		}
	}
	if lists[0] != lists[1] || lists[1] != "[{@U 420 4} {current 484 2} {lock 384 0} {state 420 0}]" {
		t.Errorf("C %s\nGo %s", lists[0], lists[1])
	}
}
