package ucspitools

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tinymx/test/harness"
)

// directions splits a recordio log into its "<" and ">" lines without the
// PID, and returns the PID prefixes seen.
func directions(t *testing.T, log string) (in, out []string, pids map[string]bool) {
	t.Helper()
	pids = map[string]bool{}
	for _, l := range strings.SplitAfter(log, "\n") {
		if l == "" {
			continue
		}
		pid, rest, ok := strings.Cut(l, " ")
		if !ok {
			t.Fatalf("odd log line %q", l)
		}
		pids[pid] = true
		switch {
		case strings.HasPrefix(rest, "< "):
			in = append(in, rest)
		case strings.HasPrefix(rest, "> "):
			out = append(out, rest)
		default:
			t.Fatalf("odd log line %q", l)
		}
	}
	return in, out, pids
}

// rebuild turns the logged lines of one direction back into the bytes.
func rebuild(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		l = l[2:]
		switch {
		case l == "[EOF]\n":
		case strings.HasSuffix(l, "+\n"):
			b.WriteString(strings.TrimSuffix(l, "+\n"))
		default:
			b.WriteString(strings.TrimSuffix(l, " \n") + "\n")
		}
	}
	return b.String()
}

// runFromFile runs path with input in a regular file: read in packets of
// its own choosing, not of the pipe's.
func runFromFile(t *testing.T, path string, input []byte, args ...string) harness.Result {
	t.Helper()
	j := job(input, nil, args...)
	j.StdinFile = true
	return j.Run(t, path)
}

func TestRecordioLogsEachPacketLineByLine(t *testing.T) {
	t.Parallel()
	prog := []string{"sh", "-c", `cat >/dev/null; printf 'a\nb\n\nc'`}
	input := []byte("hello\nwor")
	var logs [2][2][]string
	for i, p := range []string{harness.Peer(t, "recordio"), harness.Bin(t, "recordio")} {
		r := runFromFile(t, p, input, prog...)
		if r.Code != 0 || r.Stdout != "a\nb\n\nc" {
			t.Errorf("%s: exit %d, stdout %q", p, r.Code, r.Stdout)
		}
		in, out, pids := directions(t, r.Stderr)
		if len(pids) != 1 {
			t.Errorf("%s: several PIDs in %q", p, r.Stderr)
		}
		logs[i] = [2][]string{in, out}
	}
	wantIn := []string{"< hello \n", "< wor+\n", "< [EOF]\n"}
	wantOut := []string{"> a \n", "> b \n", ">  \n", "> c+\n", "> [EOF]\n"}
	for i, who := range []string{"C", "Go"} {
		if strings.Join(logs[i][0], "") != strings.Join(wantIn, "") {
			t.Errorf("%s input log %q", who, logs[i][0])
		}
		if strings.Join(logs[i][1], "") != strings.Join(wantOut, "") {
			t.Errorf("%s output log %q", who, logs[i][1])
		}
	}
}

func TestRecordioPrefixIsTheProgramsPID(t *testing.T) {
	t.Parallel()
	r := job(nil, nil, "sh", "-c", "echo $$").Run(t, harness.Bin(t, "recordio"))
	pid := strings.TrimSpace(r.Stdout)
	_, _, pids := directions(t, r.Stderr)
	if len(pids) != 1 || !pids[pid] {
		t.Errorf("program pid %s, log pids %v", pid, pids)
	}
}

func TestRecordioSplitsAt256BytesAndPassesBulkData(t *testing.T) {
	t.Parallel()
	var data bytes.Buffer
	for i := 0; data.Len() < 100000; i++ {
		data.WriteString(strings.Repeat("x", i%300))
		data.WriteString("\r\n")
	}
	r := runFromFile(t, harness.Bin(t, "recordio"), data.Bytes(), "cat")
	if r.Code != 0 || r.Stdout != data.String() {
		t.Fatalf("exit %d, %d bytes out of %d", r.Code, len(r.Stdout), data.Len())
	}
	in, out, _ := directions(t, r.Stderr)
	if rebuild(in) != data.String() || rebuild(out) != data.String() {
		t.Errorf("log does not rebuild the data")
	}
	for _, l := range in {
		if len(l) > 2+256+2 {
			t.Errorf("log line longer than one packet: %d bytes", len(l))
		}
	}
	// The file is read in 256-byte packets: the first line of input has
	// 0 bytes + CRLF, and the first packet ends mid-line.
	c := runFromFile(t, harness.Peer(t, "recordio"), data.Bytes(), "cat")
	cin, _, _ := directions(t, c.Stderr)
	if strings.Join(cin, "") != strings.Join(in, "") {
		t.Errorf("input logs of C and Go differ")
	}
}

func TestRecordioUsageAndRunFailureMatchC(t *testing.T) {
	t.Parallel()
	c, g := harness.Pair(t, "recordio").Run(t, job(nil, nil))
	harness.Same(t, "recordio without program", c, g, nil)
	c, g = harness.Pair(t, "recordio").Run(t, job(nil, nil, "/nonexistent/prog"))
	fatal := func(s string) string {
		for _, l := range strings.SplitAfter(s, "\n") {
			if strings.HasPrefix(l, "recordio: ") {
				return l
			}
		}
		return ""
	}
	if c.Code != g.Code || fatal(c.Stderr) != fatal(g.Stderr) {
		t.Errorf("missing program: C %d %q, Go %d %q", c.Code, c.Stderr, g.Code, g.Stderr)
	}
}

// The copier is the binary run again: that must work when its file has
// been removed since it started (a package upgrade under a running
// service), as the C programs, which fork, do.
func TestRecordioAndFixcrioWorkAfterTheirBinaryIsRemoved(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"recordio", "fixcrio"} {
		data, err := os.ReadFile(harness.Bin(t, tool))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), tool)
		if err := os.WriteFile(p, data, 0755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(p)
		var r harness.Result
		// Exec the removed file through its descriptor (fd 3 in the child).
		// A parallel test's fork may briefly hold the copy's write
		// descriptor (ETXTBSY): retry a few times.
		for try := 0; try < 20; try++ {
			cmd := exec.Command("/proc/self/fd/3", "sh", "-c", "cat; echo out")
			cmd.Args[0] = tool
			cmd.ExtraFiles = []*os.File{f}
			cmd.Stdin = strings.NewReader("in\n")
			r = harness.Run(t, 30*time.Second, cmd)
			if !strings.Contains(r.Stderr, "text busy") {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		f.Close()
		want := map[string]string{"recordio": "in\nout\n", "fixcrio": "in\r\nout\r\n"}[tool]
		if r.Code != 0 || r.Stdout != want {
			t.Errorf("%s from a removed file: exit %d, stdout %q, stderr %q; want exit 0, %q", tool, r.Code, r.Stdout, r.Stderr, want)
		}
	}
}

// When the input ends and the program exits at once, both EOFs are ready
// together; the copier handles its input side first in each round, so
// "< [EOF]" is always logged, before "> [EOF]". (The C copier does the
// same in nearly every run, but on a loaded machine it was seen to quit
// with only "> [EOF]", so it is not the oracle here.)
func TestRecordioLogsInputEOFBeforeOutputEOFWhenBothAreReady(t *testing.T) {
	t.Parallel()
	for _, p := range []string{harness.Bin(t, "recordio")} {
		for range 8 {
			// stdin an empty file, at end of input from the start; a pipe
			// that the test closes only after the program has exited
			// would not be "both ready"
			j := job(nil, nil, "true")
			j.StdinFile = true
			r := j.Run(t, p)
			if got := harness.PidPrefixes(r.Stderr); r.Code != 0 || got != "< [EOF]\n> [EOF]\n" {
				t.Fatalf("%s true </dev/null: exit %d, log %q; want \"< [EOF]\\n> [EOF]\\n\"", p, r.Code, got)
			}
		}
	}
}
