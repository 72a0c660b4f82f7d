package tcpserver

import (
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"tinymx/test/harness"
)

func dialFrom(t *testing.T, from string, port int) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func readAll(t *testing.T, c net.Conn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b []byte
	buf := make([]byte, 512)
	for {
		n, err := c.Read(buf)
		b = append(b, buf[:n]...)
		if err != nil {
			return string(b)
		}
	}
}

// TestServerMaxConnIPFromEnvironmentCapsOneAddress: MAXCONNIP in
// tcpserver's environment caps each client address; the refused client
// reads DIEMSG, the log names the address and the limit, and the program
// never sees MAXCONNIP.
func TestServerMaxConnIPFromEnvironmentCapsOneAddress(t *testing.T) {
	bin := harness.Bin(t, "tcpserver")
	s := start(t, bin, t.TempDir(), baseEnv("MAXCONNIP=1", "DIEMSG=421 too many connections"),
		"-v", "-HRl0", "127.0.0.1", "0", "sh", "-c", "echo ${MAXCONNIP-unset}; read x; echo $x")
	a := dialFrom(t, "127.0.0.1", s.Port)
	expect(t, a, "unset\n")
	b := dialFrom(t, "127.0.0.1", s.Port)
	if got := readAll(t, b); got != "421 too many connections\r\n" {
		t.Errorf("second client from the same address read %q", got)
	}
	waitLog(t, s, `per-IP limit 1 reached for 127\.0\.0\.1`, 1)
	other := dialFrom(t, "127.0.0.5", s.Port)
	expect(t, other, "unset\n")
	a.Write([]byte("bye\n"))
	expect(t, a, "bye\n")
	waitLog(t, s, `end [0-9]+ status 0`, 1)
	again := dialFrom(t, "127.0.0.1", s.Port)
	expect(t, again, "unset\n")
	for _, l := range strings.Split(s.Log.String(), "\n") {
		if strings.Contains(l, "status: 4/") {
			t.Errorf("refused connection still counted: %q", l)
		}
	}
}

// TestServerMaxConnIPFromRuleOverridesDefault: a rule's MAXCONNIP is
// consumed too, and applies to the addresses of that rule only.
func TestServerMaxConnIPFromRuleOverridesDefault(t *testing.T) {
	bin := harness.Bin(t, "tcpserver")
	dir := t.TempDir()
	rulesCDB(t, dir, "rules.cdb", "127.0.0.1:allow,MAXCONNIP=\"2\",X=\"one\"\n:allow\n")
	s := start(t, bin, dir, baseEnv(), "-v", "-HRl0", "-x", "rules.cdb", "127.0.0.1", "0",
		"sh", "-c", "echo ${MAXCONNIP-unset}${X-}; read x")
	for i := 0; i < 2; i++ {
		expect(t, dialFrom(t, "127.0.0.1", s.Port), "unsetone\n")
	}
	if got := readAll(t, dialFrom(t, "127.0.0.1", s.Port)); got != "" {
		t.Errorf("third client read %q, want nothing (no DIEMSG)", got)
	}
	waitLog(t, s, `per-IP limit 2 reached for 127\.0\.0\.1`, 1)
	for i := 0; i < 4; i++ {
		expect(t, dialFrom(t, "127.0.0.6", s.Port), "unset\n")
	}
}

func haveIPv6Loopback() bool {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// TestServerServesIPv6WithDebianEnvironment: an IPv6 host argument serves
// IPv6 with ucspi-tcp-ipv6's environment and log forms; "::" also takes
// IPv4 clients, which see PROTO=TCP and IPv4 TCP* variables.
func TestServerServesIPv6WithDebianEnvironment(t *testing.T) {
	if !haveIPv6Loopback() {
		t.Skip("no IPv6 loopback")
	}
	bin := harness.Bin(t, "tcpserver")
	dir := t.TempDir()
	printScript(t, dir)
	s := start(t, bin, dir, baseEnv(), "-v", "-HRl0", "::1", "0", "./print")
	c, err := net.DialTimeout("tcp", "[::1]:"+strconv.Itoa(s.Port), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := harness.EnvPorts(readAll(t, c))
	want := "PROTO=TCP6\nTCP6LOCALHOST=0\nTCP6LOCALIP=::1\nTCP6LOCALPORT=P\nTCP6REMOTEIP=::1\nTCP6REMOTEPORT=P\n" +
		"TCPLOCALHOST=0\nTCPLOCALIP=::1\nTCPLOCALPORT=P\nTCPREMOTEIP=::1\nTCPREMOTEPORT=P\n"
	if got != want {
		t.Errorf("env\n%s\nwant\n%s", got, want)
	}
	waitLog(t, s, `end [0-9]+ status 0`, 1)
	log := logMask(s.Port)(s.Log.String())
	wantLog := "tcpserver: status: 0/40\ntcpserver: status: 1/40\ntcpserver: pid PID from ::1\n" +
		"tcpserver: ok PID 0:::1:P :::1::P\ntcpserver: end PID status 0\n"
	if !strings.HasPrefix(log, wantLog) {
		t.Errorf("log\n%s\nwant\n%s", log, wantLog)
	}

	s4 := start(t, bin, dir, baseEnv(), "-v", "-HRl0", "::", "0", "./print")
	got = harness.EnvPorts(talk(t, nil, s4.Port, ""))
	want = "PROTO=TCP\nTCP6LOCALHOST=0\nTCP6LOCALIP=::ffff:127.0.0.1\nTCP6LOCALPORT=P\nTCP6REMOTEIP=::ffff:127.0.0.1\nTCP6REMOTEPORT=P\n" +
		"TCPLOCALHOST=0\nTCPLOCALIP=127.0.0.1\nTCPLOCALPORT=P\nTCPREMOTEIP=127.0.0.1\nTCPREMOTEPORT=P\n"
	if got != want {
		t.Errorf("v4-mapped env\n%s\nwant\n%s", got, want)
	}
	waitLog(t, s4, `ok [0-9]+ 0:::ffff:127\.0\.0\.1:[0-9]+ :::ffff:127\.0\.0\.1::[0-9]+`, 1)
	waitLog(t, s4, `pid [0-9]+ from 127\.0\.0\.1\n`, 1)
}

// TestServerHostZeroStaysIPv4: host 0 is 0.0.0.0 as in the stock server.
func TestServerHostZeroStaysIPv4(t *testing.T) {
	if !haveIPv6Loopback() {
		t.Skip("no IPv6 loopback")
	}
	s := start(t, harness.Bin(t, "tcpserver"), t.TempDir(), baseEnv(), "-HRl0", "0", "0", "echo", "hi")
	if _, err := net.DialTimeout("tcp", "[::1]:"+strconv.Itoa(s.Port), 5*time.Second); err == nil {
		t.Error("host 0 accepted an IPv6 client")
	}
	if got := talk(t, nil, s.Port, ""); got != "hi\n" {
		t.Errorf("got %q", got)
	}
}

// TestServerIdleResidentSetIsSmallAfterBurst: an idle server, after a
// burst of 4 clients in flight with a rules cdb, stays within 3 MiB once
// it has given back what the burst touched (2 s without connections).
func TestServerIdleResidentSetIsSmallAfterBurst(t *testing.T) {
	dir := t.TempDir()
	rulesCDB(t, dir, "rules.cdb", "127.0.0.1:allow,X=\"y\"\n10.:deny\n:allow\n")
	s := start(t, harness.Bin(t, "tcpserver"), dir, baseEnv(), "-v", "-HRl0", "-x", "rules.cdb", "127.0.0.1", "0", "true")
	const clients, each = 4, 25
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		go func() {
			for j := 0; j < each; j++ {
				c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.Port), 10*time.Second)
				if err != nil {
					errs <- err
					return
				}
				c.SetDeadline(time.Now().Add(10 * time.Second))
				_, err = io.ReadAll(c)
				c.Close()
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for i := 0; i < clients; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	waitLog(t, s, `end [0-9]+ status 0`, clients*each)
	// the burst faulted in program pages; the idle trim drops them again
	pid := s.Pid()
	harness.WaitFor(t, 15*time.Second, "idle trim (RssFile at most 512 kB)", func() bool {
		n := harness.StatusKB(pid, "RssFile")
		return n >= 0 && n <= 512
	})
	rss := harness.StatusKB(pid, "VmRSS")
	if rss <= 0 || rss > 3072 {
		t.Errorf("idle VmRSS %d kB after a burst, want at most 3072", rss)
	}
	t.Logf("idle VmRSS %d kB (RssAnon %d, RssFile %d)", rss, harness.StatusKB(pid, "RssAnon"), harness.StatusKB(pid, "RssFile"))
}

// TestServerIPv6RulesMatchAddressThenColonPrefixes: an IPv6 client is
// looked up by its compressed address, then its prefixes cut after each
// colon, as ucspi-tcp-ipv6 does.
func TestServerIPv6RulesMatchAddressThenColonPrefixes(t *testing.T) {
	if !haveIPv6Loopback() {
		t.Skip("no IPv6 loopback")
	}
	tcprules := harness.Bin(t, "tcprules")
	for _, c := range []struct{ rules, want string }{
		{"::1:allow,X=\"exact\"\n:::allow,X=\"prefix\"\n:allow,X=\"default\"\n", "exact"},
		{":::allow,X=\"prefix\"\n:allow,X=\"default\"\n", "prefix"},
		{"::1:deny\n:allow,X=\"default\"\n", ""},
	} {
		dir := t.TempDir()
		cmd := exec.Command(tcprules, dir+"/r.cdb", dir+"/r.tmp")
		cmd.Stdin = strings.NewReader(c.rules)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("tcprules: %v %s", err, out)
		}
		s := start(t, harness.Bin(t, "tcpserver"), dir, baseEnv(), "-HRl0", "-x", "r.cdb", "::1", "0", "sh", "-c", "echo $X")
		conn, err := net.DialTimeout("tcp", "[::1]:"+strconv.Itoa(s.Port), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		got := readAll(t, conn)
		conn.Close()
		want := c.want
		if want != "" {
			want += "\n"
		}
		if got != want {
			t.Errorf("rules %q: program said %q, want %q", c.rules, got, want)
		}
	}
}

// TestServerDenyAndFailureLinesNameOneRealProcess: the pid of the pid,
// deny (or ok) and end lines is the same process, which the kernel knew.
func TestServerDenyAndFailureLinesNameOneRealProcess(t *testing.T) {
	bin := harness.Bin(t, "tcpserver")
	dir := t.TempDir()
	rulesCDB(t, dir, "rules.cdb", "127.0.0.1:deny\n")
	s := start(t, bin, dir, baseEnv(), "-v", "-HRl0", "-x", "rules.cdb", "127.0.0.1", "0", "true")
	for i := 0; i < 5; i++ {
		if got := talk(t, nil, s.Port, ""); got != "" {
			t.Fatalf("denied client read %q", got)
		}
	}
	waitLog(t, s, `end [0-9]+ status 25600`, 5)
	pids := map[string]int{}
	for _, l := range strings.Split(s.Log.String(), "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && (f[1] == "pid" || f[1] == "deny" || f[1] == "end") {
			pids[f[2]]++
		}
	}
	if len(pids) != 5 {
		t.Errorf("want 5 distinct pids, each on pid, deny and end lines: %v\n%s", pids, s.Log.String())
	}
	for p, n := range pids {
		if n != 3 || p == "0" {
			t.Errorf("pid %s on %d lines", p, n)
		}
	}
}

// TestServerRunsProgramAsDirectChildWithLoggedPid: one fork+exec per
// connection, of the program itself: its parent is tcpserver, and the
// pid, ok and end lines carry its own pid.
func TestServerRunsProgramAsDirectChildWithLoggedPid(t *testing.T) {
	s := start(t, harness.Bin(t, "tcpserver"), t.TempDir(), baseEnv(), "-v", "-HRl0", "127.0.0.1", "0", "sh", "-c", "echo $$ $PPID")
	for i := 0; i < 3; i++ {
		f := strings.Fields(talk(t, nil, s.Port, ""))
		if len(f) != 2 {
			t.Fatalf("program printed %q", f)
		}
		if f[1] != strconv.Itoa(s.Pid()) {
			t.Errorf("program's parent is %s, not tcpserver (%d)", f[1], s.Pid())
		}
		for _, re := range []string{`pid ` + f[0] + ` from 127\.0\.0\.1\n`, `ok ` + f[0] + ` `, `end ` + f[0] + ` status 0\n`} {
			waitLog(t, s, re, 1)
		}
	}
}
