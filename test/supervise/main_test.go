package supervise_test

import (
	"flag"
	"os"
	"testing"
)

// TestMain raises -parallel: these tests mostly wait (for the 1-second
// throttle, svscan's 5-second scan, a paced writer), not compute, so on a
// 2-core machine running them two at a time would only add their waits up.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		flag.Set("test.parallel", "32")
	}
	os.Exit(m.Run())
}
