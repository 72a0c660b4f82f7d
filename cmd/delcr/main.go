// Command delcr copies stdin to stdout, removing a CR that precedes an LF.
package main

import (
	"os"

	"tinymx/lib/crlf"
)

func main() {
	// The original does not check its last flush at EOF.
	os.Exit(crlf.Filter(os.Stdin, os.Stdout, &crlf.DelCR{}, true))
}
