package ucspi

import (
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// TrimResident gives back the clean, read-only file pages (program text
// and constants, shared libraries) that start-up touched, and asks the
// kernel to fault them back one by one rather than in 64 KiB batches.
// They stay in the page cache, shared; only the pages the accept loop and
// a connection really use come back into the server's resident set. This
// is what keeps an idle tcpserver small: start-up reads most of the
// binary once and never again.
func TrimResident() {
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return
	}
	var lo, hi uint64
	clean := false
	flush := func() {
		if clean && hi > lo {
			unix.Syscall(unix.SYS_MADVISE, uintptr(lo), uintptr(hi-lo), unix.MADV_RANDOM)
			unix.Syscall(unix.SYS_MADVISE, uintptr(lo), uintptr(hi-lo), unix.MADV_DONTNEED)
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
}
