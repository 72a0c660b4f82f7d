// Package rules turns tcprules text into cdb records and looks a client up
// in such a cdb the way tcpserver and tcprulescheck do.
package rules

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"

	"tinymx/lib/cdb"
	"tinymx/lib/decimal"
)

// MaxLine caps one input line. djb's tcprules grows its buffer until malloc
// fails ("out of memory"); we stop earlier with the same report.
const MaxLine = 64 << 20

// LineError is a line tcprules cannot parse. Line has its trailing blanks
// removed, as tcprules quotes it.
type LineError struct{ Line string }

func (e *LineError) Error() string { return "unable to parse this line: " + e.Line }

// ReadError is a failure reading the rules text.
type ReadError struct{ Err error }

func (e *ReadError) Error() string { return "unable to read input" }
func (e *ReadError) Unwrap() error { return e.Err }

// WriteError is a failure writing the cdb.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return "unable to write" }
func (e *WriteError) Unwrap() error { return e.Err }

// ErrNoMem reports a line past MaxLine; tcprules says "out of memory", as
// the C program does when its line buffer cannot grow.
var ErrNoMem = errors.New("out of memory")

// Rule is one parsed line: the address as written and the record data
// ("D\0" for deny, then "+NAME=value\0" per variable).
type Rule struct {
	Address []byte
	Data    []byte

	// A numeric range in the address ("1.2.3.37-53"): the key is
	// Address[:left] + N + Address[right:] for N from lo to hi.
	ranged    bool
	left, rgt int
	lo, hi    uint64
}

// ParseLine parses one line (with or without its '\n'). skip is true for
// comments, blank lines and lines without a colon, which tcprules ignores.
//
// The address ends at the first colon, as in tcprules 0.88. When the text
// after it does not start with "allow" or "deny", the line is split instead
// at the first colon that is followed by one of them, as Debian's
// ucspi-tcp-ipv6 does, so IPv6 addresses and prefixes are rules too
// ("2001:db8::1:allow"; "2001:db8:::deny" for the prefix "2001:db8::"). A
// line the stock program accepts is never split differently.
func ParseLine(line []byte) (r Rule, skip bool, err error) {
	return parseLine(line, nil)
}

// parseLine is ParseLine appending the data to buf, so Compile reuses one
// buffer for every line.
func parseLine(line, buf []byte) (r Rule, skip bool, err error) {
	if len(line) == 0 || line[0] == '#' {
		return r, true, nil
	}
	n := len(line)
	for n > 0 && (line[n-1] == '\n' || line[n-1] == ' ' || line[n-1] == '\t') {
		n--
	}
	line = line[:n]
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		return r, true, nil
	}
	r, ok := parseAt(line, colon, buf)
	if !ok && !verb(line[colon+1:]) {
		for c := colon + 1; c < len(line); c++ {
			if line[c] != ':' {
				continue
			}
			if verb(line[c+1:]) {
				r, ok = parseAt(line, c, buf)
				break
			}
		}
	}
	if !ok {
		return Rule{}, false, &LineError{Line: cString(line)}
	}
	return r, false, nil
}

func verb(b []byte) bool {
	return bytes.HasPrefix(b, []byte("allow")) || bytes.HasPrefix(b, []byte("deny"))
}

// cString is what C's "%s" prints of the line: up to the first NUL.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

func parseAt(line []byte, colon int, buf []byte) (r Rule, ok bool) {
	r.Address = line[:colon]
	x := line[colon+1:]
	data := buf[:0]
	switch {
	case bytes.HasPrefix(x, []byte("deny")):
		data = append(data, 'D', 0)
		x = x[4:]
	case bytes.HasPrefix(x, []byte("allow")):
		x = x[5:]
	default:
		return r, false
	}
	for len(x) > 0 {
		if x[0] != ',' {
			return r, false
		}
		eq := bytes.IndexByte(x, '=')
		if eq < 0 {
			return r, false
		}
		data = append(data, '+')
		data = append(data, x[1:eq+1]...) // NAME=
		x = x[eq+1:]
		if len(x) == 0 {
			return r, false
		}
		q := x[0]
		x = x[1:]
		end := bytes.IndexByte(x, q)
		if end < 0 {
			return r, false
		}
		data = append(data, x[:end]...)
		data = append(data, 0)
		x = x[end+1:]
	}
	if data == nil {
		data = []byte{}
	}
	r.Data = data
	return r, r.parseRange()
}

// parseRange finds "bot-top" in an IP-style address: the text around the
// first '-' from the last '.' before it to the next '.' after it.
func (r *Rule) parseRange() bool {
	a := r.Address
	if bytes.IndexByte(a, '=') >= 0 || bytes.IndexByte(a, '@') >= 0 {
		return true
	}
	dash := bytes.IndexByte(a, '-')
	if dash < 0 {
		return true
	}
	left := bytes.LastIndexByte(a[:dash], '.') + 1
	right := dash + 1
	if i := bytes.IndexByte(a[right:], '.'); i >= 0 {
		right += i
	} else {
		right = len(a)
	}
	lo, ok1 := decimal.All(a[left:dash])
	hi, ok2 := decimal.All(a[dash+1 : right])
	if !ok1 || !ok2 {
		return false
	}
	r.ranged, r.left, r.rgt, r.lo, r.hi = true, left, right, lo, min(hi, 255)
	return true
}

// Keys calls fn with each cdb key of the rule in order: the address, or
// one key per number of its range. key is reused between calls.
func (r *Rule) Keys(fn func(key []byte) error) error {
	var key []byte
	return r.keys(&key, fn)
}

// keys builds range keys in *buf, which it keeps for the next call.
func (r *Rule) keys(buf *[]byte, fn func(key []byte) error) error {
	if !r.ranged {
		return fn(r.Address)
	}
	key := *buf
	defer func() { *buf = key[:0] }()
	for n := r.lo; n <= r.hi; n++ {
		key = append(key[:0], r.Address[:r.left]...)
		key = strconv.AppendUint(key, n, 10)
		key = append(key, r.Address[r.rgt:]...)
		if err := fn(key); err != nil {
			return err
		}
	}
	return nil
}

// Compile reads rules text and adds its records to w in input order. It
// returns a *LineError for a bad line, a *ReadError or *WriteError for I/O
// trouble, or ErrNoMem; w is not finished.
func Compile(in io.Reader, w *cdb.Writer) error {
	br := bufio.NewReaderSize(in, 64<<10)
	var long []byte
	var s scratch
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long[:0], line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				if len(long)+len(line) > MaxLine {
					return ErrNoMem
				}
				long = append(long, line...)
			}
			line = long
		}
		if err != nil && err != io.EOF {
			return &ReadError{Err: err}
		}
		if len(line) > 0 {
			if perr := s.addLine(line, w); perr != nil {
				return perr
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

// scratch holds the buffers Compile reuses from line to line.
type scratch struct{ data, key []byte }

func (s *scratch) addLine(line []byte, w *cdb.Writer) error {
	r, skip, err := parseLine(line, s.data)
	if err != nil || skip {
		return err
	}
	s.data = r.Data[:0]
	return r.keys(&s.key, func(key []byte) error {
		if err := w.Add(key, r.Data); err != nil {
			// A database past 4 GiB is ENOMEM from cdb_make_add in C too:
			// "unable to write to rules.tmp: out of memory".
			return &WriteError{Err: err}
		}
		return nil
	})
}
