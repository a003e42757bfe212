package dict

// Warm brings into the processor's cache what looking up each of keys will read: its
// bucket, the first entry there and that entry's key bytes. A lookup in a large
// table misses the cache about three times, one miss waiting for the last; warming a
// batch of keys round by round (every bucket, then every first entry, then every key)
// lets the misses of different keys overlap, so a bulk insert such as loading a
// snapshot pays for each round once rather than for each key. It changes nothing.
func (d *Dict[V]) Warm(keys [][]byte) {
	const batch = 32
	for len(keys) > 0 {
		n := min(len(keys), batch)
		d.warm(keys[:n])
		keys = keys[n:]
	}
}

func (d *Dict[V]) warm(keys [][]byte) {
	var heads [32]*entry[V]
	var acc uintptr
	for t := 0; t < 2; t++ {
		table := d.tables[t]
		if len(table) == 0 {
			continue
		}
		mask := uint64(len(table) - 1)
		for i, k := range keys {
			heads[i] = table[hashOf(d.seed, k)&mask]
		}
		for _, e := range heads[:len(keys)] {
			if e != nil {
				acc += uintptr(len(e.key))
			}
		}
		for _, e := range heads[:len(keys)] {
			if e != nil && len(e.key) > 0 {
				acc += uintptr(e.key[0])
			}
		}
	}
	// Stored, so the compiler cannot drop the loads as unused.
	d.warmed = acc
}
