package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// Result is what one run of a program showed the world.
type Result struct {
	Stdout, Stderr string
	Code           int // exit code; -1 when killed by a signal
}

func (r Result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
}

// Masked is r with m applied to its stdout and stderr.
func (r Result) Masked(m Mask) Result {
	if m == nil {
		return r
	}
	return Result{m(r.Stdout), m(r.Stderr), r.Code}
}

// Run runs cmd in its own process group, killed after timeout (at least
// Patience), and returns its stdout (unless cmd.Stdout is set), stderr
// (unless cmd.Stderr is set) and exit code.
func Run(t testing.TB, timeout time.Duration, cmd *exec.Cmd) Result {
	t.Helper()
	timeout = guard(timeout)
	var out, errb bytes.Buffer
	if cmd.Stdout == nil {
		cmd.Stdout = &out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = &errb
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		t.Fatalf("run %s: %v", cmd.Path, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		t.Fatalf("%s did not finish within %v", cmd.Path, timeout)
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	return Result{out.String(), errb.String(), code}
}
