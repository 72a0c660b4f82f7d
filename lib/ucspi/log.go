package ucspi

import (
	"os"
	"strconv"
)

// Status prints "tcpserver: status: N/LIMIT" when verbose.
func (s *Server) status() {
	if s.Verbosity < Verbose || s.Finishing {
		return
	}
	b := make([]byte, 0, 64)
	b = append(b, s.Prog...)
	b = append(b, ": status: "...)
	b = strconv.AppendUint(b, s.count, 10)
	b = append(b, '/')
	b = strconv.AppendUint(b, s.Limit, 10)
	b = append(b, '\n')
	os.Stderr.Write(b)
}

func (s *Server) say(level int, b []byte) {
	if s.Verbosity >= level {
		os.Stderr.Write(b)
	}
}

func (s *Server) line(level int, parts ...string) {
	if s.Verbosity < level {
		return
	}
	b := make([]byte, 0, 128)
	b = append(b, s.Prog...)
	b = append(b, ": "...)
	for _, p := range parts {
		b = append(b, p...)
	}
	b = append(b, '\n')
	os.Stderr.Write(b)
}

func (s *Server) pidLine(c *conn, pid int) {
	s.line(Verbose, "pid ", strconv.Itoa(pid), " from ", c.p.IP)
}
