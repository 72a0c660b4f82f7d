// Package pathexec edits environments and runs programs the way djb's
// pathexec does: queued edits applied at exec time, and djb's own PATH
// search (which differs from exec.LookPath in how it treats EACCES).
package pathexec

import (
	"errors"
	"os"
	"strings"
	"syscall"
)

// Edits is a queue of environment changes, applied in order.
type Edits struct {
	list []edit
}

type edit struct {
	name, value string
	set         bool
}

// Set queues NAME=value.
func (e *Edits) Set(name, value string) { e.list = append(e.list, edit{name, value, true}) }

// Unset queues the removal of NAME.
func (e *Edits) Unset(name string) { e.list = append(e.list, edit{name: name}) }

// Len is the number of queued edits.
func (e *Edits) Len() int { return len(e.list) }

// Apply returns env with the edits applied as pathexec_env does: for each
// edit the first entry of that name is removed by moving the last entry
// into its place, then NAME=value is appended if the edit sets it. The
// reordering is visible to programs that print their environment.
func (e *Edits) Apply(env []string) []string {
	out := make([]string, len(env), len(env)+len(e.list))
	copy(out, env)
	for _, ed := range e.list {
		for i, kv := range out {
			// only NAME=...: an entry that is just "NAME" stays, as in C
			if len(kv) > len(ed.name) && kv[len(ed.name)] == '=' && kv[:len(ed.name)] == ed.name {
				out[i] = out[len(out)-1]
				out = out[:len(out)-1]
				break
			}
		}
		if ed.set {
			out = append(out, ed.name+"="+ed.value)
		}
	}
	return out
}

// Getenv finds NAME in env.
func Getenv(env []string, name string) (string, bool) {
	for _, kv := range env {
		if strings.HasPrefix(kv, name) && len(kv) > len(name) && kv[len(name)] == '=' {
			return kv[len(name)+1:], true
		}
	}
	return "", false
}

// Exec runs argv[0] with argv and env, searching $PATH (from env) as
// pathexec_run does. It returns only on failure, with the errno to report.
func Exec(argv []string, env []string) error {
	return search(argv[0], env, func(path string) error {
		return syscall.Exec(path, argv, env)
	})
}

// Lookup performs the same search without running anything: the first
// candidate that exists and is executable by us.
func Lookup(name string, env []string) (string, error) {
	var found string
	err := search(name, env, func(path string) error {
		if err := syscall.Access(path, 1 /* X_OK */); err != nil {
			return err
		}
		var st syscall.Stat_t
		if err := syscall.Stat(path, &st); err != nil {
			return err
		}
		if st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
			return syscall.EACCES
		}
		found = path
		return nil
	})
	return found, err
}

// search tries try() on each candidate path for name. ENOENT moves on
// silently; EACCES, EPERM and EISDIR are remembered and the search goes on;
// any other error stops it. The remembered errno wins over the last one.
func search(name string, env []string, try func(string) error) error {
	if strings.IndexByte(name, '/') >= 0 {
		return try(name)
	}
	path, ok := Getenv(env, "PATH")
	if !ok {
		path = "/bin:/usr/bin"
	}
	var remembered error
	var last error = syscall.ENOENT
	for _, dir := range strings.Split(path, ":") {
		if dir == "" {
			dir = "."
		}
		err := try(dir + "/" + name)
		if err == nil {
			return nil
		}
		var errno syscall.Errno
		if !errors.As(err, &errno) {
			return err
		}
		switch errno {
		case syscall.ENOENT:
		case syscall.EACCES, syscall.EPERM, syscall.EISDIR:
			remembered = err
		default:
			return err
		}
		last = err
	}
	if remembered != nil {
		return remembered
	}
	return last
}

// Environ is os.Environ, named here so programs read one place.
func Environ() []string { return os.Environ() }
