package crlf

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func convertAll(c Converter, chunks ...string) string {
	var out []byte
	for _, ch := range chunks {
		out = c.Convert(out, []byte(ch))
	}
	return string(c.End(out))
}

func TestAddCRAddsBeforeEveryLF(t *testing.T) {
	if got := convertAll(AddCR{}, "a\nb\r\nc"); got != "a\r\nb\r\r\nc" {
		t.Errorf("got %q", got)
	}
}

func TestDelCRDropsOnlyCRBeforeLFAcrossChunks(t *testing.T) {
	if got := convertAll(&DelCR{}, "a\r", "\nb\r\r", "\nc\r"); got != "a\nb\r\nc\r" {
		t.Errorf("got %q", got)
	}
}

func TestFixCRRemembersCRAcrossChunks(t *testing.T) {
	if got := convertAll(&FixCR{}, "x\ny\r", "\n\n"); got != "x\r\ny\r\n\r\n" {
		t.Errorf("got %q", got)
	}
}

type failWriter struct{}

func (failWriter) Write(p []byte) (int, error) { return 0, errors.New("full") }

func TestFilterExits111OnWriteErrorAtNextRead(t *testing.T) {
	if code := Filter(bytes.NewReader([]byte("x\n")), failWriter{}, AddCR{}, false); code != 111 {
		t.Errorf("code %d", code)
	}
	if code := Filter(bytes.NewReader(nil), failWriter{}, AddCR{}, false); code != 0 {
		t.Errorf("empty input code %d", code)
	}
	// delcr's last flush at EOF is unchecked.
	if code := Filter(bytes.NewReader([]byte("\r")), failWriter{}, &DelCR{}, true); code != 0 {
		t.Errorf("delcr trailing CR code %d", code)
	}
}

func TestFilterExits111OnReadError(t *testing.T) {
	if code := Filter(iotest.ErrReader(errors.New("x")), io.Discard, AddCR{}, false); code != 111 {
		t.Errorf("code %d", code)
	}
}

func TestFilterOneByteReadsGiveSameOutput(t *testing.T) {
	var out bytes.Buffer
	Filter(iotest.OneByteReader(bytes.NewReader([]byte("a\r\nb\r\r\nc\r"))), &out, &DelCR{}, true)
	if out.String() != "a\nb\r\nc\r" {
		t.Errorf("got %q", out.String())
	}
}

// Byte-at-a-time models of the C loops, the reference for the fuzz target.
func refAdd(in []byte) []byte {
	var out []byte
	for _, c := range in {
		if c == '\n' {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

func refDel(in []byte) []byte {
	var out []byte
	cr := false
	for _, c := range in {
		if !cr {
			if c == '\r' {
				cr = true
				continue
			}
			out = append(out, c)
			continue
		}
		if c != '\n' {
			out = append(out, '\r')
			if c == '\r' {
				continue
			}
		}
		cr = false
		out = append(out, c)
	}
	if cr {
		out = append(out, '\r')
	}
	return out
}

func refFix(in []byte) []byte {
	var out []byte
	cr := false
	for _, c := range in {
		if c == '\n' && !cr {
			out = append(out, '\r')
		}
		out = append(out, c)
		cr = c == '\r'
	}
	return out
}

func FuzzConverters(f *testing.F) {
	f.Add([]byte("a\nb\r\nc"), 3)
	f.Add([]byte("a\r\nb\r\r\nc\r"), 1)
	f.Fuzz(func(t *testing.T, in []byte, split int) {
		if split < 0 || split > len(in) {
			split = len(in) / 2
		}
		if got := convertAll(AddCR{}, string(in[:split]), string(in[split:])); got != string(refAdd(in)) {
			t.Fatalf("AddCR %q = %q", in, got)
		}
		if got := convertAll(&DelCR{}, string(in[:split]), string(in[split:])); got != string(refDel(in)) {
			t.Fatalf("DelCR %q = %q", in, got)
		}
		if got := convertAll(&FixCR{}, string(in[:split]), string(in[split:])); got != string(refFix(in)) {
			t.Fatalf("FixCR %q = %q", in, got)
		}
		for _, mk := range []func() Converter{func() Converter { return AddCR{} }, func() Converter { return &DelCR{} }, func() Converter { return &FixCR{} }} {
			whole := convertAll(mk(), string(in))
			parts := convertAll(mk(), string(in[:split]), string(in[split:]))
			if whole != parts {
				t.Fatalf("chunking changed output: %q vs %q", whole, parts)
			}
		}
	})
}
