// Package supervise is daemontools' supervise: it starts ./run, restarts it
// when it exits (at most once a second), obeys svc's command bytes on
// supervise/control and publishes its state in supervise/status.
//
// Idle means idle: the loop blocks in poll(2) on the control fifo and on a
// pidfd of the running child, so nothing wakes up until a command arrives
// or the service exits. A pidfd replaces the C program's SIGCHLD self-pipe:
// it needs no signal handler, no goroutine and no extra thread.
package supervise

import (
	"errors"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"tinymx/lib/footprint"
	"tinymx/lib/lock"
	"tinymx/lib/strerr"
	"tinymx/lib/svstatus"
	"tinymx/lib/tai64n"
)

// Throttle is the pause after every start: the restart limit.
const Throttle = time.Second

// forkBackoff is the pause after a failed fork.
const forkBackoff = 60 * time.Second

// idleWait bounds one poll, as the C program's 3600-second deadline.
const idleWait = 3600 * 1000

type state struct {
	dir      string // the argument as given, for messages
	pid      int
	pidfd    int // -1 when not running or pidfds are unavailable
	paused   bool
	want     bool // flagwant: false after svc -o
	wantUp   bool
	exit     bool // svc -x seen
	when     tai64n.Label
	ctl      int
	retry    bool // a start failed before a child existed: retry as if it had exited
	noPidfd  bool
	lockFile *os.File
}

// Run supervises dir and returns the exit code (0 after svc -x). Fatal
// start-up errors exit 111 from inside, with the original's messages.
func Run(dir string) int {
	s := &state{dir: dir, pidfd: -1, want: true}
	if err := unix.Chdir(dir); err != nil {
		strerr.Fatal(strerr.ExitTemp, err, "unable to chdir to ", dir)
	}
	_, err := os.Stat("down")
	switch {
	case err == nil:
		s.wantUp = false
	case errors.Is(err, unix.ENOENT):
		s.wantUp = true
	default:
		strerr.Fatal(strerr.ExitTemp, err, "unable to stat ", dir, "/down")
	}
	makeDir()
	f, err := lock.OpenAppend(svstatus.LockPath)
	if err == nil {
		err = lock.TryExclusive(f)
	}
	if err != nil {
		strerr.Fatal(strerr.ExitTemp, err, "unable to acquire ", dir, "/supervise/lock")
	}
	s.lockFile = f
	s.noPidfd = !pidfdWorks()
	unix.Mkfifo(svstatus.Control, 0600)
	s.ctl, err = unix.Open(svstatus.Control, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		strerr.Fatal(strerr.ExitTemp, err, "unable to read ", dir, "/supervise/control")
	}
	// Holding a writer ourselves keeps poll from seeing EOF (POLLHUP)
	// forever once the last svc has closed the fifo.
	if _, err := unix.Open(svstatus.Control, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0); err != nil {
		strerr.Fatal(strerr.ExitTemp, err, "unable to write ", dir, "/supervise/control")
	}
	s.pidChange()
	s.announce()
	unix.Mkfifo(svstatus.OK, 0600)
	if _, err := unix.Open(svstatus.OK, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0); err != nil {
		strerr.Fatal(strerr.ExitTemp, err, "unable to read ", dir, "/supervise/ok")
	}
	if s.wantUp {
		s.start()
	}
	footprint.Trim()
	s.loop()
	s.announce()
	return 0
}

// makeDir creates supervise/, or, as Debian's supervise does, the target
// of a dangling supervise symlink (so supervise/ can live on a tmpfs).
func makeDir() {
	if unix.Mkdir(svstatus.Dir, 0700) == nil {
		return
	}
	target, err := os.Readlink("./" + svstatus.Dir)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EINVAL) {
			return
		}
		// Debian's message has no "supervise: fatal:" prefix.
		strerr.Print("unable to readlink ./supervise: ", strerr.Errstr(err), "\n")
		os.Exit(strerr.ExitTemp)
	}
	unix.Mkdir(target, 0700)
}

func (s *state) pidChange() { s.when = tai64n.Now() }

// announce writes the status record; failures are warnings, and the old
// record stays whole, since the new one is renamed over it.
func (s *state) announce() {
	st := svstatus.Status{When: s.when, Pid: uint32(s.pid)}
	if s.pid != 0 && s.paused {
		st.Paused = 1
	}
	switch {
	case !s.want:
		st.Want = svstatus.WantOnce
	case s.wantUp:
		st.Want = svstatus.WantUp
	default:
		st.Want = svstatus.WantDown
	}
	err := svstatus.Write(st)
	if err == nil {
		return
	}
	var we *svstatus.WriteError
	errors.As(err, &we)
	switch we.Step {
	case svstatus.StepOpen:
		strerr.Warn(we.Err, "unable to open ", s.dir, "/supervise/status.new")
	case svstatus.StepWrite:
		strerr.Warn(we.Err, "unable to write ", s.dir, "/supervise/status.new")
	case svstatus.StepPartial:
		strerr.Warn(nil, "unable to write ", s.dir, "/supervise/status.new: partial write")
	case svstatus.StepRename:
		strerr.Warn(we.Err, "unable to rename ", s.dir, "/supervise/status.new to status")
	}
}

var runArgv = []string{"./run"}

// start runs ./run, then sleeps the throttle second during which no
// command is read and nothing is reaped, exactly as the original.
func (s *state) start() {
	pidfd := -1
	attr := &syscall.ProcAttr{
		Env:   syscall.Environ(),
		Files: []uintptr{0, 1, 2},
		Sys:   &syscall.SysProcAttr{},
	}
	if !s.noPidfd {
		attr.Sys.PidFD = &pidfd
	}
	pid, err := syscall.ForkExec(runArgv[0], runArgv, attr)
	if err != nil {
		if isForkError(err) {
			strerr.Warn(err, "unable to fork for ", s.dir, ", sleeping 60 seconds")
			time.Sleep(forkBackoff)
			s.retry = true // Debian retries if still wanted up
			return
		}
		// Go reports a failed exec in the parent; the C child would have
		// printed this and exited 111, to be reaped a second later. Say the
		// same and treat it as that exit after the throttle.
		strerr.Print(strerr.Message("fatal", err, "unable to start ", s.dir, "/run"))
		s.paused = false
		s.pidChange()
		s.announce()
		time.Sleep(Throttle)
		s.retry = true
		return
	}
	s.paused = false
	s.pid = pid
	s.pidfd = pidfd
	s.pidChange()
	s.announce()
	time.Sleep(Throttle)
}

// pidfdWorks probes for pidfds (Linux 5.3): without them supervise falls
// back to looking for the service's exit once a second.
func pidfdWorks() bool {
	fd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}

// isForkError tells a failed fork from a failed exec: Go reports both as
// one errno, and only these come from clone itself.
func isForkError(err error) bool {
	return errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.ENOMEM) || errors.Is(err, unix.ENOSYS)
}

func (s *state) loop() {
	fds := make([]unix.PollFd, 2)
	for {
		if s.exit && s.pid == 0 {
			return
		}
		if s.retry {
			// As the C program after reaping its failed child: restart
			// if wanted, then read one command, so that svc -d or -x
			// still gets through a run that never starts.
			s.retry = false
			s.pidChange()
			s.announce()
			if s.want && s.wantUp && s.pid == 0 {
				s.start()
			}
			s.command()
			continue
		}
		fds[0] = unix.PollFd{Fd: int32(s.ctl), Events: unix.POLLIN}
		n := 1
		timeout := idleWait
		if s.pid != 0 {
			if s.pidfd >= 0 {
				fds[1] = unix.PollFd{Fd: int32(s.pidfd), Events: unix.POLLIN}
				n = 2
			} else {
				timeout = 1000 // no pidfd: the kernel is too old; look every second
			}
		}
		footprint.Trim()
		unix.Poll(fds[:n], timeout)
		if s.reap() {
			return
		}
		s.command()
	}
}

// reap collects exited children; it reports true when supervise must exit.
func (s *state) reap() bool {
	for {
		var ws unix.WaitStatus
		r, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if r <= 0 || err != nil {
			return false
		}
		if r == s.pid {
			s.pid = 0
			if s.pidfd >= 0 {
				unix.Close(s.pidfd)
				s.pidfd = -1
			}
			s.pidChange()
			s.announce()
			if s.exit {
				return true
			}
			if s.want && s.wantUp {
				s.start()
			}
			return false
		}
	}
}

func (s *state) kill(sig unix.Signal) {
	if s.pid != 0 {
		unix.Kill(s.pid, sig)
	}
}

// command reads and obeys one byte from the control fifo.
func (s *state) command() {
	var b [1]byte
	n, _ := unix.Read(s.ctl, b[:])
	if n != 1 {
		return
	}
	switch b[0] {
	case 'u':
		s.want, s.wantUp = true, true
		s.announce()
		if s.pid == 0 {
			s.start()
		}
	case 'd':
		s.want, s.wantUp = true, false
		if s.pid != 0 {
			s.kill(unix.SIGTERM)
			s.kill(unix.SIGCONT)
			s.paused = false
		}
		s.announce()
	case 'o':
		s.want = false
		s.announce()
		if s.pid == 0 {
			s.start()
		}
	case 'a':
		s.kill(unix.SIGALRM)
	case 'h':
		s.kill(unix.SIGHUP)
	case 'k':
		s.kill(unix.SIGKILL)
	case 't':
		s.kill(unix.SIGTERM)
	case 'i':
		s.kill(unix.SIGINT)
	case 'p':
		s.paused = true
		s.announce()
		s.kill(unix.SIGSTOP)
	case 'c':
		s.paused = false
		s.announce()
		s.kill(unix.SIGCONT)
	case 'x':
		s.exit = true
		s.announce()
	}
}
