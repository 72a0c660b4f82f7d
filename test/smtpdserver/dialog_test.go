package smtpdserver

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"tinymx/test/dialog"
	"tinymx/test/harness"
)

// TestDialogsAgainstTheServer plays every transcript of test/smtpdialog
// (read by test/dialog, as the per-connection runner reads them) against
// qmail-smtpd-server, one server per dialog, so that the daemon and the
// per-connection qmail-smtpd cannot drift apart. The dialog's TCP*
// variables reach the session as a rule's variables (a rule's value wins
// over the socket's, as with tcpserver); its exit status is the one the
// server logs on its end line.
func TestDialogsAgainstTheServer(t *testing.T) {
	bin := harness.Bin(t, "qmail-smtpd-server")
	for _, f := range dialog.Files(t) {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".dialog"), func(t *testing.T) {
			t.Parallel()
			runDialog(t, bin, dialog.Load(t, f))
		})
	}
}

var endRE = regexp.MustCompile(`qmail-smtpd-server: end 1 status ([0-9]+)\n`)

func runDialog(t *testing.T, bin string, s *dialog.Script) {
	for _, name := range s.Unset {
		if strings.HasPrefix(name, "TCP") {
			// A session on a socket always has its addresses.
			t.Skipf("the dialog unsets %s, which a socket always sets", name)
		}
	}
	// The dialog's TCP* variables become the rule's; the rest is the
	// server's own environment. -l gives TCPLOCALHOST the value the
	// Received line would take from TCPLOCALIP when the dialog has none.
	local := s.Env["TCPLOCALIP"]
	if h, ok := s.Env["TCPLOCALHOST"]; ok {
		local = h
	}
	rule := "127.0.0.1:allow"
	var srvEnv []string
	for k, v := range s.Env {
		if strings.HasPrefix(k, "TCP") {
			rule += "," + k + "=\"" + v + "\""
			continue
		}
		srvEnv = append(srvEnv, k+"="+v)
	}
	if os.Getuid() == 0 {
		srvEnv = append(srvEnv, "QMAIL_SMTPD_ROOT=1")
	}
	cdb := rulesCDB(t, t.TempDir(), rule+"\n")
	srv := startServer(t, bin, srvEnv, "-1", "-v", "-HR", "-l", local, "-x", cdb, "127.0.0.1", "0")
	out := dialogSession(t, srv.addr, s.Input, s.Hold, len(s.Want) > 0)
	m := srv.waitLog(t, endRE)
	status, _ := strconv.Atoi(m[1])
	if status&0xff != 0 {
		t.Fatalf("end status %d is not an exit", status)
	}
	s.Check(t, out, status>>8)
}

// dialogSession connects, reads the first reply line (so that a server
// that refuses at once is not sent data it never reads), sends input,
// closes its sending side unless hold, and returns everything the server
// wrote until it closed.
func dialogSession(t *testing.T, addr string, input []byte, hold, greeting bool) []byte {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(harness.Patience))
	var out []byte
	if greeting {
		buf := make([]byte, 1)
		for len(out) == 0 || out[len(out)-1] != '\n' {
			n, err := c.Read(buf)
			out = append(out, buf[:n]...)
			if err != nil {
				return out
			}
		}
	}
	go func() {
		c.Write(input) // fails harmlessly when the server closed early
		if !hold {
			c.(*net.TCPConn).CloseWrite()
		}
	}()
	rest, _ := io.ReadAll(c)
	return append(out, rest...)
}
