package smtpdserver

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"tinymx/test/harness"
)

// TestPortAndLimitDefaultToSmtpdportAndMaxclients: with no port operand
// and no -c, control/smtpdport and control/maxclients decide.
func TestPortAndLimitDefaultToSmtpdportAndMaxclients(t *testing.T) {
	h := home(t)
	// the server is told its port: on an address of the test's own, where
	// no other test (or suite running beside this one) can take it first
	ip := harness.Loopback(t)
	port := harness.FixedPort(t, ip)
	write(t, h+"/control/smtpdport", strconv.Itoa(port)+"\n")
	write(t, h+"/control/maxclients", "7\n")
	log := &harness.Output{}
	cmd := exec.Command(harness.Bin(t, "qmail-smtpd-server"), "-v", "-HR", "-l", "mx.example.org", ip)
	cmd.Env = baseEnv(h)
	cmd.Stderr = log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); <-done })
	harness.WaitFor(t, 20*time.Second, "status: 0/7 in the log", func() bool { return strings.Contains(log.String(), "status: 0/7\n") })
	c := dial(t, net.JoinHostPort(ip, strconv.Itoa(port)))
	c.Expect("220 mx.example.org ESMTP")
}

// TestBannerAndDashU: -B writes its banner before the greeting, and -U
// takes the account from $UID and $GID (as envuidgid sets them).
func TestBannerAndDashU(t *testing.T) {
	harness.NeedRoot(t)
	h := home(t)
	os.Chmod(h[:strings.LastIndexByte(h, '/')], 0755)
	os.Chmod(h, 0755)
	env := []string{"QMAILHOME=" + h, "UID=65534", "GID=65534"}
	srv := startServer(t, harness.Bin(t, "qmail-smtpd-server"), env, "-1", "-U", "-HR", "-l", "mx.example.org", "-B", "hello\r\n", "127.0.0.1", "0")
	st, err := os.ReadFile("/proc/" + strconv.Itoa(srv.cmd.Process.Pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^Uid:\t65534\t65534\t65534\t65534$`).Match(st) || !regexp.MustCompile(`(?m)^Gid:\t65534\t65534\t65534\t65534$`).Match(st) {
		t.Errorf("-U did not switch to 65534:\n%s", st)
	}
	c, err := net.DialTimeout("tcp", srv.addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(harness.Patience))
	r := bufio.NewReader(c)
	for _, want := range []string{"hello\r\n", "220 mx.example.org ESMTP\r\n"} {
		if l, _ := r.ReadString('\n'); l != want {
			t.Fatalf("read %q, want %q", l, want)
		}
	}
}
