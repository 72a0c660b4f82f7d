// Command addcr copies stdin to stdout, putting a CR before every LF.
package main

import (
	"os"

	"tinymx/lib/crlf"
)

func main() {
	os.Exit(crlf.Filter(os.Stdin, os.Stdout, crlf.AddCR{}, false))
}
