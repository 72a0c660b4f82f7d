// Command delcr copies stdin to stdout, removing a CR that precedes an LF.
package main

import (
	"os"

	"tinymx/lib/crlf"
)

func main() {
	in, out := crlf.Stdio()
	// The original does not check its last flush at EOF.
	os.Exit(crlf.Filter(in, out, &crlf.DelCR{}, true))
}
