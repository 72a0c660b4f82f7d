package fdio

import (
	"bytes"
	"io"
	"os"
	"testing"
)

func TestWriteAllWritesEverythingThroughAPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	data := bytes.Repeat([]byte("0123456789"), 100000) // past a pipe buffer
	got := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); got <- b }()
	if err := WriteAll(int(w.Fd()), data); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if b := <-got; !bytes.Equal(b, data) {
		t.Errorf("read %d bytes, wrote %d", len(b), len(data))
	}
}
