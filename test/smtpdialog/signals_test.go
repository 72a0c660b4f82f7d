package smtpdialog

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

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
