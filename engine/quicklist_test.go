package engine

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// qlModel is the reference a quicklist is checked against: a plain slice.
type qlModel [][]byte

func (m qlModel) norm(i int) (int, bool) {
	if i < 0 {
		i += len(m)
	}
	return i, i >= 0 && i < len(m)
}

func assertSame(t testing.TB, q *Quicklist, m qlModel, step string) {
	t.Helper()
	if msg := q.check(); msg != "" {
		t.Fatalf("%s: invariant broken: %s", step, msg)
	}
	got := q.All()
	if len(got) != len(m) || q.Len() != len(m) {
		t.Fatalf("%s: len %d/%d, model %d", step, len(got), q.Len(), len(m))
	}
	for i := range m {
		if !bytes.Equal(got[i], m[i]) {
			t.Fatalf("%s: entry %d = %q, model %q", step, i, got[i], m[i])
		}
	}
	// Backward iteration must see the same entries.
	it := q.Iter(-1, false)
	for i := len(m) - 1; i >= 0; i-- {
		v, ok := it.Next()
		if !ok || !bytes.Equal(v, m[i]) {
			t.Fatalf("%s: backward entry %d = %q,%v, model %q", step, i, v, ok, m[i])
		}
	}
	if _, ok := it.Next(); ok {
		t.Fatalf("%s: backward iteration runs past the head", step)
	}
}

func TestQuicklistBasics(t *testing.T) {
	for _, fill := range []int{-2, -1, 1, 3, 128} {
		t.Run(fmt.Sprint(fill), func(t *testing.T) {
			q := NewQuicklist(fill)
			var m qlModel
			for i := 0; i < 500; i++ {
				v := []byte(fmt.Sprintf("v%d-%s", i, strings.Repeat("x", i%50)))
				if i%2 == 0 {
					q.PushHead(v)
					m = append(qlModel{v}, m...)
				} else {
					q.PushTail(v)
					m = append(m, v)
				}
			}
			assertSame(t, q, m, "push")
			for _, i := range []int{0, 1, 250, 499, -1, -250, -500} {
				want, _ := m.norm(i)
				v, ok := q.Index(i)
				if !ok || !bytes.Equal(v, m[want]) {
					t.Fatalf("Index(%d) = %q, want %q", i, v, m[want])
				}
			}
			for _, i := range []int{500, -501} {
				if _, ok := q.Index(i); ok {
					t.Fatalf("Index(%d) in range", i)
				}
			}
			if !q.Replace(250, []byte(strings.Repeat("big", 3000))) {
				t.Fatal("Replace failed")
			}
			m[250] = []byte(strings.Repeat("big", 3000))
			assertSame(t, q, m, "replace")
			q.DelRange(10, 100)
			m = append(m[:10:10], m[110:]...)
			assertSame(t, q, m, "delrange")
			for q.Len() > 0 {
				h, _ := q.PopHead()
				if !bytes.Equal(h, m[0]) {
					t.Fatalf("PopHead = %q, want %q", h, m[0])
				}
				m = m[1:]
				if q.Len() > 0 {
					tl, _ := q.PopTail()
					if !bytes.Equal(tl, m[len(m)-1]) {
						t.Fatalf("PopTail = %q, want %q", tl, m[len(m)-1])
					}
					m = m[:len(m)-1]
				}
			}
			assertSame(t, q, m, "drained")
			if q.Nodes() != 0 {
				t.Fatalf("%d nodes left in an empty list", q.Nodes())
			}
		})
	}
}

func TestQuicklistNodeBounds(t *testing.T) {
	q := NewQuicklist(5)
	for i := 0; i < 23; i++ {
		q.PushTail([]byte("a"))
	}
	if q.Nodes() != 5 {
		t.Fatalf("fill 5, 23 entries: %d nodes, want 5", q.Nodes())
	}
	q = NewQuicklist(-1)
	for i := 0; i < 1000; i++ {
		q.PushHead(bytes.Repeat([]byte("z"), 100))
	}
	for n := q.head; n != nil; n = n.next {
		if n.size() > 4096 {
			t.Fatalf("node of %d bytes over the 4 KB class", n.size())
		}
	}
	// A value bigger than any node class lives alone in its node.
	q.PushTail(bytes.Repeat([]byte("h"), 100000))
	if q.tail.count != 1 {
		t.Fatal("huge value shares a node")
	}
}

func TestEntryEncodingLengths(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 127, 128, 16380, 16383, 16384, 70000} {
		v := bytes.Repeat([]byte{'q'}, n)
		buf := make([]byte, entrySize(v))
		putEntry(buf, v)
		got, next := entryAt(buf, 0)
		if !bytes.Equal(got, v) || next != len(buf) {
			t.Fatalf("len %d: forward decode wrong", n)
		}
		got, start := entryBefore(buf, len(buf))
		if !bytes.Equal(got, v) || start != 0 {
			t.Fatalf("len %d: backward decode wrong", n)
		}
	}
}

// FuzzQuicklist drives a quicklist and a slice with the same operations and compares
// them after each one, for several fills, including the tiny ones that force splits
// and merges at every step.
func FuzzQuicklist(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, int8(2))
	f.Add([]byte("\x00a\x00b\x01c\x05\x01\x06\x02\x07\x03"), int8(-1))
	f.Add(bytes.Repeat([]byte{1, 200, 8, 3, 9, 0}, 40), int8(1))
	f.Fuzz(func(t *testing.T, ops []byte, fill int8) {
		fl := int(fill)
		if fl == 0 {
			fl = 1
		}
		if fl > 8 {
			fl = fl%8 + 1
		}
		q := NewQuicklist(fl)
		var m qlModel
		next := func() int {
			if len(ops) == 0 {
				return 0
			}
			b := ops[0]
			ops = ops[1:]
			return int(b)
		}
		val := func() []byte {
			n := next()
			size := n % 7
			if n > 250 {
				size = 5000 // bigger than the 4 KB class: a node of its own
			}
			return bytes.Repeat([]byte{byte('a' + n%5)}, size)
		}
		idx := func() int { return next()%(len(m)*2+3) - len(m) - 1 }
		for step := 0; len(ops) > 0; step++ {
			op := next() % 10
			name := fmt.Sprintf("step %d op %d", step, op)
			switch op {
			case 0:
				v := val()
				q.PushHead(v)
				m = append(qlModel{v}, m...)
			case 1:
				v := val()
				q.PushTail(v)
				m = append(m, v)
			case 2:
				v, ok := q.PopHead()
				if ok != (len(m) > 0) || ok && !bytes.Equal(v, m[0]) {
					t.Fatalf("%s: PopHead %q %v", name, v, ok)
				}
				if ok {
					m = m[1:]
				}
			case 3:
				v, ok := q.PopTail()
				if ok != (len(m) > 0) || ok && !bytes.Equal(v, m[len(m)-1]) {
					t.Fatalf("%s: PopTail %q %v", name, v, ok)
				}
				if ok {
					m = m[:len(m)-1]
				}
			case 4:
				i := idx()
				v, ok := q.Index(i)
				j, mok := m.norm(i)
				if ok != mok || ok && !bytes.Equal(v, m[j]) {
					t.Fatalf("%s: Index(%d) %q %v", name, i, v, ok)
				}
			case 5:
				i, v := idx(), val()
				ok := q.Replace(i, v)
				j, mok := m.norm(i)
				if ok != mok {
					t.Fatalf("%s: Replace(%d) %v", name, i, ok)
				}
				if ok {
					m[j] = v
				}
			case 6:
				start, count := idx(), next()%5
				q.DelRange(start, count)
				s := start
				if s < 0 {
					s = max(s+len(m), 0)
				}
				if s < len(m) {
					e := min(s+count, len(m))
					m = append(m[:s:s], m[e:]...)
				}
			case 7: // LREM-like: delete matches, either direction, limited
				target, limit, fwd := val(), next()%3, next()%2 == 0
				start := 0
				if !fwd {
					start = -1
				}
				it := q.Iter(start, fwd)
				removed := 0
				for {
					v, ok := it.Next()
					if !ok {
						break
					}
					if bytes.Equal(v, target) {
						it.Delete()
						removed++
						if limit > 0 && removed == limit {
							break
						}
					}
				}
				var nm qlModel
				removed = 0
				if fwd {
					for _, v := range m {
						if bytes.Equal(v, target) && (limit == 0 || removed < limit) {
							removed++
							continue
						}
						nm = append(nm, v)
					}
				} else {
					for i := len(m) - 1; i >= 0; i-- {
						if bytes.Equal(m[i], target) && (limit == 0 || removed < limit) {
							removed++
							continue
						}
						nm = append(qlModel{m[i]}, nm...)
					}
				}
				m = nm
			case 8: // LINSERT-like at the first match of a pivot
				pivot, v, after := val(), val(), next()%2 == 0
				it := q.Iter(0, true)
				for {
					e, ok := it.Next()
					if !ok {
						break
					}
					if bytes.Equal(e, pivot) {
						it.Insert(v, after)
						break
					}
				}
				for i := range m {
					if bytes.Equal(m[i], pivot) {
						at := i
						if after {
							at++
						}
						m = append(m[:at:at], append(qlModel{v}, m[at:]...)...)
						break
					}
				}
			case 9: // ranged read from an index in either direction
				i, n, fwd := idx(), next()%6, next()%2 == 0
				j, ok := m.norm(i)
				if !ok {
					continue
				}
				var got qlModel
				q.Range(j, n, fwd, func(v []byte) bool {
					got = append(got, append([]byte(nil), v...))
					return true
				})
				var want qlModel
				for k := j; k >= 0 && k < len(m) && len(want) < n; {
					want = append(want, m[k])
					if fwd {
						k++
					} else {
						k--
					}
				}
				if len(got) != len(want) {
					t.Fatalf("%s: Range len %d want %d", name, len(got), len(want))
				}
				for k := range want {
					if !bytes.Equal(got[k], want[k]) {
						t.Fatalf("%s: Range[%d] %q want %q", name, k, got[k], want[k])
					}
				}
			}
			assertSame(t, q, m, name)
		}
	})
}

func TestDupList(t *testing.T) {
	s := DefaultSettings()
	o := NewListFrom(&s, [][]byte{[]byte("a"), []byte("b"), []byte("c")})
	cp := DupList(&o)
	listOf(&o).PushTail([]byte("d"))
	var m qlModel
	for _, v := range []string{"a", "b", "c"} {
		m = append(m, []byte(v))
	}
	assertSame(t, listOf(&cp), m, "dup")
	if len(ListElements(&o)) != 4 {
		t.Fatal("original changed length")
	}
}

// BenchmarkQuicklistPushPop pushes at the head and pops at the tail, with small and
// large entries (large ones get nodes at their bound at once: see growCap).
func BenchmarkQuicklistPushPop(b *testing.B) {
	for _, size := range []int{64, 1024} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			q := NewQuicklist(-2)
			v := make([]byte, size)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for i := 0; b.Loop(); i++ {
				q.PushHead(v)
				if i%2 == 1 {
					q.PopInto(false, func([]byte) {})
				}
			}
		})
	}
}
