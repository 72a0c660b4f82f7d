package smtpdialog

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"tinymx/test/harness"
)

// A client that sends commands but never reads the replies: once the
// socket buffers are full, the reply write waits timeoutsmtpd seconds and
// the session ends with status 1 and no further reply (spec §2.1 "Write
// timeout"). The replies go through a duplicate of fd 1, which must still
// get the deadline.
func TestClientThatNeverReadsIsDroppedAfterTheWriteTimeout(t *testing.T) {
	bin := harness.Bin(t, "qmail-smtpd")
	dir, env := home(t)
	os.WriteFile(dir+"/control/timeoutsmtpd", []byte("1\n"), 0644)
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4096)
		syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
	}
	client := os.NewFile(uintptr(fds[0]), "client")
	server := os.NewFile(uintptr(fds[1]), "server")
	defer client.Close()
	cmd := exec.Command(bin)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin, cmd.Stdout = server, server
	start := time.Now()
	p := harness.Start(t, cmd)
	server.Close()
	done := make(chan struct{})
	go func() {
		// Commands until the server stops reading; never read a reply.
		cmds := []byte(strings.Repeat("HELP\r\n", 1000))
		for {
			select {
			case <-done:
				return
			default:
			}
			client.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
			if _, err := client.Write(cmds); err != nil && !os.IsTimeout(err) {
				return
			}
		}
	}()
	st := p.Wait(t, 30*time.Second)
	close(done)
	elapsed := time.Since(start)
	if ws := st.Sys().(syscall.WaitStatus); ws.Signaled() || ws.ExitStatus() != 1 {
		t.Fatalf("want exit 1 after the write timeout, got %v", st)
	}
	if elapsed < time.Second {
		t.Fatalf("exited after %v, before the 1 s timeout", elapsed)
	}
}
