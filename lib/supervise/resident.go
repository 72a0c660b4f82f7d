package supervise

import (
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// DropStartupText releases this process's mappings of its own read-only
// segments (code, read-only data) faulted in at start-up.
//
// A Go binary is ten times a C supervise, and the kernel maps 64 KiB
// around every page fault, so a few hundred KiB of start-up code stays
// counted in the RSS of a process that then sleeps for months running a
// few KiB of it. The pages are clean copies of the file: dropping them
// frees no shared memory, only this process's claim on them, and the
// code still in use comes back on its next use. Writable mappings are
// never touched.
func DropStartupText() {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return
	}
	for _, line := range bytes.Split(maps, []byte("\n")) {
		f := bytes.Fields(line)
		if len(f) < 6 || string(f[5]) != exe || len(f[1]) < 2 || f[1][1] != '-' {
			continue // not ours, or writable
		}
		dash := bytes.IndexByte(f[0], '-')
		if dash < 0 {
			continue
		}
		lo, err1 := strconv.ParseUint(string(f[0][:dash]), 16, 64)
		hi, err2 := strconv.ParseUint(string(f[0][dash+1:]), 16, 64)
		if err1 != nil || err2 != nil || hi <= lo {
			continue
		}
		// raw syscalls: the range is our own mapping, named by address,
		// not Go memory that a slice could point into
		unix.Syscall(unix.SYS_MADVISE, uintptr(lo), uintptr(hi-lo), unix.MADV_DONTNEED)
	}
}
