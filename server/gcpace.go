package server

import (
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// GC pacing for small heaps. Go collects when the heap reaches GOGC% over the live
// data, with a 4 MB floor. A server with little live data and a steady stream of
// replaced values (SET or HSET overwriting the same keys, what redis-benchmark does)
// then collects dozens of times a second: each cycle's fixed cost (two stop-the-world
// phases, stack scans of every connection goroutine, sweeping) is several percent of
// the CPU, and each stop delays every client, which shows up in p99.
//
// While collections are frequent and the live heap is not growing (churn, not a load),
// GOGC is raised so that up to gcHeadroom of garbage may gather over the live heap;
// once collections have been rare for gcCalmAfter it goes back to the configured
// value. The raise never applies while the live heap grows quickly, so loading data
// keeps the configured GOGC's memory profile; with maxmemory the runtime's memory
// limit (memory.go) still bounds the heap. The setting is process-wide; every
// server's cron calls paceGC and the ticks are merged.

const (
	gcHeadroom  = 32 << 20        // most garbage let gather over the live heap
	gcBusyRate  = 10              // collections a second that count as frequent
	gcCalmAfter = 5 * time.Second // no collection for this long: back to the configured GOGC
	gcPaceTick  = 100 * time.Millisecond
)

// loadGCPercent is GOGC while a dataset loads (at start, a replica's full sync, DEBUG
// RELOAD). Nearly all a load allocates stays live, so each collection during it marks
// the whole dataset read so far for little garbage: loading 1M small strings spent a
// third of its time collecting at GOGC 100, and took 30% less time at 400. Only the
// garbage a load makes could take the heap past its live data (by up to 4×), and
// decoding makes little; maxmemory's runtime memory limit still applies.
const loadGCPercent = 400

var gcPace = struct {
	mu       sync.Mutex
	started  bool
	loading  int // loads in progress (bulkLoadGC); pacing waits for them
	base     int // the process's configured GOGC; negative: off, left alone
	percent  int // what is set now
	at       time.Time
	cycles   uint64
	live     uint64
	lastSeen time.Time // when a collection was last observed
	samples  []metrics.Sample
}{samples: []metrics.Sample{
	{Name: "/gc/cycles/total:gc-cycles"},
	{Name: "/gc/heap/live:bytes"},
}}

// paceGC adjusts GOGC for the collection rate since its last call (see above).
func paceGC(now time.Time) {
	p := &gcPace
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.started {
		startGCPace(now)
		return
	}
	elapsed := now.Sub(p.at)
	if p.base < 0 || elapsed < gcPaceTick || p.loading > 0 {
		return
	}
	metrics.Read(p.samples)
	cycles, live := p.samples[0].Value.Uint64(), p.samples[1].Value.Uint64()
	n, prevLive := cycles-p.cycles, p.live
	p.cycles, p.live, p.at = cycles, live, now
	if n > 0 {
		p.lastSeen = now
	}
	// The most GOGC may be for the live heap as it is now: re-applied every tick, so a
	// heap that starts growing while GOGC is raised is brought back within a tick.
	ceiling := p.base
	if live > 0 {
		ceiling = max(int(min(100*gcHeadroom/live, 1<<20)), p.base)
	}
	want := p.percent
	switch {
	case float64(n) >= gcBusyRate*elapsed.Seconds() && live <= prevLive+prevLive/4:
		want = ceiling
	case now.Sub(p.lastSeen) >= gcCalmAfter:
		want = p.base
	}
	want = min(want, ceiling)
	if want != p.percent {
		debug.SetGCPercent(want)
		p.percent = want
	}
}

// startGCPace reads the configured GOGC and the collector's counters. gcPace.mu held.
func startGCPace(now time.Time) {
	p := &gcPace
	p.started = true
	p.base = debug.SetGCPercent(100) // reads the configured value...
	debug.SetGCPercent(p.base)       // ...and puts it back
	p.percent = p.base
	metrics.Read(p.samples)
	p.cycles, p.live = p.samples[0].Value.Uint64(), p.samples[1].Value.Uint64()
	p.at, p.lastSeen = now, now
}

// bulkLoadGC raises GOGC to loadGCPercent for a dataset load; call the function it
// returns when the load ends. Loads may overlap (several servers in one process).
func bulkLoadGC() (done func()) {
	p := &gcPace
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.started {
		startGCPace(time.Now())
	}
	p.loading++
	if p.loading == 1 && p.base >= 0 && p.percent < loadGCPercent {
		debug.SetGCPercent(loadGCPercent)
	}
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.loading--
		if p.loading == 0 {
			// Restored a moment later: the heap has just outgrown the old setting's
			// goal, so restoring starts a collection at once, whose assists would
			// otherwise fall on the server finishing its start-up.
			time.AfterFunc(loadGCSettle, endLoadGC)
		}
	}
}

// loadGCSettle is how long after a load GOGC goes back to its paced value.
const loadGCSettle = 200 * time.Millisecond

func endLoadGC() {
	p := &gcPace
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.loading == 0 && p.base >= 0 && p.percent < loadGCPercent {
		debug.SetGCPercent(p.percent)
	}
}
