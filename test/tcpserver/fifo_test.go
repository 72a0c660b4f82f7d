package tcpserver

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"tinymx/lib/dns/dnstest"
	"tinymx/test/harness"
)

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
}

// holdWriter keeps fifo open for writing, nothing written, until the test
// ends (O_RDWR never waits for a reader).
func holdWriter(t *testing.T, fifo string) {
	t.Helper()
	f, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
}

// TestServerFifoRulesDropConnectionAsC: the C tcpserver opens the rules
// cdb non-blocking, so a FIFO there (with or without a writer) opens at
// once and cannot be read: the connection is dropped with the same warning
// (invalid argument) and the server goes on.
func TestServerFifoRulesDropConnectionAsC(t *testing.T) {
	bins := harness.Pair(t, "tcpserver")
	for _, writer := range []bool{false, true} {
		logs := map[string]string{}
		for impl, bin := range bins.All() {
			dir := t.TempDir()
			fifo := filepath.Join(dir, "tcp.cdb")
			mkfifo(t, fifo)
			if writer {
				holdWriter(t, fifo)
			}
			s := start(t, bin, dir, baseEnv(), "-v", "-HRl0", "-x", "tcp.cdb", "127.0.0.1", "0", "echo", "served")
			if got := talk(t, nil, s.Port, ""); got != "" {
				t.Errorf("%s: served %q through an unreadable rules file", impl, got)
			}
			waitLog(t, s, `end [0-9]+ status`, 1)
			waitLog(t, s, `status: 0/`, 2)
			logs[impl] = logMask(s.Port)(s.Log.String())
			// and it goes on accepting (talk's deadline bounds a hang)
			talk(t, nil, s.Port, "")
		}
		if logs["C"] != logs["Go"] {
			t.Errorf("writer %v: log differs\nC:\n%s\nGo:\n%s", writer, logs["C"], logs["Go"])
		}
		if !strings.Contains(logs["Go"], "tcpserver: warning: dropping connection, unable to read tcp.cdb: invalid argument\n") {
			t.Errorf("writer %v: no drop warning in\n%s", writer, logs["Go"])
		}
	}
}

// TestServerFifoRewriteFileAsC: djb's dns library reads $DNSREWRITEFILE
// with openreadclose, non-blocking. A FIFO there with no writer is an empty
// rule set (so LOCALDOMAIN is not used and "www" is asked as it is); with
// an idle writer the read's EAGAIN makes the host argument a temporary
// failure, exit 111. Never a wait.
func TestServerFifoRewriteFileAsC(t *testing.T) {
	harness.NeedRoot(t)
	d := dnstest.StartFree(t)
	d.AddA("www", "192.0.2.8") // and no www.example, which LOCALDOMAIN would ask
	bins := harness.Pair(t, "tcpserver")
	for _, writer := range []bool{false, true} {
		var res [2]harness.Result
		for i, bin := range bins.Both() {
			fifo := filepath.Join(t.TempDir(), "rewrite")
			mkfifo(t, fifo)
			if writer {
				holdWriter(t, fifo)
			}
			cmd := exec.Command(bin, "-HRl0", "www", "0", "true")
			cmd.Env = append(baseEnv(), "DNSCACHEIP="+d.IP(), "DNSREWRITEFILE="+fifo, "LOCALDOMAIN=example")
			res[i] = harness.Run(t, 20*time.Second, cmd)
		}
		harness.Same(t, fmt.Sprintf("writer %v", writer), res[0], res[1], nil)
		t.Logf("writer %v: %v", writer, res[1])
		want := "unable to bind" // www resolved: the unqualified name was asked
		if writer {
			want = "temporarily unable to figure out IP address for www: temporary failure"
		}
		if !strings.Contains(res[1].Stderr, want) {
			t.Errorf("writer %v: %v, want %q in it", writer, res[1], want)
		}
	}
}
