// Package smtpdialog runs ./bin/qmail-smtpd over pipes through transcripts
// in testdata/*.dialog, one behaviour each, with a fake qmail-queue (this
// test binary itself) that records what it is given.
//
// Dialog syntax, one directive per line:
//
//	# comment
//	env NAME=value        set a variable for qmail-smtpd (and the queue)
//	unset NAME            remove one of the common settings
//	file control/x TEXT   write a file in the qmail home (TEXT escaped)
//	rm control/x          remove a file of the common setup
//	chmod control/x 000   change a file's mode
//	touch control/x -1h   set a file's mtime in the past
//	mkfifo control/x      make a FIFO there (replacing the common file)
//	writer control/x      hold that FIFO open for writing, nothing written
//	run qmail-newmrh      run one of ./bin's programs in the qmail home first
//	C: line               client line, CRLF added
//	R: bytes              raw client bytes (escaped), nothing added
//	S: line               expected server line, CRLF added; <T> and <P>
//	                      match decimal numbers
//	hold                  keep the client's side open after the input
//	exit N                expected exit status
//	queued N              messages the fake queue accepted
//	msg TEXT              the last accepted message (escaped; <DATE>
//	                      matches the Received date)
//	envelope TEXT         its envelope as qmail-queue read it (escaped)
//	qenv NAME=value       the queue program saw this variable
//
// Escapes: \r \n \t \0 \\ \xHH.
package smtpdialog

import (
	"bytes"
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

// TestMain doubles as the fake qmail-queue when FAKEQQ_DIR is set.
func TestMain(m *testing.M) {
	if d := os.Getenv("FAKEQQ_DIR"); d != "" {
		os.Exit(fakeQueue(d))
	}
	os.Exit(m.Run())
}

// fakeQueue reads the message (fd 0) and envelope (fd 1) to EOF, as the
// spec asks of a fake, and keeps them only when the envelope is complete,
// as qmail-queue does; FAKEQQ_EXIT, FAKEQQ_TEXT (to fd 6) and FAKEQQ_KILL
// choose its result.
func fakeQueue(dir string) int {
	var msg []byte
	if os.Getenv("FAKEQQ_DISCARD") != "" {
		discard(0) // big-message tests: only the envelope matters
	} else {
		msg, _ = readAll(0)
	}
	env, _ := readAll(1)
	if t := os.Getenv("FAKEQQ_TEXT"); t != "" {
		syscall.Write(6, []byte(t))
	}
	if os.Getenv("FAKEQQ_KILL") != "" {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}
	code, _ := strconv.Atoi(os.Getenv("FAKEQQ_EXIT"))
	if !bytes.HasSuffix(env, []byte{0, 0}) || len(env) < 3 || env[0] != 'F' {
		return 54
	}
	if code == 0 {
		n := 0
		for {
			if _, err := os.Stat(filepath.Join(dir, "msg."+strconv.Itoa(n))); err != nil {
				break
			}
			n++
		}
		s := strconv.Itoa(n)
		os.WriteFile(filepath.Join(dir, "env."+s), env, 0644)
		os.WriteFile(filepath.Join(dir, "environ."+s), []byte(strings.Join(os.Environ(), "\n")+"\n"), 0644)
		os.WriteFile(filepath.Join(dir, "msg."+s), msg, 0644)
	}
	return code
}

func discard(fd int) {
	buf := make([]byte, 65536)
	for {
		n, err := syscall.Read(fd, buf)
		if n <= 0 && err != syscall.EINTR {
			return
		}
	}
}

func readAll(fd int) ([]byte, error) {
	var out []byte
	buf := make([]byte, 65536)
	for {
		n, err := syscall.Read(fd, buf)
		if n > 0 {
			out = append(out, buf[:n]...)
			continue
		}
		if err == syscall.EINTR {
			continue
		}
		return out, err
	}
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

// home makes the spec's common setup (§8): me, rcpthosts, TCP variables,
// the fake queue.
func home(t *testing.T) (string, map[string]string) {
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

func TestDialogs(t *testing.T) {
	bin := harness.Bin(t, "qmail-smtpd")
	files, _ := filepath.Glob(filepath.Join(harness.Root(), "test/smtpdialog/testdata/*.dialog"))
	if len(files) == 0 {
		t.Fatal("no dialogs")
	}
	for _, f := range files {
		f := f
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

func runDialog(t *testing.T, bin, src string) {
	dir, env := home(t)
	var input []byte
	var want []string
	hold := false
	var checks []func(out []byte, code int)
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
			delete(env, arg)
		case "file":
			name, text, _ := strings.Cut(arg, " ")
			p := filepath.Join(dir, name)
			os.MkdirAll(filepath.Dir(p), 0755)
			if err := os.WriteFile(p, unescape(t, text), 0644); err != nil {
				t.Fatal(err)
			}
		case "patch":
			// patch FILE OFFSET BYTES: overwrite bytes of a file made
			// earlier (a damaged cdb).
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
			// O_RDWR never waits for a reader; the file is close-on-exec,
			// so qmail-smtpd does not inherit the writer.
			f, err := os.OpenFile(filepath.Join(dir, arg), os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
		case "run":
			cmd := exec.Command(harness.Bin(t, arg))
			cmd.Env = []string{"QMAILHOME=" + dir}
			if r := harness.Run(t, 10*time.Second, cmd); r.Code != 0 {
				t.Fatalf("%s: %v", arg, r)
			}
		case "C:":
			input = append(input, arg...)
			input = append(input, '\r', '\n')
		case "C:\r", "C:\t":
			t.Fatalf("line %d: odd C: line", n+1)
		case "R:":
			input = append(input, unescape(t, arg)...)
		case "S:":
			want = append(want, arg)
		case "hold":
			hold = true
		case "exit":
			wantCode, _ := strconv.Atoi(arg)
			checks = append(checks, func(_ []byte, code int) {
				if code != wantCode {
					t.Errorf("exit %d, want %d", code, wantCode)
				}
			})
		case "queued":
			wantN, _ := strconv.Atoi(arg)
			checks = append(checks, func([]byte, int) {
				got, _ := filepath.Glob(dir + "/qq/msg.*")
				if len(got) != wantN {
					t.Errorf("%d messages queued, want %d", len(got), wantN)
				}
			})
		case "msg", "envelope":
			prefix := map[string]string{"msg": "msg.", "envelope": "env."}[verb]
			exp := string(unescape(t, arg))
			checks = append(checks, func([]byte, int) {
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
			checks = append(checks, func([]byte, int) {
				got := lastFile(t, dir+"/qq", "environ.")
				if !bytes.Contains(append([]byte("\n"), got...), []byte("\n"+arg+"\n")) {
					t.Errorf("queue environment lacks %q", arg)
				}
			})
		default:
			t.Fatalf("line %d: unknown directive %q", n+1, line)
		}
	}
	out, code := session(t, bin, env, input, hold)
	if re := expectRE(want); !re.Match(out) {
		t.Errorf("server said:\n%s\nwant:\n%s", out, strings.Join(want, "\r\n")+"\r\n")
	}
	for _, c := range checks {
		c(out, code)
	}
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

// session runs qmail-smtpd with input on a pipe and returns everything it
// wrote and its exit status. With hold the pipe stays open until it exits.
func session(t *testing.T, bin string, env map[string]string, input []byte, hold bool) ([]byte, int) {
	t.Helper()
	cmd := exec.Command(bin)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	out := &harness.Output{}
	cmd.Stdin = inR
	cmd.Stdout = out
	cmd.Stderr = os.Stderr
	p := harness.Start(t, cmd)
	inR.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		inW.Write(input) // fails harmlessly when the server exited early
		if !hold {
			inW.Close()
		}
		<-done
		inW.Close()
	}()
	st := p.Wait(t, 20*time.Second)
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("qmail-smtpd killed by %v", ws.Signal())
	}
	return []byte(out.String()), st.ExitCode()
}
