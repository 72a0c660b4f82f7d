//go:build !smtpdpanic

package smtpd

// panicRequested is false in every real build: no client and no
// environment can make a session panic on purpose. (panic_inject.go, built
// with the test-only tag smtpdpanic, replaces it.)
func panicRequested(Getenv) bool { return false }

func injectedPanic() {}
