package dict

import (
	"strconv"
	"testing"
)

const benchKeys = 1 << 20

// benchKeyBytes is built on first use so tests and fuzzing do not pay for it.
var benchKeyBytes [][]byte

func makeBenchKeys() {
	if benchKeyBytes != nil {
		return
	}
	benchKeyBytes = make([][]byte, benchKeys)
	for i := range benchKeyBytes {
		benchKeyBytes[i] = []byte("key:" + strconv.Itoa(i))
	}
}

func filledDict() *Dict[int] {
	d := New[int]()
	for i, k := range benchKeyBytes {
		d.Set(k, i)
	}
	for d.Rehash(1000) {
	}
	return d
}

func filledMap() map[string]int {
	m := map[string]int{}
	for i, k := range benchKeyBytes {
		m[string(k)] = i
	}
	return m
}

func BenchmarkGet(b *testing.B) {
	makeBenchKeys()
	b.Run("dict", func(b *testing.B) {
		d := filledDict()
		i := 0
		for b.Loop() {
			d.Get(benchKeyBytes[i&(benchKeys-1)])
			i += 7919 // a prime stride defeats the cache a sequential walk would enjoy
		}
	})
	b.Run("map", func(b *testing.B) {
		m := filledMap()
		i := 0
		for b.Loop() {
			_ = m[string(benchKeyBytes[i&(benchKeys-1)])]
			i += 7919
		}
	})
}

// BenchmarkSet inserts 1M fresh keys per round, so the cost of growing the
// table (and of copying each key) is part of the figure.
func BenchmarkSet(b *testing.B) {
	makeBenchKeys()
	b.Run("dict", func(b *testing.B) {
		d := New[int]()
		i := 0
		for b.Loop() {
			if i == benchKeys {
				b.StopTimer()
				d, i = New[int](), 0
				b.StartTimer()
			}
			d.Set(benchKeyBytes[i], i)
			i++
		}
	})
	b.Run("map", func(b *testing.B) {
		m := map[string]int{}
		i := 0
		for b.Loop() {
			if i == benchKeys {
				b.StopTimer()
				m, i = map[string]int{}, 0
				b.StartTimer()
			}
			m[string(benchKeyBytes[i])] = i
			i++
		}
	})
}

// BenchmarkOverwrite updates existing keys in a 1M-key table.
func BenchmarkOverwrite(b *testing.B) {
	makeBenchKeys()
	b.Run("dict", func(b *testing.B) {
		d := filledDict()
		i := 0
		for b.Loop() {
			d.Set(benchKeyBytes[i&(benchKeys-1)], i)
			i += 7919
		}
	})
	b.Run("map", func(b *testing.B) {
		m := filledMap()
		i := 0
		for b.Loop() {
			m[string(benchKeyBytes[i&(benchKeys-1)])] = i
			i += 7919
		}
	})
}

// BenchmarkDelete empties a 1M-key table per round, so shrinking is included.
func BenchmarkDelete(b *testing.B) {
	makeBenchKeys()
	b.Run("dict", func(b *testing.B) {
		d := filledDict()
		i := 0
		for b.Loop() {
			if i == benchKeys {
				b.StopTimer()
				d, i = filledDict(), 0
				b.StartTimer()
			}
			d.Delete(benchKeyBytes[i])
			i++
		}
	})
	b.Run("map", func(b *testing.B) {
		m := filledMap()
		i := 0
		for b.Loop() {
			if i == benchKeys {
				b.StopTimer()
				m, i = filledMap(), 0
				b.StartTimer()
			}
			delete(m, string(benchKeyBytes[i]))
			i++
		}
	})
}

// walkValue is about the size of an engine Object, so entries spread over memory as
// the keyspace's do.
type walkValue struct {
	a   [7]int64
	gen uint16
}

// BenchmarkWalkOrder is a snapshot's walk over a 1M-entry table in slices of 128,
// stamping each value: bucket order (Walker) against Scan's reverse-binary order.
func BenchmarkWalkOrder(b *testing.B) {
	makeBenchKeys()
	d := New[walkValue]()
	for _, k := range benchKeyBytes {
		d.Set(k, walkValue{})
	}
	for d.Rehash(1000) {
	}
	gen := uint16(0)
	stamp := func(_ string, v *walkValue) { v.gen = gen }
	b.Run("walker", func(b *testing.B) {
		for b.Loop() {
			gen++
			w := d.Walk()
			for {
				if _, done := w.Next(128, stamp); done {
					break
				}
			}
		}
	})
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			gen++
			cursor := uint64(0)
			for {
				for n := 0; n < 128; {
					var k int
					cursor, k = d.scan(cursor, stamp)
					n += k
					if cursor == 0 {
						break
					}
				}
				if cursor == 0 {
					break
				}
			}
		}
	})
}
