// Package qmailctl reads qmail control files: first-line files (me,
// smtpgreeting, localiphost), integer files (timeoutsmtpd, databytes,
// maxhops), list files (rcpthosts, badmailfrom) and the cdb forms of lists
// (morercpthosts.cdb, badmailfrom.cdb).
//
// Stock syntax is notqmail's control.c; mvmtr's extended syntax (comments,
// blank lines, leading backslash escape, trailing backslash continuation)
// always applies to lists and, on request, to the other files.
package qmailctl

import (
	"bytes"
	"errors"
	"os"
	"syscall"

	"tinymx/lib/decimal"
	"tinymx/lib/fdio"
)

// Syntax selects how first-line and integer files are read.
type Syntax int

const (
	Stock    Syntax = iota // notqmail control.c
	Extended               // mvmtr: comments, escapes, continuations
)

// MaxFile caps how much of one control file is read: a list of millions of
// entries belongs in a cdb, and a bigger file is refused instead of eating
// memory.
const MaxFile = 64 << 20

// errFBIG reports a control file over MaxFile.
var errFBIG error = syscall.EFBIG

// trimTrailing removes trailing spaces, tabs and LFs, as control.c does.
// A CR is kept: a CRLF file gives values ending in CR, as stock.
func trimTrailing(b []byte) []byte {
	for len(b) > 0 {
		switch b[len(b)-1] {
		case ' ', '\t', '\n':
			b = b[:len(b)-1]
		default:
			return b
		}
	}
	return b
}

// nextEntry cuts the first line off data and trims its trailing
// whitespace; it gives nil for a line both syntaxes skip (blank or '#').
func nextEntry(data []byte) (line, rest []byte) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		line, rest = data[:i], data[i+1:]
	} else {
		line = data
	}
	line = trimTrailing(line)
	if len(line) == 0 || line[0] == '#' {
		return nil, rest
	}
	return line, rest
}

// StockLines splits data into lines the way control_readfile does: trailing
// whitespace removed, empty lines and lines starting with '#' skipped.
func StockLines(data []byte) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		var line []byte
		line, data = nextEntry(data)
		if line == nil {
			continue
		}
		out = append(out, line)
	}
	return out
}

// ExtendedLines splits data into logical lines with mvmtr's rules: after
// trailing whitespace is removed, blank lines and '#' lines are skipped, a
// leading backslash is dropped (so "\#x" is the entry "#x" and "\" an empty
// entry), and a trailing backslash joins the next non-comment, non-blank
// line with no separator.
func ExtendedLines(data []byte) [][]byte {
	var out [][]byte
	var cur []byte
	joining := false
	for len(data) > 0 {
		var line []byte
		line, data = nextEntry(data)
		if line == nil {
			continue
		}
		if line[0] == '\\' {
			line = line[1:]
		}
		cont := false
		if len(line) > 0 && line[len(line)-1] == '\\' {
			line = line[:len(line)-1]
			cont = true
		}
		if joining {
			cur = append(cur, line...)
		} else {
			cur = append([]byte(nil), line...)
		}
		joining = cont
		if !cont {
			out = append(out, cur)
			cur = nil
		}
	}
	if joining {
		// A continuation at end of file: the entry ends there.
		out = append(out, cur)
	}
	return out
}

// FirstLine is the value of a first-line file: stock takes the bytes before
// the first LF with trailing whitespace removed (an empty file gives "");
// extended takes the first logical line ("" when there is none).
func FirstLine(data []byte, syn Syntax) []byte {
	if syn == Extended {
		if l := ExtendedLines(data); len(l) > 0 {
			return l[0]
		}
		return nil
	}
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		data = data[:i]
	}
	return trimTrailing(data)
}

// ParseUint reads leading decimal digits as djb's scan_ulong; ok is false
// when the first byte is not a digit (stock then keeps its default).
// Values past 2^64-1 saturate.
func ParseUint(s []byte) (n uint64, ok bool) {
	n, digits, wrapped := decimal.Scan(s)
	if wrapped {
		n = ^uint64(0)
	}
	return n, digits > 0
}

// readFile reads a whole control file, capped at MaxFile. A missing file
// gives (nil, false, nil).
//
// Plain system calls, not os.Open: qmail-smtpd reads up to ten control
// files per connection, and an *os.File costs four more system calls
// each (non-blocking mode on and off, a refused poller registration); and
// on a FIFO an *os.File would wait in the poller on EAGAIN instead of
// failing as stock does.
func readFile(path string) ([]byte, bool, error) { return fdio.ReadFile(path, MaxFile) }

// openRead opens path as notqmail's open_read (O_NDELAY): a FIFO put in
// place of a control file then opens at once and reads as an empty file,
// where a blocking open would wait for a writer and hang every session
// before its greeting. With a writer holding the FIFO but nothing written,
// read(2) says EAGAIN; readFile returns that as an error (stock: 421), it
// never retries.
func openRead(path string) (int, error) { return fdio.OpenRead(path) }

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ReadLine reads a first-line file. ok is false when the file does not
// exist; err is any other open or read error.
func ReadLine(path string, syn Syntax) (val string, ok bool, err error) {
	data, ok, err := readFile(path)
	if !ok || err != nil {
		return "", false, err
	}
	return string(FirstLine(data, syn)), true, nil
}

// ReadLines reads every line of a file meant to be shown line by line (a
// multi-line smtpgreeting): trailing whitespace removed, trailing empty
// lines dropped; extended syntax gives its logical lines.
func ReadLines(path string, syn Syntax) (lines []string, ok bool, err error) {
	data, ok, err := readFile(path)
	if !ok || err != nil {
		return nil, false, err
	}
	if syn == Extended {
		for _, l := range ExtendedLines(data) {
			lines = append(lines, string(l))
		}
		return lines, true, nil
	}
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		lines = append(lines, string(trimTrailing(line)))
	}
	for len(lines) > 1 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		lines = []string{""}
	}
	return lines, true, nil
}

// ReadUint reads an integer file: ok is false when the file is missing or
// its value does not start with a digit (stock keeps the default then).
func ReadUint(path string, syn Syntax) (val uint64, ok bool, err error) {
	data, exists, err := readFile(path)
	if !exists || err != nil {
		return 0, false, err
	}
	val, ok = ParseUint(FirstLine(data, syn))
	return val, ok, nil
}

// ReadList reads a list file (rcpthosts, badmailfrom) in extended syntax,
// which is a superset of stock's. ok is false when the file is missing.
func ReadList(path string) (entries [][]byte, ok bool, err error) {
	data, ok, err := readFile(path)
	if !ok || err != nil {
		return nil, ok, err
	}
	return ListEntries(data), true, nil
}

// ListEntries parses list data. As stock's constmap, a NUL inside a line
// splits it into separate entries.
func ListEntries(data []byte) [][]byte {
	lines := ExtendedLines(data)
	out := lines[:0]
	var extra [][]byte
	for _, l := range lines {
		if bytes.IndexByte(l, 0) < 0 {
			out = append(out, l)
			continue
		}
		for _, p := range bytes.Split(l, []byte{0}) {
			if len(p) > 0 {
				extra = append(extra, p)
			}
		}
	}
	return append(out, extra...)
}
