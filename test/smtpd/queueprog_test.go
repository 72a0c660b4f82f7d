package smtpd_test

import (
	"os"
	"testing"
)

// A qmail-queue-compatible program's exit code, custom fd-6 text, or
// absence reaches the client as stock's reply (spec §3.3), after the
// whole message, and the session goes on.
func TestQueueProgramOutcomesReachTheClient(t *testing.T) {
	dir := t.TempDir()
	script := func(name, body string) string {
		p := dir + "/" + name
		if err := os.WriteFile(p, []byte("#!/bin/sh\ncat >/dev/null\ncat <&1 >/dev/null\n"+body), 0755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name, qq, reply string
	}{
		{"exit 31", script("qq31", "exit 31\n"), "554 mail server permanently rejected message (#5.3.0)"},
		{"exit 53", script("qq53", "exit 53\n"), "451 qq write error or disk full (#4.3.0)"},
		{"custom D", script("qq82", "printf 'Dgo away (#5.7.1)' >&6\nexit 82\n"), "554 go away (#5.7.1)"},
		{"killed", script("qqkill", "kill -9 $$\n"), "451 qq crashed (#4.3.0)"},
		{"missing", "/nonexistent/qmail-queue", "451 unable to exec qq (#4.3.0)"},
		{"default missing", "", "451 unable to exec qq (#4.3.0)"},
	}
	for _, c := range cases {
		env := []string{"QMAILQUEUE=" + c.qq}
		if c.qq == "" {
			env = nil // <qmailhome>/bin/qmail-queue, absent here
		}
		// Without QMAILQUEUE, MAILDIRQUEUE would pick the built-in
		// store: leave it unset for the default-program case.
		s := startStack(t, config{env: env, noMaildirQueue: c.qq == ""})
		conn := dial(t, s.addr)
		conn.Expect("220 ")
		conn.Send("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
		conn.Expect("250 ok")
		conn.Expect("250 ok")
		conn.Expect("354 go ahead")
		sendData(conn, 200<<10, nil)
		conn.Send(".\r\n")
		if got := conn.Line(); got != c.reply {
			t.Errorf("%s: reply %q, want %q", c.name, got, c.reply)
		}
		conn.Send("NOOP\r\n")
		conn.Expect("250 ok")
		s.nothingStored(t)
	}
}

// $MAILDIRQUEUE set but empty, or relative, never reaches the file system:
// the built-in store and maildir-queue (the same code) both answer
// qmail-queue's exit 55 after the dot, and the session goes on. A relative
// name that exists under the qmail home (where qmail-smtpd runs) is refused
// too.
func TestMaildirQueueEmptyOrRelativeIsUnableToReadConfiguration(t *testing.T) {
	for _, value := range []string{"", "Maildir"} {
		for _, program := range []bool{false, true} {
			s := startStack(t, config{noMaildirQueue: true, program: program,
				env: []string{"MAILDIRQUEUE=" + value}})
			conn := dial(t, s.addr)
			conn.Expect("220 ")
			conn.Send("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
			conn.Expect("250 ok")
			conn.Expect("250 ok")
			conn.Expect("354 go ahead")
			sendData(conn, 100<<10, nil) // past the spill size: no scratch file either
			conn.Send(".\r\n")
			want := "451 qq unable to read configuration (#4.3.0)"
			if got := conn.Line(); got != want {
				t.Errorf("MAILDIRQUEUE=%q, maildir-queue %v: reply %q, want %q", value, program, got, want)
			}
			conn.Send("NOOP\r\n")
			conn.Expect("250 ok")
			s.nothingStored(t)
			if n := listNames(t, s.maildir+"/tmp"); len(n) != 0 {
				t.Errorf("MAILDIRQUEUE=%q: tmp/ holds %v", value, n)
			}
		}
	}
}
