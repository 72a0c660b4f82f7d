// Command recordio runs a program and logs its input and output on stderr.
package main

import "tinymx/lib/relay"

func main() { relay.Main("recordio", relay.Record) }
