//go:build smtpdpanic

package smtpd

// Built only with -tags smtpdpanic, for the test that shows a bug in one
// session of qmail-smtpd-server hurts no other: a session whose
// environment has TINYMX_TEST_PANIC=1 (set by a rule) panics at HELO, as
// a nil dereference deep in the engine would.
func panicRequested(getenv Getenv) bool {
	v, _ := getenv("TINYMX_TEST_PANIC")
	return v == "1"
}

func injectedPanic() {
	var m map[string]int
	m["x"] = 1 // a real runtime panic (assignment to entry in nil map)
}
