// Package crlf converts line ends the ways ucspi-tcp's small tools do
// (addcr, delcr, fixcrio, mconnect-io) and runs a conversion as a filter
// with djb's buffer semantics.
package crlf

// Converter rewrites one chunk of a stream, keeping whatever state crosses
// chunk boundaries. End returns what is still held back at EOF.
type Converter interface {
	Convert(dst, src []byte) []byte
	End(dst []byte) []byte
}

// AddCR puts a CR before every LF, even one that already follows a CR.
type AddCR struct{}

func (AddCR) Convert(dst, src []byte) []byte {
	for _, c := range src {
		if c == '\n' {
			dst = append(dst, '\r')
		}
		dst = append(dst, c)
	}
	return dst
}

func (AddCR) End(dst []byte) []byte { return dst }

// DelCR drops a CR that immediately precedes an LF; every other CR stays,
// including one at the very end of the input. A CR at the end of a chunk
// is held back until the next byte shows what follows it.
type DelCR struct{ cr bool }

func (d *DelCR) Convert(dst, src []byte) []byte {
	for _, c := range src {
		if !d.cr {
			if c == '\r' {
				d.cr = true
				continue
			}
			dst = append(dst, c)
			continue
		}
		if c != '\n' {
			dst = append(dst, '\r')
			if c == '\r' {
				continue
			}
		}
		d.cr = false
		dst = append(dst, c)
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
	for _, c := range src {
		if c == '\n' && !f.cr {
			dst = append(dst, '\r')
		}
		dst = append(dst, c)
		f.cr = c == '\r'
	}
	return dst
}

func (f *FixCR) End(dst []byte) []byte { return dst }

// Plain copies bytes unchanged.
type Plain struct{}

func (Plain) Convert(dst, src []byte) []byte { return append(dst, src...) }
func (Plain) End(dst []byte) []byte          { return dst }
