package ucspi

import (
	"runtime"
	"syscall"
	"unsafe"
)

// forkExit starts a process that does nothing but exit with code: the
// stand-in for the C program's forked child where no program runs (a
// denied or failed connection), so that the pid and end lines name a real
// process. The child is a vfork sharing our memory that makes no call and
// touches no memory: it only issues exit_group (see vforkExit). All
// signals are blocked around it so that no handler runs in the child.
func forkExit(code int) (int, error) {
	if !haveVforkExit {
		return 0, syscall.ENOSYS
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var all, old [1]uint64
	all[0] = ^uint64(0)
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 2 /* SIG_SETMASK */, uintptr(unsafe.Pointer(&all)), uintptr(unsafe.Pointer(&old)), 8, 0, 0)
	pid, errno := vforkExit(uintptr(code))
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 2, uintptr(unsafe.Pointer(&old)), 0, 8, 0, 0)
	if errno != 0 {
		return 0, syscall.Errno(errno)
	}
	return int(pid), nil
}
