package crlf

import (
	"io"

	"tinymx/lib/strerr"
)

// BufSize is how much the filters read at once. djb's buffers hold 8192
// bytes; reading more per call changes no output, only the syscall count
// (output is still written before every read, so interactive use is the
// same).
const BufSize = 65536

// Filter copies in to out through c with the visible behaviour of djb's
// buffer_0/buffer_1: converted output is written out whenever the filter
// is about to read (so an interactive peer sees each chunk at once), a
// write error shows at that next read, and EOF flushes what is left.
// It returns the exit status: 0 at EOF, 111 for a read or write error.
// endErrIgnored reproduces delcr, whose final flush at EOF is unchecked.
func Filter(in io.Reader, out io.Writer, c Converter, endErrIgnored bool) int {
	buf := make([]byte, BufSize)
	pending := make([]byte, 0, 2*BufSize)
	for {
		if len(pending) > 0 {
			_, err := out.Write(pending)
			pending = pending[:0]
			if err != nil {
				return strerr.ExitTemp
			}
		}
		n, err := in.Read(buf)
		if n > 0 {
			pending = c.Convert(pending, buf[:n])
			continue
		}
		if err == io.EOF {
			pending = c.End(pending)
			if len(pending) > 0 {
				if _, err := out.Write(pending); err != nil && !endErrIgnored {
					return strerr.ExitTemp
				}
			}
			return 0
		}
		if err != nil {
			return strerr.ExitTemp
		}
	}
}

// Pump copies in to out through c with 512-byte buffers, writing out
// whatever it holds before each read (mconnect-io's buffers). Write errors
// are ignored, as the original ignores them; it returns at EOF or a read
// error.
func Pump(in io.Reader, out io.Writer, c Converter) {
	buf := make([]byte, 512)
	var pending []byte
	for {
		if len(pending) > 0 {
			out.Write(pending)
			pending = pending[:0]
		}
		n, _ := in.Read(buf)
		if n <= 0 {
			return
		}
		pending = c.Convert(pending, buf[:n])
	}
}
