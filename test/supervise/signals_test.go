package supervise_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tinymx/test/harness"
)

// signalRecorder is a run that logs each signal it gets to ./sig, and
// exits at TERM. Python, not sh: sh cannot trap a signal that was ignored
// when it started (INT, under a non-interactive parent).
const signalRecorder = `exec python3 -c '
import signal, sys, time
def h(n, f):
    with open("sig", "a") as o:
        o.write(signal.Signals(n).name + "\n")
    if n == signal.SIGTERM:
        sys.exit(0)
for s in (signal.SIGHUP, signal.SIGALRM, signal.SIGINT, signal.SIGTERM):
    signal.signal(s, h)
open("ready", "w").close()
while True:
    time.sleep(100)
'`

// TestSvcHAITSendTheirSignalsToRun: svc -h, -a, -i and -t reach ./run as
// HUP, ALRM, INT and TERM, with C and Go supervise (and svc) alike; after
// TERM the service is restarted.
func TestSvcHAITSendTheirSignalsToRun(t *testing.T) {
	t.Parallel()
	for _, pair := range [][2]string{{harness.Peer(t, "supervise"), harness.Bin(t, "svc")}, {harness.Bin(t, "supervise"), harness.Peer(t, "svc")}, {harness.Bin(t, "supervise"), harness.Bin(t, "svc")}} {
		s := service(t, t.TempDir(), "s", signalRecorder)
		startSupervise(t, pair[0], s)
		pid := waitPid(t, s, 0, 10*time.Second)
		harness.WaitFor(t, 20*time.Second, "run to set its handlers", func() bool { return fileExists(filepath.Join(s, "ready")) })
		var want string
		for _, step := range []struct{ opt, sig string }{{"-h", "SIGHUP"}, {"-a", "SIGALRM"}, {"-i", "SIGINT"}, {"-t", "SIGTERM"}} {
			if r := run(t, pair[1], step.opt, s); r != (harness.Result{}) {
				t.Fatalf("svc %s: %v", step.opt, r)
			}
			want += step.sig + "\n"
			harness.WaitFor(t, 10*time.Second, step.sig+" in "+s+"/sig", func() bool {
				b, _ := os.ReadFile(filepath.Join(s, "sig"))
				return string(b) == want
			})
		}
		waitPid(t, s, pid, 10*time.Second)
		if b, _ := os.ReadFile(filepath.Join(s, "sig")); strings.Count(string(b), "\n") != 4 {
			t.Fatalf("%v: signals logged %q", pair, b)
		}
	}
}
