package strerr

import (
	"fmt"
	"os"
	"syscall"
	"testing"
)

func TestErrstrUsesDjbWordingThroughWrapping(t *testing.T) {
	_, err := os.Open("/nonexistent/x")
	if got := Errstr(err); got != "file does not exist" {
		t.Fatalf("got %q", got)
	}
	if got := Errstr(fmt.Errorf("ctx: %w", syscall.EADDRINUSE)); got != "address already used" {
		t.Fatalf("got %q", got)
	}
	if got := Errstr(fmt.Errorf("plain")); got != "unknown error" {
		t.Fatalf("got %q", got)
	}
}

func TestMessageGrammar(t *testing.T) {
	Prog = "tcpserver"
	got := Message("fatal", syscall.EADDRINUSE, "unable to bind")
	if got != "tcpserver: fatal: unable to bind: address already used\n" {
		t.Fatalf("got %q", got)
	}
	if got := Message("warning", nil, "a", "b"); got != "tcpserver: warning: ab\n" {
		t.Fatalf("got %q", got)
	}
}

func TestFatalExitsWithCode(t *testing.T) {
	code := -1
	exit = func(c int) { code = c }
	defer func() { exit = os.Exit }()
	Fatal(ExitTemp, nil, "x")
	if code != 111 {
		t.Fatalf("code %d", code)
	}
	Usage("x y")
	if code != 100 {
		t.Fatalf("code %d", code)
	}
}

func TestSetProgTakesWhatFollowsTheLastSlash(t *testing.T) {
	for argv0, want := range map[string]string{"/usr/bin/svc": "svc", "svc": "svc", "dir/": "", "": ""} {
		SetProg(argv0)
		if Prog != want {
			t.Errorf("%q: %q", argv0, Prog)
		}
	}
}

func TestErrnoZeroIsNoError(t *testing.T) {
	if got := Errstr(syscall.Errno(0)); got != "no error" {
		t.Fatalf("got %q", got)
	}
}
