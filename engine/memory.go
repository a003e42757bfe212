package engine

import (
	"runtime/metrics"
	"time"
)

// Memory accounting.
//
// used_memory comes from the Go runtime (runtime/metrics, which reads per-P counters
// without stopping the world, unlike runtime.ReadMemStats): the live heap the last
// GC cycle marked, plus goroutine stacks, plus what writes added since that cycle,
// minus what eviction freed since. Reading the metrics costs about 2us, so they are
// sampled at most once per millisecond: the server refreshes them before each batch
// of commands. A millisecond is far below how fast a cache fills and keeps the read
// off the per-command path; between samples the write estimate keeps the figure
// moving, so a long pipeline of large writes still trips the limit in time.
//
// Why the live heap and not all heap objects: malloc returns memory when a key is
// deleted, Go only when the collector runs. Heap objects include every dead reply
// buffer and overwritten value until the next cycle; measured against maxmemory,
// that garbage (often as large as the data, with GOGC at 100) would be paid for by
// evicting live keys, and a full cache would hold about half what Redis holds in the
// same limit. The live heap after the last cycle is what Redis's used_memory means:
// memory the data actually holds. Between cycles:
//   - each write adds the size of its arguments plus a small header (noteWrite), an
//     overestimate for overwrites that the next cycle corrects;
//   - each eviction subtracts the evicted key's estimated heap cost (heapCost), or
//     the eviction loop, which stops when it has freed enough, would never see the
//     number fall and would evict the whole keyspace.
// maxmemory also sets the runtime's memory limit (the server does that), so cycles
// come often enough that the garbage stays a bounded cushion above maxmemory.

// memSampleInterval is how long a used-memory sample stays valid.
const memSampleInterval = time.Millisecond

type memMeter struct {
	samples   []metrics.Sample
	heap      int64 // heap objects + stacks at the last sample
	sampledAt time.Time
	gcCycles  uint64
	// evictedSinceGC is the estimated heap held by keys evicted since the last GC
	// cycle the meter saw complete: garbage the next cycle reclaims.
	evictedSinceGC int64
	// growth estimates what writes added since the last GC cycle.
	growth     int64
	peak       int64
	notCounted func() int64
	// gauge, when set, replaces the runtime measurement (SetMemoryGauge).
	gauge func() int64
}

func (m *memMeter) init() {
	m.samples = []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/stacks:bytes"},
		{Name: "/gc/cycles/total:gc-cycles"},
		{Name: "/gc/heap/live:bytes"},
	}
}

func (m *memMeter) sample(now time.Time) {
	metrics.Read(m.samples)
	base := m.samples[3].Value.Uint64()
	if c := m.samples[2].Value.Uint64(); c != m.gcCycles {
		m.gcCycles = c
		m.evictedSinceGC = 0
		m.growth = 0
	}
	if m.gcCycles == 0 {
		// No cycle has marked the heap yet: everything allocated counts.
		base = m.samples[0].Value.Uint64()
	}
	m.heap = int64(base + m.samples[1].Value.Uint64())
	m.sampledAt = now
	m.peak = max(m.peak, m.used())
}

func (m *memMeter) used() int64 {
	if m.gauge != nil {
		return m.gauge()
	}
	return max(m.heap-m.evictedSinceGC+m.growth, 0)
}

// SetMemoryGauge replaces the runtime measurement of used memory with fn (nil
// restores it). fn is called with the engine lock held and must reflect deletions at
// once. Tests use it to make eviction deterministic; an embedder with its own
// accounting can use it too.
func (e *Engine) SetMemoryGauge(fn func() int64) { e.mem.gauge = fn }

// SampleMemory reads used memory from the runtime now.
func (e *Engine) SampleMemory() { e.mem.sample(time.Now()) }

// RefreshMemory samples used memory if the last sample is older than a millisecond.
// The server calls it before each batch of commands while maxmemory is set.
func (e *Engine) RefreshMemory() {
	now := time.Now()
	if now.Sub(e.mem.sampledAt) >= memSampleInterval {
		e.mem.sample(now)
	}
}

// UsedMemory is used_memory: the live heap at the last GC cycle and the stacks, plus
// the estimated growth from writes since, less evicted keys since.
func (e *Engine) UsedMemory() int64 { return e.mem.used() }

// PeakMemory is used_memory_peak.
func (e *Engine) PeakMemory() int64 { return max(e.mem.peak, e.mem.used()) }

// SetMemNotCounted installs the function that measures memory Redis does not count
// for eviction (replica output buffers beyond the backlog, the AOF buffer); it is
// called with the engine lock held, and only when memory is over the limit.
func (e *Engine) SetMemNotCounted(fn func() int64) { e.mem.notCounted = fn }

// MemNotCountedForEvict is mem_not_counted_for_evict.
func (e *Engine) MemNotCountedForEvict() int64 {
	if e.mem.notCounted == nil {
		return 0
	}
	return e.mem.notCounted()
}

// noteWrite adds a write's argument bytes to the growth estimate.
func (e *Engine) noteWrite(args [][]byte) {
	n := int64(64) // key entry and value header
	for _, a := range args {
		n += int64(len(a))
	}
	e.mem.growth += n
}

// heapCost estimates the Go heap a key holds: the dictionary entry, the key, the
// value and, with a TTL, the expires entry and its copy of the key. It only has to be
// good enough to stop the eviction loop near the right place; the next GC cycle
// replaces it with the real figure.
func heapCost(key string, o *Object, hasTTL bool) int64 {
	const entry = 80 // next pointer, key header, Object
	n := entry + goClass(len(key))
	if hasTTL {
		n += 32 + goClass(len(key))
	}
	switch {
	case o.Type == TypeString || o.Enc == EncListpack || o.Enc == EncIntset:
		n += goClass(cap(o.Str))
	case o.Type == TypeHash && o.Enc == EncHashtable:
		d := o.Val.(*hashTable)
		main, rehash := d.Buckets()
		n += 8 * (main + rehash)
		HashRange(o, func(f, v []byte) bool {
			n += 48 + goClass(len(f)) + goClass(len(v))
			return true
		})
	case o.Type == TypeSet && o.Enc == EncHashtable:
		d := o.Val.(*setTable)
		main, rehash := d.Buckets()
		n += 8 * (main + rehash)
		d.Range(func(m string, _ *struct{}) bool {
			n += 32 + goClass(len(m))
			return true
		})
	case o.Type == TypeList:
		// A quicklist's nodes are packed buffers much as Redis's, so Redis's own
		// estimate plus the Go headers is close.
		n += quicklistUsage(listOf(o), 0)
	default:
		if size, ok := redisUsage(o, 0); ok {
			// Go structures run about half again over Redis's for the same data.
			n += size * 3 / 2
		}
	}
	return int64(n)
}

// goClass rounds an allocation up roughly as Go's size classes do (8, 16, 24, 32,
// then steps of 16 to 256 and about an eighth beyond).
func goClass(n int) int {
	switch {
	case n == 0:
		return 0
	case n <= 8:
		return 8
	case n <= 32:
		return (n + 7) &^ 7
	case n <= 256:
		return (n + 15) &^ 15
	}
	step := 1
	for step*16 < n {
		step <<= 1
	}
	return (n + step - 1) / step * step
}

// redisUsage estimates, for types without a model above, the bytes Redis would
// allocate for a value (objectComputeSize), sampling samples elements of nested
// structures (0 means all). false for types with no model yet (sorted sets until
// their file adds one, streams).
func redisUsage(o *Object, samples int) (int, bool) {
	switch o.Type {
	case TypeList:
		return quicklistUsage(listOf(o), samples), true
	}
	return 0, false
}

// quicklistUsage is objectComputeSize for a quicklist: the header, then the average of
// sampled nodes (node header plus its packed entries) times the node count.
func quicklistUsage(q *Quicklist, samples int) int {
	const quicklistHeader, nodeHeader = 40, 32
	size := quicklistHeader
	if q.nodes == 0 {
		return size
	}
	seen, bytes := 0, 0
	for n := q.head; n != nil && (samples == 0 || seen < samples); n = n.next {
		bytes += nodeHeader + lpHeader + len(n.buf) - n.off + 1
		seen++
	}
	return size + int(float64(bytes)/float64(seen)*float64(q.nodes))
}

// MemoryUsageDefaultSamples is MEMORY USAGE's default SAMPLES (OBJ_COMPUTE_SIZE_DEF_SAMPLES).
const MemoryUsageDefaultSamples = 5

// MemoryUsage is MEMORY USAGE's figure for key and its value: what Redis 7.0 with
// jemalloc would report for the same data, computed from the value's contents with
// Redis's structure sizes (robj 16 bytes, dictEntry 24, dict 56, sds headers,
// listpack and intset layouts) rounded to jemalloc's size classes. It models Redis
// rather than measuring kv's heap, so the number means the same as on Redis: a
// capacity-planning figure clients compare across servers. samples bounds how many
// elements of a hash table are measured (0: all); the rest are extrapolated.
func MemoryUsage(key []byte, o *Object, samples int) int64 {
	if samples <= 0 {
		samples = 1<<63 - 1
	}
	return int64(redisObjectSize(o, samples) + sdsAlloc(len(key)) + redisDictEntry)
}

// Redis 7.0 structure sizes on 64-bit builds.
const (
	redisRobj      = 16
	redisDictEntry = 24
	redisDict      = 56
)

func redisObjectSize(o *Object, samples int) int {
	switch o.Type {
	case TypeString:
		switch o.Enc {
		case EncInt:
			return redisRobj
		case EncEmbstr:
			return jeClass(redisRobj + 3 + len(o.Str) + 1)
		}
		return redisRobj + sdsAlloc(len(o.Str))
	case TypeHash:
		if o.Enc == EncListpack {
			size := lpHeader + 1
			HashRange(o, func(f, v []byte) bool {
				size += redisLpEntry(f) + redisLpEntry(v)
				return true
			})
			return redisRobj + jeClass(size)
		}
		d := o.Val.(*hashTable)
		main, rehash := d.Buckets()
		size := redisRobj + redisDict + 8*(main+rehash)
		var ele, n int
		d.Range(func(f string, v *string) bool {
			ele += sdsAlloc(len(f)) + sdsAlloc(len(*v)) + redisDictEntry
			n++
			return n < samples
		})
		if n > 0 {
			size += int(float64(ele) / float64(n) * float64(d.Len()))
		}
		return size
	case TypeSet:
		if o.Enc == EncIntset {
			return redisRobj + jeClass(8+len(o.Str))
		}
		d := o.Val.(*setTable)
		main, rehash := d.Buckets()
		size := redisRobj + redisDict + 8*(main+rehash)
		var ele, n int
		d.Range(func(m string, _ *struct{}) bool {
			ele += redisDictEntry + sdsAlloc(len(m))
			n++
			return n < samples
		})
		if n > 0 {
			size += int(float64(ele) / float64(n) * float64(d.Len()))
		}
		return size
	}
	if size, ok := redisUsage(o, samples); ok {
		return size
	}
	return redisRobj
}

// lpHeader is a listpack's header: total bytes (4) and element count (2).
const lpHeader = 6

// redisLpEntry is the size of one element in a Redis listpack: encoding byte(s),
// data and the back-length, with integers stored in the narrowest integer encoding.
func redisLpEntry(b []byte) int {
	var enc int
	if v, ok := canonicalInt(b); ok {
		switch {
		case v >= 0 && v <= 127:
			enc = 1
		case v >= -4096 && v <= 4095:
			enc = 2
		case v >= -1<<15 && v < 1<<15:
			enc = 3
		case v >= -1<<23 && v < 1<<23:
			enc = 4
		case v >= -1<<31 && v < 1<<31:
			enc = 5
		default:
			enc = 9
		}
	} else {
		switch n := len(b); {
		case n < 64:
			enc = 1 + n
		case n < 4096:
			enc = 2 + n
		default:
			enc = 5 + n
		}
	}
	return enc + lpBacklen(enc)
}

// RedisListpackEntry exposes the listpack element size model to the collection
// types that register their own MEMORY USAGE estimate.
func RedisListpackEntry(b []byte) int { return redisLpEntry(b) }

func lpBacklen(n int) int {
	switch {
	case n <= 127:
		return 1
	case n < 16383:
		return 2
	case n < 2097151:
		return 3
	case n < 268435455:
		return 4
	}
	return 5
}

// sdsAlloc is the allocation of an sds string of n bytes: the smallest header that
// holds the length, the bytes and the terminator, rounded to jemalloc's class.
func sdsAlloc(n int) int {
	hdr := 17
	switch {
	case n < 1<<5:
		hdr = 1
	case n < 1<<8:
		hdr = 3
	case n < 1<<16:
		hdr = 5
	case n < 1<<32:
		hdr = 9
	}
	return jeClass(hdr + n + 1)
}

// SdsAlloc exposes sdsAlloc to registered MEMORY USAGE models.
func SdsAlloc(n int) int { return sdsAlloc(n) }

// jeClass rounds an allocation up to jemalloc's size class as Redis's packaged
// build has them: 8, then multiples of 16 up to 128, then four classes per doubling.
func jeClass(n int) int {
	switch {
	case n <= 8:
		return 8
	case n <= 128:
		return (n + 15) &^ 15
	}
	p := 128
	for p*2 < n {
		p *= 2
	}
	step := p / 4
	return (n + step - 1) / step * step
}

// JeClass exposes jeClass to registered MEMORY USAGE models.
func JeClass(n int) int { return jeClass(n) }

// DictOverhead is what MEMORY STATS counts as a database's hash table overhead
// (overhead.hashtable.main / .expires), as Redis computes it: a dictEntry and a robj
// per key (the expires table has no robj of its own) and a pointer per bucket.
func (db *DB) DictOverhead() (main, expires int64) {
	m1, m2 := db.keys.Buckets()
	e1, e2 := db.expires.Buckets()
	n, x := db.keys.Len(), db.expires.Len()
	main = int64(n*(redisDictEntry+redisRobj) + 8*(m1+m2))
	expires = int64(x*redisDictEntry + 8*(e1+e2))
	return main, expires
}
