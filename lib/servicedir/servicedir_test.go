package servicedir

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func demoConfig(dir, bin string) *Config {
	return &Config{Acct: "qmaild", LogAcct: "qmaill", Dir: dir, IP: "0", BinDir: bin,
		LocalName: "mail.example.org", Port: "25", DataLimit: DataLimit}
}

// stubs writes, into bin, programs that print their argv NUL-terminated and
// stop: what the generated scripts would run, seen word by word.
func stubs(t *testing.T, bin string, names ...string) {
	t.Helper()
	os.MkdirAll(bin, 0755)
	for _, n := range names {
		script := "#!/bin/sh\nfor a in \"$0\" \"$@\"; do printf '%s\\0' \"$a\"; done\n"
		if err := os.WriteFile(filepath.Join(bin, n), []byte(script), 0755); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRunScriptMatchesQmailConfLayoutWithAbsolutePaths(t *testing.T) {
	c := demoConfig("/srv/smtpd", "/opt/tinymx/bin")
	want := "#!/bin/sh\nexec 2>&1 \\\n/opt/tinymx/bin/envdir ./env \\\nsh -c '\n" +
		"    case \"$REMOTENAME\" in h) H=;; p) H=p;; *) H=H;; esac\n" +
		"    case \"$REMOTEINFO\" in r) R=;; [0-9]*) R=\"t$REMOTEINFO\";; *) R=R;; esac\n" +
		"    exec \\\n    /opt/tinymx/bin/envuidgid qmaild \\\n" +
		"    /opt/tinymx/bin/softlimit ${DATALIMIT+\"-d$DATALIMIT\"} \\\n" +
		"    /opt/tinymx/bin/tcpserver \\\n\t-vDU\"$H$R\" \\\n\t${LOCALNAME+\"-l$LOCALNAME\"} \\\n" +
		"\t${BACKLOG+\"-b$BACKLOG\"} \\\n\t${CONCURRENCY+\"-c$CONCURRENCY\"} \\\n\t-xtcp.cdb \\\n" +
		"\t-- \"${IP-0}\" \"${PORT-25}\" \\\n    /opt/tinymx/bin/qmail-smtpd\n'\n"
	if got := c.RunScript(); got != want {
		t.Fatalf("run script differs:\n%s\nwant:\n%s", got, want)
	}
}

func TestDemoModeSkipsUidSwitches(t *testing.T) {
	c := demoConfig("/srv/smtpd", "/b")
	c.Demo = true
	run, logrun := c.RunScript(), c.LogRunScript()
	if strings.Contains(run, "envuidgid") || strings.Contains(run, "-vDU") || !strings.Contains(run, `-vD"$H$R"`) {
		t.Fatalf("run:\n%s", run)
	}
	if strings.Contains(logrun, "setuidgid") {
		t.Fatalf("log/run:\n%s", logrun)
	}
}

func TestScriptsPassOddPathsAsSingleWords(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "we'ird $dir `x`", "bin")
	stubs(t, bin, "envdir", "setuidgid", "multilog", "tcprules")
	c := demoConfig(dir, bin)
	c.LogAcct = "log acct'x"
	// log/run: setuidgid gets the account as one word and runs no shell
	out, err := exec.Command("sh", "-c", c.LogRunScript()).Output()
	if err != nil {
		t.Fatal(err)
	}
	words := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	want := []string{filepath.Join(bin, "setuidgid"), "log acct'x", filepath.Join(bin, "envdir"), "./env", "sh", "-c"}
	for i, w := range want {
		if i >= len(words) || words[i] != w {
			t.Fatalf("word %d: got %q want %q (all %q)", i, words[i], w, words)
		}
	}
	// the sh -c text names multilog by its odd path, as one word
	inner := words[len(want)]
	out, err = exec.Command("sh", "-c", inner).Output()
	if err != nil {
		t.Fatalf("%v: %q", err, inner)
	}
	if first := strings.SplitN(string(out), "\x00", 2)[0]; first != filepath.Join(bin, "multilog") {
		t.Fatalf("inner ran %q", first)
	}
	// the Makefile too
	os.WriteFile(filepath.Join(dir, "Makefile"), []byte(c.Makefile()), 0644)
	os.WriteFile(filepath.Join(dir, "tcp"), nil, 0644)
	out, err = exec.Command("make", "-s", "-C", dir).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), filepath.Join(bin, "tcprules")+"\x00tcp.cdb\x00tcp.tmp\x00") {
		t.Fatalf("make: %v %q", err, out)
	}
}

func addRelay(t *testing.T, args ...string) (string, int, string) {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tcp"), []byte("1.2.3.4:deny\n"), 0644)
	os.WriteFile(filepath.Join(dir, "add-relayclient"), []byte(addRelayclient), 0755)
	cmd := exec.Command("./add-relayclient", args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	b, _ := os.ReadFile(filepath.Join(dir, "tcp"))
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	if _, err := os.Stat(filepath.Join(dir, "tcp.new")); err == nil && code == 0 {
		t.Fatal("tcp.new left behind")
	}
	return string(b), code, stderr.String()
}

func TestAddRelayclientAppendsOneRulePerAddress(t *testing.T) {
	got, code, _ := addRelay(t, "127.0.0.1", "192.168.1.", "10.", "::1", "2001:db8:")
	want := "1.2.3.4:deny\n127.0.0.1:allow,RELAYCLIENT=\"\"\n192.168.1.:allow,RELAYCLIENT=\"\"\n" +
		"10.:allow,RELAYCLIENT=\"\"\n::1:allow,RELAYCLIENT=\"\"\n2001:db8::allow,RELAYCLIENT=\"\"\n"
	if code != 0 || got != want {
		t.Fatalf("code %d tcp:\n%s", code, got)
	}
}

func TestAddRelayclientWithoutArgumentsChangesNothing(t *testing.T) {
	got, code, _ := addRelay(t)
	if code != 0 || got != "1.2.3.4:deny\n" {
		t.Fatalf("code %d tcp %q", code, got)
	}
}

func TestAddRelayclientRefusesGarbageAndLeavesTcpUntouched(t *testing.T) {
	for _, bad := range []string{"", "1.2.3", "256.1.1.1", "1.2.3.4.", "1..2.", ".1.", "a.b.c.d",
		"1.2.3.4:deny", "x\n:allow", "1.2.3.4 5", "=host", "1.2.3.4-7", ":::", "1:2::3::4", "12345::"} {
		got, code, stderr := addRelay(t, "127.0.0.1", bad)
		if code != 100 || got != "1.2.3.4:deny\n" || !strings.Contains(stderr, "add-relayclient: usage:") {
			t.Errorf("%q: code %d tcp %q stderr %q", bad, code, got, stderr)
		}
	}
}

func TestCreateRefusesExistingDirectoryAndKeepsIt(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "mine"), []byte("x"), 0644)
	c := demoConfig(dir, "/b")
	err := Create(c, Accounts{Acct: Owner{os.Getuid(), os.Getgid()}, LogAcct: Owner{os.Getuid(), os.Getgid()}})
	if err == nil || !strings.Contains(err.Error(), "unable to create "+dir) {
		t.Fatalf("err %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "mine")); err != nil {
		t.Fatal("existing directory touched")
	}
}

func TestCreateMakesTreeWithModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "smtpd")
	c := demoConfig(dir, "/b")
	c.MaildirQueue = dir + "/maildir"
	me := Owner{os.Getuid(), os.Getgid()}
	if err := Create(c, Accounts{Acct: me, LogAcct: me}); err != nil {
		t.Fatal(err)
	}
	modes := map[string]os.FileMode{
		"":                    os.ModeDir | os.ModeSetgid | os.ModeSticky | 0755,
		"run":                 0755,
		"env":                 os.ModeDir | os.ModeSetgid | 0755,
		"env/PORT":            0644,
		"tcp":                 0644,
		"add-relayclient":     0755,
		"log/main":            os.ModeDir | os.ModeSetgid | 0755,
		"log/run":             0755,
		"log/status":          0644,
		"log/env/MAXFILESIZE": 0644,
		"maildir":             os.ModeDir | 0700,
		"maildir/new":         os.ModeDir | 0700,
	}
	for p, m := range modes {
		st, err := os.Stat(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != m {
			t.Errorf("%s: mode %v want %v", p, st.Mode(), m)
		}
	}
	for f, want := range map[string]string{"env/PORT": "25\n", "env/IP": "0\n", "env/LOCALNAME": "mail.example.org\n",
		"env/CONCURRENCY": "", "env/MAILDIRQUEUE": dir + "/maildir\n", "env/DATALIMIT": DataLimit + "\n"} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		if string(b) != want {
			t.Errorf("%s: %q want %q", f, b, want)
		}
	}
}

func TestCreateFailureLeavesNothingHalfMade(t *testing.T) {
	top := filepath.Join(t.TempDir(), "new")
	dir := filepath.Join(top, "smtpd")
	c := demoConfig(dir, "/b")
	c.MaildirQueue = dir + "/env/PORT" // collides with a file made earlier
	me := Owner{os.Getuid(), os.Getgid()}
	if err := Create(c, Accounts{Acct: me, LogAcct: me}); err == nil {
		t.Fatal("no error")
	}
	if _, err := os.Stat(top); !os.IsNotExist(err) {
		t.Fatal("half-made tree left behind")
	}
}
