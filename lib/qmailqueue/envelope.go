package qmailqueue

import (
	"bytes"
	"io"
)

// MaxAddr is qmail-queue's ADDR: a NUL must come within this many bytes
// of each envelope entry's start (after its F or T), else exit 11.
const MaxAddr = 1003

// AppendEnvelope appends the qmail-queue envelope to b:
// "F" sender NUL, "T" rcpt NUL for each recipient, then one more NUL.
func AppendEnvelope(b []byte, from string, to []string) []byte {
	b = append(b, 'F')
	b = append(b, from...)
	b = append(b, 0)
	for _, r := range to {
		b = append(b, 'T')
		b = append(b, r...)
		b = append(b, 0)
	}
	return append(b, 0)
}

// ReadEnvelope reads an envelope as qmail-queue checks it: the first
// byte must be F and every later entry start with T (else exit 91), each
// address must end in NUL within MaxAddr bytes (else 11), and EOF before
// the final NUL is a read error (54). Failures are *ExitError.
func ReadEnvelope(r io.ByteReader) (from string, to []string, err error) {
	c, err := r.ReadByte()
	if err != nil {
		return "", nil, readErr(err)
	}
	if c != 'F' {
		return "", nil, &ExitError{Code: 91}
	}
	buf := make([]byte, 0, 64)
	if buf, err = readAddr(r, buf[:0]); err != nil {
		return "", nil, err
	}
	from = string(buf)
	for {
		c, err := r.ReadByte()
		if err != nil {
			return "", nil, readErr(err)
		}
		if c == 0 {
			return from, to, nil
		}
		if c != 'T' {
			return "", nil, &ExitError{Code: 91}
		}
		if buf, err = readAddr(r, buf[:0]); err != nil {
			return "", nil, err
		}
		to = append(to, string(buf))
	}
}

func readAddr(r io.ByteReader, buf []byte) ([]byte, error) {
	for len(buf) < MaxAddr {
		c, err := r.ReadByte()
		if err != nil {
			return nil, readErr(err)
		}
		if c == 0 {
			return buf, nil
		}
		buf = append(buf, c)
	}
	return nil, &ExitError{Code: 11}
}

func readErr(err error) error {
	return &ExitError{Code: 54}
}

// checkEnvelope applies ReadEnvelope's checks to an in-process envelope,
// so the built-in store accepts exactly what maildir-queue accepts (an
// address with a NUL in it is cut there, as it would be on the pipe).
func checkEnvelope(from string, to []string) (string, []string, error) {
	clean := len(from) < MaxAddr && noNUL(from)
	for _, r := range to {
		if !clean {
			break
		}
		clean = len(r) < MaxAddr && noNUL(r)
	}
	if clean {
		return from, to, nil
	}
	env := AppendEnvelope(nil, from, to)
	return ReadEnvelope(bytes.NewReader(env))
}

func noNUL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return false
		}
	}
	return true
}
