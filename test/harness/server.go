package harness

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Server is a running server that bound port 0 and printed the port the
// kernel gave it, as tcpserver -1 does: no other program can take that
// port between its choice and the bind, as it could one chosen before.
type Server struct {
	*Proc
	Port int
	// Log is what the server and the programs it runs write on their
	// stderr, unless cmd had a Stderr of its own.
	Log *Output
}

// StartServer starts cmd (with Start), a server told to bind port 0 and
// print the port on stdout (tcpserver -1 ... 0), and waits for that line.
// Its stdout and stderr are pipes of the harness's own, not exec's, so
// that its Done and Wait tell when the server exits, while the programs it
// started may still hold them.
func StartServer(t testing.TB, cmd *exec.Cmd) *Server {
	t.Helper()
	s := &Server{}
	if cmd.Stderr == nil {
		s.Log = &Output{}
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = w
		t.Cleanup(func() { w.Close() }) // when Start has failed
		go func() {
			io.Copy(s.Log, r)
			r.Close()
		}()
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = w
	s.Proc = Start(t, cmd)
	w.Close()
	if f, ok := cmd.Stderr.(*os.File); ok && s.Log != nil {
		f.Close()
	}
	line := make(chan string, 1)
	go func() {
		defer r.Close()
		br := bufio.NewReader(r)
		l, _ := br.ReadString('\n')
		line <- l
		io.Copy(io.Discard, br)
	}()
	log := func() string {
		if s.Log == nil {
			return "(stderr not kept)"
		}
		return s.Log.String()
	}
	select {
	case l := <-line:
		p, err := strconv.Atoi(strings.TrimSpace(l))
		if err != nil {
			t.Fatalf("%s printed %q for its port; stderr: %s", cmd.Path, l, log())
		}
		s.Port = p
		return s
	case <-time.After(Patience):
		t.Fatalf("%s did not print its port within %v; stderr: %s", cmd.Path, Patience, log())
		return nil
	}
}
