// Command setuidgid runs a program under an account's uid and gid, with no
// supplementary groups, as daemontools' setuidgid.
package main

import (
	"os"
	"os/user"
	"runtime"
	"strconv"
	"unsafe"

	"tinymx/lib/pathexec"
	"tinymx/lib/strerr"

	"golang.org/x/sys/unix"
)

// The main goroutine stays on one thread: the one whose ids change, and
// the one that calls execve.
func init() { runtime.LockOSThread() }

func main() {
	strerr.SetProg("setuidgid")
	// No option parsing (spec §1.1): "--" is an account name.
	if len(os.Args) < 3 {
		strerr.Usage("setuidgid account child")
	}
	account, argv := os.Args[1], os.Args[2:]
	pw, err := user.Lookup(account)
	if err != nil {
		strerr.Fatal(strerr.ExitTemp, nil, "unknown account ", account)
	}
	uid, _ := strconv.Atoi(pw.Uid)
	gid, _ := strconv.Atoi(pw.Gid)
	// Change the ids of this thread only, then exec from it: the kernel
	// counts every thread of a user against RLIMIT_NPROC, and Go's
	// Setuid, which changes all of the runtime's threads, would make
	// "softlimit -p 1 setuidgid acct prog" fail with EAGAIN at exec where
	// the single-threaded original succeeds. The other threads keep the
	// old ids only until the exec replaces the process.
	// A failed setgroups is reported as setgid, as the original's prot_gid.
	groups := [1]uint32{uint32(gid)}
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, 1, uintptr(unsafe.Pointer(&groups[0])), 0); e != 0 {
		strerr.Fatal(strerr.ExitTemp, e, "unable to setgid")
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETGID, uintptr(gid), 0, 0); e != 0 {
		strerr.Fatal(strerr.ExitTemp, e, "unable to setgid")
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETUID, uintptr(uid), 0, 0); e != 0 {
		strerr.Fatal(strerr.ExitTemp, e, "unable to setuid")
	}
	err = pathexec.Exec(argv, os.Environ())
	strerr.Fatal(strerr.ExitTemp, err, "unable to run ", argv[0])
}
