package dict

// Walker visits the entries of a Dict in slices, across calls between which the
// Dict may change, with Scan's guarantee: an entry present from the first call to
// Next until the walk ends is passed at least once; entries added or removed
// meanwhile may or may not be. fn must not modify the Dict.
//
// It goes through the buckets in index order, reading the bucket array
// sequentially, which the processor prefetches. Scan's reverse-binary order, the
// price of surviving resizes, jumps across the whole array instead and misses the
// cache on nearly every bucket of a large table. Bucket order only means something
// while the table keeps its size, so the first time Next finds the table resized
// or rehashing since the walk began, the walk starts over in Scan's order and
// stays in it; entries passed before the restart are passed again (a caller that
// must see each entry once marks them, as engine snapshots stamp values).
type Walker[V any] struct {
	d       *Dict[V]
	cursor  uint64
	resizes uint64
	started bool
	scan    bool
	done    bool
	touch   int // keeps Next's loads from being optimized away
}

// walkAhead is how many buckets Next loads the first entries of before passing
// them to fn.
const walkAhead = 64

// Walk returns a Walker over d, positioned before its first entry.
func (d *Dict[V]) Walk() *Walker[V] { return &Walker[V]{d: d} }

// Scanning reports whether the walk has fallen back to Scan's order because the
// table was resized or rehashing (for tests and statistics).
func (w *Walker[V]) Scanning() bool { return w.scan }

// Next passes the entries of whole buckets to fn until at least n have been
// passed or the walk is over, and returns how many it passed and whether the
// walk is over.
func (w *Walker[V]) Next(n int, fn func(key string, v *V)) (visited int, done bool) {
	if w.done {
		return 0, true
	}
	d := w.d
	switch {
	case !w.started:
		w.started = true
		w.resizes = d.resizes
		w.scan = d.tables[1] != nil
	case !w.scan && (d.tables[1] != nil || d.resizes != w.resizes):
		w.scan, w.cursor = true, 0
	}
	if w.scan {
		for visited < n {
			var k int
			w.cursor, k = d.scan(w.cursor, fn)
			visited += k
			if w.cursor == 0 {
				w.done = true
				break
			}
		}
		return visited, w.done
	}
	table := d.tables[0]
	i := w.cursor
	for visited < n && i < uint64(len(table)) {
		// Each bucket's first entry is its own allocation, a cache miss in a
		// large table. Loading a run of them in a tight loop first lets the
		// processor have those misses in flight together; fn, an indirect call
		// per entry, would otherwise take them one after the other.
		end := min(i+walkAhead, uint64(len(table)))
		t := w.touch
		for _, e := range table[i:end] {
			if e != nil {
				t += len(e.key)
			}
		}
		w.touch = t
		for ; i < end && visited < n; i++ {
			for e := table[i]; e != nil; e = e.next {
				fn(e.key, &e.val)
				visited++
			}
		}
	}
	w.cursor = i
	w.done = i >= uint64(len(table))
	return visited, w.done
}
