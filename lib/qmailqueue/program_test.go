package qmailqueue

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const fakeQQ = `#!/bin/sh
cat > "$FAKEQQ_DIR/msg"
cat <&1 > "$FAKEQQ_DIR/env"
pwd > "$FAKEQQ_DIR/cwd"
echo "$0" > "$FAKEQQ_DIR/argv0"
echo "$FAKEQQ_MARK" > "$FAKEQQ_DIR/mark"
if [ -n "$FAKEQQ_FD6" ]; then printf '%s' "$FAKEQQ_FD6" >&6; fi
if [ -n "$FAKEQQ_KILL" ]; then kill -9 $$; fi
exit ${FAKEQQ_EXIT:-0}
`

// fakeHome makes a qmail home with bin/qmail-queue = fakeQQ and points
// the fake's output at a fresh directory.
func fakeHome(t *testing.T) (home, out string) {
	t.Helper()
	home = t.TempDir()
	out = t.TempDir()
	os.Mkdir(home+"/bin", 0755)
	if err := os.WriteFile(home+"/bin/qmail-queue", []byte(fakeQQ), 0755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FAKEQQ_DIR", out)
	return home, out
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestProgramGetsMessageOnFd0EnvelopeOnFd1InQmailHome(t *testing.T) {
	home, out := fakeHome(t)
	t.Setenv("FAKEQQ_MARK", "inherited")
	q := &Program{Path: "bin/qmail-queue", Dir: home}
	m, err := q.Open()
	if err != nil {
		t.Fatal(err)
	}
	if m.Pid() <= 0 || m.Pid() == os.Getpid() {
		t.Errorf("qp pid %d is not the child's", m.Pid())
	}
	body := bytes.Repeat([]byte("line of the message\n"), 10000) // beyond a pipe buffer
	for i := 0; i < len(body); i += 333 {
		m.Write(body[i:min(i+333, len(body))])
	}
	if err := m.Commit("alice@example.net", []string{"bob@example.org", "carol@example.org"}); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if readFile(t, out+"/msg") != string(body) {
		t.Error("message differs")
	}
	if got := readFile(t, out+"/env"); got != "Falice@example.net\x00Tbob@example.org\x00Tcarol@example.org\x00\x00" {
		t.Errorf("envelope %q", got)
	}
	if got := strings.TrimSpace(readFile(t, out+"/cwd")); got != home {
		t.Errorf("cwd %q, want the qmail home %q", got, home)
	}
	if got := strings.TrimSpace(readFile(t, out+"/argv0")); got != "bin/qmail-queue" {
		t.Errorf("argv[0] %q, want bin/qmail-queue", got)
	}
	if got := strings.TrimSpace(readFile(t, out+"/mark")); got != "inherited" {
		t.Errorf("environment not inherited: %q", got)
	}
}

// spec §8 T12: every exit code gives stock's reply.
func TestProgramExitCodesGiveStockReplies(t *testing.T) {
	home, _ := fakeHome(t)
	q := &Program{Path: "bin/qmail-queue", Dir: home}
	cases := []struct {
		exit  string
		fd6   string
		kill  bool
		reply string
	}{
		{"11", "", false, "Denvelope address too long for qq (#5.1.3)"},
		{"115", "", false, "Denvelope address too long for qq (#5.1.3)"},
		{"31", "", false, "Dmail server permanently rejected message (#5.3.0)"},
		{"40", "", false, "Dqq permanent problem (#5.3.0)"},
		{"12", "", false, "Dqq permanent problem (#5.3.0)"},
		{"51", "", false, "Zqq out of memory (#4.3.0)"},
		{"52", "", false, "Zqq timeout (#4.3.0)"},
		{"53", "", false, "Zqq write error or disk full (#4.3.0)"},
		{"54", "", false, "Zqq read error (#4.3.0)"},
		{"55", "", false, "Zqq unable to read configuration (#4.3.0)"},
		{"56", "", false, "Zqq trouble making network connection (#4.3.0)"},
		{"61", "", false, "Zqq trouble in home directory (#4.3.0)"},
		{"62", "", false, "Zqq trouble creating files in queue (#4.3.0)"},
		{"63", "", false, "Zqq trouble creating files in queue (#4.3.0)"},
		{"64", "", false, "Zqq trouble creating files in queue (#4.3.0)"},
		{"65", "", false, "Zqq trouble creating files in queue (#4.3.0)"},
		{"66", "", false, "Zqq trouble creating files in queue (#4.3.0)"},
		{"71", "", false, "Zmail server temporarily rejected message (#4.3.0)"},
		{"72", "", false, "Zconnection to mail server timed out (#4.4.1)"},
		{"73", "", false, "Zconnection to mail server rejected (#4.4.1)"},
		{"74", "", false, "Zcommunication with mail server failed (#4.4.2)"},
		{"81", "", false, "Zqq internal bug (#4.3.0)"},
		{"91", "", false, "Zqq internal bug (#4.3.0)"},
		{"99", "", false, "Zqq temporary problem (#4.3.0)"},
		{"10", "", false, "Zqq temporary problem (#4.3.0)"},
		{"41", "", false, "Zqq temporary problem (#4.3.0)"},
		{"120", "", false, "Zunable to exec qq (#4.3.0)"},
		{"0", "", true, "Zqq crashed (#4.3.0)"},
		{"82", "Dgo away (#5.7.1)", false, "Dgo away (#5.7.1)"},
		{"82", "Ztry later", false, "Ztry later"},
		{"82", "Xtry later\n", false, "Ztry later\n"},
		{"82", "D", false, "Zqq temporary problem (#4.3.0)"},
		{"82", "Dx", false, "Zqq temporary problem (#4.3.0)"},
		{"82", "", false, "Zqq temporary problem (#4.3.0)"},
		{"0", "Dignored unless 82", false, ""},
	}
	for _, c := range cases {
		t.Setenv("FAKEQQ_EXIT", c.exit)
		t.Setenv("FAKEQQ_FD6", c.fd6)
		kill := ""
		if c.kill {
			kill = "1"
		}
		t.Setenv("FAKEQQ_KILL", kill)
		m, err := q.Open()
		if err != nil {
			t.Fatal(err)
		}
		m.Write([]byte("x\n"))
		err = m.Commit("a@b", []string{"c@d"})
		if got := Result(err); got != c.reply {
			t.Errorf("exit %s fd6 %q kill %v: result %q, want %q", c.exit, c.fd6, c.kill, got, c.reply)
		}
		if c.reply != "" {
			if n, _ := strconv.Atoi(c.exit); !c.kill && ExitCode(err) != n {
				t.Errorf("exit %s: ExitCode %d", c.exit, ExitCode(err))
			}
		}
	}
}

func TestProgramMissingGivesUnableToExecAfterTheData(t *testing.T) {
	home := t.TempDir()
	for _, path := range []string{"/nonexistent/qq", "bin/qmail-queue", home} {
		q := &Program{Path: path, Dir: home}
		m, err := q.Open()
		if err != nil {
			t.Fatalf("%s: Open must succeed like stock's fork: %v", path, err)
		}
		if n, err := m.Write(make([]byte, 100000)); n != 100000 || err != nil {
			t.Errorf("%s: the data is swallowed: %d %v", path, n, err)
		}
		if got := Result(m.Commit("a", []string{"b"})); got != "Zunable to exec qq (#4.3.0)" {
			t.Errorf("%s: %q", path, got)
		}
	}
}

func TestProgramBadQmailHomeIsTroubleInHomeDirectory(t *testing.T) {
	q := &Program{Path: "/bin/true", Dir: filepath.Join(t.TempDir(), "gone")}
	m, err := q.Open()
	if err != nil {
		t.Fatal(err)
	}
	if got := Result(m.Commit("a", []string{"b"})); got != "Zqq trouble in home directory (#4.3.0)" {
		t.Errorf("%q", got)
	}
}

// A child that dies without reading: stock's failure flag, then exit 0
// still gives "qq read error".
func TestProgramWriteFailureIsReadErrorEvenOnExit0(t *testing.T) {
	home := t.TempDir()
	os.WriteFile(home+"/qq", []byte("#!/bin/sh\nexit 0\n"), 0755)
	q := &Program{Path: "qq", Dir: home}
	m, _ := q.Open()
	big := make([]byte, 1<<16)
	for i := 0; i < 32; i++ { // 2 MB: the pipe fills, the child is gone
		if _, err := m.Write(big); err != nil {
			t.Fatal(err)
		}
	}
	if got := Result(m.Commit("a", []string{"b"})); got != "Zqq read error (#4.3.0)" {
		t.Errorf("%q", got)
	}
}

// Abort sends no envelope terminator: a real qmail-queue queues nothing.
func TestProgramAbortSendsNoEnvelope(t *testing.T) {
	home, out := fakeHome(t)
	q := &Program{Path: "bin/qmail-queue", Dir: home}
	m, _ := q.Open()
	m.Write([]byte("partial"))
	m.Abort()
	if got := readFile(t, out+"/env"); got != "" {
		t.Errorf("envelope %q after Abort", got)
	}
}

// FromEnv reads the environment it is given, not the process's: one
// process serving many sessions gives each its own.
func TestFromEnvOrder(t *testing.T) {
	env := map[string]string{"QMAILQUEUE": "/x/qq", "MAILDIRQUEUE": "/y/Maildir"}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	t.Setenv("QMAILQUEUE", "/process/qq") // never consulted
	if p, ok := FromEnv("/var/qmail", getenv).(*Program); !ok || p.Path != "/x/qq" || p.Dir != "/var/qmail" {
		t.Errorf("QMAILQUEUE first: %#v", FromEnv("/var/qmail", getenv))
	}
	delete(env, "QMAILQUEUE")
	if m, ok := FromEnv("/var/qmail", getenv).(*Maildir); !ok || m.Dir != "/y/Maildir" {
		t.Errorf("MAILDIRQUEUE second: %#v", FromEnv("/var/qmail", getenv))
	}
	delete(env, "MAILDIRQUEUE")
	if p, ok := FromEnv("/h", getenv).(*Program); !ok || p.Path != "bin/qmail-queue" || p.Dir != "/h" {
		t.Errorf("default: %#v", FromEnv("/h", getenv))
	}
	env["QMAILQUEUE"] = ""
	if p, ok := FromEnv("/h", getenv).(*Program); !ok || p.Path != "" {
		t.Errorf("empty QMAILQUEUE is used as is (stock execs it and fails): %#v", FromEnv("/h", getenv))
	}
}

func TestMaildirStoreIsWhatMaildirQueueRuns(t *testing.T) {
	dir := newMaildir(t, "")
	q := &Maildir{Dir: dir, Pid: 7, UID: 8}
	err := q.Store(strings.NewReader("hello\n"), bytes.NewReader([]byte("Fa@b\x00Tc@d\x00\x00")))
	if err != nil {
		t.Fatal(err)
	}
	_, got := onlyMessage(t, dir)
	checkStored(t, got, 7, 8, "Return-Path: <a@b>\nDelivered-To: c@d\nhello\n")
	if err := q.Store(strings.NewReader("x"), bytes.NewReader([]byte("Fa@b\x00Tc@d\x00"))); ExitCode(err) != 54 {
		t.Errorf("truncated envelope: exit %d, want 54", ExitCode(err))
	}
	if ExitCode(nil) != 0 || ExitCode(os.ErrClosed) != 81 {
		t.Error("ExitCode of nil / a non-ExitError")
	}
}

// An envelope far larger than a pipe buffer still gets through: it is
// written after the message pipe is closed, while the program reads it.
func TestProgramTakesEnvelopeLargerThanAPipe(t *testing.T) {
	home, out := fakeHome(t)
	q := &Program{Path: "bin/qmail-queue", Dir: home}
	m, _ := q.Open()
	m.Write([]byte("x\n"))
	to := make([]string, 10000)
	for i := range to {
		to[i] = "recipient" + strconv.Itoa(i) + "@example.org"
	}
	if err := m.Commit("a@b", to); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, out+"/env"); got != string(AppendEnvelope(nil, "a@b", to)) {
		t.Errorf("envelope of %d bytes differs", len(got))
	}
}
