// Package supervise_test runs the supervision tree end to end: our
// programs against Debian's daemontools 0.76 in both directions, and the
// faults a tree must survive.
package supervise_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"tinymx/test/harness"
)

// service makes dir/name with an executable run script.
func service(t *testing.T, dir, name, run string) string {
	t.Helper()
	s := filepath.Join(dir, name)
	if err := os.MkdirAll(s, 0755); err != nil {
		t.Fatal(err)
	}
	if run != "" {
		if err := os.WriteFile(filepath.Join(s, "run"), []byte("#!/bin/sh\n"+run+"\n"), 0755); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// startSupervise runs supervise (ours or C) on dir and waits until its ok
// fifo has a reader.
func startSupervise(t *testing.T, prog, dir string) *harness.Proc {
	t.Helper()
	cmd := exec.Command(prog, dir)
	cmd.Stderr = &harness.Output{}
	p := harness.Start(t, cmd)
	waitOK(t, dir)
	return p
}

func waitOK(t *testing.T, dir string) {
	t.Helper()
	harness.WaitFor(t, 10*time.Second, "supervise/ok of "+dir, func() bool { return okOpen(dir) })
}

func okOpen(dir string) bool {
	fd, err := syscall.Open(filepath.Join(dir, "supervise/ok"), syscall.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return false
	}
	syscall.Close(fd)
	return true
}

// status reads the 18-byte record.
func status(t *testing.T, dir string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "supervise/status"))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 18 {
		t.Fatalf("status is %d bytes: % x", len(b), b)
	}
	return b
}

func statusPid(t *testing.T, dir string) int {
	b := status(t, dir)
	return int(uint32(b[12]) | uint32(b[13])<<8 | uint32(b[14])<<16 | uint32(b[15])<<24)
}

// waitPid waits until the status shows a running pid other than not.
func waitPid(t *testing.T, dir string, not int, timeout time.Duration) int {
	t.Helper()
	var pid int
	harness.WaitFor(t, timeout, "a new pid in "+dir+"/supervise/status", func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "supervise/status"))
		if err != nil || len(b) != 18 {
			return false
		}
		pid = int(uint32(b[12]) | uint32(b[13])<<8 | uint32(b[14])<<16 | uint32(b[15])<<24)
		return pid != 0 && pid != not && alive(pid)
	})
	return pid
}

func waitDown(t *testing.T, dir string, timeout time.Duration) {
	t.Helper()
	harness.WaitFor(t, timeout, dir+" down", func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "supervise/status"))
		return err == nil && len(b) == 18 && b[12]|b[13]|b[14]|b[15] == 0
	})
}

func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// a zombie has exited already
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && len(b) > i+2 && b[i+2] != 'Z'
}

// run runs a program to completion.
func run(t *testing.T, args ...string) harness.Result {
	t.Helper()
	return harness.Run(t, 20*time.Second, exec.Command(args[0], args[1:]...))
}

func stderrOf(p *harness.Proc) string { return p.Stderr.(*harness.Output).String() }

// children lists the pids whose parent is ppid, with their command lines.
func children(ppid int) map[int]string {
	out := map[int]string{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		f := strings.Fields(string(b[i+2:]))
		if len(f) < 2 || f[0] == "Z" || f[1] != strconv.Itoa(ppid) {
			continue
		}
		cl, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		out[pid] = strings.TrimRight(strings.ReplaceAll(string(cl), "\x00", " "), " ")
	}
	return out
}

// runIn runs a program in dir to completion.
func runIn(t *testing.T, dir string, args ...string) harness.Result {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	return harness.Run(t, 20*time.Second, cmd)
}
