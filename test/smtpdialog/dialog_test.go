// Package smtpdialog runs ./bin/qmail-smtpd over pipes through the
// transcripts in testdata/*.dialog, one behaviour each (their syntax and
// the fake qmail-queue are test/dialog's).
package smtpdialog

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"tinymx/test/dialog"
	"tinymx/test/harness"
)

// TestMain doubles as the fake qmail-queue when FAKEQQ_DIR is set.
func TestMain(m *testing.M) {
	dialog.FakeQueueIfAsked()
	os.Exit(m.Run())
}

// home is the spec's common setup (§8).
func home(t *testing.T) (string, map[string]string) { return dialog.Home(t) }

func TestDialogs(t *testing.T) {
	bin := harness.Bin(t, "qmail-smtpd")
	for _, f := range dialog.Files(t) {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".dialog"), func(t *testing.T) {
			t.Parallel()
			s := dialog.Load(t, f)
			out, code := session(t, bin, s.Env, s.Input, s.Hold)
			s.Check(t, out, code)
		})
	}
}

// session runs qmail-smtpd with input on a pipe and returns everything it
// wrote and its exit status. With hold the pipe stays open until it exits.
func session(t *testing.T, bin string, env map[string]string, input []byte, hold bool) ([]byte, int) {
	t.Helper()
	cmd := exec.Command(bin)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	out := &harness.Output{}
	cmd.Stdin = inR
	cmd.Stdout = out
	cmd.Stderr = os.Stderr
	p := harness.Start(t, cmd)
	inR.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		inW.Write(input) // fails harmlessly when the server exited early
		if !hold {
			inW.Close()
		}
		<-done
		inW.Close()
	}()
	st := p.Wait(t, 20*time.Second)
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("qmail-smtpd killed by %v", ws.Signal())
	}
	return []byte(out.String()), st.ExitCode()
}
