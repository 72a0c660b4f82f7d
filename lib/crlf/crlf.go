// Package crlf converts line ends the ways ucspi-tcp's small tools do
// (addcr, delcr, fixcrio, mconnect-io) and runs a conversion as a filter
// with djb's buffer semantics.
package crlf

import "bytes"

// Converter rewrites one chunk of a stream, keeping whatever state crosses
// chunk boundaries. End returns what is still held back at EOF.
type Converter interface {
	Convert(dst, src []byte) []byte
	End(dst []byte) []byte
}

// AddCR puts a CR before every LF, even one that already follows a CR.
type AddCR struct{}

func (AddCR) Convert(dst, src []byte) []byte {
	for {
		i := bytes.IndexByte(src, '\n')
		if i < 0 {
			return append(dst, src...)
		}
		dst = append(append(dst, src[:i]...), '\r', '\n')
		src = src[i+1:]
	}
}

func (AddCR) End(dst []byte) []byte { return dst }

// DelCR drops a CR that immediately precedes an LF; every other CR stays,
// including one at the very end of the input. A CR at the end of a chunk
// is held back until the next byte shows what follows it.
type DelCR struct{ cr bool }

func (d *DelCR) Convert(dst, src []byte) []byte {
	for len(src) > 0 {
		if d.cr {
			switch src[0] {
			case '\n':
				dst = append(dst, '\n')
				d.cr = false
			case '\r':
				dst = append(dst, '\r') // the earlier CR; this one waits
			default:
				dst = append(dst, '\r')
				d.cr = false
				continue // src[0] is an ordinary byte, handled below
			}
			src = src[1:]
			continue
		}
		i := bytes.IndexByte(src, '\r')
		if i < 0 {
			return append(dst, src...)
		}
		dst = append(dst, src[:i]...)
		d.cr = true
		src = src[i+1:]
	}
	return dst
}

func (d *DelCR) End(dst []byte) []byte {
	if d.cr {
		d.cr = false
		dst = append(dst, '\r')
	}
	return dst
}

// FixCR puts a CR before each LF not already preceded by one, remembering
// the last byte across chunks (fixcrio).
type FixCR struct{ cr bool }

func (f *FixCR) Convert(dst, src []byte) []byte {
	for len(src) > 0 {
		i := bytes.IndexByte(src, '\n')
		if i < 0 {
			f.cr = src[len(src)-1] == '\r'
			return append(dst, src...)
		}
		cr := f.cr
		if i > 0 {
			cr = src[i-1] == '\r'
		}
		dst = append(dst, src[:i]...)
		if !cr {
			dst = append(dst, '\r')
		}
		dst = append(dst, '\n')
		f.cr = false
		src = src[i+1:]
	}
	return dst
}

func (f *FixCR) End(dst []byte) []byte { return dst }

// Plain copies bytes unchanged.
type Plain struct{}

func (Plain) Convert(dst, src []byte) []byte { return append(dst, src...) }
func (Plain) End(dst []byte) []byte          { return dst }
