// Package harness runs real binaries for end-to-end tests: paths to ./bin and
// to the C peers, processes in their own groups that die with the test, and
// bounded waits for conditions instead of sleeps.
//
// One file per noun: a Proc started in its own group (proc.go); the Result of
// a run (result.go); a C/Go pair run on one Job and compared (pair.go) once
// Masks have hidden pids, ports, inodes and times (mask.go); a Server that
// bound port 0 and printed its port (server.go); listeners that serve or stay
// Silent (listener.go); loopback addresses and ports of a test's own
// (loopback.go); what /proc says of a process (procfs.go).
package harness

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var (
	rootOnce sync.Once
	root     string
)

// Root is the repository root: the directory holding go.mod.
func Root() string {
	rootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			panic(err)
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				root = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				panic("harness: no go.mod above the working directory")
			}
			dir = parent
		}
	})
	return root
}

// Bin is the absolute path of ./bin/name; the test fails when it is not built.
func Bin(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(Root(), "bin", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is not built: run make first", p)
	}
	return p
}

// InCI reports whether we run in CI, where a missing peer is a failure.
func InCI() bool { return os.Getenv("CI") == "true" }

// NeedPeer returns path when that C program (or other peer) is installed.
// Otherwise the test fails in CI and is skipped loudly elsewhere.
func NeedPeer(t testing.TB, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return path
	}
	missing(t, "peer "+path+" is not installed (make test installs the peers when run as root)")
	return path
}

// NeedRoot makes sure the test runs as root.
func NeedRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		missing(t, "this test needs root")
	}
}

func missing(t testing.TB, why string) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI: %s", why)
	}
	os.Stderr.WriteString("\n*** SKIPPING " + t.Name() + ": " + why + " ***\n\n")
	t.Skip(why)
}

// Patience is the least any wait of the harness lasts before it fails the
// test. A bound a test gives is a guard against a hang, never a measure of
// speed: CI runs on a loaded 2-core machine where a trivial program can take
// seconds to start, and a passing test waits only as long as it needs.
const Patience = 60 * time.Second

// guard is the hang guard for a wait the caller bounded by d.
func guard(d time.Duration) time.Duration { return max(d, Patience) }

// WaitFor polls cond every 10 ms until it holds; the test fails with what
// when timeout (at least Patience) passes first.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	timeout = guard(timeout)
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
