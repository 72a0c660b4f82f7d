// Command addcr copies stdin to stdout, putting a CR before every LF.
package main

import (
	"os"

	"tinymx/lib/crlf"
)

func main() {
	in, out := crlf.Stdio()
	os.Exit(crlf.Filter(in, out, crlf.AddCR{}, false))
}
