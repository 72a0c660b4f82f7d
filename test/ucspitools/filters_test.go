package ucspitools

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"tinymx/test/harness"
)

var filterInputs = map[string]string{
	"lf and crlf":         "a\nb\r\nc",
	"crcrlf and final cr": "a\r\nb\r\r\nc\r",
	"bare lf then crlf":   "x\ny\r\n",
	"empty":               "",
	"only cr":             "\r",
	"no trailing newline": "abc",
	"binary":              "\x00\xff\r\x00\n\r\r\r\n\n\x80",
	"crlf at 8k boundary": string(bytes.Repeat([]byte("x"), 8191)) + "\r\n" + string(bytes.Repeat([]byte("ab\r\n"), 5000)),
}

func TestAddcrAndDelcrMatchCOnOddInputs(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"addcr", "delcr"} {
		for name, in := range filterInputs {
			c, g := harness.Pair(t, tool).Run(t, job([]byte(in), nil))
			harness.Same(t, tool+" "+name, c, g, nil)
		}
	}
}

func TestFiltersIgnoreTheirArguments(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"addcr", "delcr"} {
		c, g := harness.Pair(t, tool).Run(t, job([]byte("a\nb"), nil, "-x", "--", "junk"))
		harness.Same(t, tool+" with arguments", c, g, nil)
	}
}

// A closed descriptor makes the C filter's read or write fail (exit 111);
// the Go runtime would put /dev/null there and exit 0.
func TestFiltersExit111WithStdinOrStdoutClosedAsC(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"addcr", "delcr"} {
		for _, c := range []struct{ in, redir string }{
			{"x\n", ">&-"}, {"x", ">&-"}, {"", ">&-"}, {"\r", ">&-"},
			{"", "<&- >/dev/null"}, {"", "<&- >&-"},
		} {
			codes := []int{}
			for _, p := range harness.Pair(t, tool).Both() {
				cmd := exec.Command("/bin/sh", "-c", `exec "$0" `+c.redir, p)
				cmd.Stdin = bytes.NewReader([]byte(c.in))
				codes = append(codes, harness.Run(t, 10*time.Second, cmd).Code)
			}
			if codes[0] != codes[1] {
				t.Errorf("%s %q %s: C exits %d, Go %d", tool, c.in, c.redir, codes[0], codes[1])
			}
		}
	}
}

func TestFixcrioMatchesCInBothDirections(t *testing.T) {
	t.Parallel()
	for name, in := range filterInputs {
		c, g := harness.Pair(t, "fixcrio").Run(t, job([]byte(in), nil, "cat"))
		harness.Same(t, "fixcrio cat "+name, c, g, nil)
	}
	// The program's output is fixed too, with state across packets.
	c, g := harness.Pair(t, "fixcrio").Run(t, job(nil, nil, "sh", "-c", `printf 'one\ntwo\r'; sleep 0.05; printf '\nthree\n'`))
	harness.Same(t, "fixcrio output side", c, g, nil)
}

func TestFiltersExit111WhenStdoutIsFull(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"addcr", "delcr"} {
		for _, in := range []string{"x\n", "", "\r", "ab"} {
			codes := []int{}
			for _, p := range harness.Pair(t, tool).Both() {
				full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
				if err != nil {
					t.Skip("no /dev/full")
				}
				cmd := exec.Command(p)
				cmd.Stdin = bytes.NewReader([]byte(in))
				cmd.Stdout = full
				code := harness.Run(t, 10*time.Second, cmd).Code
				full.Close()
				codes = append(codes, code)
			}
			if codes[0] != codes[1] {
				t.Errorf("%s %q > /dev/full: C exits %d, Go %d", tool, in, codes[0], codes[1])
			}
		}
	}
	// The issue's own example.
	full, _ := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	defer full.Close()
	cmd := exec.Command(harness.Bin(t, "addcr"))
	cmd.Stdin = bytes.NewReader([]byte("x\n"))
	cmd.Stdout = full
	if code := harness.Run(t, 10*time.Second, cmd).Code; code != 111 {
		t.Errorf("echo x | addcr > /dev/full exits %d, want 111", code)
	}
}

func TestFixcrioUsageAndRunFailureMatchC(t *testing.T) {
	t.Parallel()
	c, g := harness.Pair(t, "fixcrio").Run(t, job(nil, nil))
	harness.Same(t, "fixcrio without program", c, g, nil)
	c, g = harness.Pair(t, "fixcrio").Run(t, job(nil, nil, "/nonexistent/prog"))
	harness.Same(t, "fixcrio missing program", c, g, nil)
}

func TestArgv0SetsProgramNameAndFailsAsC(t *testing.T) {
	t.Parallel()
	c, g := harness.Pair(t, "argv0").Run(t, job(nil, nil, "sh", "mysh", "-c", `echo $0`))
	harness.Same(t, "argv0 sh mysh", c, g, nil)
	if g.Stdout != "mysh\n" {
		t.Errorf("argv0 printed %q", g.Stdout)
	}
	for _, args := range [][]string{{}, {"sh"}, {"nonexistent-prog", "x"}, {"/etc", "x"}, {"/etc/passwd", "x"}} {
		c, g := harness.Pair(t, "argv0").Run(t, job(nil, nil, args...))
		harness.Same(t, "argv0 "+strings.Join(args, " "), c, g, nil)
	}
}
