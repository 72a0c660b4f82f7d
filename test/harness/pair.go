package harness

import (
	"fmt"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Peer is the C original of name in /usr/bin (see NeedPeer).
func Peer(t testing.TB, name string) string {
	t.Helper()
	return NeedPeer(t, "/usr/bin/"+name)
}

// Peers is one program twice, for a differential test: the C original and
// our rewrite.
type Peers struct {
	Name  string
	C, Go string // absolute paths
}

// Pair is name's C original in /usr/bin and ours in ./bin.
func Pair(t testing.TB, name string) Peers {
	t.Helper()
	return Peers{Name: name, C: Peer(t, name), Go: Bin(t, name)}
}

// Both is the C program, then ours.
func (p Peers) Both() [2]string { return [2]string{p.C, p.Go} }

// All yields "C" and the C program, then "Go" and ours.
func (p Peers) All() iter.Seq2[string, string] {
	return func(yield func(name, bin string) bool) {
		_ = yield("C", p.C) && yield("Go", p.Go)
	}
}

// Job is one invocation, run once with each program of a pair.
type Job struct {
	Args      []string // after the program name
	Env       []string // nil: inherit
	Stdin     string   // fed through a pipe
	StdinFile bool     // feed Stdin from a regular file instead
	Dir       string   // "": the test's working directory
	Wrap      []string // run the program under this command line, e.g. /usr/bin/setuidgid nobody
	Argv0     string   // "": the program's path
}

func (j Job) command(t testing.TB, bin string) *exec.Cmd {
	t.Helper()
	argv := append(append(append([]string{}, j.Wrap...), bin), j.Args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	if j.Argv0 != "" {
		cmd.Args[0] = j.Argv0
	}
	cmd.Env = j.Env
	cmd.Dir = j.Dir
	if !j.StdinFile {
		cmd.Stdin = strings.NewReader(j.Stdin)
		return cmd
	}
	p := filepath.Join(t.TempDir(), "stdin")
	if err := os.WriteFile(p, []byte(j.Stdin), 0644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	cmd.Stdin = f
	return cmd
}

// Run runs j with bin to its end (bounded by Patience).
func (j Job) Run(t testing.TB, bin string) Result {
	t.Helper()
	return Run(t, Patience, j.command(t, bin))
}

// Start starts j with bin in the background, so that runs that mostly wait
// can wait at once; the function it returns waits for the run (bounded by
// Patience) and gives its result.
func (j Job) Start(t testing.TB, bin string) func() Result {
	t.Helper()
	cmd := j.command(t, bin)
	out, errb := &Output{}, &Output{}
	cmd.Stdout, cmd.Stderr = out, errb
	p := Start(t, cmd)
	return func() Result {
		t.Helper()
		st := p.Wait(t, Patience)
		return Result{out.String(), errb.String(), st.ExitCode()}
	}
}

// Run runs j with the C program and with ours.
func (p Peers) Run(t testing.TB, j Job) (c, g Result) {
	t.Helper()
	return j.Run(t, p.C), j.Run(t, p.Go)
}

// Same runs j with both programs and fails the test on any difference in
// stdout, stderr or exit code once m has masked both; it returns our result,
// masked.
func (p Peers) Same(t testing.TB, j Job, m Mask) Result {
	t.Helper()
	c, g := p.Run(t, j)
	Same(t, fmt.Sprintf("%s %q", p.Name, j.Args), c, g, m)
	return g.Masked(m)
}

// Same fails the test when the C run c and our run g differ in stdout,
// stderr or exit code once m has masked both, and reports whether they
// were the same.
func Same(t testing.TB, what string, c, g Result, m Mask) bool {
	t.Helper()
	c, g = c.Masked(m), g.Masked(m)
	if c == g {
		return true
	}
	t.Errorf("%s differs from the C one:\n--- C:\n%v\n--- Go:\n%v", what, c, g)
	return false
}
