// Package strerr writes djb-style diagnostics: "PROG: fatal: TEXT: ERRSTR".
//
// Every program prints its errors through here, so that the wording of
// system errors is djb's (error_str) and never Go's.
package strerr

import (
	"errors"
	"os"
	"strings"
	"syscall"
)

// Exit codes shared by every djb program.
const (
	ExitPerm = 100 // usage errors and permanent failures
	ExitTemp = 111 // temporary and system failures
)

// Prog is the name every message starts with.
var Prog = "tinymx"

// SetProg sets Prog from argv[0] (see ProgName).
func SetProg(argv0 string) { Prog = ProgName(argv0) }

// ProgName is the name djb's programs and sgetopt give themselves from
// argv[0]: everything after the last '/', which is empty for "" or "dir/"
// (not filepath.Base's "." or "dir").
func ProgName(argv0 string) string { return argv0[strings.LastIndexByte(argv0, '/')+1:] }

// exit is replaced in tests.
var exit = os.Exit

// Print writes the concatenation of parts to fd 2 in one write.
func Print(parts ...string) {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = append(b, p...)
	}
	os.Stderr.Write(b)
}

// Message builds "PROG: KIND: MSG: ERRSTR\n" (no ": ERRSTR" when err is nil).
func Message(kind string, err error, msg ...string) string {
	b := make([]byte, 0, 128)
	b = append(b, Prog...)
	b = append(b, ": "...)
	b = append(b, kind...)
	b = append(b, ": "...)
	for _, m := range msg {
		b = append(b, m...)
	}
	if err != nil {
		b = append(b, ": "...)
		b = append(b, Errstr(err)...)
	}
	b = append(b, '\n')
	return string(b)
}

// Fatal prints a fatal message and exits with code.
func Fatal(code int, err error, msg ...string) {
	Print(Message("fatal", err, msg...))
	exit(code)
}

// Warn prints a warning.
func Warn(err error, msg ...string) {
	Print(Message("warning", err, msg...))
}

// Usage prints "PROG: usage: TEXT" and exits 100.
func Usage(text string) {
	Print(Prog, ": usage: ", text, "\n")
	exit(ExitPerm)
}

// Errno returns the errno inside err, or 0 when there is none.
func Errno(err error) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return 0
}

// Errstr returns djb's wording for the errno wrapped in err.
func Errstr(err error) string {
	if err == nil {
		return "no error"
	}
	var e syscall.Errno
	if !errors.As(err, &e) {
		return "unknown error"
	}
	if e == 0 {
		return "no error"
	}
	if s, ok := errnoText[e]; ok {
		return s
	}
	return "unknown error"
}
