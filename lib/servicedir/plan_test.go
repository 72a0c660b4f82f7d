package servicedir

import (
	"os"
	"os/user"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Control files are read non-blocking, as the djb-style open_read the
// qmail tools use: a FIFO in place of control/me, smtpdport or maxclients
// reads as an empty file instead of hanging qmail-smtpd-conf.
func TestPlanReadsFifoControlFilesAsEmpty(t *testing.T) {
	me, err := user.Current()
	if err != nil {
		t.Skip(err)
	}
	home := t.TempDir()
	os.Mkdir(filepath.Join(home, "control"), 0755)
	var fifos []string
	for _, name := range []string{"me", "smtpdport", "maxclients"} {
		p := filepath.Join(home, "control", name)
		if err := syscall.Mkfifo(p, 0644); err != nil {
			t.Fatal(err)
		}
		fifos = append(fifos, p)
	}
	t.Setenv("QMAILHOME", home)
	type result struct {
		c   *Config
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, _, err := Plan(me.Username, me.Username, filepath.Join(home, "smtpd"), "", "/bin")
		done <- result{c, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.c.LocalName != "" || r.c.Port != "25" || r.c.Concurrency != "" {
			t.Fatalf("LocalName %q Port %q Concurrency %q, want the empty-file values", r.c.LocalName, r.c.Port, r.c.Concurrency)
		}
	case <-time.After(5 * time.Second):
		// writers that come and go end the blocked opens, one by one
		for {
			for _, p := range fifos {
				if fd, err := syscall.Open(p, syscall.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
					syscall.Close(fd)
				}
			}
			select {
			case <-done:
				t.Fatal("Plan waited 5 s on a FIFO control file")
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

func TestPlanNamesAMissingMe(t *testing.T) {
	me, err := user.Current()
	if err != nil {
		t.Skip(err)
	}
	home := t.TempDir()
	t.Setenv("QMAILHOME", home)
	_, _, err = Plan(me.Username, me.Username, filepath.Join(home, "smtpd"), "", "/bin")
	re, ok := err.(*ReadError)
	if !ok || re.Path != filepath.Join(home, "control/me") || !os.IsNotExist(re.Err) {
		t.Fatalf("%#v, want a ReadError for control/me, file does not exist", err)
	}
}

func TestPlanTakesFirstLinesWithoutTrailingBlanksOrCR(t *testing.T) {
	me, err := user.Current()
	if err != nil {
		t.Skip(err)
	}
	home := t.TempDir()
	os.Mkdir(filepath.Join(home, "control"), 0755)
	for name, text := range map[string]string{"me": "mx.example.org \t\r\nsecond\n", "smtpdport": "2525\r\n", "maxclients": "x100\n"} {
		os.WriteFile(filepath.Join(home, "control", name), []byte(text), 0644)
	}
	t.Setenv("QMAILHOME", home)
	c, _, err := Plan(me.Username, me.Username, filepath.Join(home, "smtpd"), "", "/bin")
	if err != nil {
		t.Fatal(err)
	}
	if c.LocalName != "mx.example.org" || c.Port != "2525" || c.Concurrency != "" {
		t.Fatalf("LocalName %q Port %q Concurrency %q", c.LocalName, c.Port, c.Concurrency)
	}
}
