package svscan

import (
	"os"
	"sort"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"tinymx/lib/pathexec"
	"tinymx/lib/strerr"
)

// BootPath is the PATH Debian's svscanboot gives the whole tree.
const BootPath = "/command:/usr/local/bin:/usr/local/sbin:/bin:/sbin:/usr/bin:/usr/sbin:/usr/X11R6/bin"

// DefaultDir is Debian's service directory (djb's is /service).
const DefaultDir = "/etc/service"

// Boot does what Debian's svscanboot script does: with every descriptor
// on /dev/null, stop any supervise left over (svc -dx DIR/* DIR/*/log),
// then run "svscan DIR 2>&1 | readproctitle service errors: ..." with an
// environment holding only PATH. It waits for both and returns
// readproctitle's exit code, as the shell returns the pipeline's.
func Boot(dir string) int {
	null, err := unix.Open("/dev/null", unix.O_RDWR, 0)
	if err == nil {
		for fd := 0; fd < 3; fd++ {
			if null != fd {
				unix.Dup2(null, fd)
			}
		}
		if null > 2 {
			unix.Close(null)
		}
	}
	os.Setenv("PATH", BootPath)
	env := []string{"PATH=" + BootPath}

	svc := append([]string{"svc", "-dx"}, glob(dir, "")...)
	svc = append(svc, glob(dir, "/log")...)
	if pid := run(svc, os.Environ(), []uintptr{0, 1, 2}); pid > 0 {
		wait(pid)
	}

	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return strerr.ExitTemp
	}
	scanner := run([]string{"svscan", dir}, env, []uintptr{0, uintptr(p[1]), uintptr(p[1])})
	title := run([]string{"readproctitle", "service", "errors:", strings.Repeat(".", 400)}, env, []uintptr{uintptr(p[0]), 1, 2})
	unix.Close(p[0])
	unix.Close(p[1])
	code := 0
	if title > 0 {
		code = wait(title)
	} else {
		code = 127
	}
	if scanner > 0 {
		wait(scanner)
	}
	return code
}

// glob expands DIR/*SUFFIX as sh does: names not starting with a dot,
// sorted; no match leaves the pattern itself.
func glob(dir, suffix string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		n := e.Name()
		if n[0] == '.' {
			continue
		}
		p := dir + "/" + n + suffix
		if suffix != "" {
			if _, err := os.Lstat(p); err != nil {
				continue
			}
		}
		out = append(out, p)
	}
	sort.Strings(out)
	if len(out) == 0 {
		out = []string{dir + "/*" + suffix}
	}
	return out
}

// run starts argv[0] found by djb's PATH search; 0 when it cannot.
func run(argv, env []string, files []uintptr) int {
	path, err := pathexec.Lookup(argv[0], env)
	if err != nil {
		return 0
	}
	pid, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{Env: env, Files: files})
	if err != nil {
		return 0
	}
	return pid
}

func wait(pid int) int {
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return strerr.ExitTemp
		}
		if ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ws.ExitStatus()
	}
}
