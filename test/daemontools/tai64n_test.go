package daemontools

import (
	"bufio"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"tinymx/test/harness"
)

func TestTai64nLabelsEveryLineLikeC(t *testing.T) {
	for _, in := range []string{"a\n\nb", "", "\n", "one\ntwo\n", strings.Repeat("x", 5000) + "\ny\n", "no newline"} {
		r := harness.Pair(t, "tai64n").Same(t, harness.Job{Stdin: in}, harness.Stamps)
		// Same has masked every label as "@T ".
		if got := strings.ReplaceAll(r.Stdout, "@T ", ""); got != in {
			t.Errorf("tai64n changed the lines of %.40q", in)
		}
		want := strings.Count(in, "\n")
		if !strings.HasSuffix(in, "\n") && in != "" {
			want++
		}
		if n := strings.Count(r.Stdout, "@T "); n != want {
			t.Errorf("tai64n %.40q: %d labels, want %d", in, n, want)
		}
	}
}

func TestTai64nLabelIsNowAndReadableByCTai64nlocal(t *testing.T) {
	before := time.Now().Add(-time.Second)
	r := harness.Job{Stdin: "x\n"}.Run(t, harness.Bin(t, "tai64n"))
	after := time.Now().Add(time.Second)
	local := harness.Job{Stdin: r.Stdout, Env: []string{"TZ=UTC"}}.Run(t, harness.Peer(t, "tai64nlocal"))
	if local.Code != 0 {
		t.Fatalf("C tai64nlocal exit %d", local.Code)
	}
	got, err := time.Parse("2006-01-02 15:04:05.000000000 x\n", local.Stdout)
	if err != nil || got.Before(before) || got.After(after) {
		t.Errorf("C tai64nlocal read our label %q as %q (%v), want between %v and %v", r.Stdout, local.Stdout, err, before, after)
	}
	if nano, err := strconv.ParseUint(r.Stdout[17:25], 16, 32); err != nil || nano%1000 != 500 {
		t.Errorf("nanoseconds of %q are not microseconds*1000+500", r.Stdout[:25])
	}
}

func TestTai64nAndTai64nlocalExit111WhenOutputFails(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full")
	}
	defer full.Close()
	for _, name := range []string{"tai64n", "tai64nlocal"} {
		for _, bin := range harness.Pair(t, name).Both() {
			cmd := exec.Command(bin)
			cmd.Stdin = strings.NewReader("x\n")
			cmd.Stdout = full
			r := harness.Run(t, 10*time.Second, cmd)
			if r.Code != 111 || r.Stderr != "" {
				t.Errorf("%s > /dev/full: exit %d stderr %q, want 111 and nothing", bin, r.Code, r.Stderr)
			}
		}
	}
}

// zones with DST, with half- and quarter-hour offsets, a southern-hemisphere
// half-hour DST shift, and POSIX rule strings that name no zone file.
var zones = []string{"UTC", "US/Pacific", "Europe/Berlin", "Asia/Kolkata", "Asia/Kathmandu",
	"America/St_Johns", "Australia/Lord_Howe", "Pacific/Chatham", "Europe/London",
	"<+0330>-3:30", "AAA3BBB,M3.2.0,M11.1.0", "EST5EDT", ""}

// validStamps is tai64nlocal input the C program handles without crashing:
// labels from year 0 to far in the future, lines without labels, labels
// ended by any byte, empty lines, a final line without newline.
func validStamps() string {
	rng := rand.New(rand.NewSource(5))
	const base = uint64(1)<<62 + 10
	var b strings.Builder
	b.WriteString("@4000000037c219bf2ef02e94 mark\nplain\n@4000000037c219bf2ef02e94x\n\n@4000000037c219bf2ef02e94\n")
	b.WriteString("no @ here\n @4000000037c219bf2ef02e94 leading blank\n@04000000037c219bf2ef02e94 25 digits, leading zero\n")
	b.WriteString("@40000000000000003b9aca00 nanoseconds over 999999999\n")
	b.WriteString("@4000000037c219bf2ef02e94\x00\xff\r@ binary body\x01\n\xfe\x00 no label @4000000037c219bf2ef02e94\r\n")
	for i := 0; i < 3000; i++ {
		var s int64
		switch i % 4 {
		case 0: // around now
			s = 1.7e9 + rng.Int63n(4e8)
		case 1: // 1900..2100
			s = -2.2e9 + rng.Int63n(6.3e9)
		case 2: // year 0..9999
			s = -62167219200 + rng.Int63n(315537897600)
		case 3: // up to about year 36000
			s = rng.Int63n(1 << 40)
		}
		end := []string{" line\n", "\n", "x", "\t", ":"}[rng.Intn(5)]
		fmt.Fprintf(&b, "@%016x%08x%s", base+uint64(s), rng.Int63n(1e9), end)
		if end != "\n" && end != " line\n" {
			b.WriteString(" rest\n")
		}
	}
	b.WriteString("@4000000037c219bf2ef02e94 final without newline")
	return b.String()
}

func TestTai64nlocalMatchesCInManyTimeZones(t *testing.T) {
	in := validStamps()
	for _, tz := range zones {
		harness.Pair(t, "tai64nlocal").Same(t, harness.Job{Stdin: in, Env: []string{"TZ=" + tz}}, nil)
	}
	// No TZ at all: /etc/localtime.
	harness.Pair(t, "tai64nlocal").Same(t, harness.Job{Stdin: in, Env: []string{}}, nil)
}

func TestTai64nlocalReadsLabelsFromCTai64n(t *testing.T) {
	c := harness.Job{Stdin: "one\ntwo\n"}.Run(t, harness.Peer(t, "tai64n"))
	harness.Pair(t, "tai64nlocal").Same(t, harness.Job{Stdin: c.Stdout, Env: []string{"TZ=Europe/Berlin"}}, nil)
}

func TestTai64nlocalCopiesMalformedLabelsUnchanged(t *testing.T) {
	// The C program crashes on these (localtime fails): ours copies them.
	in := "@\n@400000003 short\n@4000000037C219BF2EF02E94 upper\n@4000000037c219bf2ef02e94ff too long\n" +
		"@0000000000000000000000 year -146e9\n@3fffffd6c9e9c6200601cba3 year before 0\n" +
		"@4000000037c219bf2ef02e94 good\n"
	r := harness.Job{Stdin: in, Env: []string{"TZ=UTC"}}.Run(t, harness.Bin(t, "tai64nlocal"))
	want := strings.Replace(in, "@4000000037c219bf2ef02e94 good", "1999-08-24 04:04:05.787492500 good", 1)
	if r.Code != 0 || r.Stdout != want {
		t.Errorf("got exit %d\n%s\nwant\n%s", r.Code, r.Stdout, want)
	}
}

func TestTai64nlocalDropsALabelCutShortByEndOfInput(t *testing.T) {
	harness.Pair(t, "tai64nlocal").Same(t, harness.Job{Stdin: "a\n@4000000037c219bf2ef02e9", Env: []string{"TZ=UTC"}}, nil)
}

// Both filters write their output when they are about to wait for input
// (spec §1.11): a line written to them comes out before the next one is
// sent, and stamps split across writes are put together.
func TestFiltersFlushBeforeWaitingForInput(t *testing.T) {
	for _, name := range []string{"tai64n", "tai64nlocal"} {
		for _, bin := range harness.Pair(t, name).Both() {
			cmd := exec.Command(bin)
			cmd.Env = []string{"TZ=UTC"}
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			harness.Start(t, cmd)
			rd := bufio.NewReader(stdout)
			for _, chunks := range [][]string{{"@4000000037c2", "19bf2ef02e94 one\n"}, {"two", "\n"}, {"@4000000037c219bf2ef02e94", "\n"}} {
				for _, c := range chunks {
					io.WriteString(stdin, c)
					time.Sleep(5 * time.Millisecond) // let the pieces arrive as separate reads
				}
				line := make(chan string, 1)
				go func() { l, _ := rd.ReadString('\n'); line <- l }()
				select {
				case l := <-line:
					if !strings.HasSuffix(l, strings.TrimPrefix(chunks[len(chunks)-1], "19bf2ef02e94")) {
						t.Errorf("%s: got %q for %q", bin, l, chunks)
					}
				case <-time.After(harness.Patience):
					t.Fatalf("%s held back its output for %q", bin, chunks)
				}
			}
			stdin.Close()
		}
	}
}

// With stdin a non-blocking pipe that is still empty, the C filters exit
// 111 at the first EAGAIN; ours wait for the input.
func TestFiltersWaitOnANonblockingStdin(t *testing.T) {
	const wrap = `import fcntl, os, sys
fcntl.fcntl(0, fcntl.F_SETFL, fcntl.fcntl(0, fcntl.F_GETFL) | os.O_NONBLOCK)
os.execv(sys.argv[1], sys.argv[1:])`
	py := harness.Peer(t, "python3")
	for _, name := range []string{"tai64n", "tai64nlocal"} {
		p := harness.Pair(t, name)
		c, g := p.C, p.Go
		for _, bin := range []string{c, g} {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			outPath := t.TempDir() + "/out"
			out, err := os.Create(outPath)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(py, "-c", wrap, bin)
			cmd.Stdin = r
			cmd.Stdout = out
			filter := harness.Start(t, cmd)
			r.Close()
			out.Close()
			// Wait until the filter itself runs and sleeps (or has exited).
			pid := filter.Pid()
			harness.WaitFor(t, 10*time.Second, bin+" running", func() bool {
				exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
				st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
				return filter.Done() || exe == bin && strings.Contains(string(st), ") S ")
			})
			if bin == c {
				// It gives up with the writer still there.
				harness.WaitFor(t, 10*time.Second, bin+" to exit at EAGAIN", filter.Done)
			} else {
				w.WriteString("@4000000037c219bf2ef02e94 x\n")
			}
			w.Close()
			harness.WaitFor(t, 10*time.Second, bin+" to exit", filter.Done)
			b, _ := os.ReadFile(outPath)
			if bin == c && len(b) != 0 || bin == g && !strings.HasSuffix(string(b), " x\n") {
				t.Errorf("%s: output %q", bin, b)
			}
		}
	}
}

// Started with fd 0 or 1 closed, the C filters fail with EBADF (111, or 0
// when there was nothing to write); the Go runtime would put /dev/null
// there, so ours check for it.
func TestFiltersStartedWithStdinOrStdoutClosedExitAsC(t *testing.T) {
	for _, name := range []string{"tai64n", "tai64nlocal"} {
		for _, c := range []struct{ in, redir string }{
			{"x\n", ">&-"}, {"", ">&-"}, {"@4000000037c219bf2ef02e94 x\n", ">&-"},
			{"", "<&- >/dev/null"}, {"", "<&- >&-"},
		} {
			var codes []int
			for _, p := range harness.Pair(t, name).Both() {
				cmd := exec.Command("/bin/sh", "-c", `exec "$0" `+c.redir, p)
				cmd.Stdin = strings.NewReader(c.in)
				cmd.Env = []string{"TZ=UTC"}
				codes = append(codes, harness.Run(t, 10*time.Second, cmd).Code)
			}
			if codes[0] != codes[1] {
				t.Errorf("%s %q %s: C exits %d, Go %d", name, c.in, c.redir, codes[0], codes[1])
			}
		}
	}
}
