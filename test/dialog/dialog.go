// Package dialog reads the qmail-smtpd transcripts in
// test/smtpdialog/testdata/*.dialog, one behaviour each, for every runner
// that plays them (qmail-smtpd over pipes, qmail-smtpd-server over a
// socket), with a fake qmail-queue (the test binary itself) that records
// what it is given. One reader, so the two modes can never read the same
// file differently.
//
// Dialog syntax, one directive per line:
//
//	# comment
//	env NAME=value        set a variable for qmail-smtpd (and the queue)
//	unset NAME            remove one of the common settings
//	file control/x TEXT   write a file in the qmail home (TEXT escaped)
//	patch FILE OFF BYTES  overwrite bytes of a file made earlier (escaped)
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
package dialog

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

// Files are the transcripts, by full path.
func Files(t *testing.T) []string {
	files, _ := filepath.Glob(filepath.Join(harness.Root(), "test/smtpdialog/testdata/*.dialog"))
	if len(files) == 0 {
		t.Fatal("no dialogs")
	}
	return files
}

// Script is one transcript once its set-up is done: the qmail home with
// its files, the environment, what the client sends and what it expects.
type Script struct {
	Dir    string            // the qmail home
	Env    map[string]string // qmail-smtpd's environment
	Unset  []string          // variables the dialog removed
	Input  []byte            // everything the client sends
	Want   []string          // the server's lines
	Hold   bool              // the client keeps its side open
	checks []func(code int)
}

// Load performs the set-up directives of the transcript in file (in a new
// qmail home with the spec's common files) and collects the rest.
func Load(t *testing.T, file string) *Script {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := &Script{}
	s.Dir, s.Env = Home(t)
	for n, line := range strings.Split(string(src), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		verb, arg, _ := strings.Cut(line, " ")
		if !s.directive(t, verb, arg) {
			t.Fatalf("%s line %d: unknown directive %q", filepath.Base(file), n+1, line)
		}
	}
	return s
}

func (s *Script) directive(t *testing.T, verb, arg string) bool {
	dir := s.Dir
	switch verb {
	case "env":
		k, v, _ := strings.Cut(arg, "=")
		s.Env[k] = v
	case "unset":
		delete(s.Env, arg)
		s.Unset = append(s.Unset, arg)
	case "file":
		name, text, _ := strings.Cut(arg, " ")
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0755)
		if err := os.WriteFile(p, Unescape(t, text), 0644); err != nil {
			t.Fatal(err)
		}
	case "patch":
		patch(t, dir, arg)
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
			t.Fatalf("touch %s: %v", arg, err)
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
		// O_RDWR never waits for a reader; the file is close-on-exec, so
		// the program under test does not inherit the writer.
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
		s.Input = append(s.Input, arg...)
		s.Input = append(s.Input, '\r', '\n')
	case "C:\r", "C:\t":
		t.Fatalf("odd C: line %q", arg)
	case "R:":
		s.Input = append(s.Input, Unescape(t, arg)...)
	case "S:":
		s.Want = append(s.Want, arg)
	case "hold":
		s.Hold = true
	case "exit":
		want, _ := strconv.Atoi(arg)
		s.checks = append(s.checks, func(code int) {
			if code != want {
				t.Errorf("exit %d, want %d", code, want)
			}
		})
	case "queued":
		want, _ := strconv.Atoi(arg)
		s.checks = append(s.checks, func(int) {
			got, _ := filepath.Glob(dir + "/qq/msg.*")
			if len(got) != want {
				t.Errorf("%d messages queued, want %d", len(got), want)
			}
		})
	case "msg":
		exp := string(Unescape(t, arg))
		s.checks = append(s.checks, func(int) {
			got := lastFile(t, dir+"/qq", "msg.")
			parts := strings.Split(exp, "<DATE>")
			for i := range parts {
				parts[i] = regexp.QuoteMeta(parts[i])
			}
			if !regexp.MustCompile(`\A` + strings.Join(parts, dateRE) + `\z`).Match(got) {
				t.Errorf("message %q\nwant %q", got, exp)
			}
		})
	case "envelope":
		exp := string(Unescape(t, arg))
		s.checks = append(s.checks, func(int) {
			if got := lastFile(t, dir+"/qq", "env."); string(got) != exp {
				t.Errorf("envelope %q, want %q", got, exp)
			}
		})
	case "qenv":
		s.checks = append(s.checks, func(int) {
			got := lastFile(t, dir+"/qq", "environ.")
			if !bytes.Contains(append([]byte("\n"), got...), []byte("\n"+arg+"\n")) {
				t.Errorf("queue environment lacks %q", arg)
			}
		})
	default:
		return false
	}
	return true
}

// Check compares what the server wrote and its exit status with the
// transcript's expectations.
func (s *Script) Check(t *testing.T, out []byte, code int) {
	t.Helper()
	if re := expectRE(s.Want); !re.Match(out) {
		t.Errorf("server said:\n%s\nwant:\n%s", out, strings.Join(s.Want, "\r\n")+"\r\n")
	}
	for _, c := range s.checks {
		c(code)
	}
}

// patch is "FILE OFFSET BYTES": overwrite bytes of a file made earlier (a
// damaged cdb).
func patch(t *testing.T, dir, arg string) {
	f := strings.Fields(arg)
	if len(f) != 3 {
		t.Fatalf("patch %q: want FILE OFFSET BYTES", arg)
	}
	off, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		t.Fatalf("patch %q: %v", arg, err)
	}
	fh, err := os.OpenFile(filepath.Join(dir, f[0]), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fh.WriteAt(Unescape(t, f[2]), off)
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// Home makes the spec's common setup (§8): me, rcpthosts, TCP variables,
// the fake queue (this test binary, see FakeQueueIfAsked).
func Home(t *testing.T) (string, map[string]string) {
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

// Unescape turns a transcript's escapes into bytes.
func Unescape(t testing.TB, s string) []byte {
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
			if i+3 > len(s) {
				t.Fatalf("bad escape in %q", s)
			}
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

// FakeQueueIfAsked makes the test binary the fake qmail-queue when
// FAKEQQ_DIR is set (call it first in TestMain): it exits with the fake's
// status and never returns then.
func FakeQueueIfAsked() {
	if d := os.Getenv("FAKEQQ_DIR"); d != "" {
		os.Exit(fakeQueue(d))
	}
}

// fakeQueue reads the message (fd 0) and envelope (fd 1) to EOF, as the
// spec asks of a fake, and keeps them with its environment only when the
// envelope is complete, as qmail-queue does; FAKEQQ_EXIT, FAKEQQ_TEXT (to
// fd 6), FAKEQQ_KILL and FAKEQQ_DISCARD choose its result.
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
