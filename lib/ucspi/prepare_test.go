package ucspi

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"tinymx/lib/cdb"
)

// rulesCDB writes a rules cdb of key and data records (data as tcprules
// writes it: "D\0" to deny, "+NAME=value\0" per variable).
func rulesCDB(t *testing.T, records ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rules.cdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := cdb.NewWriter(f)
	for i := 0; i+1 < len(records); i += 2 {
		w.Add([]byte(records[i]), []byte(records[i+1]))
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	return path
}

// preparingServer is a Server that Prepare can serve without DNS or ident:
// a fixed local name, no remote host name, no remote info.
func preparingServer(t *testing.T, ln net.Listener, rules string) *Server {
	s := &Server{Prog: "tcpserver", Rules: rules, HasLocalName: true, LocalName: "mx",
		MaxConnIP: 7, Verbosity: Quiet}
	s.init(netip.MustParseAddrPort(ln.Addr().String()))
	return s
}

// prepareOne accepts a connection from a fresh client and prepares it.
func prepareOne(t *testing.T, s *Server, ln net.Listener) (Prepared, net.Conn, error) {
	t.Helper()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	client.SetDeadline(time.Now().Add(time.Minute))
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	raw, err := server.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var p Prepared
	var perr error
	raw.Control(func(fd uintptr) {
		a := &Accepted{FD: int(fd), Remote: netip.MustParseAddrPort(client.LocalAddr().String())}
		p, perr = s.Prepare(a)
	})
	return p, client, perr
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func TestPrepareGivesTheTCPVariablesTheRuleAndTheLimitAndStartsNothing(t *testing.T) {
	ln := listen(t)
	s := preparingServer(t, ln, rulesCDB(t, "127.0.0.1", "+X=y\x00+MAXCONNIP=3\x00+NOVALUE\x00+DIEMSG=bye\x00"))
	s.Banner = "hello\r\n"
	env, wd := os.Environ(), must(os.Getwd())

	p, client, err := prepareOne(t, s, ln)
	if err != nil {
		t.Fatal(err)
	}
	lport := strconv.Itoa(int(p.Local.Port()))
	rport := strconv.Itoa(int(p.Remote.Port()))
	want := []string{"PROTO=TCP", "TCPLOCALIP=127.0.0.1", "TCPLOCALPORT=" + lport, "TCPLOCALHOST=mx",
		"TCPREMOTEIP=127.0.0.1", "TCPREMOTEPORT=" + rport, "X=y", "DIEMSG=bye"}
	if got := p.Env.Apply(nil); !slices.Equal(got, want) {
		t.Errorf("environment\n got %q\nwant %q", got, want)
	}
	if p.Deny || p.IP != "127.0.0.1" || p.MaxConnIP != 3 || !p.HasDieMsg || p.DieMsg != "bye" {
		t.Errorf("verdict: deny %v, ip %q, MAXCONNIP %d, DIEMSG %v %q", p.Deny, p.IP, p.MaxConnIP, p.HasDieMsg, p.DieMsg)
	}
	if got := string(p.Decision("tcpserver", "ok", 1)); got != "tcpserver: ok 1 mx:127.0.0.1:"+lport+" :127.0.0.1::"+rport+"\n" {
		t.Errorf("ok line %q", got)
	}
	banner := make([]byte, 7)
	if _, err := io.ReadFull(client, banner); err != nil || string(banner) != s.Banner {
		t.Errorf("banner %q, %v", banner, err)
	}
	if _, err := unix.Wait4(-1, nil, unix.WNOHANG, nil); !errors.Is(err, unix.ECHILD) {
		t.Errorf("a child process exists: %v", err)
	}
	if !slices.Equal(os.Environ(), env) || must(os.Getwd()) != wd {
		t.Error("the process's environment or directory changed")
	}
}

func TestPrepareSaysDenyAndKeepsTheServersLimitWithoutARuleForIt(t *testing.T) {
	ln := listen(t)
	s := preparingServer(t, ln, rulesCDB(t, "127.0.0.1", "D\x00"))
	p, _, err := prepareOne(t, s, ln)
	if err != nil || !p.Deny || p.MaxConnIP != 7 {
		t.Errorf("deny %v, MAXCONNIP %d, %v", p.Deny, p.MaxConnIP, err)
	}
}

func TestPrepareFailsOnAMissingRulesFileUnlessAllowed(t *testing.T) {
	ln := listen(t)
	s := preparingServer(t, ln, filepath.Join(t.TempDir(), "none.cdb"))
	p, _, err := prepareOne(t, s, ln)
	if !errors.Is(err, unix.ENOENT) || err.Error() != "unable to read "+s.Rules || p.IP != "127.0.0.1" {
		t.Errorf("got %v, ip %q", err, p.IP)
	}
	s.AllowNoRules = true
	if p, _, err := prepareOne(t, s, ln); err != nil || p.Deny || p.Env.Len() == 0 {
		t.Errorf("-X: %v, deny %v, %d edits", err, p.Deny, p.Env.Len())
	}
}

// Run with -race: Prepare shares only the server's settings.
func TestPrepareServesManyGoroutinesAtOnce(t *testing.T) {
	ln := listen(t)
	s := preparingServer(t, ln, rulesCDB(t, "127.0.0.1", "+X=y\x00"))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				client, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					t.Error(err)
					return
				}
				defer client.Close()
			}
		})
	}
	var pw sync.WaitGroup
	for range 40 {
		server, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		pw.Go(func() {
			defer server.Close()
			raw, _ := server.(*net.TCPConn).SyscallConn()
			raw.Control(func(fd uintptr) {
				a := &Accepted{FD: int(fd), Remote: netip.MustParseAddrPort(server.RemoteAddr().String())}
				p, err := s.Prepare(a)
				if err != nil || len(p.Env.Apply(nil)) != 7 {
					t.Errorf("%v: %q", err, p.Env.Apply(nil))
				}
			})
		})
	}
	pw.Wait()
	wg.Wait()
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
