package supervise

import (
	"runtime"
	"runtime/debug"
)

// A supervise (or svscan) runs for months and does almost nothing, so the
// Go runtime's defaults cost more than the work: the collector's 2-minute
// forced cycle wakes an idle process and faults half of the program text
// back in, and the heap may grow to 4 MiB before the first collection.
// Instead the collector is off, and the process collects at its own idle
// points once enough has been allocated, then gives the memory back and
// drops the text the collection touched.

// trimEvery is how much may be allocated between two collections.
const trimEvery = 128 << 10

// backstop bounds the heap should an idle point never come (a bug): the
// runtime then collects on its own.
const backstop = 64 << 20

var allocatedAtTrim uint64

// Lean sets up the runtime for a small long-running process: one P (the
// work is sequential; each P brings its own caches and GC worker), no
// collection on the runtime's own schedule.
func Lean() {
	runtime.GOMAXPROCS(1)
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(backstop)
}

// Trim is called where the process is about to go idle: when more than
// trimEvery bytes were allocated since the last trim, it collects, returns
// the free memory to the kernel and drops the program text the collection
// faulted in. The first call (after start-up) only drops the text: a
// collection's own bookkeeping would cost more than the start-up garbage.
func Trim() {
	n := allocated()
	if !trimmed {
		trimmed = true
		allocatedAtTrim = n
		DropStartupText()
		return
	}
	if n-allocatedAtTrim < trimEvery {
		return
	}
	debug.FreeOSMemory()
	DropStartupText()
	allocatedAtTrim = allocated()
}

var trimmed bool

// memStats is static: reading it must not allocate. (runtime/metrics
// would, once, and keep ~100 KiB of tables for good.)
var memStats runtime.MemStats

func allocated() uint64 {
	runtime.ReadMemStats(&memStats)
	return memStats.TotalAlloc
}
