package smtpdserver

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"tinymx/test/harness"
)

// TestDialogsAgainstTheServer runs every transcript of test/smtpdialog
// against qmail-smtpd-server, one server per dialog, so that the daemon
// and the per-connection qmail-smtpd cannot drift apart. The dialog's TCP*
// variables reach the session as a rule's variables (a rule's value wins
// over the socket's, as with tcpserver); its exit status is the one the
// server logs on its end line. The runner is test/smtpdialog's, duplicated
// here so as to read those files unchanged.
func TestDialogsAgainstTheServer(t *testing.T) {
	bin := harness.Bin(t, "qmail-smtpd-server")
	files, _ := filepath.Glob(filepath.Join(harness.Root(), "test/smtpdialog/testdata/*.dialog"))
	if len(files) == 0 {
		t.Fatal("no dialogs")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".dialog"), func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			runDialog(t, bin, string(src))
		})
	}
}

func dialogHome(t *testing.T) (string, map[string]string) {
	dir := t.TempDir()
	os.MkdirAll(dir+"/control", 0755)
	os.MkdirAll(dir+"/qq", 0755)
	os.WriteFile(dir+"/control/me", []byte("mx.example.org\n"), 0644)
	os.WriteFile(dir+"/control/rcpthosts", []byte("example.org\n.example.org\n"), 0644)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"PATH":        os.Getenv("PATH"),
		"QMAILHOME":   dir,
		"QMAILQUEUE":  self,
		"FAKEQQ_DIR":  dir + "/qq",
		"TCPREMOTEIP": "192.0.2.7",
		"TCPLOCALIP":  "192.0.2.1",
	}
	return dir, env
}

var numRE = regexp.MustCompile(`<[TP]>`)

func expectRE(lines []string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`\A`)
	for _, l := range lines {
		parts := numRE.Split(l, -1)
		for i, p := range parts {
			if i > 0 {
				b.WriteString(`[0-9]+`)
			}
			b.WriteString(regexp.QuoteMeta(p))
		}
		b.WriteString(`\r\n`)
	}
	b.WriteString(`\z`)
	return regexp.MustCompile(b.String())
}

const dateRE = `[1-9][0-9]? (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} -0000`

var endRE = regexp.MustCompile(`qmail-smtpd-server: end 1 status ([0-9]+)\n`)

func runDialog(t *testing.T, bin, src string) {
	dir, env := dialogHome(t)
	var input []byte
	var want []string
	hold := false
	var checks []func(code int)
	for n, line := range strings.Split(src, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch verb {
		case "env":
			k, v, _ := strings.Cut(arg, "=")
			env[k] = v
		case "unset":
			if strings.HasPrefix(arg, "TCP") {
				// A session on a socket always has its addresses.
				t.Skipf("the dialog unsets %s, which a socket always sets", arg)
			}
			delete(env, arg)
		case "file":
			name, text, _ := strings.Cut(arg, " ")
			p := filepath.Join(dir, name)
			os.MkdirAll(filepath.Dir(p), 0755)
			if err := os.WriteFile(p, unescape(t, text), 0644); err != nil {
				t.Fatal(err)
			}
		case "patch":
			f := strings.Fields(arg)
			if len(f) != 3 {
				t.Fatalf("line %d: patch FILE OFFSET BYTES", n+1)
			}
			off, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatalf("line %d: %v", n+1, err)
			}
			fh, err := os.OpenFile(filepath.Join(dir, f[0]), os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			_, err = fh.WriteAt(unescape(t, f[2]), off)
			if cerr := fh.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatal(err)
			}
		case "rm":
			os.Remove(filepath.Join(dir, arg))
		case "chmod":
			name, mode, _ := strings.Cut(arg, " ")
			m, _ := strconv.ParseUint(mode, 8, 32)
			os.Chmod(filepath.Join(dir, name), os.FileMode(m))
		case "touch":
			name, ago, _ := strings.Cut(arg, " ")
			d, err := time.ParseDuration(strings.TrimPrefix(ago, "-"))
			if err != nil {
				t.Fatalf("line %d: %v", n+1, err)
			}
			old := time.Now().Add(-d)
			os.Chtimes(filepath.Join(dir, name), old, old)
		case "mkfifo":
			p := filepath.Join(dir, arg)
			os.Remove(p)
			if err := syscall.Mkfifo(p, 0644); err != nil {
				t.Fatal(err)
			}
		case "writer":
			f, err := os.OpenFile(filepath.Join(dir, arg), os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
		case "run":
			ctx, cancel := context.WithTimeout(context.Background(), harness.Patience)
			cmd := exec.CommandContext(ctx, harness.Bin(t, arg))
			cmd.Env = []string{"QMAILHOME=" + dir}
			out, err := cmd.CombinedOutput()
			cancel()
			if err != nil {
				t.Fatalf("%s: %v: %s", arg, err, out)
			}
		case "C:":
			input = append(input, arg...)
			input = append(input, '\r', '\n')
		case "R:":
			input = append(input, unescape(t, arg)...)
		case "S:":
			want = append(want, arg)
		case "hold":
			hold = true
		case "exit":
			wantCode, _ := strconv.Atoi(arg)
			checks = append(checks, func(code int) {
				if code != wantCode {
					t.Errorf("exit %d, want %d", code, wantCode)
				}
			})
		case "queued":
			wantN, _ := strconv.Atoi(arg)
			checks = append(checks, func(int) {
				got, _ := filepath.Glob(dir + "/qq/msg.*")
				if len(got) != wantN {
					t.Errorf("%d messages queued, want %d", len(got), wantN)
				}
			})
		case "msg", "envelope":
			prefix := map[string]string{"msg": "msg.", "envelope": "env."}[verb]
			exp := string(unescape(t, arg))
			checks = append(checks, func(int) {
				got := lastFile(t, dir+"/qq", prefix)
				if verb == "msg" {
					parts := strings.Split(exp, "<DATE>")
					for i := range parts {
						parts[i] = regexp.QuoteMeta(parts[i])
					}
					if !regexp.MustCompile(`\A` + strings.Join(parts, dateRE) + `\z`).Match(got) {
						t.Errorf("message %q\nwant %q", got, exp)
					}
				} else if string(got) != exp {
					t.Errorf("envelope %q, want %q", got, exp)
				}
			})
		case "qenv":
			checks = append(checks, func(int) {
				got := lastFile(t, dir+"/qq", "environ.")
				if !bytes.Contains(append([]byte("\n"), got...), []byte("\n"+arg+"\n")) {
					t.Errorf("queue environment lacks %q", arg)
				}
			})
		default:
			t.Fatalf("line %d: unknown directive %q", n+1, line)
		}
	}

	// The dialog's TCP* variables become the rule's; the rest is the
	// server's own environment. -l gives TCPLOCALHOST the value the
	// Received line would take from TCPLOCALIP when the dialog has none.
	local := env["TCPLOCALIP"]
	if h, ok := env["TCPLOCALHOST"]; ok {
		local = h
	}
	rule := "127.0.0.1:allow"
	var srvEnv []string
	for k, v := range env {
		if strings.HasPrefix(k, "TCP") {
			rule += "," + k + "=\"" + v + "\""
			continue
		}
		srvEnv = append(srvEnv, k+"="+v)
	}
	if os.Getuid() == 0 {
		srvEnv = append(srvEnv, "QMAIL_SMTPD_ROOT=1")
	}
	cdb := rulesCDB(t, t.TempDir(), rule+"\n")
	srv := startServer(t, bin, srvEnv, "-1", "-v", "-HR", "-l", local, "-x", cdb, "127.0.0.1", "0")
	out := dialogSession(t, srv.addr, input, hold, len(want) > 0)
	m := srv.waitLog(t, endRE)
	status, _ := strconv.Atoi(m[1])
	if status&0xff != 0 {
		t.Fatalf("end status %d is not an exit", status)
	}
	if re := expectRE(want); !re.Match(out) {
		t.Errorf("server said:\n%s\nwant:\n%s", out, strings.Join(want, "\r\n")+"\r\n")
	}
	for _, c := range checks {
		c(status >> 8)
	}
}

// dialogSession connects, reads the first reply line (so that a server
// that refuses at once is not sent data it never reads), sends input,
// closes its sending side unless hold, and returns everything the server
// wrote until it closed.
func dialogSession(t *testing.T, addr string, input []byte, hold, greeting bool) []byte {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(harness.Patience))
	var out []byte
	if greeting {
		buf := make([]byte, 1)
		for len(out) == 0 || out[len(out)-1] != '\n' {
			n, err := c.Read(buf)
			out = append(out, buf[:n]...)
			if err != nil {
				return out
			}
		}
	}
	go func() {
		c.Write(input) // fails harmlessly when the server closed early
		if !hold {
			c.(*net.TCPConn).CloseWrite()
		}
	}()
	rest, _ := io.ReadAll(c)
	return append(out, rest...)
}

func lastFile(t *testing.T, dir, prefix string) []byte {
	t.Helper()
	for n := 1000; n >= 0; n-- {
		if b, err := os.ReadFile(dir + "/" + prefix + strconv.Itoa(n)); err == nil {
			return b
		}
	}
	t.Errorf("no %s* file: nothing queued", prefix)
	return nil
}

func unescape(t *testing.T, s string) []byte {
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b = append(b, c)
			continue
		}
		i++
		switch s[i] {
		case 'r':
			b = append(b, '\r')
		case 'n':
			b = append(b, '\n')
		case 't':
			b = append(b, '\t')
		case '0':
			b = append(b, 0)
		case '\\':
			b = append(b, '\\')
		case 'x':
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				t.Fatalf("bad escape in %q", s)
			}
			b = append(b, byte(v))
			i += 2
		default:
			t.Fatalf("bad escape \\%c in %q", s[i], s)
		}
	}
	return b
}
