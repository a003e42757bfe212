package engine

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// zmodel is the reference for the skiplist: pairs kept sorted by (score, member).
type zmodel []zpair

func (m zmodel) index(member string) int {
	for i, p := range m {
		if p.member == member {
			return i
		}
	}
	return -1
}

func (m *zmodel) insert(score float64, member string) {
	i, _ := slices.BinarySearchFunc(*m, zpair{member, score}, func(a, b zpair) int {
		switch {
		case zslLess(a.score, a.member, b.score, b.member):
			return -1
		case a.score == b.score && a.member == b.member:
			return 0
		}
		return 1
	})
	*m = slices.Insert(*m, i, zpair{member, score})
}

// checkSkiplist verifies the list against the model and its own invariants: order,
// backward links, tail, and that every span equals the level-0 steps it covers.
func checkSkiplist(t testing.TB, zsl *skiplist, m zmodel) {
	t.Helper()
	if zsl.Len() != len(m) {
		t.Fatalf("length %d, model %d", zsl.Len(), len(m))
	}
	pos := map[*zslNode]int{zsl.header: 0}
	i := 0
	var prev *zslNode
	for n := zsl.First(); n != nil; n = n.Next() {
		if i >= len(m) || n.member != m[i].member || n.score != m[i].score {
			t.Fatalf("position %d: skiplist (%v %q), model %v", i, n.score, n.member, m)
		}
		if n.backward != prev {
			t.Fatalf("position %d: wrong backward link", i)
		}
		i++
		pos[n] = i
		prev = n
	}
	if zsl.tail != prev {
		t.Fatalf("tail is not the last node")
	}
	for x := zsl.header; x != nil; x = x.level[0].forward {
		for l := range x.level {
			if x == zsl.header && l >= zsl.level {
				break
			}
			f := x.level[l].forward
			want := len(m) - pos[x] // a link to the end spans the nodes after x
			if f != nil {
				want = pos[f] - pos[x]
			}
			if x.level[l].span != want {
				t.Fatalf("node at %d level %d: span %d, want %d", pos[x], l, x.level[l].span, want)
			}
		}
	}
}

func TestSkiplistBasics(t *testing.T) {
	zsl := newSkiplist()
	var m zmodel
	for i := 0; i < 500; i++ {
		score := float64(i % 17)
		member := fmt.Sprintf("m%03d", i)
		zsl.Insert(score, member)
		m.insert(score, member)
	}
	checkSkiplist(t, zsl, m)
	for i, p := range m {
		if r := zsl.Rank(p.score, p.member); r != i+1 {
			t.Fatalf("rank of %q = %d, want %d", p.member, r, i+1)
		}
		if n := zsl.ByRank(i + 1); n == nil || n.member != p.member {
			t.Fatalf("ByRank(%d) wrong", i+1)
		}
	}
	if zsl.ByRank(0) != nil || zsl.ByRank(len(m)+1) != nil {
		t.Fatal("ByRank out of range returned a node")
	}
	r := zrangeSpec{min: 3, max: 5, minex: true}
	first, last := zsl.FirstInRange(&r), zsl.LastInRange(&r)
	if first.score != 4 || last.score != 5 || first.member != "m004" || last.member != "m498" {
		t.Fatalf("range (3,5]: first %v %q last %v %q", first.score, first.member, last.score, last.member)
	}
	n := zsl.DeleteRangeByScore(&r, func(*zslNode) {})
	kept := m[:0:0]
	for _, p := range m {
		if !(p.score > 3 && p.score <= 5) {
			kept = append(kept, p)
		}
	}
	if n != len(m)-len(kept) {
		t.Fatalf("deleted %d, want %d", n, len(m)-len(kept))
	}
	checkSkiplist(t, zsl, kept)
}

// FuzzSkiplist drives a skiplist and a sorted slice with the same operations and
// compares them after every step.
func FuzzSkiplist(f *testing.F) {
	f.Add([]byte{0, 1, 2, 0, 3, 4, 1, 1, 2, 5, 6, 7})
	f.Add([]byte("insert and delete a lot of things here and there"))
	f.Fuzz(func(t *testing.T, ops []byte) {
		zsl := newSkiplist()
		var m zmodel
		for len(ops) >= 3 {
			op, a, b := ops[0]%9, ops[1], ops[2]
			ops = ops[3:]
			member := string(rune('a' + a%26))
			score := float64(int(b%8) - 3)
			switch op {
			case 0, 1, 2:
				if m.index(member) < 0 {
					zsl.Insert(score, member)
					m.insert(score, member)
				}
			case 3:
				if i := m.index(member); i >= 0 {
					if !zsl.Delete(m[i].score, member) {
						t.Fatalf("delete %q failed", member)
					}
					m = slices.Delete(m, i, i+1)
				} else if zsl.Delete(score, member) {
					t.Fatalf("deleted absent %q", member)
				}
			case 4:
				if i := m.index(member); i >= 0 {
					old := m[i].score
					n := zsl.UpdateScore(old, member, score)
					if n.member != member || n.score != score {
						t.Fatalf("update returned %q %v", n.member, n.score)
					}
					m = slices.Delete(m, i, i+1)
					m.insert(score, member)
				}
			case 5:
				for i, p := range m {
					if r := zsl.Rank(p.score, p.member); r != i+1 {
						t.Fatalf("rank %q = %d, want %d", p.member, r, i+1)
					}
				}
				if zsl.Rank(score, member+"x") != 0 {
					t.Fatal("rank of absent member")
				}
			case 6:
				r := zrangeSpec{min: score, max: score + float64(a%4), minex: a&16 != 0, maxex: a&32 != 0}
				var want []zpair
				for _, p := range m {
					if r.gteMin(p.score) && r.lteMax(p.score) {
						want = append(want, p)
					}
				}
				first, last := zsl.FirstInRange(&r), zsl.LastInRange(&r)
				if len(want) == 0 {
					if first != nil || last != nil {
						t.Fatalf("range %+v: found nodes in an empty range", r)
					}
				} else if first == nil || last == nil || first.member != want[0].member || last.member != want[len(want)-1].member {
					t.Fatalf("range %+v: wrong ends", r)
				}
				if a&64 != 0 {
					var got []string
					zsl.DeleteRangeByScore(&r, func(n *zslNode) { got = append(got, n.member) })
					m = slices.DeleteFunc(m, func(p zpair) bool { return r.gteMin(p.score) && r.lteMax(p.score) })
					if len(got) != len(want) {
						t.Fatalf("deleted %v, want %v", got, want)
					}
				}
			case 7:
				if len(m) == 0 {
					continue
				}
				start := int(a)%len(m) + 1
				end := start + int(b)%4
				zsl.DeleteRangeByRank(start, end, func(*zslNode) {})
				m = slices.Delete(m, start-1, min(end, len(m)))
			case 8:
				// Lex ranges are defined when all scores are equal: check on that subset.
				lo, hi := string(rune('a'+a%26)), string(rune('a'+b%26))
				r := zlexSpec{min: zlexBound{s: lo, excl: a&32 != 0}, max: zlexBound{s: hi, excl: b&32 != 0}}
				if a&64 != 0 {
					r.min = zlexBound{inf: -1, excl: true}
				}
				lex := newSkiplist()
				for _, p := range m {
					lex.Insert(0, p.member)
				}
				var want []string
				for _, p := range m {
					if r.gteMin(p.member) && r.lteMax(p.member) {
						want = append(want, p.member)
					}
				}
				slices.Sort(want)
				first, last := lex.FirstInLexRange(&r), lex.LastInLexRange(&r)
				if len(want) == 0 != (first == nil) || (first != nil && (first.member != want[0] || last.member != want[len(want)-1])) {
					t.Fatalf("lex range %+v over %v: got %v..%v want %v", r, m, first, last, want)
				}
				n := lex.DeleteRangeByLex(&r, func(*zslNode) {})
				if n != len(want) {
					t.Fatalf("lex delete removed %d, want %d", n, len(want))
				}
			}
			checkSkiplist(t, zsl, m)
		}
	})
}

func TestZlpEncoding(t *testing.T) {
	scores := []float64{0, 1, -1, 63, 64, -64, 1 << 53, 1 << 62, -(1 << 62), 1<<62 + 2048, 0.5, -3.25e-5, 1e300}
	var lp []byte
	for i, s := range scores {
		lp = zlpInsertAt(lp, len(lp), []byte(strings.Repeat("x", i)), s)
	}
	pos := 0
	for i, s := range scores {
		m, got, next := zlpEntry(lp, pos)
		if string(m) != strings.Repeat("x", i) || got != s {
			t.Fatalf("pair %d: %q %v, want %v", i, m, got, s)
		}
		pos = next
	}
	if pos != len(lp) || zlpLen(lp) != len(scores) {
		t.Fatalf("walked %d of %d bytes, %d pairs", pos, len(lp), zlpLen(lp))
	}
	if _, ok := zlpIntScore(1<<62 + 2048); ok {
		t.Fatal("a score past 2^62 must keep the double form, as double2ll refuses it")
	}
}
