// Command svscanboot starts svscan with its errors shown by readproctitle.
package main

import (
	"os"

	"tinymx/lib/svscan"
)

func main() {
	dir := svscan.DefaultDir
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	os.Exit(svscan.Boot(dir))
}
