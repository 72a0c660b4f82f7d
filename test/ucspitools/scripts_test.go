package ucspitools

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tinymx/test/harness"
)

// fakeServices listens on a loopback address of the test's own: ports 11
// (who), 13 (date) and 79 (finger), fixed by the scripts, and three free
// ports for http, SMTP and tcpcat. It records what each client sent.
type fakeServices struct {
	ip        string
	httpPort  int
	smtpPort  int
	catPort   int
	mu        sync.Mutex
	received  map[string][]byte
	listeners []net.Listener
}

func (f *fakeServices) got(name string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]byte(nil), f.received[name]...)
}

func (f *fakeServices) serve(t *testing.T, l net.Listener, name string, talk func(c net.Conn, r *bufio.Reader) []byte) {
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				got := talk(c, bufio.NewReader(c))
				f.mu.Lock()
				f.received[name] = append(f.received[name], got...)
				f.mu.Unlock()
			}()
		}
	}()
}

func startServices(t *testing.T) *fakeServices {
	t.Helper()
	harness.NeedRoot(t)
	f := &fakeServices{received: map[string][]byte{}}
	f.ip = harness.Loopback(t) // the scripts fix ports 11, 13 and 79
	var ls [6]net.Listener
	for i, port := range []int{11, 13, 79, 0, 0, 0} {
		ls[i] = harness.Listen(t, fmt.Sprintf("%s:%d", f.ip, port))
	}
	f.httpPort = ls[3].Addr().(*net.TCPAddr).Port
	f.smtpPort = ls[4].Addr().(*net.TCPAddr).Port
	f.catPort = ls[5].Addr().(*net.TCPAddr).Port
	f.serve(t, ls[0], "who", func(c net.Conn, r *bufio.Reader) []byte {
		c.Write([]byte("root     tty1\r\nuser\x01   pts/0\r\r\n"))
		return nil
	})
	f.serve(t, ls[1], "date", func(c net.Conn, r *bufio.Reader) []byte {
		c.Write([]byte("Mon Nov 23 13:00:00 2026\r\n"))
		return nil
	})
	f.serve(t, ls[2], "finger", func(c net.Conn, r *bufio.Reader) []byte {
		line, _ := r.ReadBytes('\n')
		c.Write([]byte("Login: " + strings.TrimRight(string(line), "\r\n") + "\r\nPlan:\x7f none\r\n"))
		return line
	})
	f.serve(t, ls[3], "http", func(c net.Conn, r *bufio.Reader) []byte {
		var req []byte
		for {
			line, err := r.ReadBytes('\n')
			req = append(req, line...)
			if err != nil || string(line) == "\r\n" {
				break
			}
		}
		c.Write([]byte("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nbody line 1\r\n\r\nline 3\n"))
		return req
	})
	f.serve(t, ls[4], "smtp", func(c net.Conn, r *bufio.Reader) []byte {
		var got []byte
		c.Write([]byte("220 fake ESMTP\r\n"))
		for {
			line, err := r.ReadBytes('\n')
			got = append(got, line...)
			if err != nil {
				return got
			}
			if strings.EqualFold(strings.TrimRight(string(line), "\r\n"), "quit") {
				c.Write([]byte("221 bye\r\n"))
				return got
			}
			c.Write([]byte("250 ok\r\n"))
		}
	})
	f.serve(t, ls[5], "cat", func(c net.Conn, r *bufio.Reader) []byte {
		c.Write([]byte("hello\r\nworld\x00"))
		return nil
	})
	return f
}

// ourScripts writes scripts/ with /usr/bin/ replaced, as make does, by a
// directory holding our addcr, delcr, mconnect-io and a tcpclient (ours
// once built, else Debian's).
func ourScripts(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bindir := filepath.Join(dir, "bin")
	os.Mkdir(bindir, 0755)
	for _, p := range []string{"addcr", "delcr", "mconnect-io"} {
		os.Symlink(harness.Bin(t, p), filepath.Join(bindir, p))
	}
	tcpclient := filepath.Join(harness.Root(), "bin", "tcpclient")
	if _, err := os.Stat(tcpclient); err != nil {
		tcpclient = harness.Peer(t, "tcpclient")
	}
	os.Symlink(tcpclient, filepath.Join(bindir, "tcpclient"))
	for _, s := range []string{"tcpcat", "who@", "date@", "finger@", "http@", "mconnect"} {
		text, err := os.ReadFile(filepath.Join(harness.Root(), "scripts", s))
		if err != nil {
			t.Fatal(err)
		}
		text = bytes.ReplaceAll(text, []byte("/usr/bin/"), []byte(bindir+"/"))
		os.WriteFile(filepath.Join(dir, s), text, 0755)
	}
	return dir
}

func TestScriptsAreDebiansTextWithOnlyInstallPathsToSubstitute(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"tcpcat", "who@", "date@", "finger@", "http@", "mconnect"} {
		ours, err := os.ReadFile(filepath.Join(harness.Root(), "scripts", s))
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := os.ReadFile(harness.Peer(t, s))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ours, theirs) {
			t.Errorf("scripts/%s differs from /usr/bin/%s", s, s)
		}
		st, _ := os.Stat(filepath.Join(harness.Root(), "scripts", s))
		if st.Mode()&0111 == 0 {
			t.Errorf("scripts/%s is not executable", s)
		}
	}
}

func TestScriptClientsTalkAsDebiansDo(t *testing.T) {
	t.Parallel()
	f := startServices(t)
	dir := ourScripts(t)
	port := func(n int) string { return fmt.Sprint(n) }
	cases := []struct {
		script string
		stdin  string
		args   []string
	}{
		{"tcpcat", "", []string{f.ip, port(f.catPort)}},
		{"who@", "", []string{f.ip}},
		{"date@", "", []string{f.ip}},
		{"finger@", "", []string{f.ip, "someone"}},
		{"finger@", "", []string{f.ip}},
		{"http@", "", []string{f.ip, "index.html", port(f.httpPort)}},
		{"mconnect", "HELO x\nMAIL FROM:<a@b>\r\nQUIT\n", []string{f.ip, port(f.smtpPort)}},
	}
	for _, c := range cases {
		before := map[string]int{}
		for _, n := range []string{"finger", "http", "smtp"} {
			before[n] = len(f.got(n))
		}
		cr := job([]byte(c.stdin), nil, c.args...).Run(t, harness.Peer(t, c.script))
		sent := map[string][]byte{}
		for _, n := range []string{"finger", "http", "smtp"} {
			harness.WaitFor(t, 5*time.Second, "the server to record", func() bool { return len(f.got(n)) >= before[n] })
			sent[n] = f.got(n)[before[n]:]
			before[n] = len(f.got(n))
		}
		gr := job([]byte(c.stdin), nil, c.args...).Run(t, filepath.Join(dir, c.script))
		harness.Same(t, c.script+" "+strings.Join(c.args, " "), cr, gr, nil)
		if len(gr.Stdout) == 0 {
			t.Errorf("%s printed nothing", c.script)
		}
		for _, n := range []string{"finger", "http", "smtp"} {
			harness.WaitFor(t, 5*time.Second, "the server to record", func() bool { return len(f.got(n)) >= before[n]+len(sent[n]) })
			if g := f.got(n)[before[n]:]; !bytes.Equal(g, sent[n]) {
				t.Errorf("%s: %s server got %q from ours, %q from C", c.script, n, g, sent[n])
			}
		}
	}
}
