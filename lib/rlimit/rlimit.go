// Package rlimit lowers soft resource limits the way daemontools'
// softlimit does: the soft limit becomes the requested value, capped at
// the hard limit, or the hard limit itself for "=".
//
// It uses syscall.Setrlimit, not x/sys: the Go runtime raises its own soft
// RLIMIT_NOFILE at start-up and restores the original before exec unless
// syscall.Setrlimit was told about a deliberate change. So a program run
// after Set sees the limit softlimit chose, and one run without touching
// RLIMIT_NOFILE sees what the C softlimit would have passed on.
package rlimit

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"

	"tinymx/lib/decimal"
)

// Letters is softlimit's getopt specification.
const Letters = "a:c:d:f:l:m:o:p:r:s:t:"

// Resources is what each option letter limits, in the order they are set.
var Resources = map[byte][]int{
	'a': {syscall.RLIMIT_AS},
	'c': {syscall.RLIMIT_CORE},
	'd': {syscall.RLIMIT_DATA},
	'f': {syscall.RLIMIT_FSIZE},
	'l': {unix.RLIMIT_MEMLOCK},
	'm': {syscall.RLIMIT_DATA, syscall.RLIMIT_STACK, unix.RLIMIT_MEMLOCK, syscall.RLIMIT_AS},
	'o': {syscall.RLIMIT_NOFILE},
	'p': {unix.RLIMIT_NPROC},
	'r': {unix.RLIMIT_RSS},
	's': {syscall.RLIMIT_STACK},
	't': {syscall.RLIMIT_CPU},
}

// ErrBadValue means the value is neither "=" nor all decimal digits.
var ErrBadValue = errors.New("bad limit value")

// Error is a failed getrlimit or setrlimit; Op names which.
type Error struct {
	Op  string // "getrlimit" or "setrlimit"
	Err error
}

func (e *Error) Error() string { return e.Op + " failed" }
func (e *Error) Unwrap() error { return e.Err }

// Parse reads a value: "=" means the hard limit (ok true, hard true);
// otherwise only decimal digits are allowed (the empty string is 0, as in
// the original), wrapping on overflow like scan_ulong.
func Parse(arg string) (n uint64, hard bool, err error) {
	if arg == "=" {
		return 0, true, nil
	}
	n, ok := decimal.All(arg)
	if !ok {
		return 0, false, ErrBadValue
	}
	return n, false, nil
}

// Set applies arg to resource: getrlimit, then the new soft limit, then
// setrlimit. The hard limit is never changed. As in the original the limit
// is read before the value is checked, so a failing getrlimit wins.
func Set(resource int, arg string) error {
	var r syscall.Rlimit
	if op, err := set(resource, arg, &r); err != nil {
		if op == "" {
			return err
		}
		return &Error{op, err}
	}
	return nil
}

// set is Set without allocating: r is scratch space, and a failure is
// named by op ("" for a bad value) and an errno, neither of which needs
// memory.
func set(resource int, arg string, r *syscall.Rlimit) (op string, err error) {
	if err := syscall.Getrlimit(resource, r); err != nil {
		return "getrlimit", err
	}
	n, hard, err := Parse(arg)
	if err != nil {
		return "", err
	}
	if hard || n > r.Max {
		r.Cur = r.Max
	} else {
		r.Cur = n
	}
	if err := syscall.Setrlimit(resource, r); err != nil {
		return "setrlimit", err
	}
	return "", nil
}

// SetOption applies one softlimit option to every resource it names.
func SetOption(letter byte, arg string) error {
	for _, res := range Resources[letter] {
		if err := Set(res, arg); err != nil {
			return err
		}
	}
	return nil
}
