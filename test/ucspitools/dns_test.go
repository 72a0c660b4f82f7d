package ucspitools

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tinymx/lib/dns"
	"tinymx/lib/dns/dnstest"
	"tinymx/test/harness"
)

// TestDNSQualificationMatchesCTcpclient resolves host arguments with C
// tcpclient (djb's dns_ip4_qualify) and with lib/dns under the same
// rewrite configuration. Every candidate name points at its own loopback
// address, where a listener tells which one C connected to.
func TestDNSQualificationMatchesCTcpclient(t *testing.T) {
	harness.NeedRoot(t)
	tcpclient := harness.Peer(t, "tcpclient")
	srv := dnstest.StartFree(t)
	names := []string{"www.example.test", "www.alt.test", "mail.example.test", "fixed.example.test", "www.corp.test"}
	byIP := map[string]string{}
	// The same port on addresses of the test's own: the kernel picks it
	// for the first, and while that one holds it no one can bind it on
	// every address, so it is free on the others.
	ips := make([]string, len(names))
	for i := range ips {
		ips[i] = harness.Loopback(t)
	}
	port := 0
	accepted := make(chan string, 16)
	for i, n := range names {
		srv.AddA(n, ips[i])
		byIP[ips[i]] = n
		l := harness.Listen(t, net.JoinHostPort(ips[i], fmt.Sprint(port)))
		port = l.Addr().(*net.TCPAddr).Port
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				accepted <- c.LocalAddr().(*net.TCPAddr).IP.String()
				c.Close()
			}
		}()
	}
	dir := t.TempDir()
	rules := filepath.Join(dir, "rewrite")
	os.WriteFile(rules, []byte("=mail:mail.example.test\n*.corp:.corp.test\n-.gone:fixed.example.test\n?:+.nothere.test+.alt.test \r\n*.:\n"), 0644)
	none := filepath.Join(dir, "none")
	cases := []struct {
		name, localdomain, rewrite string
	}{
		{"www", "nothere.test example.test", none},
		{"WWW.Example.TEST.", "", none},
		{"www", "", rules},
		{"mail", "", rules},
		{"www.corp", "", rules},
		{"x.y.gone", "", rules},
		{ips[2], "", none},
		{"[" + ips[3] + "]", "", none},
		{"nothing", "example.test", none},
	}
	for _, c := range cases {
		env := []string{"DNSCACHEIP=" + srv.IP(), "DNSREWRITEFILE=" + c.rewrite, "LOCALDOMAIN=" + c.localdomain}
		r := job(nil, env, "-RHl0", "-T2", "--", c.name, fmt.Sprint(port), "true").Run(t, tcpclient)
		var cgot string
		if r.Code == 0 {
			select {
			case cgot = <-accepted:
			case <-time.After(harness.Patience):
				t.Fatalf("%s: tcpclient exited 0 but no connection arrived", c.name)
			}
		}
		for _, e := range env {
			k, v, _ := strings.Cut(e, "=")
			t.Setenv(k, v)
		}
		dns.ResetConfig()
		ips, err := dns.IP4(c.name)
		var ggot string
		if err == nil && len(ips) > 0 {
			ggot = net.IP(ips[0][:]).String()
		}
		if cgot != ggot {
			t.Errorf("%q (LOCALDOMAIN=%q): C connected to %q (%s, exit %d %q), lib/dns gave %q (%v)",
				c.name, c.localdomain, cgot, byIP[cgot], r.Code, r.Stderr, ggot, err)
		}
	}

	// Reverse lookups: tcpclient without -H sets TCPREMOTEHOST from the PTR
	// record, in djb's dotted form (lower case, odd bytes as \ooo).
	srv.AddPTR(ips[1], "Odd Host_1.Example.TEST")
	for _, ip := range []string{ips[1], ips[2]} {
		env := []string{"DNSCACHEIP=" + srv.IP(), "DNSREWRITEFILE=" + none}
		r := job(nil, env, "-Rl0", "-T2", "--", ip, fmt.Sprint(port), "sh", "-c", `printf %s "${TCPREMOTEHOST-unset}"`).Run(t, tcpclient)
		if r.Code == 0 {
			// tcpclient connected before it ran the program: the
			// connection is there to take, so the next one is not
			// mistaken for this one.
			select {
			case <-accepted:
			case <-time.After(harness.Patience):
				t.Fatalf("%s: tcpclient exited 0 but no connection arrived", ip)
			}
		}
		dns.ResetConfig()
		t.Setenv("DNSCACHEIP", srv.IP())
		a, _ := netip.ParseAddr(ip)
		name, err := dns.Name4(a.As4())
		want := r.Stdout
		if want == "unset" {
			want = ""
		}
		if err != nil || name != want {
			t.Errorf("PTR of %s: C %q (exit %d %q), lib/dns %q %v", ip, r.Stdout, r.Code, r.Stderr, name, err)
		}
	}
	dns.ResetConfig()
}
