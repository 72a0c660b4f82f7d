// Package ucspitools holds the differential tests of rblsmtpd, recordio,
// addcr, delcr, fixcrio, argv0, mconnect-io and the script clients against
// Debian's ucspi-tcp binaries in /usr/bin.
package ucspitools

import (
	"os"
	"testing"

	"tinymx/test/harness"
)

// job is a run with args and stdin, in a small fixed environment plus env.
func job(stdin []byte, env []string, args ...string) harness.Job {
	return harness.Job{Args: args, Stdin: string(stdin), Env: append([]string{"PATH=/usr/bin:/bin"}, env...)}
}

func TestMain(m *testing.M) {
	os.Exit(m.Run())
}
