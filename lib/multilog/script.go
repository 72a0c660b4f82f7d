// Package multilog is daemontools' multilog: a script of actions applied to
// every input line, writing selected lines to automatically rotated log
// directories, status files and stderr.
package multilog

import (
	"tinymx/lib/decimal"
)

// Action kinds, dispatched on the first byte of a script argument as the
// original does; anything else is ignored.
const (
	ActSelect   = '+'
	ActDeselect = '-'
	ActAlert    = 'e'
	ActStatus   = '='
	ActDir      = '.' // '.' or '/'
)

// Defaults and limits of the s and n actions.
const (
	DefaultSize = 99999
	MinSize     = 4096
	MaxSize     = 16777215
	DefaultNum  = 10
	MinNum      = 2
)

// Action is one script argument that does something per line.
type Action struct {
	Kind  byte
	Arg   string // the pattern, the status file name or the directory name
	Index int    // for ActDir: index into Script.Dirs; for ActStatus: into Script.Status
}

// DirSpec is a log directory with the s, n and ! settings in force where it
// appears in the script.
type DirSpec struct {
	Name         string
	Size         uint64
	Num          uint64
	HasProcessor bool // "!" alone is an empty processor, still a processor
	Processor    string
}

// Script is a parsed multilog command line.
type Script struct {
	Timestamp bool // the first argument starts with 't'
	Actions   []Action
	Dirs      []DirSpec
	Status    []string
}

// Parse reads the arguments as multilog does: every argument is an action
// named by its first byte; s, n and ! change the settings of the directories
// that follow them; only a first argument starting with t turns on
// timestamps; unknown actions are silently ignored.
func Parse(args []string) *Script {
	s := &Script{}
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] == 't' {
		s.Timestamp = true
	}
	size := uint64(DefaultSize)
	num := uint64(DefaultNum)
	hasProc := false
	proc := ""
	for _, a := range args {
		if a == "" {
			continue
		}
		switch a[0] {
		case 's':
			size = decimal.Ulong(a[1:])
			if size < MinSize {
				size = MinSize
			}
			if size > MaxSize {
				size = MaxSize
			}
		case 'n':
			num = decimal.Ulong(a[1:])
			if num < MinNum {
				num = MinNum
			}
		case '!':
			hasProc, proc = true, a[1:]
		case '+', '-':
			s.Actions = append(s.Actions, Action{Kind: a[0], Arg: a[1:]})
		case 'e':
			s.Actions = append(s.Actions, Action{Kind: ActAlert})
		case '=':
			s.Actions = append(s.Actions, Action{Kind: ActStatus, Arg: a[1:], Index: len(s.Status)})
			s.Status = append(s.Status, a[1:])
		case '.', '/':
			s.Actions = append(s.Actions, Action{Kind: ActDir, Arg: a, Index: len(s.Dirs)})
			s.Dirs = append(s.Dirs, DirSpec{Name: a, Size: size, Num: num, HasProcessor: hasProc, Processor: proc})
		}
	}
	return s
}

// Match reports whether line matches pattern as multilog's match(): bytes
// other than '*' must equal the next line byte; a final '*' matches the rest
// of the line; a '*' followed by c skips line bytes up to the next c (so it
// never matches a string containing c). The whole line must be used up.
func Match(pattern string, line []byte) bool {
	p := 0
	for {
		if p == len(pattern) {
			return len(line) == 0
		}
		ch := pattern[p]
		p++
		if ch == '*' {
			if p == len(pattern) {
				return true
			}
			c := pattern[p]
			for {
				if len(line) == 0 {
					return false
				}
				if line[0] == c {
					break
				}
				line = line[1:]
			}
			continue
		}
		if len(line) == 0 || line[0] != ch {
			return false
		}
		line = line[1:]
	}
}
