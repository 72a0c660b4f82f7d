// Package svscan is svscan: every five seconds it starts one supervise per
// service directory, and a second one for S/log joined to S by a pipe.
//
// svscan owns that pipe, not either supervise: it is created once per
// service and kept open for as long as the service is in the table, so a
// restarting logger (or a restarting service supervise) loses nothing;
// lines written meanwhile wait in the pipe.
package svscan

import (
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"tinymx/lib/footprint"
	"tinymx/lib/pathexec"
	"tinymx/lib/strerr"
)

// Interval is the pause between two scans.
const Interval = 5 * time.Second

// MaxServices is the table size of daemontools' svscan.
const MaxServices = 1000

type service struct {
	dev, ino uint64
	pid      int // supervise NAME, 0 when not running
	pidLog   int // supervise log, in NAME
	hasLog   bool
	active   bool
	pipe     [2]int // read, write; both close-on-exec in svscan
}

// Scanner holds the service table between scans.
type Scanner struct {
	services []*service
	env      []string // ours, passed on unchanged; read once (it never changes)
}

// Loop scans the current directory forever.
func Loop() {
	var s Scanner
	s.Scan()
	footprint.Trim()
	for {
		time.Sleep(Interval)
		s.Scan()
		footprint.Trim()
	}
}

// Scan is one pass: reap, start what is missing, forget what is gone.
func (s *Scanner) Scan() {
	if s.env == nil {
		s.env = os.Environ()
	}
	s.reap()
	for _, x := range s.services {
		x.active = false
	}
	s.readDir()
	kept := s.services[:0]
	for _, x := range s.services {
		if !x.active && x.pid == 0 && x.pidLog == 0 {
			// Removed and both supervise gone: only now may the pipe go.
			if x.hasLog {
				unix.Close(x.pipe[0])
				unix.Close(x.pipe[1])
			}
			continue
		}
		kept = append(kept, x)
	}
	for i := len(kept); i < len(s.services); i++ {
		s.services[i] = nil
	}
	s.services = kept
}

func (s *Scanner) reap() {
	for {
		var ws unix.WaitStatus
		r, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if r <= 0 || err != nil {
			return
		}
		for _, x := range s.services {
			if x.pid == r {
				x.pid = 0
			}
			if x.pidLog == r {
				x.pidLog = 0
			}
		}
	}
}

func (s *Scanner) readDir() {
	d, err := os.Open(".")
	if err != nil {
		strerr.Warn(err, "unable to read directory")
		return
	}
	defer d.Close()
	for {
		// Readdirnames keeps readdir's order, which picks the name that a
		// symlinked duplicate is started under, as the C svscan does.
		names, err := d.Readdirnames(64)
		for _, name := range names {
			if name[0] != '.' {
				s.start(name)
			}
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			strerr.Warn(err, "unable to read directory")
			return
		}
	}
}

func (s *Scanner) start(name string) {
	var st unix.Stat_t
	if err := unix.Stat(name, &st); err != nil {
		strerr.Warn(err, "unable to stat ", name)
		return
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return
	}
	var x *service
	for _, y := range s.services {
		if y.ino == st.Ino && y.dev == st.Dev {
			x = y
			break
		}
	}
	if x == nil {
		if len(s.services) >= MaxServices {
			strerr.Warn(nil, "unable to start ", name, ": running too many services")
			return
		}
		x = &service{dev: st.Dev, ino: st.Ino}
		if len(name) <= 255 {
			var lst unix.Stat_t
			err := unix.Stat(name+"/log", &lst)
			switch {
			case err == nil:
				x.hasLog = true
			case err != unix.ENOENT:
				strerr.Warn(err, "unable to stat ", name, "/log")
				return
			}
		}
		if x.hasLog {
			if err := unix.Pipe2(x.pipe[:], unix.O_CLOEXEC); err != nil {
				strerr.Warn(err, "unable to create pipe for ", name)
				return
			}
		}
		s.services = append(s.services, x)
	}
	x.active = true
	if x.pid == 0 {
		out := uintptr(1)
		if x.hasLog {
			out = uintptr(x.pipe[1])
		}
		x.pid = spawn(s.env, name, "", []string{"supervise", name}, []uintptr{0, out, 2})
	}
	if x.hasLog && x.pidLog == 0 {
		x.pidLog = spawn(s.env, name+"/log", name, []string{"supervise", "log"}, []uintptr{uintptr(x.pipe[0]), 1, 2})
	}
}

// spawn starts supervise with files as fds 0, 1, 2, in dir when not
// empty, and returns its pid, or 0 after printing the original's warning.
func spawn(env []string, what, dir string, argv []string, files []uintptr) int {
	path, err := pathexec.Lookup(argv[0], lookupEnv(env, dir))
	if err == nil && path[0] != '/' {
		// the child changes to dir before the exec: name the file found
		// from here absolutely
		if wd, werr := os.Getwd(); werr == nil {
			path = wd + "/" + path
		}
	}
	if err != nil {
		strerr.Warn(err, "unable to start supervise ", what)
		return 0
	}
	pid, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{Dir: dir, Env: env, Files: files})
	if err == nil {
		return pid
	}
	switch {
	case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.ENOMEM):
		strerr.Warn(err, "unable to fork for ", what)
	case dir != "" && !isDir(dir):
		strerr.Warn(err, "unable to switch to ", dir)
	default:
		strerr.Warn(err, "unable to start supervise ", what)
	}
	return 0
}

func isDir(name string) bool {
	return unix.Access(name+"/.", unix.X_OK) == nil
}

// lookupEnv is env for the PATH search of a supervise started in dir: the
// C svscan changes to dir first, so a relative PATH entry (an empty one is
// ".") is taken from inside dir, not from the scanned directory.
func lookupEnv(env []string, dir string) []string {
	path, ok := pathexec.Getenv(env, "PATH")
	if dir == "" || !ok {
		return env
	}
	entries := strings.Split(path, ":")
	for i, e := range entries {
		if e == "" {
			e = "."
		}
		if e[0] != '/' {
			entries[i] = dir + "/" + e
		}
	}
	return []string{"PATH=" + strings.Join(entries, ":")}
}
