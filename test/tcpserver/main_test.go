// Package tcpserver tests bin/tcpserver and bin/tcpclient against the C
// originals in /usr/bin: the same connection scenario is run against
// both, and the program's environment, the log lines (pids and ports
// masked), the exit codes and the usage errors must agree.
package tcpserver

import (
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"tinymx/test/harness"
)

// baseEnv is a small fixed environment, so that environments compare.
func baseEnv(extra ...string) []string {
	env := []string{"PATH=/usr/bin:/bin", "DNSCACHEIP=127.0.0.1"}
	return append(env, extra...)
}

// start runs bin with -1 (added first) and args, in dir, and waits for the
// port it prints; its log is s.Log.
func start(t *testing.T, bin, dir string, env []string, args ...string) *harness.Server {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-1"}, args...)...)
	cmd.Dir = dir
	cmd.Env = env
	return harness.StartServer(t, cmd)
}

// waitLog waits until the log of s has n lines matching re.
func waitLog(t *testing.T, s *harness.Server, re string, n int) {
	t.Helper()
	r := regexp.MustCompile(re)
	harness.WaitFor(t, 10*time.Second, "log lines "+re+" in:\n"+s.Log.String(), func() bool {
		return len(r.FindAllString(s.Log.String(), -1)) >= n
	})
}

// talk connects from local (nil: any), sends send, and reads to EOF.
func talk(t *testing.T, local *net.TCPAddr, port int, send string) string {
	t.Helper()
	d := net.Dialer{LocalAddr: local, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if send != "" {
		c.Write([]byte(send))
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading from the server: %v (got %q)", err, b)
	}
	return string(b)
}

// logMask masks the pids and ports of a log of a server on port.
func logMask(port int) harness.Mask {
	return harness.Masks(harness.LogPids, harness.LogPorts, harness.Port(port))
}

// printScript writes the environment oracle: every TCP*, PROTO and rule
// variable, sorted, one per line.
func printScript(t *testing.T, dir string) {
	t.Helper()
	script := "#!/bin/sh\nenv | grep -E '^(TCP|PROTO|X|RELAY|DIEMSG|MAXCONNIP|W)' | sort\n"
	if err := os.WriteFile(filepath.Join(dir, "print"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// rulesCDB compiles rules text with the C tcprules into dir/name.
func rulesCDB(t *testing.T, dir, name, text string) string {
	t.Helper()
	tcprules := harness.Peer(t, "tcprules")
	p := filepath.Join(dir, name)
	cmd := exec.Command(tcprules, p, p+".tmp")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tcprules: %v: %s", err, out)
	}
	return p
}
