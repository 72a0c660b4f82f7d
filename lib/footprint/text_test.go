package footprint

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

func rssFileKiB(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc")
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "RssFile:") {
			n, _ := strconv.Atoi(strings.Fields(l)[1])
			return n
		}
	}
	t.Skip("no RssFile in /proc/self/status")
	return 0
}

func TestDropTextShrinksResidentSetAndCodeStillRuns(t *testing.T) {
	before := rssFileKiB(t)
	DropText()
	// code and read-only data fault back in on use
	var sb strings.Builder
	for i := 0; i < 1000; i++ {
		sb.WriteString(strconv.Itoa(i))
	}
	if sb.Len() != 2890 {
		t.Fatalf("len %d", sb.Len())
	}
	after := rssFileKiB(t)
	if after >= before {
		t.Fatalf("file-backed RSS %d KiB before, %d after", before, after)
	}
	t.Logf("file-backed RSS %d -> %d KiB", before, after)
}
