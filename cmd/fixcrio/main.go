// Command fixcrio runs a program with a CR inserted before every bare LF of
// its input and output.
package main

import "tinymx/lib/relay"

func main() { relay.Main("fixcrio", relay.FixCR) }
