package footprint

import (
	"bytes"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// DropText gives back the clean, read-only file pages (program text and
// constants, shared libraries) that start-up or the last piece of work
// touched. They stay in the page cache, shared; only the pages the process
// really uses while it waits come back into its resident set. A Go binary
// is ten times a C supervise or tcpserver, and start-up reads most of it
// once and never again.
//
// A page fault on a file mapping maps up to 64 KiB of cached pages around
// the faulting one ("fault-around", which MADV_RANDOM does not turn off),
// but never past the end of the mapping. So the first call splits those
// mappings into one-page mappings, by alternating MADV_RANDOM and
// MADV_NORMAL page by page: afterwards each page the runtime touches costs
// 4 KiB, not 64. (Measured after a 4-client burst: the binary's resident
// pages went from 1.1 MiB to a few hundred KiB.) The mappings are read from
// /proc/self/smaps once: later calls only drop the pages. The split costs
// the kernel a mapping per page (some hundreds, a few hundred bytes each,
// outside the resident set); the pages it saves are 64 KiB each.
//
// Writable mappings, and read-only ones holding a page written before it
// was made read-only, are never touched: dropping those would lose data.
func DropText() {
	residentOnce.Do(func() { residentRanges = cleanMappings() })
	for _, r := range residentRanges {
		unix.Syscall(unix.SYS_MADVISE, r[0], r[1]-r[0], unix.MADV_DONTNEED)
	}
}

var (
	residentOnce   sync.Once
	residentRanges [][2]uintptr
)

// cleanMappings finds the named, read-only, private file mappings and
// splits each into one-page mappings (see DropText).
func cleanMappings() [][2]uintptr {
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return nil
	}
	var ranges [][2]uintptr
	var lo, hi uint64
	clean := false
	flush := func() {
		if clean && hi > lo {
			ranges = append(ranges, [2]uintptr{uintptr(lo), uintptr(hi)})
		}
		clean = false
	}
	for len(smaps) > 0 {
		line := smaps
		if i := bytes.IndexByte(smaps, '\n'); i >= 0 {
			line, smaps = smaps[:i], smaps[i+1:]
		} else {
			smaps = nil
		}
		f := bytes.Fields(line)
		if len(f) == 0 {
			continue
		}
		if dash := bytes.IndexByte(f[0], '-'); dash > 0 && len(f) >= 5 {
			// a mapping header: address perms offset dev inode [path]
			flush()
			var err1, err2 error
			lo, err1 = strconv.ParseUint(string(f[0][:dash]), 16, 64)
			hi, err2 = strconv.ParseUint(string(f[0][dash+1:]), 16, 64)
			// only named, read-only, private file mappings
			clean = err1 == nil && err2 == nil && len(f) >= 6 && len(f[1]) == 4 &&
				f[1][1] == '-' && f[1][3] == 'p' && f[5][0] == '/'
			continue
		}
		// A page written before it was made read-only (relocations of
		// a shared library) is anonymous: dropping it would lose the
		// write, so such a mapping is left alone.
		if string(f[0]) == "Anonymous:" && len(f) >= 2 && string(f[1]) != "0" {
			clean = false
		}
	}
	flush()
	page := uintptr(os.Getpagesize())
	for _, r := range ranges {
		unix.Syscall(unix.SYS_MADVISE, r[0], r[1]-r[0], unix.MADV_RANDOM)
		for p := r[0]; p < r[1]; p += 2 * page {
			unix.Syscall(unix.SYS_MADVISE, p, page, unix.MADV_NORMAL)
		}
	}
	return ranges
}
