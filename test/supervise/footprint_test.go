package supervise_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"tinymx/test/harness"
)

// TestIdleTreeOfTenServicesIsIdleAndSmall: our svscan with ten services
// (five with loggers) uses under 1 % of one core over 10 s together, each
// supervise stays within 2.5 MiB of RSS and svscan within 3 MiB.
func TestIdleTreeOfTenServicesIsIdleAndSmall(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for i := 0; i < 10; i++ {
		name := "s" + strconv.Itoa(i)
		service(t, dir, name, "exec sleep 100000")
		if i%2 == 0 {
			service(t, dir, name+"/log", "exec multilog ./main")
		}
	}
	sc := startSvscan(t, harness.Bin(t, "svscan"), dir, binDir(t, harness.Bin(t, "supervise")))
	var sups []int
	harness.WaitFor(t, 20*time.Second, "15 supervise processes with their services up", func() bool {
		sups = sups[:0]
		for pid, args := range children(sc.Process.Pid) {
			if strings.HasPrefix(args, "supervise ") && len(children(pid)) == 1 {
				sups = append(sups, pid)
			}
		}
		return len(sups) == 15
	})
	// past every start's one-second throttle
	time.Sleep(1500 * time.Millisecond)
	all := append([]int{sc.Process.Pid}, sups...)
	before := 0
	for _, p := range all {
		before += cpuTicks(p)
	}
	start := time.Now()
	time.Sleep(10 * time.Second) // the measurement window itself: nothing to wait for
	after := 0
	for _, p := range all {
		after += cpuTicks(p)
	}
	el := time.Since(start)
	used := after - before // clock ticks, 100 per second
	t.Logf("idle tree: %d ticks of CPU in %v (svscan + 15 supervise)", used, el.Round(time.Millisecond))
	if float64(used)/100 > el.Seconds()*0.01 {
		t.Errorf("idle tree used %d ticks in %v: over 1%% of a core", used, el)
	}
	maxSup := 0
	for _, p := range sups {
		maxSup = max(maxSup, harness.StatusKB(p, "VmRSS"))
	}
	scRSS := harness.StatusKB(sc.Pid(), "VmRSS")
	t.Logf("RSS: svscan %d KiB, largest supervise %d KiB", scRSS, maxSup)
	if maxSup > 2560 {
		t.Errorf("a supervise uses %d KiB, over 2.5 MiB", maxSup)
	}
	if scRSS > 3072 {
		t.Errorf("svscan uses %d KiB, over 3 MiB", scRSS)
	}
}
