package ucspitools

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tinymx/lib/dns/dnstest"
	"tinymx/test/harness"
)

const smtpIn = "HELO x\r\nMAIL FROM:<a>\r\nRCPT TO:<b>\r\nDATA\r\nfoo\r\nnoop\r\nEHLO y\nrset\nQUIT\r\nafter\r\n"

// rblEnv is the environment for an rblsmtpd run against srv.
func rblEnv(t *testing.T, dnsIP string, extra ...string) []string {
	return append([]string{
		"TCPREMOTEIP=1.2.3.4",
		"DNSCACHEIP=" + dnsIP,
		"DNSREWRITEFILE=" + filepath.Join(t.TempDir(), "none"),
	}, extra...)
}

func TestRblsmtpdRblsmtpdVariableMatchesC(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"you are blocked", "-go away", "", "-", "tab\there\x01\x7f", strings.Repeat("long ", 60)} {
		c, g := harness.Pair(t, "rblsmtpd").Run(t, job([]byte(smtpIn), []string{"TCPREMOTEIP=1.2.3.4", "RBLSMTPD=" + v}, "echo", "ran"))
		harness.Same(t, "RBLSMTPD="+v, c, g, harness.Pids)
	}
	c, g := harness.Pair(t, "rblsmtpd").Run(t, job([]byte(smtpIn), []string{"RBLSMTPD=no ip"}, "echo", "ran"))
	harness.Same(t, "no TCPREMOTEIP", c, g, harness.Pids)
}

func TestRblsmtpdTimeoutZeroWritesOnlyTheRefusal(t *testing.T) {
	t.Parallel()
	c, g := harness.Pair(t, "rblsmtpd").Run(t, job([]byte(smtpIn), []string{"TCPREMOTEIP=1.2.3.4", "RBLSMTPD=-go away"}, "-t", "0", "cat"))
	harness.Same(t, "-t 0", c, g, harness.Pids)
	if g.Stdout != "553 go away\r\n" {
		t.Errorf("-t 0 wrote %q", g.Stdout)
	}
}

func TestRblsmtpdConversationEdgeCasesMatchC(t *testing.T) {
	t.Parallel()
	inputs := []string{
		"",
		"helo",                         // partial last line
		"\r\n\n \r\nHELO\x00x\r\nquit", // empty lines, NUL, partial quit
		"QUIT extra words\r\n",
		"quit\r\r\n",
		"MAIL\tFROM:<a>\r\nrcpt to:<x>\r\n" + strings.Repeat("y", 3000) + "\r\nQuIt\n",
	}
	for _, in := range inputs {
		c, g := harness.Pair(t, "rblsmtpd").Run(t, job([]byte(in), []string{"TCPREMOTEIP=10.0.0.1", "RBLSMTPD=blocked"}, "true"))
		harness.Same(t, "conversation "+strings.ToValidUTF8(in[:min(len(in), 20)], "?"), c, g, harness.Pids)
	}
}

func TestRblsmtpdUsageMatchesC(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{}, {"-x"}, {"-t"}, {"-R", "true"}, {"--"}, {"-b"}, {"/nonexistent/smtpd"}} {
		c, g := harness.Pair(t, "rblsmtpd").Run(t, job(nil, nil, args...))
		harness.Same(t, "rblsmtpd "+strings.Join(args, " "), c, g, nil)
	}
}

// sgetopt ends the options at any word starting with "--" ("--x" too) and
// drops it; "-b--x" is still an illegal option "-".
func TestRblsmtpdDoubleDashWordEndsOptionsAsSgetopt(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--x", "echo", "hi"}, {"-b", "--x", "echo", "hi"}, {"-b--x", "echo"},
		{"-t", "--x", "echo", "hi"}, {"--", "--x"}, {"---", "echo", "-b"}} {
		c, g := harness.Pair(t, "rblsmtpd").Run(t, job(nil, []string{"RBLSMTPD="}, args...))
		harness.Same(t, "rblsmtpd "+strings.Join(args, " "), c, g, nil)
	}
}

// sgetopt's own line names the program after argv[0]; rblsmtpd's usage
// line always says rblsmtpd.
func TestRblsmtpdOptionErrorNamesArgv0AsSgetopt(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"myrbl", "/x/y/other", "", "dir/"} {
		j := harness.Job{Args: []string{"-x", "true"}, Argv0: name}
		c, g := harness.Pair(t, "rblsmtpd").Run(t, j)
		harness.Same(t, "rblsmtpd as "+name, c, g, nil)
	}
}

func TestRblsmtpdLookupsMatchC(t *testing.T) {
	t.Parallel()
	harness.NeedRoot(t)
	srv := dnstest.StartFree(t)
	srv.AddTXT("4.3.2.1.rbl.test", "listed: see ", "http://rbl.test/1.2.3.4")
	srv.AddTXT("4.3.2.1.other.test", "other list")
	srv.AddA("4.3.2.1.anti.test", "127.0.0.2")
	srv.AddTXT("4.3.2.1.odd.test", "bad\x01byte\xff"+strings.Repeat("!", 300))
	srv.AddTXT("4.3.2.1.big.test", strings.Repeat("long answer ", 100))
	srv.Truncate("4.3.2.1.big.test") // both clients must retry over TCP
	cases := [][]string{
		{"-r", "rbl.test"},
		{"-b", "-r", "rbl.test"},
		{"-r", "rbl.test", "-b"},
		{"-a", "anti.test", "-r", "rbl.test"},
		{"-r", "rbl.test", "-a", "anti.test"},
		{"-r", "clean.test"},
		{"-r", "clean.test", "-r", "other.test"},
		{"-b", "-r", "odd.test"},
		{"-a", "missing.test", "-r", "rbl.test"},
		{"-B", "-C", "-t5", "-r", "rbl.test"},
		{"-r", "big.test"},
		{},
	}
	for _, args := range cases {
		full := append(append([]string{}, args...), "echo", "ran")
		c, g := harness.Pair(t, "rblsmtpd").Run(t, job([]byte(smtpIn), rblEnv(t, srv.IP()), full...))
		harness.Same(t, "rblsmtpd "+strings.Join(args, " "), c, g, harness.Pids)
	}
}

// A dead or failing server makes both clients wait out djb's retry rounds
// (about 11 s), so every run of this test starts at once.
func TestRblsmtpdLookupFailuresMatchC(t *testing.T) {
	t.Parallel()
	harness.NeedRoot(t)
	// nothing listens on the test's own address: ICMP port unreachable
	// (an address a DNS server had is free for another test to take)
	deadIP := harness.Loopback(t)
	srv := dnstest.StartFree(t)
	srv.Fail("4.3.2.1.rbl.test")
	srv.Fail("4.3.2.1.anti.test")
	srv.AddTXT("4.3.2.1.b.test", "listed")
	type tc struct {
		ip   string
		args []string
	}
	cases := []tc{
		{deadIP, []string{"-c", "-r", "rbl.test"}},
		{deadIP, []string{"-r", "rbl.test"}},
		{deadIP, []string{"-c", "-a", "anti.test"}},
		{srv.IP(), []string{"-c", "-r", "rbl.test"}},
		{srv.IP(), []string{"-b", "-r", "rbl.test", "-r", "b.test"}},
		{srv.IP(), []string{"-a", "anti.test", "-r", "b.test"}},
	}
	rbl := harness.Pair(t, "rblsmtpd")
	var pending [][2]func() harness.Result
	for _, c := range cases {
		full := append(append([]string{}, c.args...), "echo", "ran")
		j := job([]byte(smtpIn), rblEnv(t, c.ip), full...)
		pending = append(pending, [2]func() harness.Result{j.Start(t, rbl.C), j.Start(t, rbl.Go)})
	}
	for i, p := range pending {
		c, g := p[0](), p[1]()
		what := "DNS " + cases[i].ip + ": rblsmtpd " + strings.Join(cases[i].args, " ")
		harness.Same(t, what, c, g, harness.Pids)
	}
}

func TestRblsmtpdLooksUpIPv6ClientsInNibbleForm(t *testing.T) {
	t.Parallel()
	harness.NeedRoot(t)
	srv := dnstest.StartFree(t)
	srv.AddTXT(dnstest.ReverseName("2001:db8::1")[:64]+"rbl.test", "v6 listed")
	srv.AddTXT("4.3.2.1.rbl.test", "v4 listed")
	for ip, want := range map[string]string{"2001:db8::1": "451 v6 listed", "::ffff:1.2.3.4": "451 v4 listed", "2001:db8::2": ""} {
		env := append(rblEnv(t, srv.IP()), "TCPREMOTEIP="+ip)
		r := job([]byte("QUIT\r\n"), env, "-t0", "-r", "rbl.test", "echo", "ran").Run(t, harness.Bin(t, "rblsmtpd"))
		got := strings.TrimSuffix(r.Stdout, "\r\n")
		if want == "" {
			want = "ran\n"
			got = r.Stdout
		}
		if got != want || r.Code != 0 {
			t.Errorf("TCPREMOTEIP=%s: %q exit %d, want %q", ip, r.Stdout, r.Code, want)
		}
		if want != "ran\n" && !strings.Contains(r.Stderr, "rblsmtpd: "+ip+" pid ") {
			t.Errorf("log line %q does not show the raw address", r.Stderr)
		}
	}
}

func TestRblsmtpdGarbageTimeoutMeansZeroAsC(t *testing.T) {
	t.Parallel()
	c, g := harness.Pair(t, "rblsmtpd").Run(t, job([]byte(smtpIn), []string{"TCPREMOTEIP=1.2.3.4", "RBLSMTPD=blocked"}, "-tabc", "true"))
	harness.Same(t, "-tabc", c, g, harness.Pids)
}

func TestRblsmtpdConversationEndsSilentlyAfterTimeout(t *testing.T) {
	t.Parallel()
	for _, p := range harness.Pair(t, "rblsmtpd").Both() {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		w.Write([]byte("HELO x\r\nRCPT TO:<a>\r\n")) // then nothing, and no EOF
		cmd := exec.Command(p, "-t", "1", "true")
		cmd.Stdin = r
		cmd.Env = []string{"TCPREMOTEIP=1.2.3.4", "RBLSMTPD=blocked"}
		start := time.Now()
		res := harness.Run(t, 10*time.Second, cmd)
		r.Close()
		if res.Code != 0 || res.Stdout != "220 rblsmtpd.local\r\n250 rblsmtpd.local\r\n451 blocked\r\n" {
			t.Errorf("%s: exit %d, output %q", p, res.Code, res.Stdout)
		}
		if d := time.Since(start); d < 900*time.Millisecond {
			t.Errorf("%s: ended after %v, before its timeout", p, d)
		}
	}
}
