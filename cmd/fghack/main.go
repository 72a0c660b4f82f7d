// Command fghack runs a program that insists on putting itself in the
// background, and waits until it and everything it started have closed
// the descriptors fghack gave them, as daemontools' fghack.
package main

import (
	"io"
	"os"
	"syscall"

	"tinymx/lib/pathexec"
	"tinymx/lib/strerr"

	"golang.org/x/sys/unix"
)

// dups is how many extra copies of the pipe the child gets, as the
// original's 30 dup calls: a daemon that closes a few fds still holds one.
const dups = 30

func main() {
	strerr.SetProg("fghack")
	if len(os.Args) < 2 {
		strerr.Usage("fghack child")
	}
	argv := os.Args[1:]
	r, w, err := os.Pipe()
	if err != nil {
		strerr.Fatal(strerr.ExitTemp, err, "unable to create pipe")
	}
	env := os.Environ()
	path, err := pathexec.Lookup(argv[0], env)
	if err != nil {
		strerr.Fatal(strerr.ExitTemp, err, "unable to run ", argv[0])
	}
	// The original's child closes the read end and dups the write end
	// thirty times into the lowest free descriptors, so it ends up on the
	// 31 lowest descriptors from 3 up that fghack had not inherited open.
	// Descriptors we inherited stay where they are, as in the original.
	files := []*os.File{os.Stdin, os.Stdout, os.Stderr}
	for fd, n := 3, 0; n <= dups; fd++ {
		if inherited(fd) {
			files = append(files, os.NewFile(uintptr(fd), ""))
			continue
		}
		files = append(files, w)
		n++
	}
	p, err := os.StartProcess(path, argv, &os.ProcAttr{Env: env, Files: files})
	if err != nil {
		// The original's child prints this and exits 111, which its
		// parent then passes on: the same bytes and status.
		strerr.Fatal(strerr.ExitTemp, err, "unable to run ", argv[0])
	}
	w.Close()
	io.Copy(io.Discard, r)
	st, err := p.Wait()
	if err != nil {
		strerr.Fatal(strerr.ExitTemp, err, "wait failed")
	}
	ws := st.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		strerr.Fatal(strerr.ExitTemp, nil, "child crashed")
	}
	os.Exit(ws.ExitStatus())
}

// inherited reports whether fd is open without close-on-exec: one that our
// parent gave us. The Go runtime's own descriptors are all close-on-exec.
func inherited(fd int) bool {
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err == nil && flags&unix.FD_CLOEXEC == 0
}
