package harness

import (
	"os"
	"strconv"
	"strings"
)

// StatusKB is a field of /proc/PID/status counted in kB (VmRSS, VmHWM,
// RssFile...), or -1 when the process or the field is not there.
func StatusKB(pid int, field string) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == field+":" {
			if n, err := strconv.Atoi(f[1]); err == nil {
				return n
			}
		}
	}
	return -1
}
