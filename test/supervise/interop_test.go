package supervise_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"tinymx/test/harness"
)

// controlRoundTrip walks one service through every svc command with one
// set of tools against one supervise and checks the status bytes and
// svstat's words after each step, with both svstat programs.
func controlRoundTrip(t *testing.T, superviseProg string, tool func(string) string) {
	dir := t.TempDir()
	s := service(t, dir, "s", "exec sleep 1000")
	sup := startSupervise(t, superviseProg, s)
	pid := waitPid(t, s, 0, 10*time.Second)

	svstatBoth := func(want string) {
		t.Helper()
		harness.WaitFor(t, 10*time.Second, "svstat saying "+want, func() bool {
			c := run(t, harness.Peer(t, "svstat"), s).Stdout
			g := run(t, harness.Bin(t, "svstat"), s).Stdout
			return harness.Seconds(c) == s+": "+want+"\n" && harness.Seconds(g) == harness.Seconds(c)
		})
	}
	svc := func(opts string) {
		t.Helper()
		if r := run(t, tool("svc"), opts, s); r != (harness.Result{}) {
			t.Fatalf("svc %s: %v", opts, r)
		}
	}
	svstatBoth("up (pid " + itoa(pid) + ") N seconds")
	if b := status(t, s); b[17] != 'u' || b[16] != 0 {
		t.Fatalf("status % x", b)
	}
	when := status(t, s)[:12]

	svc("-p")
	svstatBoth("up (pid " + itoa(pid) + ") N seconds, paused")
	if b := status(t, s); b[16] != 1 || !bytes.Equal(b[:12], when) {
		t.Fatalf("pause must set byte 16 and keep the timestamp: % x", b)
	}
	svc("-c")
	svstatBoth("up (pid " + itoa(pid) + ") N seconds")

	svc("-d")
	waitDown(t, s, 10*time.Second)
	svstatBoth("down N seconds, normally up")
	if b := status(t, s); b[17] != 'd' {
		t.Fatalf("want byte % x", b)
	}
	if alive(pid) {
		t.Fatalf("pid %d still running after svc -d", pid)
	}

	svc("-u")
	pid = waitPid(t, s, pid, 10*time.Second)
	svc("-o")
	harness.WaitFor(t, 10*time.Second, "want byte 0 after svc -o", func() bool { return status(t, s)[17] == 0 })
	svc("-k")
	waitDown(t, s, 10*time.Second)
	if st := status(t, s); st[17] != 0 || st[16] != 0 {
		t.Fatalf("after -o and -k: % x", st)
	}

	// a second supervise, of either kind, is refused by the lock
	for _, p := range []string{harness.Bin(t, "supervise"), harness.Peer(t, "supervise")} {
		r := run(t, p, s)
		if r.Code != 111 || r.Stderr != "supervise: fatal: unable to acquire "+s+"/supervise/lock: temporary failure\n" {
			t.Fatalf("%s on a supervised dir: %v", p, r)
		}
	}
	if c := run(t, tool("svok"), s).Code; c != 0 {
		t.Fatalf("svok = %d with supervise running", c)
	}
	svc("-dx")
	harness.WaitFor(t, 10*time.Second, "supervise to exit after svc -dx", sup.Done)
	if c := run(t, tool("svok"), s).Code; c != 100 {
		t.Fatalf("svok = %d after exit", c)
	}
	svstatBoth("supervise not running")
	if e := stderrOf(sup); e != "" {
		t.Fatalf("supervise wrote %q", e)
	}
	if fi, err := os.Stat(filepath.Join(s, "supervise")); err != nil || fi.Mode().Perm() != 0700 {
		t.Fatalf("supervise/ mode %v %v", fi.Mode(), err)
	}
	for name, mode := range map[string]os.FileMode{"lock": 0600, "status": 0644, "control": os.ModeNamedPipe | 0600, "ok": os.ModeNamedPipe | 0600} {
		fi, err := os.Stat(filepath.Join(s, "supervise", name))
		if err != nil || fi.Mode()&(os.ModeType|os.ModePerm) != mode {
			t.Fatalf("supervise/%s: %v %v", name, fi.Mode(), err)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestCSvcSvstatSvokDriveOurSupervise(t *testing.T) {
	t.Parallel()
	controlRoundTrip(t, harness.Bin(t, "supervise"), func(n string) string { return harness.Peer(t, n) })
}

func TestOurSvcSvstatSvokDriveCSupervise(t *testing.T) {
	t.Parallel()
	controlRoundTrip(t, harness.Peer(t, "supervise"), func(n string) string { return harness.Bin(t, n) })
}

func TestOurToolsDriveOurSupervise(t *testing.T) {
	t.Parallel()
	controlRoundTrip(t, harness.Bin(t, "supervise"), func(n string) string { return harness.Bin(t, n) })
}

// record builds a status file the way supervise would.
func record(unix int64, pid uint32, paused byte, want byte) []byte {
	b := make([]byte, 18)
	binary.BigEndian.PutUint64(b, uint64(1)<<62+10+uint64(unix))
	binary.BigEndian.PutUint32(b[8:], 500)
	binary.LittleEndian.PutUint32(b[12:], pid)
	b[16] = paused
	b[17] = want
	return b
}

func TestBothSvstatPrintIdenticalLinesOnSyntheticRecords(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Now().Unix()
	type rec struct {
		name   string
		status []byte // nil: no status file
		down   bool
		ok     int // 0: fifo with a reader, 1: fifo without reader, 2: no fifo
	}
	var recs []rec
	for _, pid := range []uint32{0, 4242, 4294967295} {
		for _, paused := range []byte{0, 1, 5} {
			for _, want := range []byte{'u', 'd', 0, 'x'} {
				for _, down := range []bool{false, true} {
					recs = append(recs, rec{status: record(now-3, pid, paused, want), down: down})
				}
			}
		}
	}
	recs = append(recs,
		rec{status: record(now+1000, 1, 0, 'u')},
		rec{status: make([]byte, 18)},
		rec{status: []byte("12345")},
		rec{status: append(record(now, 7, 0, 'u'), "extra"...)},
		rec{status: nil},
		rec{status: record(now, 0, 0, 'u'), ok: 1},
		rec{status: record(now, 0, 0, 'u'), ok: 2},
	)
	var args []string
	for i, r := range recs {
		s := filepath.Join(dir, "r"+itoa(i))
		os.MkdirAll(filepath.Join(s, "supervise"), 0755)
		if r.down {
			os.WriteFile(filepath.Join(s, "down"), nil, 0644)
		}
		if r.status != nil {
			os.WriteFile(filepath.Join(s, "supervise/status"), r.status, 0644)
		}
		if r.ok < 2 {
			ok := filepath.Join(s, "supervise/ok")
			if err := syscall.Mkfifo(ok, 0600); err != nil {
				t.Fatal(err)
			}
			if r.ok == 0 {
				// O_RDWR on a fifo does not block: we are its reader.
				f, err := os.OpenFile(ok, os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { f.Close() })
			}
		}
		args = append(args, s)
	}
	// Odd trees: a status that cannot be read (a directory: EISDIR) first
	// (zero record), after a good record and after a short one laid over
	// it; a down symlink loop; an ok that is a directory; a supervise that
	// is a file.
	odd := func(name string, setup func(s string)) {
		s := filepath.Join(dir, name)
		os.MkdirAll(filepath.Join(s, "supervise"), 0755)
		ok := filepath.Join(s, "supervise/ok")
		syscall.Mkfifo(ok, 0600)
		f, err := os.OpenFile(ok, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		setup(s)
		args = append(args, s)
	}
	statusDir := func(s string) { os.Mkdir(filepath.Join(s, "supervise/status"), 0755) }
	odd("unreadable0", statusDir)
	args = append([]string{args[len(args)-1]}, args[:len(args)-1]...)
	odd("good", func(s string) { os.WriteFile(filepath.Join(s, "supervise/status"), record(now-9, 31337, 1, 'd'), 0644) })
	odd("unreadable1", statusDir)
	odd("short", func(s string) { os.WriteFile(filepath.Join(s, "supervise/status"), []byte{0x40, 0, 0, 0, 0x70}, 0644) })
	odd("unreadable2", statusDir)
	odd("downloop", func(s string) { os.Symlink("down", filepath.Join(s, "down")) })
	odd("okdir", func(s string) {
		os.Remove(filepath.Join(s, "supervise/ok"))
		os.Mkdir(filepath.Join(s, "supervise/ok"), 0755)
	})
	odd("supfile", func(s string) {
		os.RemoveAll(filepath.Join(s, "supervise"))
		os.WriteFile(filepath.Join(s, "supervise"), nil, 0644)
	})
	args = append(args, "/nonexistent/x", filepath.Join(dir, "r0/supervise/status"))
	cr := run(t, append([]string{harness.Peer(t, "svstat")}, args...)...)
	gr := run(t, append([]string{harness.Bin(t, "svstat")}, args...)...)
	if cr.Code != gr.Code || cr.Stderr != gr.Stderr {
		t.Fatalf("exit %d/%d stderr %q/%q", cr.Code, gr.Code, cr.Stderr, gr.Stderr)
	}
	c, g := cr.Stdout, gr.Stdout
	cl, gl := strings.Split(harness.Seconds(c), "\n"), strings.Split(harness.Seconds(g), "\n")
	if len(cl) != len(gl) {
		t.Fatalf("line counts differ:\n%s\n%s", c, g)
	}
	for i := range cl {
		if cl[i] != gl[i] {
			t.Errorf("C:  %s\nGo: %s", cl[i], gl[i])
		}
	}
	// the seconds themselves: exact for the future stamp and the all-zero one
	for _, want := range []string{": up (pid 1) 0 seconds\n", " 46116860",
		"unreadable0: down 46116860", "unreadable1: up (pid 31337) ", "unreadable2: up (pid 31337) 0 seconds, paused, want down\n",
		"downloop: unable to stat down: symbolic link loop\n", "okdir: unable to open supervise/ok: is a directory\n",
		"supfile: unable to open supervise/ok: not a directory\n"} {
		if !strings.Contains(g, want) {
			t.Errorf("svstat output lacks %q:\n%s", want, g)
		}
	}
}

func TestSvcSendsEachLetterOnceInOneWrite(t *testing.T) {
	t.Parallel()
	for _, prog := range []string{harness.Peer(t, "svc"), harness.Bin(t, "svc")} {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "supervise"), 0755)
		ctl := filepath.Join(dir, "supervise/control")
		syscall.Mkfifo(ctl, 0600)
		f, err := os.OpenFile(ctl, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		if r := run(t, prog, "-u", "-dxu", "-ht", dir); r != (harness.Result{}) {
			t.Fatalf("%s: %v", prog, r)
		}
		syscall.SetNonblock(int(f.Fd()), true)
		buf := make([]byte, 64)
		n, _ := syscall.Read(int(f.Fd()), buf)
		f.Close()
		if string(buf[:max(n, 0)]) != "udxht" {
			t.Fatalf("%s sent %q", prog, buf[:max(n, 0)])
		}
	}
}

// TestUsageAndErrorsMatchC runs both programs on the same bad input and
// compares stdout, stderr and the exit code.
func TestUsageAndErrorsMatchC(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "empty"), 0755)
	notRunning := filepath.Join(dir, "nr")
	os.MkdirAll(filepath.Join(notRunning, "supervise"), 0755)
	syscall.Mkfifo(filepath.Join(notRunning, "supervise/control"), 0600)
	syscall.Mkfifo(filepath.Join(notRunning, "supervise/ok"), 0600)
	os.WriteFile(filepath.Join(dir, "file"), nil, 0644)
	okDir := filepath.Join(dir, "okdir") // supervise/ok and control are directories
	os.MkdirAll(filepath.Join(okDir, "supervise/ok"), 0755)
	os.MkdirAll(filepath.Join(okDir, "supervise/control"), 0755)
	supFile := filepath.Join(dir, "supfile") // supervise is a file
	os.Mkdir(supFile, 0755)
	os.WriteFile(filepath.Join(supFile, "supervise"), nil, 0644)
	cases := [][]string{
		{"svok", okDir}, {"svok", supFile}, {"svok", notRunning, "extra"}, {"svc", "-u", okDir, supFile},
		{"svstat", okDir, supFile}, {"supervise", supFile}, {"supervise", okDir},
		{"svc"}, {"svc", "-z", "x"}, {"svc", "-u"}, {"svc", "-u", "/nonexistent"}, {"svc", "-u", dir + "/empty"},
		{"svc", "-h", notRunning}, {"svc", notRunning}, {"svc", "-u", dir + "/file"}, {"svc", "--", "-u"},
		{"svstat"}, {"svstat", "/nonexistent", dir + "/empty", notRunning, dir + "/file"},
		{"svok"}, {"svok", "/nonexistent"}, {"svok", dir + "/empty"}, {"svok", notRunning}, {"svok", dir + "/file"},
		{"supervise"}, {"supervise", "a", "b"}, {"supervise", "/nonexistent"}, {"supervise", dir + "/file"},
		{"svscan", "/nonexistent"},
		{"readproctitle"}, {"readproctitle", "abcd"},
	}
	for _, c := range cases {
		// the C programs name themselves by argv[0] too
		cr, gr := harness.Pair(t, c[0]).Run(t, harness.Job{Args: c[1:], Argv0: c[0]})
		harness.Same(t, fmt.Sprint(c), cr, gr, nil)
	}
}

func TestMissingAndNonExecutableRunWarnEverySecondLikeC(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"missing", "noexec"} {
		var got [2]string
		for i, prog := range []string{harness.Peer(t, "supervise"), harness.Bin(t, "supervise")} {
			dir := t.TempDir()
			s := service(t, dir, "s", "")
			if mode == "noexec" {
				os.WriteFile(filepath.Join(s, "run"), []byte("#!/bin/sh\nexit 0\n"), 0644)
			}
			cmd := exec.Command(prog, "s")
			cmd.Dir = dir
			buf := &harness.Output{}
			cmd.Stderr = buf
			harness.Start(t, cmd)
			start := time.Now()
			harness.WaitFor(t, 12*time.Second, "three warnings", func() bool { return strings.Count(buf.String(), "\n") >= 3 })
			// a spin would print thousands; the exact spacing is checked by
			// fork times in TestRunThatExitsAtOnce..., free of the jitter of
			// a loaded machine delivering these lines
			if el := time.Since(start); el < 1500*time.Millisecond {
				t.Errorf("%s: three attempts in %v: faster than once a second", prog, el)
			}
			if !okOpen(s) {
				t.Errorf("%s: supervise died", prog)
			}
			got[i] = strings.SplitAfter(buf.String(), "\n")[0]
			syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		}
		want := map[string]string{
			"missing": "supervise: fatal: unable to start s/run: file does not exist\n",
			"noexec":  "supervise: fatal: unable to start s/run: access denied\n",
		}[mode]
		if got[0] != want || got[1] != want {
			t.Errorf("%s: C %q, Go %q", mode, got[0], got[1])
		}
	}
}

// TestSvstatSaysOneSecondsLikeC: both svstat programs count the seconds
// since the record's stamp W as now - W: within the window of seconds the
// run took, and, when the run stayed within the second after W, exactly
// "1 seconds" (no singular). Retried until each program had such a run.
func TestSvstatSaysOneSecondsLikeC(t *testing.T) {
	t.Parallel()
	s := filepath.Join(t.TempDir(), "s")
	os.MkdirAll(filepath.Join(s, "supervise"), 0755)
	ok := filepath.Join(s, "supervise/ok")
	syscall.Mkfifo(ok, 0600)
	f, err := os.OpenFile(ok, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	os.WriteFile(filepath.Join(s, "down"), nil, 0644)
	for _, prog := range []string{harness.Peer(t, "svstat"), harness.Bin(t, "svstat")} {
		exact := false
		for try := 0; try < 20 && !exact; try++ {
			w := time.Now().Unix() - 1
			os.WriteFile(filepath.Join(s, "supervise/status"), record(w, 0, 0, 'd'), 0644)
			o := run(t, prog, s).Stdout
			after := time.Now().Unix()
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(o, s+": down "), " seconds\n"))
			if err != nil || n < 1 || int64(n) > after-w {
				t.Fatalf("%s: %q for a stamp %d..%d seconds old", prog, o, 1, after-w)
			}
			exact = after-w == 1
			if exact && o != s+": down 1 seconds\n" {
				t.Fatalf("%s: %q", prog, o)
			}
		}
		if !exact {
			t.Logf("%s: no run within one second on this machine; window checks only", prog)
		}
	}
}
