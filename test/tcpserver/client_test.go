package tcpserver

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"tinymx/lib/dns/dnstest"
	"tinymx/test/harness"
)

// echoServer accepts connections on 127.0.0.1 and writes greeting to each.
func echoServer(t *testing.T, greeting string) int {
	t.Helper()
	l := harness.Listen(t, "127.0.0.1:0")
	harness.Serve(t, l, func(c net.Conn) { c.Write([]byte(greeting)) })
	return l.Addr().(*net.TCPAddr).Port
}

// runClient runs one tcpclient and masks the ports of the environment it
// printed and port (unless 0).
func runClient(t *testing.T, bin string, env []string, port int, args ...string) harness.Result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	m := harness.EnvPorts
	if port > 0 {
		m = harness.Masks(m, harness.Port(port))
	}
	return harness.Run(t, 30*time.Second, cmd).Masked(m)
}

const clientEnvScript = `env | grep -E '^(TCP|PROTO)'; cat <&6; ls -l /proc/$$/fd | sed -n 's/.* \([67]\) -> socket:.*/\1 socket/p'`

// TestClientEnvironmentAndMessagesMatchC: tcpclient against a local
// server: the environment (order included), fds 6 and 7, -v, errors.
func TestClientEnvironmentAndMessagesMatchC(t *testing.T) {
	harness.NeedRoot(t)
	d := dnstest.StartFree(t)
	d.AddPTR("127.0.0.1", "loop.example")
	d.AddA("srv.example", "127.0.0.1")
	d.AddA("two.example", "127.0.0.1")
	d.AddA("two.example", "127.0.0.1")
	env := baseEnv("DNSCACHEIP="+d.IP(), "LOCALDOMAIN=")
	port := echoServer(t, "greeting\n")
	p := strconv.Itoa(port)
	bins := harness.Pair(t, "tcpclient")
	cases := [][]string{
		{"-HRl0", "127.0.0.1", p, "sh", "-c", clientEnvScript},
		{"-v", "-R", "127.0.0.1", p, "sh", "-c", clientEnvScript},
		{"-v", "-R", "-i", "127.0.0.7", "127.0.0.1", p, "sh", "-c", clientEnvScript},
		{"-R", "-l", "", "-D", "0", p, "sh", "-c", clientEnvScript},
		{"-HR", "srv.example", p, "sh", "-c", clientEnvScript},
		{"-HR", "-T", "3+4", "two.example", p, "sh", "-c", clientEnvScript},
		{"-HRl0", "nonexistent.example", p, "true"},
		{"-HRl0", "1.2.3", p, "true"},
		{"-v", "-HRl0", "127.0.0.1", "1", "true"},
		{"-q", "-HRl0", "127.0.0.1", "1", "true"},
		{"-HRl0", "127.0.0.1", "nosuchport", "true"},
		{"-HRl0", "127.0.0.1", p, "./nonexistent"},
		{"-HRl0", "127.0.0.1", p},
		{"-HRl0", "127.0.0.1"},
		{},
		{"-q"},
		{"-X"},
		{"-i", "nonsense", "127.0.0.1", p, "true"},
		{"-i", "127.0.0.1xyz", "-HRl0", "127.0.0.1", p, "true"},
		{"-t"},
	}
	for _, args := range cases {
		c := runClient(t, bins.C, env, port, args...)
		g := runClient(t, bins.Go, env, port, args...)
		harness.Same(t, fmt.Sprintf("tcpclient %q", args), c, g, nil)
	}
}

// TestClientAndServerInteroperate: Go client with C server and C client
// with Go server see the same environments on both sides.
func TestClientAndServerInteroperate(t *testing.T) {
	servers := harness.Pair(t, "tcpserver")
	clients := harness.Pair(t, "tcpclient")
	results := map[string]harness.Result{}
	for sv, server := range servers.All() {
		for cl, client := range clients.All() {
			dir := t.TempDir()
			printScript(t, dir)
			s := start(t, server, dir, baseEnv(), "-HRl0", "127.0.0.1", "0", "./print")
			out := runClient(t, client, baseEnv(), s.Port, "-HRl0", "127.0.0.1", strconv.Itoa(s.Port), "sh", "-c", "cat <&6; env | grep -E '^(TCP|PROTO)' | sort")
			results[sv+"/"+cl] = out
		}
	}
	for k, v := range results {
		if v != results["C/C"] {
			t.Errorf("server/client %s:\n%v\nC/C:\n%v", k, v, results["C/C"])
		}
	}
}

// TestClientOverIPv6SetsTCP6: an IPv6 literal connects over IPv6, with
// ucspi-tcp-ipv6's PROTO=TCP6.
func TestClientOverIPv6SetsTCP6(t *testing.T) {
	if !haveIPv6Loopback() {
		t.Skip("no IPv6 loopback")
	}
	l := harness.Listen(t, "[::1]:0")
	harness.Serve(t, l, func(net.Conn) {})
	port := l.Addr().(*net.TCPAddr).Port
	got := runClient(t, harness.Bin(t, "tcpclient"), baseEnv(), port, "-v", "-HRl0", "::1", strconv.Itoa(port), "sh", "-c", "env | grep -E '^(TCP|PROTO)' | sort")
	want := harness.Result{Stdout: "PROTO=TCP6\nTCPLOCALHOST=0\nTCPLOCALIP=::1\nTCPLOCALPORT=P\nTCPREMOTEIP=::1\nTCPREMOTEPORT=P\n",
		Stderr: "tcpclient: connected to ::1 port PORT\n"}
	if got != want {
		t.Errorf("got\n%v\nwant\n%v", got, want)
	}
}

// localPort masks the local port the program below prints.
var localPort = harness.Replace(regexp.MustCompile(`local=[0-9]+`), "local=P")

// TestClientIdentLocalPortAndTimeoutMatchC: -r asks the server's ident
// port (TCPREMOTEINFO, -t bounding it), -p binds the local port, and a
// connection that times out (-T) is reported as the C program does.
func TestClientIdentLocalPortAndTimeoutMatchC(t *testing.T) {
	harness.NeedRoot(t)
	srv := harness.Loopback(t) // its ident server is on port 113
	l, err := net.Listen("tcp", srv+":0")
	if err != nil {
		t.Skip(err)
	}
	harness.Serve(t, l, func(net.Conn) {})
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	identd(t, srv, "% : USERID : UNIX : server user\r\n")
	full := strconv.Itoa(fullListener(t))
	bins := harness.Pair(t, "tcpclient")
	show := `echo "${TCPREMOTEINFO-unset} local=$TCPLOCALPORT"`
	for _, args := range [][]string{
		{"-Hl0", srv, port, "sh", "-c", show},
		{"-Hl0", "-t3", srv, port, "sh", "-c", show},
		{"-Hl0", "-r", "-R", srv, port, "sh", "-c", show},
		{"-Hl0", "-R", "-r", "127.0.0.1", strconv.Itoa(echoServer(t, "")), "sh", "-c", show},
		{"-HRl0", "-T1", "127.0.0.1", full, "true"},
		{"-HRl0", "-T0+1", "127.0.0.1", full, "true"},
	} {
		c := runClient(t, bins.C, baseEnv(), 0, args...)
		g := runClient(t, bins.Go, baseEnv(), 0, args...)
		harness.Same(t, fmt.Sprintf("tcpclient %q", args), c, g, localPort)
		if args[len(args)-2] == full && !strings.Contains(g.Stderr, "port "+full+": timed out\n") {
			t.Errorf("tcpclient %q did not time out:\n%v", args, g)
		}
	}
	// -p: the program sees the local port it asked for, bound on srv (-i),
	// the test's own address, where no other test can take the port first
	for impl, bin := range bins.All() {
		lp := harness.FixedPort(t, srv)
		got := runClient(t, bin, baseEnv(), 0, "-HRl0", "-i", srv, "-p", strconv.Itoa(lp), srv, port, "sh", "-c", show)
		if !strings.Contains(got.Stdout, "local="+strconv.Itoa(lp)+"\n") {
			t.Errorf("%s -p %d:\n%v", impl, lp, got)
		}
	}
}

// fullListener is a 127.0.0.1 port whose accept queue is full, so that a
// further connection attempt gets no answer and times out.
func fullListener(t *testing.T) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	port := sa.(*syscall.SockaddrInet4).Port
	for i := 0; i < 2; i++ {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 300*time.Millisecond)
		if err != nil {
			break
		}
		t.Cleanup(func() { c.Close() })
	}
	return port
}

// TestClientRunsProgramWhenStderrIsABrokenPipe: SIGPIPE is ignored until
// the program runs (at its default again), as in the C tcpclient: the -v
// line to a reader that left does not stop the connection.
func TestClientRunsProgramWhenStderrIsABrokenPipe(t *testing.T) {
	port := strconv.Itoa(echoServer(t, "greeting\n"))
	bins := harness.Pair(t, "tcpclient")
	var res [2]string
	for i, bin := range bins.Both() {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		pr.Close()
		cmd := exec.Command(bin, "-v", "-HRl0", "127.0.0.1", port, "sh", "-c",
			"cat <&6; grep '^SigIgn' /proc/self/status; exit 7")
		cmd.Env = baseEnv()
		cmd.Stderr = pw
		r := harness.Run(t, 30*time.Second, cmd)
		pw.Close()
		res[i] = r.Stdout + strconv.Itoa(r.Code)
	}
	if res[0] != res[1] {
		t.Errorf("C %q, Go %q", res[0], res[1])
	}
}
