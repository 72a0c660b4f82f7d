// Package footprint keeps long-running processes small: svscan, supervise
// and tcpserver run for months, mostly waiting, and the Go runtime's
// defaults (a collector that wakes on its own, a heap that grows before it
// collects, one processor per core with its own caches) and a binary ten
// times the C one's would cost more than the work they do.
//
// Two runtime profiles, because the processes differ: Idle for those that
// allocate almost nothing (svscan, supervise: the collector is off and they
// collect at their own idle points, with Trim), Server for one that
// allocates for every connection (tcpserver: the collector runs early and
// often). Both drop the program text they no longer use with DropText, the
// one page-dropping method.
package footprint

import (
	"os"
	"runtime"
	"runtime/debug"
)

// trimEvery is how much may be allocated between two collections.
const trimEvery = 128 << 10

// backstop bounds the heap should an idle point never come (a bug): the
// runtime then collects on its own.
const backstop = 64 << 20

var allocatedAtTrim uint64

// Idle sets up the runtime for a small long-running process that
// allocates little: one P (the work is sequential; each P brings its own
// caches and GC worker), no collection on the runtime's own schedule (its
// 2-minute forced cycle would wake the idle process and fault half of the
// program text back in). The process calls Trim at its idle points.
func Idle() {
	runtime.GOMAXPROCS(1)
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(backstop)
}

// Trim is called where an Idle process is about to go idle: when more
// than trimEvery bytes were allocated since the last trim, it collects,
// returns the free memory to the kernel and drops the program text the
// collection faulted in. The first call (after start-up) only drops the text: a
// collection's own bookkeeping would cost more than the start-up garbage.
func Trim() {
	n := allocated()
	if !trimmed {
		trimmed = true
		allocatedAtTrim = n
		DropText()
		return
	}
	if n-allocatedAtTrim < trimEvery {
		return
	}
	debug.FreeOSMemory()
	DropText()
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

// Server sets up the runtime for a long-running server that allocates for
// every connection: the collector runs at 20% growth instead of 100%, so an
// idle server stays small, no allocation profile is kept (its hash table
// alone is 1.4 MB of address space), and one processor is plenty for a loop
// that accepts, looks up and forks ($GOMAXPROCS still wins).
func Server() {
	debug.SetGCPercent(20)
	runtime.MemProfileRate = 0
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}

// Release is what a Server does once it has been idle for a while: return
// the freed heap to the kernel and drop the program text the last
// connections touched.
func Release() {
	debug.FreeOSMemory()
	DropText()
}
