package svstatus

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"

	"tinymx/lib/strerr"
)

// cwd remembers the starting directory so that each service argument is
// taken relative to it, as svc and svstat do with fchdir.
type cwd int

func saveCwd() (cwd, error) {
	fd, err := unix.Open(".", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	return cwd(fd), err
}

func (c cwd) restore() error { return unix.Fchdir(int(c)) }

// Commands turns svc's option letters into the command string: each letter
// once, in order of first appearance (svc -u -dxu -ht sends "udxht").
func Commands(letters []byte) []byte {
	var seen [256]bool
	var out []byte
	for _, c := range letters {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// Svc sends cmds to every dir, warning about each one that fails, and
// returns svc's exit code (0 even after warnings).
func Svc(cmds []byte, dirs []string) int {
	c, err := saveCwd()
	if err != nil {
		strerr.Fatal(strerr.ExitTemp, err, "unable to open current directory")
	}
	for _, d := range dirs {
		if err := unix.Chdir(d); err != nil {
			strerr.Warn(err, "unable to chdir to ", d)
			continue
		}
		if err := SendControl(cmds); err != nil {
			var ce *ControlError
			errors.As(err, &ce)
			switch {
			case ce.Open && IsNotRunning(err):
				strerr.Warn(nil, "unable to control ", d, ": supervise not running")
			case ce.Open:
				strerr.Warn(err, "unable to control ", d)
			default:
				strerr.Warn(err, "error writing commands to ", d)
			}
		}
		if err := c.restore(); err != nil {
			strerr.Fatal(strerr.ExitTemp, err, "unable to set directory")
		}
	}
	return 0
}

// Svstat prints one line per dir on stdout, in one write at the end.
func Svstat(dirs []string) int {
	c, err := saveCwd()
	if err != nil {
		strerr.Fatal(strerr.ExitTemp, err, "unable to open current directory")
	}
	now := NowTAI64()
	var rec [Size]byte
	var out []byte
	for _, d := range dirs {
		out = append(out, d...)
		out = append(out, ": "...)
		if err := unix.Chdir(d); err != nil {
			out = append(append(out, "unable to chdir: "...), strerr.Errstr(err)...)
		} else {
			out = AppendLine(out, now, &rec)
			if err := c.restore(); err != nil {
				os.Stdout.Write(out)
				strerr.Fatal(strerr.ExitTemp, err, "unable to set directory")
			}
		}
		out = append(out, '\n')
	}
	os.Stdout.Write(out)
	return 0
}

// Svok returns 0 when a supervise runs in dir, 100 when none does.
func Svok(dir string) int {
	if err := unix.Chdir(dir); err != nil {
		strerr.Fatal(strerr.ExitTemp, err, "unable to chdir to ", dir)
	}
	err := ProbeOK()
	switch {
	case err == nil:
		return 0
	case errors.Is(err, unix.ENOENT) || IsNotRunning(err):
		return strerr.ExitPerm
	}
	strerr.Fatal(strerr.ExitTemp, err, "unable to open ", dir, "/supervise/ok")
	return strerr.ExitTemp
}
