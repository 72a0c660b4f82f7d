package ucspitools

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"tinymx/test/harness"
)

// directions splits a recordio log into its "<" and ">" lines without the
// PID, and returns the PID prefixes seen.
func directions(t *testing.T, log []byte) (in, out []string, pids map[string]bool) {
	t.Helper()
	pids = map[string]bool{}
	for _, l := range strings.SplitAfter(string(log), "\n") {
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

func runFromFile(t *testing.T, path string, input []byte, args ...string) result {
	t.Helper()
	f := filepath.Join(t.TempDir(), "in")
	os.WriteFile(f, input, 0644)
	in, err := os.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	cmd := exec.Command(path, args...)
	cmd.Stdin = in
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	out, errb, code := harness.Run(t, 30*time.Second, cmd)
	return result{out, errb, code}
}

func TestRecordioLogsEachPacketLineByLine(t *testing.T) {
	t.Parallel()
	prog := []string{"sh", "-c", `cat >/dev/null; printf 'a\nb\n\nc'`}
	input := []byte("hello\nwor")
	var logs [2][2][]string
	for i, p := range []string{harness.NeedPeer(t, "/usr/bin/recordio"), harness.Bin(t, "recordio")} {
		r := runFromFile(t, p, input, prog...)
		if r.code != 0 || string(r.out) != "a\nb\n\nc" {
			t.Errorf("%s: exit %d, stdout %q", p, r.code, r.out)
		}
		in, out, pids := directions(t, r.err)
		if len(pids) != 1 {
			t.Errorf("%s: several PIDs in %q", p, r.err)
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
	r := run(t, harness.Bin(t, "recordio"), nil, nil, "sh", "-c", "echo $$")
	pid := strings.TrimSpace(string(r.out))
	_, _, pids := directions(t, r.err)
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
	if r.code != 0 || !bytes.Equal(r.out, data.Bytes()) {
		t.Fatalf("exit %d, %d bytes out of %d", r.code, len(r.out), data.Len())
	}
	in, out, _ := directions(t, r.err)
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
	c := runFromFile(t, harness.NeedPeer(t, "/usr/bin/recordio"), data.Bytes(), "cat")
	cin, _, _ := directions(t, c.err)
	if strings.Join(cin, "") != strings.Join(in, "") {
		t.Errorf("input logs of C and Go differ")
	}
}

func TestRecordioUsageAndRunFailureMatchC(t *testing.T) {
	t.Parallel()
	c, g := both(t, "recordio", nil, nil)
	same(t, "recordio without program", c, g, nil)
	c, g = both(t, "recordio", nil, nil, "/nonexistent/prog")
	fatal := func(b []byte) []byte {
		for _, l := range strings.SplitAfter(string(b), "\n") {
			if strings.HasPrefix(l, "recordio: ") {
				return []byte(l)
			}
		}
		return nil
	}
	if c.code != g.code || !bytes.Equal(fatal(c.err), fatal(g.err)) {
		t.Errorf("missing program: C %d %q, Go %d %q", c.code, c.err, g.code, g.err)
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
		var r result
		// Exec the removed file through its descriptor (fd 3 in the child).
		// A parallel test's fork may briefly hold the copy's write
		// descriptor (ETXTBSY): retry a few times.
		for try := 0; try < 20; try++ {
			cmd := exec.Command("/proc/self/fd/3", "sh", "-c", "cat; echo out")
			cmd.Args[0] = tool
			cmd.ExtraFiles = []*os.File{f}
			cmd.Stdin = strings.NewReader("in\n")
			r.out, r.err, r.code = harness.Run(t, 30*time.Second, cmd)
			if !bytes.Contains(r.err, []byte("text busy")) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		f.Close()
		want := map[string]string{"recordio": "in\nout\n", "fixcrio": "in\r\nout\r\n"}[tool]
		if r.code != 0 || string(r.out) != want {
			t.Errorf("%s from a removed file: exit %d, stdout %q, stderr %q; want exit 0, %q", tool, r.code, r.out, r.err, want)
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
			r := run(t, p, nil, nil, "true")
			if got := string(pidPrefixRE.ReplaceAll(r.err, nil)); r.code != 0 || got != "< [EOF]\n> [EOF]\n" {
				t.Fatalf("%s true </dev/null: exit %d, log %q; want \"< [EOF]\\n> [EOF]\\n\"", p, r.code, got)
			}
		}
	}
}

var pidPrefixRE = regexp.MustCompile(`(?m)^[0-9]+ `)
