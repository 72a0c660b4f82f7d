// Command tcprulescheck shows which rule of a tcprules cdb applies to the
// client described by TCPREMOTEIP, TCPREMOTEHOST and TCPREMOTEINFO.
package main

import (
	"os"

	"tinymx/lib/cdb"
	"tinymx/lib/rules"
	"tinymx/lib/strerr"
)

func main() {
	// The C program names itself "tcprulescheck" whatever argv[0] says.
	strerr.SetProg("tcprulescheck")
	if len(os.Args) < 2 {
		strerr.Usage("tcprulescheck rules.cdb")
	}
	fn := os.Args[1]
	db, err := cdb.Open(fn)
	if err != nil {
		strerr.Fatal(strerr.ExitTemp, err, "unable to read ", fn)
	}
	ip, ok := os.LookupEnv("TCPREMOTEIP")
	if !ok {
		ip = "0.0.0.0"
	}
	key, data, found, err := rules.Lookup(db, ip, env("TCPREMOTEHOST"), env("TCPREMOTEINFO"))
	if err != nil {
		strerr.Fatal(strerr.ExitTemp, err, "unable to read ", fn)
	}
	os.Stdout.Write(rules.Describe(key, data, found))
}

// env is a variable's value, or nil when it is not set: set but empty
// still counts as known.
func env(name string) *string {
	if v, ok := os.LookupEnv(name); ok {
		return &v
	}
	return nil
}
