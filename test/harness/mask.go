package harness

import (
	"regexp"
	"strconv"
	"strings"
)

// Mask rewrites what differs between two runs that behave the same (a pid,
// a port, an inode number, a time) to a fixed word, so that their outputs
// compare. Masks compose with Masks; nil masks nothing.
type Mask func(string) string

// Bytes applies m to b.
func (m Mask) Bytes(b []byte) []byte { return []byte(m(string(b))) }

// Masks applies each of ms in turn.
func Masks(ms ...Mask) Mask {
	return func(s string) string {
		for _, m := range ms {
			if m != nil {
				s = m(s)
			}
		}
		return s
	}
}

// Replace masks every match of re by repl, as re.ReplaceAllString does
// ($1 is the first group).
func Replace(re *regexp.Regexp, repl string) Mask {
	return func(s string) string { return re.ReplaceAllString(s, repl) }
}

// Port masks every occurrence of the number of a port the test knows.
func Port(port int) Mask {
	p := strconv.Itoa(port)
	return func(s string) string { return strings.ReplaceAll(s, p, "PORT") }
}

// StampRE is a tai64n label at the start of a line, with its blank.
var StampRE = regexp.MustCompile(`(?m)^@[0-9a-f]{24} `)

var (
	// Stamps masks the tai64n label of each line (tai64n, multilog t).
	Stamps = Replace(StampRE, "@T ")
	// Pids masks "pid N", as rblsmtpd logs a client.
	Pids = Replace(regexp.MustCompile(`pid [0-9]+`), "pid X")
	// PidPrefixes removes the pid recordio puts before each line it logs.
	PidPrefixes = Replace(regexp.MustCompile(`(?m)^[0-9]+ `), "")
	// LogPids masks the pid of tcpserver's pid, ok, deny and end lines.
	LogPids = Replace(regexp.MustCompile(`(pid|ok|deny|end) [0-9]+`), "$1 PID")
	// LogPorts masks the local and remote port of tcpserver's ok and deny
	// lines, once LogPids has masked their pid.
	LogPorts = Replace(regexp.MustCompile(`((?:ok|deny) PID [^ ]*:)[0-9]+( [^\n]*:)[0-9]+\n`), "${1}P${2}P\n")
	// EnvPorts masks the values of TCPLOCALPORT, TCPREMOTEPORT and their
	// TCP6 forms, one variable a line as env prints them.
	EnvPorts = Replace(regexp.MustCompile(`(?m)^(TCP6?(LOCAL|REMOTE)PORT)=[0-9]+$`), "$1=P")
	// Inodes masks the inode numbers of pipes and sockets in readlink
	// output of /proc/PID/fd.
	Inodes = Replace(regexp.MustCompile(`(pipe|socket):\[\d+\]`), "$1")
	// Seconds masks svstat's seconds count, the one thing that may tick
	// between two runs.
	Seconds = Replace(regexp.MustCompile(` [0-9]+ seconds`), " N seconds")
)
