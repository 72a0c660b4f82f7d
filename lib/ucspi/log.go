package ucspi

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// status prints "tcpserver: status: N/LIMIT" when verbose.
func (s *Server) status() {
	if s.Verbosity < Verbose || s.finishing {
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

// endLine prints "tcpserver: end PID status WAITSTATUS" when verbose.
func (s *Server) endLine(pid int, ws unix.WaitStatus) {
	if s.Verbosity < Verbose {
		return
	}
	b := make([]byte, 0, 64)
	b = append(b, s.Prog...)
	b = append(b, ": end "...)
	b = strconv.AppendInt(b, int64(pid), 10)
	b = append(b, " status "...)
	b = strconv.AppendUint(b, uint64(uint32(ws)), 10)
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

func (s *Server) pidLine(pid int, ip string) {
	s.line(Verbose, "pid ", strconv.Itoa(pid), " from ", ip)
}

// Decision is tcpserver's "ok" or "deny" line for pid:
// "tcpserver: ok PID LOCALHOST:LOCALIP:LOCALPORT REMOTEHOST:REMOTEIP:REMOTEINFO:REMOTEPORT".
// Every field is sanitised as djb's safecats does, but for the addresses
// on an IPv6 listener (see appendLogIP).
func (c *Conn) Decision(prog, word string, pid int) []byte {
	b := make([]byte, 0, 160)
	b = append(b, prog...)
	b = append(b, ": "...)
	b = append(b, word...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(pid), 10)
	b = append(b, ' ')
	if c.HasLocalHost {
		b = Safe(b, c.LocalHost)
	}
	b = append(b, ':')
	b = appendLogIP(b, c.Local.Addr(), c.V6)
	b = append(b, ':')
	b = strconv.AppendUint(b, uint64(c.Local.Port()), 10)
	b = append(b, ' ')
	if c.HasRemoteHost {
		b = Safe(b, c.RemoteHost)
	}
	b = append(b, ':')
	b = appendLogIP(b, c.Remote.Addr(), c.V6)
	b = append(b, ':')
	if c.HasRemoteInfo {
		b = Safe(b, c.RemoteInfo)
	}
	b = append(b, ':')
	b = strconv.AppendUint(b, uint64(c.Remote.Port()), 10)
	return append(b, '\n')
}

// Safe is djb's safecats: the field as it appears in tcpserver's ok and
// deny lines. Bytes outside 33..126, '%' and ':' become '?', and a field of
// 100 bytes or more is cut to 100 bytes followed by "...". The C program
// works on NUL-terminated strings, so a NUL ends the field.
func Safe(b []byte, s string) []byte {
	for i := 0; i < 100; i++ {
		if i >= len(s) || s[i] == 0 {
			return b
		}
		c := s[i]
		if c < 33 || c > 126 || c == '%' || c == ':' {
			c = '?'
		}
		b = append(b, c)
	}
	return append(b, "..."...)
}
