package daemontools

import (
	"os"
	"strconv"
	"syscall"
	"testing"
)

// listFdsEnv makes this test binary, run as a program under test, print
// its own descriptors instead of running tests. It lists them from inside
// the process that holds them and that runs nothing else: a shell's
// "find /proc/$$/fd | sort" raced with the shell's own pipe ends.
const listFdsEnv = "TINYMX_TEST_LISTFDS"

func TestMain(m *testing.M) {
	if os.Getenv(listFdsEnv) == "1" {
		os.Exit(printFds())
	}
	os.Exit(m.Run())
}

// printFds writes "N TARGET" for each open descriptor but the one it
// reads /proc/self/fd through, in ascending order (the order the kernel
// lists them in), with system calls only: nothing of Go's (no poller, no
// *os.File) opens a descriptor of its own first.
func printFds() int {
	dir, err := syscall.Open("/proc/self/fd", syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return 111
	}
	var out []byte
	buf := make([]byte, 8192)
	for {
		n, err := syscall.Getdents(dir, buf)
		if err != nil {
			return 111
		}
		if n == 0 {
			break
		}
		var names []string
		_, _, names = syscall.ParseDirent(buf[:n], -1, names)
		for _, name := range names {
			fd, err := strconv.Atoi(name)
			if err != nil || fd == dir {
				continue
			}
			target, _ := os.Readlink("/proc/self/fd/" + name)
			out = append(out, name+" "+target+"\n"...)
		}
	}
	syscall.Write(1, out)
	return 0
}

// fdLister is the job that runs printFds: this test binary, by full path.
func fdLister(t *testing.T) []string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return []string{exe}
}
