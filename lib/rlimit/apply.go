package rlimit

import (
	"runtime/debug"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"tinymx/lib/pathexec"
)

// Lowering limits below what the Go runtime has already mapped (its
// virtual reservations alone exceed a gigabyte) makes any later request
// for memory fail, and the runtime then dies with "fatal error: out of
// memory" where the C softlimit goes on to run its child. So a Limiter
// does everything that needs memory first: it stops the collector, works
// out every execve(2) argument, and records the limits it started with;
// applying the options and running the child then allocate nothing. When
// something fails, the recorded limits are put back before the error is
// reported, which needs memory again.
type Limiter struct {
	saved   [len(all)]syscall.Rlimit
	ok      [len(all)]bool
	scratch syscall.Rlimit
	paths   []*byte // execve candidates, in $PATH order
	argv    []*byte
	env     []*byte
}

// all is every resource an option can name.
var all = [...]int{
	syscall.RLIMIT_AS, syscall.RLIMIT_CORE, syscall.RLIMIT_DATA, syscall.RLIMIT_FSIZE,
	unix.RLIMIT_MEMLOCK, syscall.RLIMIT_NOFILE, unix.RLIMIT_NPROC, unix.RLIMIT_RSS,
	syscall.RLIMIT_STACK, syscall.RLIMIT_CPU,
}

// NewLimiter prepares to run argv with env, searching $PATH as
// pathexec_run does (spec §1.4). It must be called before any limit is
// lowered.
func NewLimiter(argv, env []string) (*Limiter, error) {
	l := &Limiter{}
	name := argv[0]
	var cands []string
	if strings.IndexByte(name, '/') >= 0 {
		cands = []string{name}
	} else {
		path, ok := pathexec.Getenv(env, "PATH")
		if !ok {
			path = "/bin:/usr/bin"
		}
		for _, dir := range strings.Split(path, ":") {
			if dir == "" {
				dir = "."
			}
			cands = append(cands, dir+"/"+name)
		}
	}
	var err error
	if l.paths, err = syscall.SlicePtrFromStrings(cands); err != nil {
		return nil, err
	}
	l.paths = l.paths[:len(cands)]
	if l.argv, err = syscall.SlicePtrFromStrings(argv); err != nil {
		return nil, err
	}
	if l.env, err = syscall.SlicePtrFromStrings(env); err != nil {
		return nil, err
	}
	// The Go runtime raised its own soft limit on open files at start-up
	// and puts the original back only inside syscall.Exec: an Exec that
	// cannot succeed (an empty path) does that, so the raw execve below
	// passes on the limit this program was started with.
	syscall.Exec("", nil, nil)
	for i, res := range all {
		l.ok[i] = syscall.Getrlimit(res, &l.saved[i]) == nil
	}
	debug.SetGCPercent(-1)
	return l, nil
}

// Apply sets one option's limits, in order, without allocating. A failure
// is named by op ("getrlimit" or "setrlimit"; "" for a bad value, which is
// ErrBadValue) and an errno.
func (l *Limiter) Apply(letter byte, arg string) (op string, err error) {
	for _, res := range Resources[letter] {
		if op, err := set(res, arg, &l.scratch); err != nil {
			return op, err
		}
	}
	return "", nil
}

// Restore puts back the soft limits recorded by NewLimiter.
func (l *Limiter) Restore() {
	for i, res := range all {
		if l.ok[i] {
			syscall.Setrlimit(res, &l.saved[i])
		}
	}
}

// Exec runs the prepared program without allocating. It returns only on
// failure, with the errno pathexec_run reports: ENOENT moves on to the
// next candidate; EACCES, EPERM and EISDIR are remembered and the search
// goes on; any other error stops it; the remembered one wins.
func (l *Limiter) Exec() syscall.Errno {
	var remembered syscall.Errno
	last := syscall.ENOENT
	for _, p := range l.paths {
		_, _, e := syscall.RawSyscall(syscall.SYS_EXECVE,
			uintptr(unsafe.Pointer(p)),
			uintptr(unsafe.Pointer(&l.argv[0])),
			uintptr(unsafe.Pointer(&l.env[0])))
		switch e {
		case syscall.ENOENT:
		case syscall.EACCES, syscall.EPERM, syscall.EISDIR:
			remembered = e
		default:
			return e
		}
		last = e
	}
	if remembered != 0 {
		return remembered
	}
	return last
}
