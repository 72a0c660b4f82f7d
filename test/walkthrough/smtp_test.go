package walkthrough

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"time"
)

// sendMail delivers one message over a fresh connection and returns the
// reply to the final dot ("250 ok ..." when the server took it). Every read
// and write has a deadline, so a hung server fails the test, never hangs it.
func sendMail(addr, from, to, body string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	r := bufio.NewReader(c)
	reply := func() (string, error) {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return line, err
			}
			if len(line) < 4 || line[3] != '-' {
				return strings.TrimRight(line, "\r\n"), nil
			}
		}
	}
	step := func(cmd, want string) (string, error) {
		if cmd != "" {
			if _, err := c.Write([]byte(cmd + "\r\n")); err != nil {
				return "", err
			}
		}
		line, err := reply()
		if err != nil {
			return line, err
		}
		if !strings.HasPrefix(line, want) {
			return line, fmt.Errorf("%q got %q", cmd, line)
		}
		return line, nil
	}
	for _, s := range []struct{ cmd, want string }{
		{"", "220"}, {"HELO client.test", "250"}, {"MAIL FROM:<" + from + ">", "250"},
		{"RCPT TO:<" + to + ">", "250"}, {"DATA", "354"},
	} {
		if line, err := step(s.cmd, s.want); err != nil {
			return line, err
		}
	}
	w := bufio.NewWriterSize(c, 64<<10)
	for _, line := range strings.SplitAfter(body, "\n") {
		if line == "" {
			continue
		}
		line = strings.TrimSuffix(line, "\n")
		if strings.HasPrefix(line, ".") {
			line = "." + line
		}
		w.WriteString(line + "\r\n")
	}
	w.WriteString(".\r\n")
	if err := w.Flush(); err != nil {
		return "", err
	}
	line, err := reply()
	if err != nil {
		return line, err
	}
	step("QUIT", "221")
	return line, nil
}
