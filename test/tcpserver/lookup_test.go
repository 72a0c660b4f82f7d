package tcpserver

import (
	"bufio"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"tinymx/lib/dns/dnstest"
	"tinymx/test/harness"
)

// compare runs sc against both servers and diffs output and log.
func compare(t *testing.T, sc scenario) string {
	t.Helper()
	bins := harness.Pair(t, "tcpserver")
	cout, clog := sc.run(t, bins.C)
	gout, glog := sc.run(t, bins.Go)
	if cout != gout {
		t.Errorf("program output differs\nC:\n%s\nGo:\n%s", cout, gout)
	}
	if clog != glog {
		t.Errorf("log differs\nC:\n%s\nGo:\n%s", clog, glog)
	}
	return gout + glog
}

// TestServerNameLookupsMatchC: -h, -p and the local name go through the
// DNS server in $DNSCACHEIP, never /etc/hosts.
func TestServerNameLookupsMatchC(t *testing.T) {
	harness.NeedRoot(t)
	d := dnstest.StartFree(t)
	d.AddPTR("127.0.0.1", "loop.example")
	d.AddA("loop.example", "127.0.0.1")
	d.AddPTR("127.0.0.2", "liar.example")
	d.AddA("liar.example", "10.9.9.9")
	d.AddPTR("127.0.0.3", "x.y.rules.example")
	d.AddA("x.y.rules.example", "127.0.0.3")
	env := []string{"DNSCACHEIP=" + d.IP()}
	rules := "=.rules.example:allow,X=\"suffix\"\n=loop.example:allow,X=\"exact\"\n=:allow,X=\"anyname\"\n"
	cases := []scenario{
		{name: "host", args: []string{"-v", "-R"}},
		{name: "host-local-name-given", args: []string{"-v", "-R", "-l", "given"}},
		{name: "no-host", args: []string{"-v", "-HR"}},
		{name: "paranoid-ok", args: []string{"-v", "-Rp"}},
		{name: "paranoid-mismatch", args: []string{"-v", "-Rp"}, from: "127.0.0.2"},
		{name: "not-paranoid-mismatch", args: []string{"-v", "-RpP"}, from: "127.0.0.2"},
		{name: "no-ptr", args: []string{"-v", "-R"}, from: "127.0.0.4"},
		{name: "rules-exact-host", args: []string{"-v", "-R", "-x", "rules.cdb"}, rules: rules},
		{name: "rules-host-suffix", args: []string{"-v", "-R", "-x", "rules.cdb"}, rules: rules, from: "127.0.0.3"},
		{name: "rules-any-name", args: []string{"-v", "-R", "-x", "rules.cdb"}, rules: rules, from: "127.0.0.2"},
		{name: "rules-paranoid-no-name", args: []string{"-v", "-Rp", "-x", "rules.cdb"}, rules: rules + ":deny\n", from: "127.0.0.2"},
	}
	for _, sc := range cases {
		sc.env = env
		t.Run(sc.name, func(t *testing.T) { compare(t, sc) })
	}
}

// TestServerUnknownHostNameIsFatal: "localhost" is asked of DNS, which
// does not know it.
func TestServerUnknownHostNameIsFatal(t *testing.T) {
	harness.NeedRoot(t)
	d := dnstest.StartFree(t)
	d.AddA("www.example", "127.0.0.1")
	bins := harness.Pair(t, "tcpserver")
	for _, host := range []string{"localhost", "nonexistent.example"} {
		bins.Same(t, harness.Job{Args: []string{"-HRl0", host, "0", "true"}, Env: append(baseEnv(), "DNSCACHEIP="+d.IP(), "LOCALDOMAIN=")}, nil)
	}
	// a name DNS knows is served
	s := start(t, bins.Go, t.TempDir(), append(baseEnv(), "DNSCACHEIP="+d.IP()), "-HRl0", "www.example", "0", "echo", "hi")
	if got := talk(t, nil, s.Port, ""); got != "hi\n" {
		t.Errorf("got %q", got)
	}
}

// identd answers ident queries on ip:113 (ip from harness.Loopback: port
// 113 is fixed, so the address must be the test's own) with reply (the request echoed
// first when reply starts with "%"); "" closes without a newline.
func identd(t *testing.T, ip, reply string) {
	t.Helper()
	l, err := net.Listen("tcp", ip+":113")
	if err != nil {
		t.Skipf("cannot listen on %s:113: %v", ip, err)
	}
	harness.Serve(t, l, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		req, _ := bufio.NewReader(c).ReadString('\n')
		if reply == "" {
			return
		}
		r := reply
		if strings.HasPrefix(r, "%") {
			r = strings.TrimRight(req, "\r\n") + r[1:]
		}
		c.Write([]byte(r))
	})
}

// TestServerIdentLookupsMatchC: TCPREMOTEINFO from an RFC 1413 server on
// the client's address, and info@ rules.
func TestServerIdentLookupsMatchC(t *testing.T) {
	harness.NeedRoot(t)
	// each client has an address of its own; the names are those of the
	// fixed addresses the cases had before
	replies := []struct{ name, ip, reply, want string }{
		{"127.0.113.1", harness.Loopback(t), "% : USERID : UNIX : joe smith\r\n", "X=byinfo"},
		{"127.0.113.2", harness.Loopback(t), "% : ERROR : NO-USER\r\n", "X=emptyinfo"},
		{"127.0.113.3", harness.Loopback(t), "", "X=default"},
		{"127.0.113.4", harness.Loopback(t), "% : USERID : UNIX,x : a:b:c \t" + strings.Repeat("z", 300) + "\r\n", "TCPREMOTEINFO=a:b:czz"},
	}
	rules := "joesmith@" + replies[0].ip + ":allow,X=\"byinfo\"\n@" + replies[1].ip + ":allow,X=\"emptyinfo\"\n:allow,X=\"default\"\n"
	for _, r := range replies {
		identd(t, r.ip, r.reply)
	}
	for _, r := range replies {
		for i, args := range [][]string{{"-v", "-Hl0", "-x", "rules.cdb"}, {"-v", "-Hl0", "-R"}, {"-v", "-Hl0", "-t5", "-x", "rules.cdb"}} {
			sc := scenario{name: r.name, args: args, rules: rules, from: r.ip}
			t.Run(r.name+strings.Join(args, ""), func(t *testing.T) {
				got := compare(t, sc)
				if i == 0 && !strings.Contains(got, r.want) {
					t.Errorf("no %s in\n%s", r.want, got)
				}
			})
		}
	}
}

// TestServerInfoAtHostRuleComesBeforeIPMatchC: with both an ident answer
// and a verified name, info@=host is the second key tried, before the
// address (spec A2.3).
func TestServerInfoAtHostRuleComesBeforeIPMatchC(t *testing.T) {
	harness.NeedRoot(t)
	ip := harness.Loopback(t)
	d := dnstest.StartFree(t)
	d.AddPTR(ip, "id.example")
	d.AddA("id.example", ip)
	identd(t, ip, "% : USERID : UNIX : joe\r\n")
	env := []string{"DNSCACHEIP=" + d.IP()}
	for _, c := range []struct{ rules, want string }{
		{"joe@=id.example:allow,X=\"infohost\"\n" + ip + ":allow,X=\"ip\"\n", "X=infohost"},
		{"joe@" + ip + ":allow,X=\"infoip\"\njoe@=id.example:allow,X=\"infohost\"\n", "X=infoip"},
		{"bob@=id.example:allow,X=\"other\"\n=id.example:allow,X=\"host\"\n", "X=host"},
	} {
		sc := scenario{name: c.want, args: []string{"-v", "-l0", "-x", "rules.cdb"}, rules: c.rules, from: ip, env: env}
		if got := compare(t, sc); !strings.Contains(got, c.want+"\n") {
			t.Errorf("rules %q: no %s in\n%s", c.rules, c.want, got)
		}
	}
}

// TestServerIdentTimeoutIsBounded: an ident server that never answers
// costs -t seconds, then TCPREMOTEINFO is absent.
func TestServerIdentTimeoutIsBounded(t *testing.T) {
	harness.NeedRoot(t)
	client := harness.Loopback(t)
	l, err := net.Listen("tcp", client+":113")
	if err != nil {
		t.Skip(err)
	}
	harness.Silent(t, l)
	s := start(t, harness.Bin(t, "tcpserver"), t.TempDir(), baseEnv(), "-Hl0", "-t1", "127.0.0.1", "0", "sh", "-c", "echo ${TCPREMOTEINFO-unset}")
	t0 := time.Now()
	got := talk(t, &net.TCPAddr{IP: net.ParseIP(client)}, s.Port, "")
	// -t1 waits a second for the ident answer; the upper bound only tells
	// it from the default 26 s, with room for a loaded machine.
	if got != "unset\n" || time.Since(t0) > 20*time.Second || time.Since(t0) < 900*time.Millisecond {
		t.Errorf("got %q after %v", got, time.Since(t0))
	}
}

// TestServerQualifiesHostArgumentAsC: the host argument goes through
// $DNSREWRITEFILE, else $LOCALDOMAIN, before it is asked of $DNSCACHEIP.
// The names resolve to a non-local address, so both servers stop at bind
// and the message says which name was asked and whether it resolved.
func TestServerQualifiesHostArgumentAsC(t *testing.T) {
	harness.NeedRoot(t)
	d := dnstest.StartFree(t)
	d.AddA("www.example", "192.0.2.7")
	d.AddA("mx.example", "192.0.2.8")
	dir := t.TempDir()
	rewrite := filepath.Join(dir, "rewrite")
	if err := os.WriteFile(rewrite, []byte("=mail:mx.example\n*.:\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	none := filepath.Join(dir, "none")
	bins := harness.Pair(t, "tcpserver")
	for _, c := range []struct {
		host string
		env  []string
	}{
		{"www", []string{"DNSREWRITEFILE=" + none, "LOCALDOMAIN=example"}},
		{"www.", []string{"DNSREWRITEFILE=" + none, "LOCALDOMAIN=example"}},
		{"www", []string{"DNSREWRITEFILE=" + none, "LOCALDOMAIN=other example"}},
		{"mail", []string{"DNSREWRITEFILE=" + rewrite, "LOCALDOMAIN=example"}},
		{"www", []string{"DNSREWRITEFILE=" + rewrite, "LOCALDOMAIN=example"}},
		{"www.example", []string{"DNSREWRITEFILE=" + none, "LOCALDOMAIN="}},
	} {
		g := bins.Same(t, harness.Job{Args: []string{"-HRl0", c.host, "0", "true"}, Env: append(baseEnv(), append([]string{"DNSCACHEIP=" + d.IP()}, c.env...)...)}, nil)
		t.Logf("%s %q: %v", c.host, c.env, g)
		if !strings.Contains(g.Stderr, "unable to bind") && !strings.Contains(g.Stderr, "no IP address") {
			t.Errorf("%s %q: %v", c.host, c.env, g)
		}
	}
}

// TestServerSigtermServesConnectionsInProgress: a connection accepted
// before SIGTERM but still in its lookups (here an ident server that never
// answers) is served all the same, banner once, with its pid and ok lines,
// while the server exits 0 at once: the C program's forked child goes on
// after its parent's exit.
func TestServerSigtermServesConnectionsInProgress(t *testing.T) {
	harness.NeedRoot(t)
	client := harness.Loopback(t)
	l, err := net.Listen("tcp", client+":113")
	if err != nil {
		t.Skip(err)
	}
	harness.Silent(t, l)
	bins := harness.Pair(t, "tcpserver")
	res := map[string]string{}
	for impl, bin := range bins.All() {
		dir := t.TempDir()
		printScript(t, dir)
		s := start(t, bin, dir, baseEnv(), "-v", "-Hl0", "-t2", "-B", "hi\r\n", "127.0.0.1", "0", "./print")
		out := make(chan string, 1)
		go func() {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(client)}, Timeout: 10 * time.Second}
			c, err := d.Dial("tcp", "127.0.0.1:"+strconv.Itoa(s.Port))
			if err != nil {
				out <- err.Error()
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			b, _ := io.ReadAll(c)
			out <- string(b)
		}()
		waitLog(t, s, `status: 1/40`, 1)
		s.Process.Signal(syscall.SIGTERM)
		if code := s.Wait(t, 10*time.Second).ExitCode(); code != 0 {
			t.Errorf("%s: exit %d after SIGTERM", impl, code)
		}
		var got string
		select {
		case got = <-out:
		case <-time.After(harness.Patience):
			t.Fatalf("%s: client not served", impl)
		}
		waitLog(t, s, `ok [0-9]+ `, 1)
		res[impl] = harness.EnvPorts(got) + logMask(s.Port)(s.Log.String())
	}
	if res["C"] != res["Go"] {
		t.Errorf("client output and log differ\nC:\n%s\nGo:\n%s", res["C"], res["Go"])
	}
	if !strings.Contains(res["Go"], "hi\r\nPROTO=TCP\n") {
		t.Errorf("not served:\n%s", res["Go"])
	}
}
