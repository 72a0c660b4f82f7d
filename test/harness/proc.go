package harness

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// Proc is a process started by Start. Its *exec.Cmd is there to read (the
// pid, the Stderr it was given); its end is learnt from Done and Wait, which
// ask the one Wait the harness makes, never the pid: once reaped, the pid can
// belong to another process.
type Proc struct {
	*exec.Cmd
	exited chan struct{} // closed once cmd.Wait has returned
}

// Start starts cmd in its own process group; when the test ends the group
// gets SIGTERM, then SIGKILL after 2 s, and is waited for.
func Start(t testing.TB, cmd *exec.Cmd) *Proc {
	t.Helper()
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	p := &Proc{Cmd: cmd, exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		pgid := cmd.Process.Pid
		syscall.Kill(-pgid, syscall.SIGTERM)
		syscall.Kill(-pgid, syscall.SIGCONT)
		select {
		case <-p.exited:
		case <-time.After(2 * time.Second):
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.exited
		}
		// the leader is gone; make sure nothing else of the group lives on
		syscall.Kill(-pgid, syscall.SIGKILL)
	})
	return p
}

// Pid is the process's id.
func (p *Proc) Pid() int { return p.Process.Pid }

// Done reports whether the process has exited and been reaped.
func (p *Proc) Done() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// Wait waits until the process has exited, at most timeout (at least
// Patience: then the test fails, and its cleanup kills the group), and
// returns how it ended. It shadows exec.Cmd's Wait, which the harness has
// already called.
func (p *Proc) Wait(t testing.TB, timeout time.Duration) *os.ProcessState {
	t.Helper()
	timeout = guard(timeout)
	select {
	case <-p.exited:
		return p.ProcessState
	case <-time.After(timeout):
		t.Fatalf("%s did not exit within %v", p.Path, timeout)
		return nil
	}
}
