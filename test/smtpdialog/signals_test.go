package smtpdialog

import (
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

// An ignored signal stays ignored across exec: qmail-smtpd must protect
// itself from SIGPIPE without handing that on to the queue program.
func TestQueueProgramGetsDefaultSigpipe(t *testing.T) {
	bin := harness.Bin(t, "qmail-smtpd")
	dir, env := home(t)
	rec := filepath.Join(dir, "sigign")
	qq := filepath.Join(dir, "qq.sh")
	os.WriteFile(qq, []byte("#!/bin/sh\ngrep SigIgn /proc/self/status > "+rec+"\ncat >/dev/null\ncat <&1 >/dev/null\nexit 0\n"), 0755)
	env["QMAILQUEUE"] = qq
	out, _ := session(t, bin, env, []byte("HELO x\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<u@example.org>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n"), false)
	if !strings.Contains(string(out), "250 ok ") {
		t.Fatalf("message not accepted:\n%s", out)
	}
	b, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	mask, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(string(b), "SigIgn:")), 16, 64)
	if err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	if mask&(1<<12) != 0 {
		t.Fatalf("queue program runs with SIGPIPE ignored: SigIgn %x", mask)
	}
}

// A client gone before the greeting: the write fails with EPIPE and
// qmail-smtpd exits 1, as stock with SIGPIPE ignored; it is not killed by
// SIGPIPE.
func TestWriteToVanishedClientExitsOneNotKilledBySigpipe(t *testing.T) {
	bin := harness.Bin(t, "qmail-smtpd")
	_, env := home(t)
	cmd := exec.Command(bin)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR.Close() // nobody reads the replies
	cmd.Stdin = strings.NewReader("NOOP\r\nQUIT\r\n")
	cmd.Stdout = outW
	p := harness.Start(t, cmd)
	outW.Close()
	st := p.Wait(t, 20*time.Second)
	if ws := st.Sys().(syscall.WaitStatus); ws.Signaled() || ws.ExitStatus() != 1 {
		t.Fatalf("want exit 1, got %v", st)
	}
}

// Arguments are ignored, as stock (spec §1.1): options included.
func TestArgumentsAreIgnored(t *testing.T) {
	bin := harness.Bin(t, "qmail-smtpd")
	_, env := home(t)
	cmd := exec.Command(bin, "-x", "--help", "/nonexistent")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader("NOOP\r\nQUIT\r\n")
	want := harness.Result{Stdout: "220 mx.example.org ESMTP\r\n250 ok\r\n221 mx.example.org\r\n"}
	if r := harness.Run(t, 20*time.Second, cmd); r != want {
		t.Fatalf("%v", r)
	}
}
