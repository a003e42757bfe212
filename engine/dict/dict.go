// Package dict owns the hash table that kv's keyspace and its large hashes and
// sets are built on: a chained hash table with string keys, modelled on
// Redis's dict.c.
//
// A Go map cannot do three things Redis clients rely on, and this table can:
//
//   - SCAN's guarantee: an element present for the whole of a scan is
//     returned at least once, even if the table grows or shrinks between
//     calls. The cursor is a bucket index incremented in reverse-binary order,
//     as in Redis, so it stays meaningful across power-of-two resizes.
//   - Random entries and sampling (RANDOMKEY, SPOP, SRANDMEMBER, eviction)
//     without walking the table.
//   - Incremental rehashing: a resize moves a few buckets per mutating call
//     (and more through RehashFor in the background), so no single command
//     stalls on a million-key resize.
//
// The table grows when it holds as many entries as buckets (load factor 1)
// and shrinks when fewer than 10% of its buckets would be used, never below
// 4 buckets. Each Dict hashes with its own maphash seed, so one client's
// choice of keys cannot degrade every table in the process.
//
// Concurrency: a Dict is not safe for concurrent use; callers hold the engine
// lock. The read-only methods (Len, Get, GetString, Ref, Range, Scan,
// RandomEntry, Sample, Buckets, IsRehashing) never change the table's layout,
// unlike Redis, whose lookups also rehash, so a caller may let several
// readers share a read lock. Every other method needs exclusive access.
// Callbacks passed to Range, Scan and Sample must not modify the Dict.
package dict

import (
	"hash/maphash"
	"math/bits"
	"time"
)

const (
	// minSize is the smallest non-empty table, as DICT_HT_INITIAL_SIZE.
	minSize = 4
	// shrinkFillPercent is the fill below which a table is shrunk. The gap to
	// the growth threshold (100%) keeps a table from resizing back and forth.
	shrinkFillPercent = 10
	// emptyVisitsPerBucket bounds the work of one rehash step when the old
	// table is sparse, as dict.c's empty_visits does.
	emptyVisitsPerBucket = 10
)

type entry[V any] struct {
	next *entry[V]
	key  string
	val  V
}

// Dict maps string keys to values of type V. The zero value is an empty
// Dict ready to use, but New gives each Dict its seed up front.
type Dict[V any] struct {
	seed maphash.Seed
	// tables[1] is non-nil only while rehashing from tables[0] into it.
	tables [2][]*entry[V]
	used   [2]int
	// rehashIdx is the next bucket of tables[0] to move while rehashing; all
	// buckets below it are empty, which Scan and Sample rely on.
	rehashIdx int
	// resizes counts the resizes started and the clears, so a Walker can tell
	// that bucket indexes no longer mean what they meant when it started.
	resizes uint64
	// warmed keeps what Warm read, so its loads are not optimised away.
	warmed uintptr
}

// New returns an empty Dict with its own hash seed.
func New[V any]() *Dict[V] {
	return &Dict[V]{seed: maphash.MakeSeed()}
}

// Len returns the number of entries.
func (d *Dict[V]) Len() int { return d.used[0] + d.used[1] }

// IsRehashing reports whether an incremental resize is in progress.
func (d *Dict[V]) IsRehashing() bool { return d.tables[1] != nil }

// Buckets returns the sizes of the current table and, while rehashing, of the
// table being filled (0 otherwise), for DEBUG HTSTATS-style reporting.
func (d *Dict[V]) Buckets() (main, rehashTarget int) {
	return len(d.tables[0]), len(d.tables[1])
}

// key is what lookups accept, so Get and GetString share one implementation
// without converting (and allocating) a []byte key to a string.
type key interface{ ~string | ~[]byte }

func hashOf[K key](seed maphash.Seed, k K) uint64 {
	// The switch is resolved per instantiation; both arms are allocation-free.
	switch k := any(k).(type) {
	case string:
		return maphash.String(seed, k)
	case []byte:
		return maphash.Bytes(seed, k)
	}
	return maphash.String(seed, string(k))
}

// lookup returns the entry for k, or nil.
func lookup[V any, K key](d *Dict[V], k K) *entry[V] {
	if d.Len() == 0 {
		return nil
	}
	return lookupHash(d, hashOf(d.seed, k), k)
}

func lookupHash[V any, K key](d *Dict[V], h uint64, k K) *entry[V] {
	for t := 0; t < 2; t++ {
		table := d.tables[t]
		if table == nil {
			break
		}
		for e := table[h&uint64(len(table)-1)]; e != nil; e = e.next {
			if e.key == string(k) {
				return e
			}
		}
	}
	return nil
}

// Get returns the value stored under key. It does not allocate.
func (d *Dict[V]) Get(key []byte) (V, bool) {
	if e := lookup(d, key); e != nil {
		return e.val, true
	}
	var zero V
	return zero, false
}

// GetString is Get for a string key.
func (d *Dict[V]) GetString(key string) (V, bool) {
	if e := lookup(d, key); e != nil {
		return e.val, true
	}
	var zero V
	return zero, false
}

// Ref returns a pointer to the value stored under key, or nil if key is
// absent, so a caller can update a value in place without a second lookup.
// The pointer is valid until the next mutation of d.
func (d *Dict[V]) Ref(key []byte) *V {
	if e := lookup(d, key); e != nil {
		return &e.val
	}
	return nil
}

// Set stores v under key and reports whether key was new. The key is copied
// only when it is inserted, so callers may reuse their buffer.
func (d *Dict[V]) Set(key []byte, v V) (added bool) {
	return set(d, key, v)
}

// SetString is Set for a string key; the string is stored as is.
func (d *Dict[V]) SetString(key string, v V) (added bool) {
	return set(d, key, v)
}

func set[V any, K key](d *Dict[V], k K, v V) bool {
	d.rehashStep()
	if d.tables[0] == nil {
		d.growIfNeeded()
	}
	h := hashOf(d.seed, k)
	if e := lookupHash(d, h, k); e != nil {
		e.val = v
		return false
	}
	d.growIfNeeded()
	// Growth may have started a rehash: new entries then go to the new table
	// so the old one only ever empties.
	t := 0
	if d.tables[1] != nil {
		t = 1
	}
	table := d.tables[t]
	i := h & uint64(len(table)-1)
	table[i] = &entry[V]{next: table[i], key: string(k), val: v}
	d.used[t]++
	return true
}

// Delete removes key and returns the value it held.
func (d *Dict[V]) Delete(key []byte) (V, bool) {
	return del(d, key)
}

// DeleteString is Delete for a string key.
func (d *Dict[V]) DeleteString(key string) (V, bool) {
	return del(d, key)
}

func del[V any, K key](d *Dict[V], k K) (V, bool) {
	var zero V
	if d.Len() == 0 {
		return zero, false
	}
	d.rehashStep()
	h := hashOf(d.seed, k)
	for t := 0; t < 2; t++ {
		table := d.tables[t]
		if table == nil {
			break
		}
		link := &table[h&uint64(len(table)-1)]
		for e := *link; e != nil; link, e = &e.next, e.next {
			if e.key != string(k) {
				continue
			}
			*link = e.next
			d.used[t]--
			v := e.val
			// Clear the dead entry so a stale Ref or a lingering pointer
			// does not keep the value reachable.
			*e = entry[V]{}
			d.shrinkIfNeeded()
			return v, true
		}
	}
	return zero, false
}

// Clear removes every entry and releases the tables.
func (d *Dict[V]) Clear() {
	d.resizes++
	d.tables = [2][]*entry[V]{}
	d.used = [2]int{}
	d.rehashIdx = 0
}

// Reserve sizes the table for n entries ahead of a bulk load (RDB load,
// replication), so the load does not resize repeatedly. It does nothing while
// rehashing or if the table is already big enough.
func (d *Dict[V]) Reserve(n int) {
	if d.tables[1] != nil || n <= len(d.tables[0]) {
		return
	}
	d.resize(n)
}

func (d *Dict[V]) growIfNeeded() {
	if d.tables[1] != nil {
		// As in dict.c, a table is not resized while a resize is running;
		// chains grow a little until the rehash finishes.
		return
	}
	if len(d.tables[0]) == 0 {
		d.resize(minSize)
		return
	}
	if d.used[0] >= len(d.tables[0]) {
		d.resize(d.used[0] + 1)
	}
}

func (d *Dict[V]) shrinkIfNeeded() {
	size := len(d.tables[0])
	if d.tables[1] != nil || size <= minSize {
		return
	}
	if d.used[0]*100 < size*shrinkFillPercent {
		d.resize(max(d.used[0], minSize))
	}
}

// resize starts moving the entries into a table of at least n buckets.
func (d *Dict[V]) resize(n int) {
	size := tableSize(n)
	if size == len(d.tables[0]) {
		return
	}
	if d.seed == (maphash.Seed{}) {
		d.seed = maphash.MakeSeed()
	}
	d.resizes++
	table := make([]*entry[V], size)
	if d.used[0] == 0 {
		// Nothing to move: switch at once instead of walking empty buckets.
		d.tables[0] = table
		return
	}
	d.tables[1] = table
	d.rehashIdx = 0
}

// tableSize returns the smallest power of two that is at least n and minSize.
func tableSize(n int) int {
	if n <= minSize {
		return minSize
	}
	if n > 1<<62 {
		return 1 << 62
	}
	return 1 << bits.Len(uint(n-1))
}

func (d *Dict[V]) rehashStep() {
	if d.tables[1] != nil {
		d.Rehash(1)
	}
}

// Rehash moves up to n buckets of an ongoing resize, visiting at most 10*n
// empty buckets, and reports whether more remain to move.
func (d *Dict[V]) Rehash(n int) (more bool) {
	if d.tables[1] == nil {
		return false
	}
	old, next := d.tables[0], d.tables[1]
	mask := uint64(len(next) - 1)
	emptyVisits := n * emptyVisitsPerBucket
	for ; n > 0 && d.used[0] > 0; n-- {
		// used[0] > 0 guarantees a non-empty bucket at or after rehashIdx.
		for old[d.rehashIdx] == nil {
			d.rehashIdx++
			emptyVisits--
			if emptyVisits <= 0 {
				return true
			}
		}
		e := old[d.rehashIdx]
		old[d.rehashIdx] = nil
		for e != nil {
			following := e.next
			i := maphash.String(d.seed, e.key) & mask
			e.next = next[i]
			next[i] = e
			d.used[0]--
			d.used[1]++
			e = following
		}
		d.rehashIdx++
	}
	if d.used[0] > 0 {
		return true
	}
	d.tables = [2][]*entry[V]{next, nil}
	d.used = [2]int{d.used[1], 0}
	d.rehashIdx = 0
	// Deletes during the rehash may have left the new table sparse too; no
	// cron pass (Redis's tryResizeHashTables) will notice, so check here.
	d.shrinkIfNeeded()
	return d.tables[1] != nil
}

// RehashFor moves buckets of an ongoing resize for about budget, in batches
// of 100 as dictRehashMilliseconds does, and reports whether more remain.
// The engine calls it from its background tick, like Redis's activerehashing.
func (d *Dict[V]) RehashFor(budget time.Duration) (more bool) {
	start := time.Now()
	for d.Rehash(100) {
		if time.Since(start) >= budget {
			return true
		}
	}
	return false
}
