// Package ucspitools holds the differential tests of rblsmtpd, recordio,
// addcr, delcr, fixcrio, argv0, mconnect-io and the script clients against
// Debian's ucspi-tcp binaries in /usr/bin.
package ucspitools

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"syscall"
	"testing"
	"time"

	"tinymx/test/harness"
)

// result is what one run produced.
type result struct {
	out, err []byte
	code     int
}

// run runs path with args, stdin and extra environment (on top of a small
// fixed one), bounded by 30 s.
func run(t *testing.T, path string, stdin []byte, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Env = append([]string{"PATH=/usr/bin:/bin"}, env...)
	out, errb, code := harness.Run(t, 30*time.Second, cmd)
	return result{out, errb, code}
}

// both runs the C tool and ours the same way.
func both(t *testing.T, tool string, stdin []byte, env []string, args ...string) (c, g result) {
	t.Helper()
	cpath := harness.NeedPeer(t, "/usr/bin/"+tool)
	gpath := harness.Bin(t, tool)
	return run(t, cpath, stdin, env, args...), run(t, gpath, stdin, env, args...)
}

var pidRE = regexp.MustCompile(`pid [0-9]+`)

// maskPID replaces "pid N" by "pid X" so logs of two runs compare.
func maskPID(b []byte) []byte { return pidRE.ReplaceAll(b, []byte("pid X")) }

// same fails the test when the two runs differ in stdout, stderr or exit
// code; mask is applied to stderr first.
func same(t *testing.T, what string, c, g result, mask func([]byte) []byte) {
	t.Helper()
	if mask == nil {
		mask = func(b []byte) []byte { return b }
	}
	if !bytes.Equal(c.out, g.out) {
		t.Errorf("%s: stdout differs\nC:  %q\nGo: %q", what, c.out, g.out)
	}
	if ce, ge := mask(c.err), mask(g.err); !bytes.Equal(ce, ge) {
		t.Errorf("%s: stderr differs\nC:  %q\nGo: %q", what, ce, ge)
	}
	if c.code != g.code {
		t.Errorf("%s: exit code C %d, Go %d", what, c.code, g.code)
	}
}

// start runs path in its own process group in the background; the result
// arrives on the channel (code -2 when killed after 60 s). Used where runs
// mostly wait, so they can all wait at once.
func start(t *testing.T, path string, stdin []byte, env []string, args ...string) <-chan result {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Env = append([]string{"PATH=/usr/bin:/bin"}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	ch := make(chan result, 1)
	go func() {
		timer := time.AfterFunc(60*time.Second, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
		err := cmd.Wait()
		killed := !timer.Stop()
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		if killed {
			code = -2
		}
		ch <- result{out.Bytes(), errb.Bytes(), code}
	}()
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	return ch
}

func TestMain(m *testing.M) {
	os.Exit(m.Run())
}
