// Command svscanboot starts svscan with its errors shown by readproctitle.
package main

import (
	"os"

	"tinymx/lib/scan"
)

func main() {
	dir := scan.DefaultDir
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	os.Exit(scan.Boot(dir))
}
