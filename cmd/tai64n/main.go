// Command tai64n puts a TAI64N label at the start of every line, as
// daemontools' tai64n.
package main

import (
	"bytes"
	"errors"
	"io"
	"os"

	"tinymx/lib/crlf"
	"tinymx/lib/strerr"
	"tinymx/lib/tai64n"
)

func main() {
	// No arguments are looked at (spec §1.1). A descriptor closed at
	// start fails as in the original, not as the runtime's /dev/null.
	in, out := crlf.Stdio()
	os.Exit(run(in, out))
}

// run labels in into out. Exit 0 at end of input, 111 without a message
// when a read or write fails, as the original.
func run(in io.Reader, out io.Writer) int {
	buf := make([]byte, 64<<10)
	obuf := make([]byte, 0, 128<<10)
	midLine := false
	for {
		// Flush before every read, as djb's buffer: output appears
		// exactly when we are about to wait for input.
		if len(obuf) > 0 {
			if _, err := out.Write(obuf); err != nil {
				return strerr.ExitTemp
			}
			obuf = obuf[:0]
		}
		n, err := in.Read(buf)
		if n == 0 {
			if err != nil && !errors.Is(err, io.EOF) {
				return strerr.ExitTemp
			}
			return 0
		}
		p := buf[:n]
		for len(p) > 0 {
			if !midLine {
				// The label is the moment the line's first byte is
				// taken from the input buffer.
				obuf = tai64n.Now().AppendText(obuf)
				obuf = append(obuf, ' ')
			}
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				obuf = append(obuf, p...)
				midLine = true
				break
			}
			obuf = append(obuf, p[:i+1]...)
			p = p[i+1:]
			midLine = false
		}
	}
}
