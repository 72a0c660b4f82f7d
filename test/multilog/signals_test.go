package multilog_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"tinymx/test/harness"
)

// live is a multilog reading from a pipe the test writes.
type live struct {
	proc *harness.Proc
	w    *os.File // the test writes the input here
	r    *os.File // the test's copy of the read end, to read what is left
	root string
	errf string // its stderr
}

func startLive(t *testing.T, bin, root string, args ...string) *live {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	l := &live{w: w, r: r, root: root, errf: filepath.Join(scratch(t), "stderr")}
	ef, err := os.Create(l.errf)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	cmd := exec.Command(bin, args...)
	cmd.Dir = root
	cmd.Stdin = r
	cmd.Stderr = ef
	l.proc = harness.Start(t, cmd)
	t.Cleanup(func() { w.Close(); r.Close() })
	return l
}

func (l *live) file(name string) []byte {
	b, _ := os.ReadFile(filepath.Join(l.root, name))
	return b
}

func (l *live) wait(t *testing.T) {
	t.Helper()
	harness.WaitFor(t, 20*time.Second, "multilog to exit", l.proc.Done)
}

// signalled waits until sig is no longer pending for the process (it was
// delivered). Go then needs its signal goroutine to run; nothing outside
// shows that, so a short grace follows.
func (l *live) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	l.proc.Process.Signal(sig)
	bit := uint64(1) << (uint(sig) - 1)
	harness.WaitFor(t, 5*time.Second, "signal delivery", func() bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", l.proc.Pid()))
		if err != nil {
			return true
		}
		for _, ln := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(ln, "ShdPnd:") || strings.HasPrefix(ln, "SigPnd:") {
				var v uint64
				fmt.Sscanf(strings.TrimSpace(ln[7:]), "%x", &v)
				if v&bit != 0 {
					return false
				}
			}
		}
		return true
	})
	time.Sleep(100 * time.Millisecond)
}

func TestMultilogTermMidLineFinishesLineAndLeavesRestUnread(t *testing.T) {
	t.Parallel()
	for name, bin := range harness.Pair(t, "multilog").All() {
		l := startLive(t, bin, scratch(t), "./d")
		l.w.WriteString("l1\npart")
		harness.WaitFor(t, 5*time.Second, name+": l1 in current", func() bool { return string(l.file("d/current")) == "l1\n" })
		l.signal(t, syscall.SIGTERM)
		l.w.WriteString("ial\nnext\n")
		l.wait(t)
		if got := string(l.file("d/current")); got != "l1\npartial\n" {
			t.Errorf("%s: current = %q", name, got)
		}
		fi, _ := os.Stat(filepath.Join(l.root, "d/current"))
		if fi.Mode().Perm() != 0744 {
			t.Errorf("%s: current mode %o", name, fi.Mode().Perm())
		}
		l.w.Close()
		rest, _ := io.ReadAll(l.r)
		if string(rest) != "next\n" {
			t.Errorf("%s: left in the pipe %q", name, rest)
		}
	}
}

func TestMultilogTermAtLineBoundaryExitsAtOnce(t *testing.T) {
	t.Parallel()
	for name, bin := range harness.Pair(t, "multilog").All() {
		l := startLive(t, bin, scratch(t), "t", "./d")
		l.w.WriteString("one\n")
		harness.WaitFor(t, 5*time.Second, name+": one in current", func() bool { return len(l.file("d/current")) == 30 })
		l.signal(t, syscall.SIGTERM)
		l.wait(t)
		l.w.WriteString("two\n")
		l.w.Close()
		rest, _ := io.ReadAll(l.r)
		if string(rest) != "two\n" {
			t.Errorf("%s: left in the pipe %q", name, rest)
		}
	}
}

func TestMultilogAlarmRotatesThroughProcessor(t *testing.T) {
	t.Parallel()
	for name, bin := range harness.Pair(t, "multilog").All() {
		l := startLive(t, bin, scratch(t), "!tr a-z A-Z; echo st >&5", "./d")
		l.w.WriteString("abc\ndef\n")
		harness.WaitFor(t, 5*time.Second, name+": lines in current", func() bool { return len(l.file("d/current")) == 8 })
		l.signal(t, syscall.SIGALRM)
		var s []string
		harness.WaitFor(t, 5*time.Second, name+": rotated file", func() bool {
			s, _ = filepath.Glob(filepath.Join(l.root, "d/@*.s"))
			return len(s) == 1
		})
		if got := string(l.file("d/" + filepath.Base(s[0]))); got != "ABC\nDEF\n" {
			t.Errorf("%s: rotated %q", name, got)
		}
		if got := string(l.file("d/state")); got != "st\n" {
			t.Errorf("%s: state %q", name, got)
		}
		// ALRM with an empty current does nothing
		l.signal(t, syscall.SIGALRM)
		l.w.Close()
		l.wait(t)
		s, _ = filepath.Glob(filepath.Join(l.root, "d/@*"))
		if len(s) != 1 || len(l.file("d/current")) != 0 {
			t.Errorf("%s: after empty ALRM: %v", name, s)
		}
	}
}

func TestMultilogLockExcludesTheOtherImplementation(t *testing.T) {
	t.Parallel()
	ml := harness.Pair(t, "multilog")
	for _, pair := range [][2]string{{ml.C, ml.Go}, {ml.Go, ml.C}} {
		root := scratch(t)
		l := startLive(t, pair[0], root, "./d")
		l.w.WriteString("x\n")
		harness.WaitFor(t, 5*time.Second, "first multilog running", func() bool { return len(l.file("d/current")) == 2 })
		r := harness.Job{Args: []string{"./d"}, Dir: root, Stdin: "y\n"}.Run(t, pair[1])
		if r.Code != 111 || r.Stderr != "multilog: fatal: unable to lock directory ./d: temporary failure\n" {
			t.Errorf("%s while %s holds the lock: %d %q", pair[1], pair[0], r.Code, r.Stderr)
		}
		l.w.Close()
		l.wait(t)
	}
}

// TestMultilogTermAtAnyMomentLosesNoLine sends TERM at varying moments while
// a writer streams numbered lines: what is logged and what is left in the
// pipe add up to the input, line for line.
func TestMultilogTermAtAnyMomentLosesNoLine(t *testing.T) {
	t.Parallel()
	bin := harness.Bin(t, "multilog")
	for round := 0; round < 6; round++ {
		l := startLive(t, bin, scratch(t), "s4096", "n1000", "./d")
		var input bytes.Buffer
		for i := 0; i < 20000; i++ {
			fmt.Fprintf(&input, "line %d %s\n", i, strings.Repeat("x", i%97))
		}
		writerDone := make(chan struct{})
		go func() {
			bw := bufio.NewWriterSize(l.w, 777)
			bw.Write(input.Bytes())
			bw.Flush()
			close(writerDone)
		}()
		harness.WaitFor(t, 5*time.Second, "some output", func() bool { return len(l.file("d/current")) > 0 })
		time.Sleep(time.Duration(round*7) * time.Millisecond) // vary the moment
		l.proc.Process.Signal(syscall.SIGTERM)
		l.wait(t)
		// read what is left while the writer finishes
		var rest bytes.Buffer
		go func() { <-writerDone; l.w.Close() }()
		io.Copy(&rest, l.r)
		got := append(content(t, filepath.Join(l.root, "d")), rest.Bytes()...)
		if !bytes.Equal(got, input.Bytes()) {
			t.Fatalf("round %d: logged+left (%d bytes) != input (%d bytes): %s", round, len(got), input.Len(), firstDiff(input.Bytes(), got))
		}
	}
}
