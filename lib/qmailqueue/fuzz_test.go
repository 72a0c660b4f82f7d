package qmailqueue

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// FuzzMaildirStore: whatever the envelope, the store either refuses it
// with qmail-queue's code or writes exactly the header lines promised
// (no address can add a line) followed by the message bytes unchanged.
func FuzzMaildirStore(f *testing.F) {
	f.Add("alice@example.net", "bob@example.org", "", []byte("Subject: hi\n\nbody\n"))
	f.Add("", "a@x", "b@y", []byte("x"))
	f.Add("a\nReceived: evil", "b\nDelivered-To: c", "", []byte{})
	f.Add("a\x00b", "c", "", []byte("y\n"))
	dir := newMaildir(f, "")
	q := &Maildir{Dir: dir, Pid: 1, UID: 2, SpillAt: 64}
	f.Fuzz(func(t *testing.T, from, r1, r2 string, body []byte) {
		to := []string{r1}
		if r2 != "" {
			to = append(to, r2)
		}
		m, _ := q.Open()
		m.Write(body)
		err := m.Commit(from, to)
		names := listDir(t, dir+"/new")
		if tmp := listDir(t, dir+"/tmp"); len(tmp) != 0 {
			t.Fatalf("tmp/ holds %v", tmp)
		}
		if err != nil {
			if c := code(err); c != 11 && c != 91 {
				t.Fatalf("exit %d", c)
			}
			if len(names) != 0 {
				t.Fatalf("refused envelope stored %v", names)
			}
			return
		}
		if len(names) != 1 {
			t.Fatalf("%d files in new/", len(names))
		}
		p := dir + "/new/" + names[0]
		got, _ := os.ReadFile(p)
		os.Remove(p)
		// A NUL cuts the envelope as on qmail-queue's pipe.
		_, sent, _ := checkEnvelope(from, to)
		lines := 2 + len(sent)
		off := 0
		for i := 0; i < lines; i++ {
			j := bytes.IndexByte(got[off:], '\n')
			if j < 0 {
				t.Fatalf("short header: %q", got)
			}
			off += j + 1
		}
		head := string(got[:off])
		if strings.Count(head, "\n") != lines || !strings.HasPrefix(strings.SplitN(head, "\n", 3)[1], "Return-Path: <") {
			t.Fatalf("header %q", head)
		}
		if !bytes.Equal(got[off:], body) {
			t.Fatalf("body changed")
		}
	})
}
