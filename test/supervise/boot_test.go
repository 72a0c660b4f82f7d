package supervise_test

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"tinymx/test/harness"
)

func cmdline(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return string(b)
}

func TestReadproctitleRollsTheTitleLikeC(t *testing.T) {
	t.Parallel()
	input := "fatal error xyz\nwarn\x00ing abc\n"
	var titles []string
	for _, prog := range []string{harness.Peer(t, "readproctitle"), harness.Bin(t, "readproctitle")} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(prog, "service", "errors:", strings.Repeat(".", 20))
		cmd.Stdin = r
		p := harness.Start(t, cmd)
		r.Close()
		w.Write([]byte(input))
		var title string
		harness.WaitFor(t, 10*time.Second, "the title to show the input", func() bool {
			title = cmdline(p.Pid())
			return strings.HasSuffix(title, "abc\n\x00")
		})
		titles = append(titles, title[strings.IndexByte(title, 0):])
		w.Close()
		if st := p.Wait(t, harness.Patience); !st.Success() {
			t.Fatalf("%s at end of input: %v", prog, st)
		}
	}
	want := "\x00service\x00errors:\x00... xyz\nwarning abc\n\x00"
	if titles[0] != want || titles[1] != want {
		t.Fatalf("C %q\nGo %q", titles[0], titles[1])
	}
}

// TestSvscanbootStopsOldSuperviseAndShowsErrorsInTitle: svscanboot first
// stops a supervise left in the tree (svc -dx), then runs svscan with its
// errors in readproctitle's title.
func TestSvscanbootStopsOldSuperviseAndShowsErrorsInTitle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	old := service(t, dir, "old", "exec sleep 1000")
	service(t, dir, "norun", "")
	prev := startSupervise(t, harness.Bin(t, "supervise"), old)
	prevRun := waitPid(t, old, 0, 10*time.Second)

	boot := harness.Start(t, exec.Command(harness.Bin(t, "svscanboot"), dir))
	harness.WaitFor(t, 10*time.Second, "the old supervise to exit", prev.Done)
	if alive(prevRun) {
		t.Fatal("svc -dx left the old run running")
	}
	var title string
	harness.WaitFor(t, 20*time.Second, "the missing run's error in the title", func() bool {
		for pid, args := range children(boot.Process.Pid) {
			if strings.HasPrefix(args, "readproctitle service errors: ...") {
				title = cmdline(pid)
			}
		}
		return strings.Contains(title, "supervise: fatal: unable to start norun/run: file does not exist\n")
	})
	if n := strings.Count(title, "."); len(title) < 400 || n == 0 {
		t.Fatalf("title %q", title)
	}
	// svscan has restarted the old service
	waitPid(t, old, prevRun, 20*time.Second)
}
