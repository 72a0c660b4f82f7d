package multilog

import (
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"tinymx/lib/strerr"
)

// runProcessor runs the processor on previous until it exits 0: fd 0 reads
// previous, fd 1 writes processed, fd 4 reads state, fd 5 writes newstate,
// cwd is the directory. A failure is retried after a pause, so the input is
// never dropped.
func (d *Dir) runProcessor() {
	for {
		ok := d.processorOnce()
		if ok {
			return
		}
		strerr.Print(strerr.Prog, ": warning: processor failed in ", d.Name, ", pausing\n")
		time.Sleep(Pause)
	}
}

func (d *Dir) processorOnce() bool {
	var fds [4]int
	names := [4]string{"previous", "processed", "state", "newstate"}
	flags := [4]int{oRead, oTrunc, oRead, oTrunc}
	n := 0
	defer func() {
		for _, fd := range fds[:n] {
			unix.Close(fd)
		}
	}()
	for i := range names {
		fd, err := unix.Openat(d.fd, names[i], flags[i], 0644)
		if err != nil {
			// The original's child fails here: same message, then retried.
			strerr.Print(strerr.Message("fatal", err, "unable to run ", d.Processor))
			return false
		}
		fds[i] = fd
		n++
	}
	closed := ^uintptr(0)
	attr := &syscall.ProcAttr{
		Dir:   d.Name,
		Env:   os.Environ(),
		Files: []uintptr{uintptr(fds[0]), uintptr(fds[1]), 2, closed, uintptr(fds[2]), uintptr(fds[3])},
	}
	pid, err := syscall.ForkExec("/bin/sh", []string{"sh", "-c", d.Processor}, attr)
	if err != nil {
		strerr.Print(strerr.Message("fatal", err, "unable to run ", d.Processor))
		return false
	}
	for _, fd := range fds[:n] {
		unix.Close(fd)
	}
	n = 0
	var ws syscall.WaitStatus
	for {
		_, err = syscall.Wait4(pid, &ws, 0, nil)
		if err != syscall.EINTR {
			break
		}
	}
	switch {
	case err != nil:
		pause(err, "wait failed for processor in ", d.Name, ", pausing")
		return false
	case ws.Signaled():
		// The original reports a stale errno here; in practice ENOENT.
		pause(unix.ENOENT, "processor crashed in ", d.Name, ", pausing")
		return false
	}
	return ws.ExitStatus() == 0
}
