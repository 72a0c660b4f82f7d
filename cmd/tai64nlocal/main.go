// Command tai64nlocal turns the TAI64N labels at the start of lines into
// local time, as daemontools' tai64nlocal.
package main

import (
	"io"
	"os"
	"time"

	"tinymx/lib/crlf"
	"tinymx/lib/strerr"
)

func main() {
	// No arguments are looked at (spec §1.1). A descriptor closed at
	// start fails as in the original, not as the runtime's /dev/null.
	in, out := crlf.Stdio()
	os.Exit(run(in, out, localZone()))
}

// run filters in to out; the exit code is 0 at end of input and 111 when a
// read or write fails, without a message, as the original.
func run(in io.Reader, out io.Writer, loc *time.Location) int {
	f := newFilter(loc)
	buf := make([]byte, 64<<10)
	for {
		// Flush before every read, as djb's buffer_0 flushes buffer_1:
		// output appears exactly when we are about to wait for input.
		if len(f.out) > 0 {
			if _, err := out.Write(f.out); err != nil {
				return strerr.ExitTemp
			}
			f.out = f.out[:0]
		}
		n, err := in.Read(buf)
		if n > 0 {
			f.Write(buf[:n])
			continue
		}
		if err != nil && !isEOF(err) {
			return strerr.ExitTemp
		}
		// A label cut short by the end of input is dropped, as the
		// original consumes it before printing anything.
		return 0
	}
}
