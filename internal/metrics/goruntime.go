package metrics

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// The daemon's Go runtime metrics: the families, names, types and
// meanings of client_golang's default Go collector, which dashboards know.
// They are written here rather than by client_golang because linking it
// (with its protobuf types and procfs) made every run of the binary,
// `supervisorctl status` included, pay its package initialisers: about
// a quarter of the CPU time of `drover version`.
var (
	goGCDuration   = &family{"go_gc_duration_seconds", "summary", "Stop-the-world pause durations of garbage collections, in seconds."}
	goGOGC         = gaugeFamily("go_gc_gogc_percent", "The heap growth target in percent: GOGC or runtime/debug.SetGCPercent. Runtime metric /gc/gogc:percent.")
	goMemLimit     = gaugeFamily("go_gc_gomemlimit_bytes", "The soft memory limit: GOMEMLIMIT or runtime/debug.SetMemoryLimit. Runtime metric /gc/gomemlimit:bytes.")
	goGoroutines   = gaugeFamily("go_goroutines", "Goroutines that exist now.")
	goInfo         = gaugeFamily("go_info", "The Go version the daemon was built with.")
	goAlloc        = gaugeFamily("go_memstats_alloc_bytes", "Bytes of heap objects allocated and not yet freed (/memory/classes/heap/objects:bytes).")
	goAllocTotal   = counterFamily("go_memstats_alloc_bytes_total", "Bytes allocated on the heap since the start, freed or not (/gc/heap/allocs:bytes).")
	goBuckHash     = gaugeFamily("go_memstats_buck_hash_sys_bytes", "Bytes of the profiling buckets' hash table (/memory/classes/profiling/buckets:bytes).")
	goFrees        = counterFamily("go_memstats_frees_total", "Heap objects freed since the start (/gc/heap/frees:objects + /gc/heap/tiny/allocs:objects).")
	goGCSys        = gaugeFamily("go_memstats_gc_sys_bytes", "Bytes of the collector's metadata (/memory/classes/metadata/other:bytes).")
	goHeapAlloc    = gaugeFamily("go_memstats_heap_alloc_bytes", "Bytes of heap objects allocated and not yet freed, as go_memstats_alloc_bytes (/memory/classes/heap/objects:bytes).")
	goHeapIdle     = gaugeFamily("go_memstats_heap_idle_bytes", "Heap bytes holding no object (/memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes).")
	goHeapInuse    = gaugeFamily("go_memstats_heap_inuse_bytes", "Heap bytes in spans holding objects (/memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes).")
	goHeapObjects  = gaugeFamily("go_memstats_heap_objects", "Heap objects allocated and not yet freed (/gc/heap/objects:objects).")
	goHeapReleased = gaugeFamily("go_memstats_heap_released_bytes", "Heap bytes given back to the system (/memory/classes/heap/released:bytes).")
	goHeapSys      = gaugeFamily("go_memstats_heap_sys_bytes", "Heap bytes obtained from the system: in use, idle and released.")
	goLastGC       = gaugeFamily("go_memstats_last_gc_time_seconds", "When the last garbage collection ended, in seconds since 1970.")
	goMallocs      = counterFamily("go_memstats_mallocs_total", "Heap objects allocated since the start (/gc/heap/allocs:objects + /gc/heap/tiny/allocs:objects).")
	goMCacheInuse  = gaugeFamily("go_memstats_mcache_inuse_bytes", "Bytes of mcache structures in use (/memory/classes/metadata/mcache/inuse:bytes).")
	goMCacheSys    = gaugeFamily("go_memstats_mcache_sys_bytes", "Bytes of mcache structures obtained from the system (/memory/classes/metadata/mcache/inuse:bytes + /memory/classes/metadata/mcache/free:bytes).")
	goMSpanInuse   = gaugeFamily("go_memstats_mspan_inuse_bytes", "Bytes of mspan structures in use (/memory/classes/metadata/mspan/inuse:bytes).")
	goMSpanSys     = gaugeFamily("go_memstats_mspan_sys_bytes", "Bytes of mspan structures obtained from the system (/memory/classes/metadata/mspan/inuse:bytes + /memory/classes/metadata/mspan/free:bytes).")
	goNextGC       = gaugeFamily("go_memstats_next_gc_bytes", "The heap size at which the next collection starts (/gc/heap/goal:bytes).")
	goOtherSys     = gaugeFamily("go_memstats_other_sys_bytes", "Bytes of other runtime allocations (/memory/classes/other:bytes).")
	goStackInuse   = gaugeFamily("go_memstats_stack_inuse_bytes", "Bytes of goroutine stacks taken from the heap (/memory/classes/heap/stacks:bytes).")
	goStackSys     = gaugeFamily("go_memstats_stack_sys_bytes", "Bytes of stacks obtained from the system (/memory/classes/heap/stacks:bytes + /memory/classes/os-stacks:bytes).")
	goSys          = gaugeFamily("go_memstats_sys_bytes", "Bytes obtained from the system (/memory/classes/total:bytes).")
	goMaxProcs     = gaugeFamily("go_sched_gomaxprocs_threads", "GOMAXPROCS: the threads that may run Go code at once. Runtime metric /sched/gomaxprocs:threads.")
	goThreads      = gaugeFamily("go_threads", "Operating system threads created.")
)

// The runtime/metrics samples read at each scrape, in the order of
// goSampleNames.
const (
	rmTinyAllocs = iota
	rmAllocObjects
	rmFreeObjects
	rmAllocBytes
	rmTotal
	rmHeapObjects
	rmHeapUnused
	rmHeapReleased
	rmHeapFree
	rmObjects
	rmHeapStacks
	rmOSStacks
	rmMSpanInuse
	rmMSpanFree
	rmMCacheInuse
	rmMCacheFree
	rmBuckets
	rmMetadataOther
	rmOther
	rmHeapGoal
	rmGOGC
	rmMemLimit
	rmMaxProcs
	rmCount
)

var goSampleNames = [rmCount]string{
	rmTinyAllocs:    "/gc/heap/tiny/allocs:objects",
	rmAllocObjects:  "/gc/heap/allocs:objects",
	rmFreeObjects:   "/gc/heap/frees:objects",
	rmAllocBytes:    "/gc/heap/allocs:bytes",
	rmTotal:         "/memory/classes/total:bytes",
	rmHeapObjects:   "/memory/classes/heap/objects:bytes",
	rmHeapUnused:    "/memory/classes/heap/unused:bytes",
	rmHeapReleased:  "/memory/classes/heap/released:bytes",
	rmHeapFree:      "/memory/classes/heap/free:bytes",
	rmObjects:       "/gc/heap/objects:objects",
	rmHeapStacks:    "/memory/classes/heap/stacks:bytes",
	rmOSStacks:      "/memory/classes/os-stacks:bytes",
	rmMSpanInuse:    "/memory/classes/metadata/mspan/inuse:bytes",
	rmMSpanFree:     "/memory/classes/metadata/mspan/free:bytes",
	rmMCacheInuse:   "/memory/classes/metadata/mcache/inuse:bytes",
	rmMCacheFree:    "/memory/classes/metadata/mcache/free:bytes",
	rmBuckets:       "/memory/classes/profiling/buckets:bytes",
	rmMetadataOther: "/memory/classes/metadata/other:bytes",
	rmOther:         "/memory/classes/other:bytes",
	rmHeapGoal:      "/gc/heap/goal:bytes",
	rmGOGC:          "/gc/gogc:percent",
	rmMemLimit:      "/gc/gomemlimit:bytes",
	rmMaxProcs:      "/sched/gomaxprocs:threads",
}

// goStats reads the Go runtime's metrics for the go_* families.
type goStats struct {
	mu      sync.Mutex // guards the buffers below
	samples [rmCount]metrics.Sample
	gc      debug.GCStats
}

func newGoStats() *goStats {
	s := &goStats{}
	for i, name := range goSampleNames {
		s.samples[i].Name = name
	}
	s.gc.PauseQuantiles = make([]time.Duration, 5) // minimum, quartiles, maximum
	return s
}

// sample returns sample i as a number; 0 if this Go does not have it.
func (s *goStats) sample(i int) float64 {
	switch v := s.samples[i].Value; v.Kind() {
	case metrics.KindUint64:
		return float64(v.Uint64())
	case metrics.KindFloat64:
		return v.Float64()
	}
	return 0
}

// write writes the go_* families, in the order of their names.
func (s *goStats) write(e *exposition) {
	s.mu.Lock()
	defer s.mu.Unlock()
	goroutines := runtime.NumGoroutine()
	threads, _ := runtime.ThreadCreateProfile(nil)
	debug.ReadGCStats(&s.gc)
	metrics.Read(s.samples[:])
	v := s.sample

	q := s.gc.PauseQuantiles
	for i, quantile := range [...]string{"0", "0.25", "0.5", "0.75", "1"} {
		e.sample(goGCDuration, q[i].Seconds(), "quantile", quantile)
	}
	e.sampleSuffixed(goGCDuration, "_sum", s.gc.PauseTotal.Seconds())
	e.sampleSuffixed(goGCDuration, "_count", float64(s.gc.NumGC))
	e.sample(goGOGC, v(rmGOGC))
	e.sample(goMemLimit, v(rmMemLimit))
	e.sample(goGoroutines, float64(goroutines))
	e.sample(goInfo, 1, "version", runtime.Version())
	heapObjects := v(rmHeapObjects)
	heapInuse := heapObjects + v(rmHeapUnused)
	heapIdle := v(rmHeapReleased) + v(rmHeapFree)
	e.sample(goAlloc, heapObjects)
	e.sample(goAllocTotal, v(rmAllocBytes))
	e.sample(goBuckHash, v(rmBuckets))
	e.sample(goFrees, v(rmFreeObjects)+v(rmTinyAllocs))
	e.sample(goGCSys, v(rmMetadataOther))
	e.sample(goHeapAlloc, heapObjects)
	e.sample(goHeapIdle, heapIdle)
	e.sample(goHeapInuse, heapInuse)
	e.sample(goHeapObjects, v(rmObjects))
	e.sample(goHeapReleased, v(rmHeapReleased))
	e.sample(goHeapSys, heapInuse+heapIdle)
	lastGC := 0.0
	if s.gc.NumGC > 0 {
		lastGC = float64(s.gc.LastGC.UnixNano()) / 1e9
	}
	e.sample(goLastGC, lastGC)
	e.sample(goMallocs, v(rmAllocObjects)+v(rmTinyAllocs))
	e.sample(goMCacheInuse, v(rmMCacheInuse))
	e.sample(goMCacheSys, v(rmMCacheInuse)+v(rmMCacheFree))
	e.sample(goMSpanInuse, v(rmMSpanInuse))
	e.sample(goMSpanSys, v(rmMSpanInuse)+v(rmMSpanFree))
	e.sample(goNextGC, v(rmHeapGoal))
	e.sample(goOtherSys, v(rmOther))
	e.sample(goStackInuse, v(rmHeapStacks))
	e.sample(goStackSys, v(rmHeapStacks)+v(rmOSStacks))
	e.sample(goSys, v(rmTotal))
	e.sample(goMaxProcs, v(rmMaxProcs))
	e.sample(goThreads, float64(threads))
}
