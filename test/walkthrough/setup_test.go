// Package walkthrough runs the qmail-smtpd-conf walk-through end to end:
// qmail-smtpd-conf, add-relayclient, make, svscan, svstat, the log, and
// real SMTP clients, with nothing but tinymx programs (or, in the mixed
// tests, some C originals swapped in).
package walkthrough

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"tinymx/test/harness"
)

// Accounts the walk-through runs the service as; made with useradd -r.
const (
	acct    = "tinymxd"
	logacct = "tinymxl"
)

// service is one walk-through tree: a qmail home, a service directory D
// linked into a scan directory, and the address and port it listens on.
type service struct {
	t     *testing.T
	bin   string
	home  string // $QMAILHOME
	D     string
	scan  string
	ip    string // the test's own: qmail-smtpd-conf's service binds a fixed port
	port  int
	env   []string // PATH with ./bin first, QMAILHOME
	svscn *harness.Proc
}

func ensureAccount(t *testing.T, name string) {
	t.Helper()
	if exec.Command("id", name).Run() == nil {
		return
	}
	out, err := exec.Command("useradd", "-r", "-M", "-d", "/nonexistent", "-s", "/usr/sbin/nologin", name).CombinedOutput()
	if err != nil && exec.Command("id", name).Run() != nil {
		t.Fatalf("useradd %s: %v %s", name, err, out)
	}
}

// newService performs the walk-through's set-up steps up to make.
func newService(t *testing.T) *service {
	t.Helper()
	harness.NeedRoot(t)
	ensureAccount(t, acct)
	ensureAccount(t, logacct)
	bin := filepath.Dir(harness.Bin(t, "qmail-smtpd-conf"))
	base := t.TempDir()
	// the service accounts must reach their files below the temp dir,
	// which the testing package makes 0700 at two levels
	os.Chmod(base, 0755)
	os.Chmod(filepath.Dir(base), 0755)
	s := &service{t: t, bin: bin, home: filepath.Join(base, "qmail"), scan: filepath.Join(base, "service"),
		D: filepath.Join(base, "var", "smtpd"), ip: harness.Loopback(t)}
	s.port = harness.FixedPort(t, s.ip)
	must(t, os.MkdirAll(filepath.Join(s.home, "control"), 0755))
	must(t, os.WriteFile(filepath.Join(s.home, "control/me"), []byte("mx.example.net\n"), 0644))
	must(t, os.WriteFile(filepath.Join(s.home, "control/rcpthosts"), []byte("example.net\n"), 0644))
	must(t, os.WriteFile(filepath.Join(s.home, "control/smtpdport"), []byte(strconv.Itoa(s.port)+"\n"), 0644))
	must(t, os.MkdirAll(s.scan, 0755))
	s.env = append(os.Environ(), "PATH="+bin+":/usr/sbin:/usr/bin:/sbin:/bin", "QMAILHOME="+s.home)
	s.run(5*time.Second, "", filepath.Join(bin, "qmail-smtpd-conf"), acct, logacct, s.D, s.ip)
	// clients connect from 127.0.0.1, the source address of 127.0.0.0/8
	s.run(5*time.Second, s.D, "./add-relayclient", "127.0.0.1")
	s.run(10*time.Second, s.D, "make")
	return s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// run runs a command in dir and fails the test unless it exits 0.
func (s *service) run(timeout time.Duration, dir string, argv ...string) {
	s.t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = s.env
	r := harness.Run(s.t, timeout, cmd)
	if r.Code != 0 {
		s.t.Fatalf("%q: %v", argv, r)
	}
}

// start links D into the scan directory and starts svscan (ours, or the
// one at svscanPath with PATH set so that it finds its own supervise).
func (s *service) start(svscanPath, pathFirst string) {
	s.t.Helper()
	must(s.t, os.Symlink(s.D, filepath.Join(s.scan, "smtpd")))
	cmd := exec.Command(svscanPath, s.scan)
	cmd.Env = append(os.Environ(), "PATH="+pathFirst+":/usr/sbin:/usr/bin:/sbin:/bin")
	s.svscn = harness.Start(s.t, cmd)
	s.t.Cleanup(s.stop)
	harness.WaitFor(s.t, 15*time.Second, "tcpserver accepting on port "+strconv.Itoa(s.port), func() bool {
		c, err := net.DialTimeout("tcp", s.addr(), time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

// stop takes the tree down as an administrator would: svc -dx both, then
// svscan goes with the test's process group.
func (s *service) stop() {
	svc := filepath.Join(s.bin, "svc")
	exec.Command(svc, "-dx", filepath.Join(s.scan, "smtpd"), filepath.Join(s.scan, "smtpd/log")).Run()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && (s.ok("") || s.ok("/log")) {
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *service) ok(sub string) bool {
	return exec.Command(filepath.Join(s.bin, "svok"), filepath.Join(s.scan, "smtpd")+sub).Run() == nil
}

func (s *service) addr() string { return net.JoinHostPort(s.ip, strconv.Itoa(s.port)) }

var svstatUp = regexp.MustCompile(`^(\S+): up \(pid (\d+)\) \d+ seconds$`)

// pids runs svstat on the service and its logger and returns both pids,
// or nil when either is not up.
func (s *service) pids() []int {
	out, _ := exec.Command(filepath.Join(s.bin, "svstat"), filepath.Join(s.scan, "smtpd"),
		filepath.Join(s.scan, "smtpd/log")).Output()
	var pids []int
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		m := svstatUp.FindStringSubmatch(line)
		if m == nil {
			return nil
		}
		pid, _ := strconv.Atoi(m[2])
		pids = append(pids, pid)
	}
	if len(pids) != 2 {
		return nil
	}
	return pids
}

// log is log/main/current through tai64nlocal.
func (s *service) log() string {
	cur, err := os.ReadFile(filepath.Join(s.D, "log/main/current"))
	if err != nil {
		return ""
	}
	cmd := exec.Command(filepath.Join(s.bin, "tai64nlocal"))
	cmd.Stdin = bytes.NewReader(cur)
	out, _ := cmd.Output()
	return string(out)
}

// maildir lists the messages delivered to D/maildir/new.
func (s *service) maildir() []string {
	ents, _ := os.ReadDir(filepath.Join(s.D, "maildir/new"))
	var names []string
	for _, e := range ents {
		names = append(names, filepath.Join(s.D, "maildir/new", e.Name()))
	}
	return names
}

// swaks sends one message and returns its transcript and exit code.
func (s *service) swaks(args ...string) (string, int) {
	s.t.Helper()
	swaks := harness.Peer(s.t, "swaks")
	argv := append([]string{"--server", s.ip, "--port", strconv.Itoa(s.port), "--timeout", "20"}, args...)
	r := harness.Run(s.t, 30*time.Second, exec.Command(swaks, argv...))
	return r.Stdout + r.Stderr, r.Code
}

// children maps each pid to its parent's, from /proc.
func children() map[int][]int {
	kids := map[int][]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// the command name may hold spaces and parens: fields follow the last ')'
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) > 2 {
			ppid, _ := strconv.Atoi(f[1])
			kids[ppid] = append(kids[ppid], pid)
		}
	}
	return kids
}

// tree lists pid and all its descendants.
func tree(pid int) []int {
	kids := children()
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, kids[out[i]]...)
	}
	return out
}
