package server

import (
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Returning memory after a burst of writes.
//
// Go's collector lets the heap grow to twice what was live after the last cycle
// (GOGC 100) before the next one, and its background scavenger only returns free
// pages above that goal, slowly. So when a bulk load stops, the process keeps up
// to about twice its data in RSS, mostly dead buffers from building the values,
// until writes start again — and if they never do, indefinitely. malloc (Redis's
// jemalloc, with its background purge thread) frees as it goes and gives pages back
// within seconds. To behave like that, the cron notices when writes have stopped
// for idleRelease and the heap holds much more than is live, and then runs a
// collection and returns every free page (debug.FreeOSMemory), off the engine lock.
//
// What it costs is one collection per burst of writes: a mark of the live heap,
// concurrent with clients apart from the usual short pauses. Bursts closer together
// than releaseSpacing times the last release's duration do not trigger another, so
// however the writes are spaced, releases take at most about a tenth of one core.

const (
	// idleRelease is how long writes must have stopped: a load that pauses
	// between batches is not idle.
	idleRelease = 200 * time.Millisecond
	// releaseMin and releaseFraction: the heap must hold at least this much more
	// than its live data (and this fraction of it) for a release to be worth a
	// collection.
	releaseMin      = 2 << 20
	releaseFraction = 4
	releaseSpacing  = 10
)

// memRelease is the cron's state for releasing memory after writes stop.
type memRelease struct {
	dirty     int64     // engine.Dirty at the last tick
	changedAt time.Time // when writes were last seen
	pending   bool      // writes seen since the last release
	running   bool      // a release is in progress (guarded by the engine lock)
	nextOK    time.Time // the earliest time the next release may start
	// samples is this server's own: metrics.Read writes into it, and several
	// servers in one process (tests) run their crons concurrently.
	samples []metrics.Sample
}

// memReleaseMetrics are the samples memoryReleaseCron reads, in this order.
var memReleaseMetrics = [...]string{
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/free:bytes",
	"/gc/heap/live:bytes",
}

// memoryReleaseCron runs on each cron tick with the engine lock held.
func (s *Server) memoryReleaseCron(now time.Time) {
	r := &s.memRelease
	if d := s.e.Dirty; d != r.dirty {
		r.dirty, r.changedAt, r.pending = d, now, true
		return
	}
	if !r.pending || r.running || now.Sub(r.changedAt) < idleRelease || now.Before(r.nextOK) {
		return
	}
	r.pending = false
	if r.samples == nil {
		for _, name := range memReleaseMetrics {
			r.samples = append(r.samples, metrics.Sample{Name: name})
		}
	}
	metrics.Read(r.samples)
	v := func(i int) int64 { return int64(r.samples[i].Value.Uint64()) }
	// Heap pages the process holds (objects, unused slots, free but not yet
	// returned) against what the last cycle found live.
	held, live := v(0)+v(1)+v(2), v(3)
	if held-live < max(releaseMin, live/releaseFraction) {
		return
	}
	r.running = true
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		start := time.Now()
		debug.FreeOSMemory()
		took := time.Since(start)
		s.e.Lock()
		r.running = false
		r.nextOK = time.Now().Add(releaseSpacing * took)
		s.e.Unlock()
	}()
}
