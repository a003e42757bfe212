package dict

import "math/rand/v2"

// fairSample is how many entries RandomEntry draws from, as dict.c's
// GETFAIR_NUM_ENTRIES.
const fairSample = 20

// RandomEntry returns a random entry, or ok=false if d is empty. Like
// dictGetFairRandomKey it picks uniformly among a sample of entries gathered
// from consecutive buckets, which is far fairer than picking a random bucket
// first (that favours entries in short chains) and still costs O(1) expected.
// A nil r uses the global source of math/rand/v2.
func (d *Dict[V]) RandomEntry(r *rand.Rand) (key string, v *V, ok bool) {
	if d.Len() == 0 {
		return "", nil, false
	}
	var buf [fairSample]*entry[V]
	got := d.sample(r, buf[:])
	if len(got) == 0 {
		// Sampling gives up after a bounded number of empty buckets; fall
		// back to a draw that always succeeds.
		e := d.randomBucketEntry(r)
		return e.key, &e.val, true
	}
	e := got[intN(r, len(got))]
	return e.key, &e.val, true
}

// Sample calls fn for up to n distinct entries taken from a random region of
// the table, like dictGetSomeKeys: fast rather than uniform, and possibly
// fewer than n even when d holds more. Eviction and SPOP with a count use it.
// fn must not modify d. A nil r uses the global source of math/rand/v2.
func (d *Dict[V]) Sample(r *rand.Rand, n int, fn func(key string, v *V)) {
	n = min(n, d.Len())
	if n <= 0 {
		return
	}
	// A small sample, the common case (eviction samples 5), stays on the stack.
	var small [32]*entry[V]
	var buf []*entry[V]
	if n <= len(small) {
		buf = small[:n]
	} else {
		buf = make([]*entry[V], n)
	}
	for _, e := range d.sample(r, buf) {
		fn(e.key, &e.val)
	}
}

// sample fills a prefix of buf with distinct entries, walking buckets from a
// random start, and returns that prefix.
func (d *Dict[V]) sample(r *rand.Rand, buf []*entry[V]) []*entry[V] {
	want := len(buf)
	tables := 1
	if d.tables[1] != nil {
		tables = 2
	}
	mask := uint64(len(d.tables[0]) - 1)
	if tables == 2 {
		mask = max(mask, uint64(len(d.tables[1])-1))
	}
	size := mask + 1
	i := u64(r) & mask
	// walked counts buckets passed since the start; the walk never wraps past
	// its start, so no entry is collected twice. dict.c jumps to a fresh
	// random bucket instead and may return duplicates.
	walked := uint64(0)
	stored := 0   // entries seen, including those the reservoir dropped
	emptyRun := 0 // consecutive empty buckets
	// A caller asking for every entry gets every entry: walk the whole table, with no
	// leaps over sparse regions, which could jump past the few live ones.
	all := want >= d.Len()
	steps := want * 10
	if all {
		steps = int(size)
	}
	for ; steps > 0 && stored < want && walked < size; steps-- {
		for t := 0; t < tables; t++ {
			table := d.tables[t]
			if tables == 2 && t == 0 && i < uint64(d.rehashIdx) {
				// Buckets of the old table below rehashIdx are empty. If i is
				// beyond the new (smaller) table as well, nothing lives here
				// in either table, so jump ahead.
				if i < uint64(len(d.tables[1])) {
					continue
				}
				walked += uint64(d.rehashIdx) - i
				if walked >= size {
					return buf[:min(stored, want)]
				}
				i = uint64(d.rehashIdx)
			}
			if i >= uint64(len(table)) {
				continue
			}
			e := table[i]
			if e == nil {
				emptyRun++
				if rest := size - 1 - walked; !all && emptyRun >= 5 && emptyRun > want && rest > 0 {
					// Leave a sparse region by a random leap forward.
					skip := 1 + u64n(r, rest)
					i = (i + skip) & mask
					walked += skip
					emptyRun = 0
				}
				continue
			}
			emptyRun = 0
			// Take the whole chain, reservoir-sampling once buf is full, so
			// the end of a long chain can be picked too.
			for ; e != nil; e = e.next {
				if stored < want {
					buf[stored] = e
				} else if j := intN(r, stored+1); j < want {
					buf[j] = e
				}
				stored++
			}
			if stored >= want {
				return buf
			}
		}
		i = (i + 1) & mask
		walked++
	}
	return buf[:min(stored, want)]
}

// randomBucketEntry picks a random non-empty bucket, then a random entry of
// its chain, as dictGetRandomKey. d must not be empty.
func (d *Dict[V]) randomBucketEntry(r *rand.Rand) *entry[V] {
	var e *entry[V]
	if d.tables[1] == nil {
		table := d.tables[0]
		mask := uint64(len(table) - 1)
		for e == nil {
			e = table[u64(r)&mask]
		}
	} else {
		// Buckets of the old table below rehashIdx are empty; skip them.
		old, next := d.tables[0], d.tables[1]
		span := len(old) + len(next) - d.rehashIdx
		for e == nil {
			h := d.rehashIdx + intN(r, span)
			if h >= len(old) {
				e = next[h-len(old)]
			} else {
				e = old[h]
			}
		}
	}
	n := 0
	for c := e; c != nil; c = c.next {
		n++
	}
	for k := intN(r, n); k > 0; k-- {
		e = e.next
	}
	return e
}

func u64(r *rand.Rand) uint64 {
	if r == nil {
		return rand.Uint64()
	}
	return r.Uint64()
}

func intN(r *rand.Rand, n int) int {
	if r == nil {
		return rand.IntN(n)
	}
	return r.IntN(n)
}

func u64n(r *rand.Rand, n uint64) uint64 {
	if r == nil {
		return rand.Uint64N(n)
	}
	return r.Uint64N(n)
}
