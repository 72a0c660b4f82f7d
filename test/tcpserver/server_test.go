package tcpserver

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"tinymx/test/harness"
)

// scenario is one run: server arguments, then clients one after another.
type scenario struct {
	name   string
	rules  string   // rules text for -x rules.cdb ("" for none)
	args   []string // before host port program
	prog   []string // program and args (default ./print)
	from   string   // client address (default 127.0.0.1)
	nconns int      // clients (default 1)
	env    []string // extra environment for the server
}

// run returns the masked client outputs and the masked log after all
// clients are done and their end lines are logged.
func (sc scenario) run(t *testing.T, bin string) (string, string) {
	dir := t.TempDir()
	printScript(t, dir)
	args := append([]string{}, sc.args...)
	if sc.rules != "" {
		rulesCDB(t, dir, "rules.cdb", sc.rules)
	}
	prog := sc.prog
	if prog == nil {
		prog = []string{"./print"}
	}
	args = append(args, "127.0.0.1", "0")
	args = append(args, prog...)
	s := start(t, bin, dir, append(baseEnv(), sc.env...), args...)
	n := sc.nconns
	if n == 0 {
		n = 1
	}
	var local *net.TCPAddr
	if sc.from != "" {
		local = &net.TCPAddr{IP: net.ParseIP(sc.from)}
	}
	var outs []string
	for i := 0; i < n; i++ {
		outs = append(outs, harness.EnvPorts(talk(t, local, s.Port, "")))
		if verbose(sc.args) {
			waitLog(t, s, `end [0-9]+ status`, i+1)
			waitLog(t, s, `status: 0/`, i+2)
		}
	}
	return strings.Join(outs, "--\n"), logMask(s.Port)(s.Log.String())
}

func verbose(args []string) bool {
	v := false
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			for _, c := range a[1:] {
				switch c {
				case 'v':
					v = true
				case 'q', 'Q':
					v = false
				}
			}
		}
	}
	return v
}

func TestServerEnvironmentAndLogMatchC(t *testing.T) {
	cases := []scenario{
		{name: "plain", args: []string{"-v", "-HRl0"}},
		{name: "banner-and-localname", args: []string{"-v", "-HR", "-l", "my.host", "-B", "hello\r\n"}},
		{name: "quiet", args: []string{"-q", "-HRl0"}},
		{name: "errors-only", args: []string{"-Q", "-HRl0"}},
		{name: "limit", args: []string{"-v", "-c", "7", "-HRl0"}},
		{name: "limit-garbage", args: []string{"-v", "-c", "12abc", "-HRl0"}},
		{name: "rule-env", args: []string{"-v", "-HRl0", "-x", "rules.cdb"},
			rules: "127.0.0.1:allow,X1=\"one\",X2=/two/,TCPREMOTEHOST=\"forced.example\"\n:deny\n"},
		{name: "rule-prefix", args: []string{"-v", "-HRl0", "-x", "rules.cdb"},
			rules: "127.0.0.2:deny\n127.:allow,X=\"prefix\"\n"},
		{name: "rule-deny", args: []string{"-v", "-HRl0", "-x", "rules.cdb"},
			rules: "127.0.0.1:deny,X=\"no\"\n"},
		{name: "rule-default-deny", args: []string{"-v", "-HRl0", "-x", "rules.cdb"},
			rules: "10.:allow\n:deny\n"},
		{name: "rule-empty-default", args: []string{"-v", "-HRl0", "-x", "rules.cdb"},
			rules: ":allow,X=\"default\"\n"},
		{name: "rule-from-other-address", args: []string{"-v", "-HRl0", "-x", "rules.cdb"}, from: "127.0.0.9",
			rules: "127.0.0.9:allow,X=\"nine\"\n:deny\n"},
		{name: "missing-cdb", args: []string{"-v", "-HRl0", "-x", "nonexistent.cdb"}},
		{name: "missing-cdb-allowed", args: []string{"-v", "-HRl0", "-X", "-x", "nonexistent.cdb"}},
		{name: "exit-3", args: []string{"-v", "-HRl0"}, prog: []string{"sh", "-c", "exit 3"}},
		{name: "killed", args: []string{"-v", "-HRl0"}, prog: []string{"sh", "-c", "kill -9 $$"}},
		{name: "no-such-program", args: []string{"-v", "-HRl0"}, prog: []string{"./nonexistent"}},
		{name: "not-executable", args: []string{"-v", "-HRl0"}, prog: []string{"/etc/passwd"}},
		{name: "path-search", args: []string{"-v", "-HRl0"}, prog: []string{"echo", "hi"}},
		{name: "three-connections", args: []string{"-v", "-c2", "-HRl0"}, nconns: 3},
		{name: "sanitised-ok-line", args: []string{"-v", "-HR", "-l", "my:h%st " + strings.Repeat("a", 120)}},
		{name: "nodelay-and-options", args: []string{"-v", "-HRl0", "-D", "-o", "-d", "-O", "-P", "-t3"}},
		// what -D and -d do to the socket the program gets, and -b accepted
		{name: "nodelay-set", args: []string{"-v", "-HRl0", "-D"}, prog: nodelayProbe},
		{name: "nodelay-default", args: []string{"-v", "-HRl0"}, prog: nodelayProbe},
		{name: "nodelay-last-wins", args: []string{"-v", "-HRl0", "-D", "-d", "-b5"}, prog: nodelayProbe},
	}
	for _, sc := range cases {
		t.Run(sc.name, func(t *testing.T) { compare(t, sc) })
	}
}

// nodelayProbe prints TCP_NODELAY of the socket on fd 0.
var nodelayProbe = []string{"python3", "-c", "import socket; s = socket.socket(fileno=0); " +
	"print('nodelay', s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0); s.detach()"}

// usageCases are command lines that fail before serving.
var usageCases = [][]string{
	{},
	{"-C"},
	{"-T", "5", "0", "0", "true"},
	{"-c"},
	{"-vq"},
	{"0"},
	{"0", "0"},
	{"-q", "0", "0"},
	{"-q", "-C"},
	{"0", "nosuchport", "true"},
	{"-q", "0", "nosuchport", "true"},
	{"0", "nosuchport"},
	{"1.2.3", "0", "true"},
	{"192.0.2.1", "0", "true"},
	{"-x"},
	{"--", "-v"},
}

func TestServerUsageAndStartupErrorsMatchC(t *testing.T) {
	bins := harness.Pair(t, "tcpserver")
	for _, args := range usageCases {
		bins.Same(t, harness.Job{Args: args, Env: baseEnv()}, nil)
	}
}

// TestServerPortArgumentsMatchC: "" is 0, numbers wrap modulo 65536,
// names come from /etc/services.
func TestServerPortArgumentsMatchC(t *testing.T) {
	bins := harness.Pair(t, "tcpserver")
	for _, port := range []string{"", "65536", "0"} {
		for impl, bin := range bins.All() {
			dir := t.TempDir()
			s := start(t, bin, dir, baseEnv(), "-HRl0", "127.0.0.1", port, "true")
			if s.Port == 0 {
				t.Errorf("%s: port %q gave port 0", impl, port)
			}
		}
	}
}

// TestServerConcurrencyLimitHoldsUnderLoad: with -c 1 a second client is
// accepted only after the first program exits, in both implementations.
func TestServerConcurrencyLimitHoldsUnderLoad(t *testing.T) {
	bins := harness.Pair(t, "tcpserver")
	logs := map[string]string{}
	for impl, bin := range bins.All() {
		dir := t.TempDir()
		s := start(t, bin, dir, baseEnv(), "-v", "-c1", "-HRl0", "127.0.0.1", "0", "sh", "-c", "echo go; read x; echo $x")
		a := dial(t, s.Port)
		expect(t, a, "go\n")
		b := dial(t, s.Port)
		// b is queued in the kernel: its program must not start while a's runs
		b.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if n, _ := b.Read(make([]byte, 10)); n > 0 {
			t.Fatalf("%s: second client served while the limit was reached", impl)
		}
		a.Write([]byte("first\n"))
		expect(t, a, "first\n")
		expect(t, b, "go\n")
		b.Write([]byte("second\n"))
		expect(t, b, "second\n")
		waitLog(t, s, `end [0-9]+ status`, 2)
		waitLog(t, s, `status: 0/1`, 3)
		logs[impl] = logMask(s.Port)(s.Log.String())
	}
	if logs["C"] != logs["Go"] {
		t.Errorf("log differs\nC:\n%s\nGo:\n%s", logs["C"], logs["Go"])
	}
	if !strings.Contains(logs["Go"], "status: 1/1\n") {
		t.Errorf("no status: 1/1 line:\n%s", logs["Go"])
	}
}

// TestServerLimitHeldWithManyClients floods -c 3 with 30 clients at once:
// the status lines never pass 3/3 and every client is served.
func TestServerLimitHeldWithManyClients(t *testing.T) {
	bin := harness.Bin(t, "tcpserver")
	dir := t.TempDir()
	s := start(t, bin, dir, baseEnv(), "-v", "-c3", "-b", "64", "-HRl0", "127.0.0.1", "0", "sh", "-c", "echo ok")
	done := make(chan string, 30)
	for i := 0; i < 30; i++ {
		go func() {
			c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.Port), 10*time.Second)
			if err != nil {
				done <- err.Error()
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			b := make([]byte, 10)
			n, _ := c.Read(b)
			done <- string(b[:n])
		}()
	}
	for i := 0; i < 30; i++ {
		select {
		case got := <-done:
			if got != "ok\n" {
				t.Errorf("client got %q", got)
			}
		case <-time.After(40 * time.Second):
			t.Fatal("clients not served")
		}
	}
	waitLog(t, s, `end [0-9]+ status 0`, 30)
	for _, l := range strings.Split(s.Log.String(), "\n") {
		if strings.HasPrefix(l, "tcpserver: status: ") && !strings.HasSuffix(l, "/3") ||
			strings.Contains(l, "status: 4/") {
			t.Errorf("bad status line %q", l)
		}
	}
}

func dial(t *testing.T, port int) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func expect(t *testing.T, c net.Conn, want string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 0, len(want))
	b := make([]byte, len(want))
	for len(buf) < len(want) {
		n, err := c.Read(b[:len(want)-len(buf)])
		buf = append(buf, b[:n]...)
		if err != nil {
			break
		}
	}
	if string(buf) != want {
		t.Fatalf("read %q, want %q", buf, want)
	}
}

// TestServerSigtermExitsZeroLeavingChildren: SIGTERM ends the server with
// status 0 at once; a running program keeps its connection.
func TestServerSigtermExitsZeroLeavingChildren(t *testing.T) {
	bins := harness.Pair(t, "tcpserver")
	for impl, bin := range bins.All() {
		dir := t.TempDir()
		s := start(t, bin, dir, baseEnv(), "-v", "-HRl0", "127.0.0.1", "0", "sh", "-c", "echo go; read x; echo $x")
		a := dial(t, s.Port)
		expect(t, a, "go\n")
		s.Process.Signal(syscall.SIGTERM)
		if code := s.Wait(t, 10*time.Second).ExitCode(); code != 0 {
			t.Errorf("%s: exit %d after SIGTERM", impl, code)
		}
		a.Write([]byte("still here\n"))
		expect(t, a, "still here\n")
	}
}

// TestServerChildSeesInheritedLimitsAndSignals: RLIMIT_NOFILE and the
// SIGPIPE disposition the program gets are the C server's.
func TestServerChildSeesInheritedLimitsAndSignals(t *testing.T) {
	bins := harness.Pair(t, "tcpserver")
	outs := map[string]string{}
	for impl, bin := range bins.All() {
		dir := t.TempDir()
		s := start(t, bin, dir, baseEnv(), "-HRl0", "127.0.0.1", "0", "sh", "-c",
			"ulimit -n; ulimit -Hn; grep -E '^Sig(Ign|Blk)' /proc/self/status; ls /proc/self/fd | wc -l")
		outs[impl] = talk(t, nil, s.Port, "")
	}
	if outs["C"] != outs["Go"] {
		t.Errorf("child limits differ\nC:\n%s\nGo:\n%s", outs["C"], outs["Go"])
	}
}

// TestServerSwitchesUidAndGid: -u/-g and -U (from $UID/$GID) apply to the
// program as in the C server.
func TestServerSwitchesUidAndGid(t *testing.T) {
	harness.NeedRoot(t)
	bins := harness.Pair(t, "tcpserver")
	for _, args := range [][]string{{"-u", "65534", "-g", "65534"}, {"-U"}, {"-g", "1"}} {
		outs := map[string]string{}
		for impl, bin := range bins.All() {
			dir := t.TempDir()
			os.Chmod(dir, 0o755)
			a := append(append([]string{}, args...), "-HRl0", "127.0.0.1", "0", "id")
			s := start(t, bin, dir, baseEnv("UID=65534", "GID=65533"), a...)
			outs[impl] = talk(t, nil, s.Port, "")
		}
		if outs["C"] != outs["Go"] {
			t.Errorf("%q: id differs\nC: %sGo: %s", args, outs["C"], outs["Go"])
		}
	}
}

// TestServerCorruptRulesDropConnection: a cdb that is not one is an
// error for the connection (111), as in the C server.
func TestServerCorruptRulesDropConnection(t *testing.T) {
	bins := harness.Pair(t, "tcpserver")
	for _, content := range []string{"", "short file, not a cdb"} {
		logs := map[string]string{}
		for impl, bin := range bins.All() {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "bad.cdb"), []byte(content), 0o644)
			s := start(t, bin, dir, baseEnv(), "-v", "-HRl0", "-X", "-x", "bad.cdb", "127.0.0.1", "0", "true")
			talk(t, nil, s.Port, "")
			waitLog(t, s, `end [0-9]+ status`, 1)
			waitLog(t, s, `status: 0/`, 2)
			logs[impl] = logMask(s.Port)(s.Log.String())
		}
		if logs["C"] != logs["Go"] {
			t.Errorf("cdb %q: log differs\nC:\n%s\nGo:\n%s", content, logs["C"], logs["Go"])
		}
	}
}

// TestServerDiesOfSignalsAsC: signals tcpserver does not handle (svc -a's
// SIGALRM, SIGUSR1, SIGUSR2, SIGHUP) end it with their default action, as
// they end the C program; the Go runtime would ignore most of them.
func TestServerDiesOfSignalsAsC(t *testing.T) {
	bins := harness.Pair(t, "tcpserver")
	for _, sig := range []syscall.Signal{syscall.SIGALRM, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGHUP} {
		var res [2]string
		for i, bin := range bins.Both() {
			s := start(t, bin, t.TempDir(), baseEnv(), "-HRl0", "127.0.0.1", "0", "true")
			s.Process.Signal(sig)
			res[i] = s.Wait(t, 10*time.Second).String() + " stderr:" + s.Log.String()
		}
		if res[0] != res[1] {
			t.Errorf("%v: C %q, Go %q", sig, res[0], res[1])
		}
	}
}

// TestServerKeepsServingWhenLogReaderGoes: SIGPIPE is ignored, so a log
// reader that went away costs the log, not the server (as in C).
func TestServerKeepsServingWhenLogReaderGoes(t *testing.T) {
	bins := harness.Pair(t, "tcpserver")
	for impl, bin := range bins.All() {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-1", "-v", "-HRl0", "127.0.0.1", "0", "echo", "hi")
		cmd.Env = baseEnv()
		cmd.Stderr = pw
		s := harness.StartServer(t, cmd)
		pw.Close()
		// the first status line, then nobody reads fd 2 any more
		pr.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := pr.Read(make([]byte, 1)); err != nil {
			t.Fatalf("%s: %v", impl, err)
		}
		pr.Close()
		for i := 0; i < 3; i++ {
			if got := talk(t, nil, s.Port, ""); got != "hi\n" {
				t.Errorf("%s: connection %d after the log reader left got %q", impl, i, got)
			}
		}
	}
}
