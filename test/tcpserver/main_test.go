// Package tcpserver tests bin/tcpserver and bin/tcpclient against the C
// originals in /usr/bin: the same connection scenario is run against
// both, and the program's environment, the log lines (pids and ports
// masked), the exit codes and the usage errors must agree.
package tcpserver

import (
	"bufio"
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

// server is a running tcpserver (ours or the C one).
type server struct {
	cmd  *exec.Cmd
	port int
	log  *harness.Output
}

// impls are the two programs under comparison.
func impls(t *testing.T, name string) map[string]string {
	return map[string]string{
		"c":  harness.NeedPeer(t, "/usr/bin/"+name),
		"go": harness.Bin(t, name),
	}
}

// baseEnv is a small fixed environment, so that environments compare.
func baseEnv(extra ...string) []string {
	env := []string{"PATH=/usr/bin:/bin", "DNSCACHEIP=127.0.0.1"}
	return append(env, extra...)
}

// start runs bin with -1 (added first) and args, in dir, and waits for the
// port it prints.
func start(t *testing.T, bin, dir string, env []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-1"}, args...)...)
	cmd.Dir = dir
	cmd.Env = env
	log := &harness.Output{}
	cmd.Stderr = log
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	harness.Start(t, cmd)
	portc := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		portc <- line
		io.Copy(io.Discard, out)
	}()
	select {
	case line := <-portc:
		p, err := strconv.Atoi(strings.TrimSpace(line))
		if err != nil {
			t.Fatalf("%s printed %q for its port; log: %s", bin, line, log.String())
		}
		return &server{cmd: cmd, port: p, log: log}
	case <-time.After(harness.Patience):
		t.Fatalf("%s did not print its port; log: %s", bin, log.String())
	}
	return nil
}

// waitLog waits until the log has n lines matching re.
func (s *server) waitLog(t *testing.T, re string, n int) {
	t.Helper()
	r := regexp.MustCompile(re)
	harness.WaitFor(t, 10*time.Second, "log lines "+re+" in:\n"+s.log.String(), func() bool {
		return len(r.FindAllString(s.log.String(), -1)) >= n
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

var (
	pidRE  = regexp.MustCompile(`(pid|ok|deny|end) [0-9]+`)
	portRE = regexp.MustCompile(`:[0-9]{4,5}\b`)
)

// normal masks pids and the given ports in a log or an env dump.
func normal(s string, ports ...int) string {
	s = pidRE.ReplaceAllString(s, "$1 PID")
	for _, p := range ports {
		s = strings.ReplaceAll(s, strconv.Itoa(p), "PORT")
	}
	return s
}

// envPorts masks TCPLOCALPORT and TCPREMOTEPORT values and the ports of
// the ok lines.
var envPortRE = regexp.MustCompile(`(?m)^(TCP6?(LOCAL|REMOTE)PORT)=[0-9]+$`)

func maskEnv(s string) string { return envPortRE.ReplaceAllString(s, "$1=P") }

var okPortsRE = regexp.MustCompile(`((?:ok|deny) PID [^ ]*:)[0-9]+( [^\n]*:)[0-9]+\n`)

func maskLog(s string) string {
	s = pidRE.ReplaceAllString(s, "$1 PID")
	return okPortsRE.ReplaceAllString(s, "${1}P${2}P\n")
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
	tcprules := harness.NeedPeer(t, "/usr/bin/tcprules")
	p := filepath.Join(dir, name)
	cmd := exec.Command(tcprules, p, p+".tmp")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tcprules: %v: %s", err, out)
	}
	return p
}

func execCommand(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }
