package dict

import "math/bits"

// Range calls fn for every entry, in no particular order, until fn returns
// false. fn must not modify d; it may update *v.
func (d *Dict[V]) Range(fn func(key string, v *V) bool) {
	for _, table := range d.tables {
		for _, e := range table {
			for ; e != nil; e = e.next {
				if !fn(e.key, &e.val) {
					return
				}
			}
		}
	}
}

// Scan calls fn for the entries of the buckets at cursor and returns the
// cursor to pass next; a scan starts and ends at 0. With Redis's dictScan it
// guarantees that an entry present from the first call to the last is passed
// to fn at least once, however the table is resized between calls. An entry
// may be passed more than once (after a shrink), and entries added or
// removed during the scan may or may not be seen. fn must not modify d.
//
// The cursor counts buckets in reverse-binary order: it increments the high
// bits of the bucket index first. Growing the table from 2^n to 2^(n+1)
// buckets splits bucket b into b and b+2^n, both of which share b's low n
// bits and so come after b's already-visited predecessors in that order;
// shrinking merges them back. Either way no unvisited bucket is skipped.
func (d *Dict[V]) Scan(cursor uint64, fn func(key string, v *V)) (next uint64) {
	next, _ = d.scan(cursor, fn)
	return next
}

// scan is Scan that also counts the entries passed to fn.
func (d *Dict[V]) scan(cursor uint64, fn func(key string, v *V)) (next uint64, visited int) {
	if d.Len() == 0 {
		return 0, 0
	}
	if d.tables[1] == nil {
		table := d.tables[0]
		mask := uint64(len(table) - 1)
		return nextCursor(cursor, mask), scanBucket(table[cursor&mask], fn)
	}
	// While rehashing, visit the bucket of the smaller table and then every
	// bucket of the larger table that it expands to, so the cursor stays
	// valid whichever table the entries are in.
	small, large := d.tables[0], d.tables[1]
	if len(small) > len(large) {
		small, large = large, small
	}
	smallMask, largeMask := uint64(len(small)-1), uint64(len(large)-1)
	visited = scanBucket(small[cursor&smallMask], fn)
	for {
		visited += scanBucket(large[cursor&largeMask], fn)
		cursor = nextCursor(cursor, largeMask)
		// Stop once the bits that only the larger table has wrap around.
		if cursor&(smallMask^largeMask) == 0 {
			return cursor, visited
		}
	}
}

func scanBucket[V any](e *entry[V], fn func(string, *V)) (n int) {
	for ; e != nil; e = e.next {
		fn(e.key, &e.val)
		n++
	}
	return n
}

// nextCursor increments the masked bits of cursor in reverse-binary order.
// Setting the unmasked bits first makes the carry pass over them.
func nextCursor(cursor, mask uint64) uint64 {
	cursor |= ^mask
	return bits.Reverse64(bits.Reverse64(cursor) + 1)
}
