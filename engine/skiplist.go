package engine

import "math/rand/v2"

// The skiplist orders a large sorted set by (score, member) the way Redis's zskiplist
// does: every forward link also records its span, the number of level-0 steps it
// jumps, so the rank of a member and the member at a rank are found in O(log n) by
// summing spans along the search path.

const (
	zslMaxLevel = 32
	// zslP is the chance a node reaches the next level (Redis's ZSKIPLIST_P = 0.25),
	// as a threshold over 16 random bits.
	zslP = 0xFFFF / 4
)

type zslLevel struct {
	forward *zslNode
	span    int
}

type zslNode struct {
	member   string
	score    float64
	backward *zslNode
	level    []zslLevel
	// one holds the level of the three nodes in four that have just one, so those
	// take a single allocation.
	one [1]zslLevel
}

// Next is the following node in order, nil after the last.
func (n *zslNode) Next() *zslNode { return n.level[0].forward }

// Prev is the preceding node, nil before the first.
func (n *zslNode) Prev() *zslNode { return n.backward }

type skiplist struct {
	header *zslNode
	tail   *zslNode
	length int
	level  int
}

func newZslNode(level int, score float64, member string) *zslNode {
	n := &zslNode{score: score, member: member}
	if level == 1 {
		n.level = n.one[:]
	} else {
		n.level = make([]zslLevel, level)
	}
	return n
}

func newSkiplist() *skiplist {
	return &skiplist{header: newZslNode(zslMaxLevel, 0, ""), level: 1}
}

func zslRandomLevel() int {
	level := 1
	for level < zslMaxLevel && rand.Uint32()&0xFFFF < zslP {
		level++
	}
	return level
}

// zslLess orders (score, member) pairs: by score, then by member bytes.
func zslLess(s1 float64, m1 string, s2 float64, m2 string) bool {
	return s1 < s2 || (s1 == s2 && m1 < m2)
}

// Len is the number of members.
func (zsl *skiplist) Len() int { return zsl.length }

// First is the lowest node, nil when empty.
func (zsl *skiplist) First() *zslNode { return zsl.header.level[0].forward }

// Last is the highest node, nil when empty.
func (zsl *skiplist) Last() *zslNode { return zsl.tail }

// Insert adds member with score; the caller knows member is not present.
func (zsl *skiplist) Insert(score float64, member string) *zslNode {
	var update [zslMaxLevel]*zslNode
	var rank [zslMaxLevel]int
	x := zsl.header
	for i := zsl.level - 1; i >= 0; i-- {
		if i != zsl.level-1 {
			rank[i] = rank[i+1]
		}
		for f := x.level[i].forward; f != nil && zslLess(f.score, f.member, score, member); f = x.level[i].forward {
			rank[i] += x.level[i].span
			x = f
		}
		update[i] = x
	}
	level := zslRandomLevel()
	if level > zsl.level {
		for i := zsl.level; i < level; i++ {
			rank[i] = 0
			update[i] = zsl.header
			update[i].level[i].span = zsl.length
		}
		zsl.level = level
	}
	x = newZslNode(level, score, member)
	for i := 0; i < level; i++ {
		x.level[i].forward = update[i].level[i].forward
		update[i].level[i].forward = x
		x.level[i].span = update[i].level[i].span - (rank[0] - rank[i])
		update[i].level[i].span = rank[0] - rank[i] + 1
	}
	for i := level; i < zsl.level; i++ {
		update[i].level[i].span++
	}
	if update[0] != zsl.header {
		x.backward = update[0]
	}
	if f := x.level[0].forward; f != nil {
		f.backward = x
	} else {
		zsl.tail = x
	}
	zsl.length++
	return x
}

// deleteNode unlinks x given the rightmost node before it on every level.
func (zsl *skiplist) deleteNode(x *zslNode, update *[zslMaxLevel]*zslNode) {
	for i := 0; i < zsl.level; i++ {
		if update[i].level[i].forward == x {
			update[i].level[i].span += x.level[i].span - 1
			update[i].level[i].forward = x.level[i].forward
		} else {
			update[i].level[i].span--
		}
	}
	if f := x.level[0].forward; f != nil {
		f.backward = x.backward
	} else {
		zsl.tail = x.backward
	}
	for zsl.level > 1 && zsl.header.level[zsl.level-1].forward == nil {
		zsl.level--
	}
	zsl.length--
}

// Delete removes the node with exactly this score and member, reporting whether it
// was there.
func (zsl *skiplist) Delete(score float64, member string) bool {
	var update [zslMaxLevel]*zslNode
	x := zsl.header
	for i := zsl.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && zslLess(f.score, f.member, score, member); f = x.level[i].forward {
			x = f
		}
		update[i] = x
	}
	x = x.level[0].forward
	if x != nil && x.score == score && x.member == member {
		zsl.deleteNode(x, &update)
		return true
	}
	return false
}

// UpdateScore moves member from curScore to newScore and returns its node. The member
// must be present with curScore.
func (zsl *skiplist) UpdateScore(curScore float64, member string, newScore float64) *zslNode {
	var update [zslMaxLevel]*zslNode
	x := zsl.header
	for i := zsl.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && zslLess(f.score, f.member, curScore, member); f = x.level[i].forward {
			x = f
		}
		update[i] = x
	}
	x = x.level[0].forward
	// When the node stays between its neighbours, only the score changes.
	if (x.backward == nil || x.backward.score < newScore) &&
		(x.level[0].forward == nil || x.level[0].forward.score > newScore) {
		x.score = newScore
		return x
	}
	zsl.deleteNode(x, &update)
	return zsl.Insert(newScore, x.member)
}

// countBetween counts the nodes from first to last inclusive (the ends of a range,
// nil when the range is empty) from their ranks, as Redis's ZCOUNT and ZLEXCOUNT do.
func (zsl *skiplist) countBetween(first, last *zslNode) int {
	if first == nil {
		return 0
	}
	count := zsl.length - (zsl.Rank(first.score, first.member) - 1)
	if last != nil {
		count -= zsl.length - zsl.Rank(last.score, last.member)
	}
	return count
}

// Rank is the 1-based rank of (score, member), 0 when absent.
func (zsl *skiplist) Rank(score float64, member string) int {
	rank := 0
	x := zsl.header
	for i := zsl.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && (f.score < score || (f.score == score && f.member <= member)); f = x.level[i].forward {
			rank += x.level[i].span
			x = f
		}
		if x != zsl.header && x.member == member && x.score == score {
			return rank
		}
	}
	return 0
}

// ByRank is the node at 1-based rank, nil when out of range.
func (zsl *skiplist) ByRank(rank int) *zslNode {
	traversed := 0
	x := zsl.header
	for i := zsl.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && traversed+x.level[i].span <= rank {
			traversed += x.level[i].span
			x = x.level[i].forward
		}
		if traversed == rank {
			if x == zsl.header {
				return nil
			}
			return x
		}
	}
	return nil
}

// zrangeSpec is a score interval; minex/maxex make an end exclusive.
type zrangeSpec struct {
	min, max     float64
	minex, maxex bool
}

func (r *zrangeSpec) gteMin(v float64) bool {
	if r.minex {
		return v > r.min
	}
	return v >= r.min
}

func (r *zrangeSpec) lteMax(v float64) bool {
	if r.maxex {
		return v < r.max
	}
	return v <= r.max
}

// empty reports whether the interval can hold nothing.
func (r *zrangeSpec) empty() bool {
	return r.min > r.max || (r.min == r.max && (r.minex || r.maxex))
}

func (zsl *skiplist) isInRange(r *zrangeSpec) bool {
	if r.empty() {
		return false
	}
	if x := zsl.tail; x == nil || !r.gteMin(x.score) {
		return false
	}
	if x := zsl.header.level[0].forward; x == nil || !r.lteMax(x.score) {
		return false
	}
	return true
}

// FirstInRange is the lowest node within r, nil when none.
func (zsl *skiplist) FirstInRange(r *zrangeSpec) *zslNode {
	if !zsl.isInRange(r) {
		return nil
	}
	x := zsl.header
	for i := zsl.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && !r.gteMin(f.score); f = x.level[i].forward {
			x = f
		}
	}
	x = x.level[0].forward
	if !r.lteMax(x.score) {
		return nil
	}
	return x
}

// LastInRange is the highest node within r, nil when none.
func (zsl *skiplist) LastInRange(r *zrangeSpec) *zslNode {
	if !zsl.isInRange(r) {
		return nil
	}
	x := zsl.header
	for i := zsl.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && r.lteMax(f.score); f = x.level[i].forward {
			x = f
		}
	}
	if !r.gteMin(x.score) {
		return nil
	}
	return x
}

// zlexBound is one end of a lexicographic range: "-" and "+" are below and above
// every string.
type zlexBound struct {
	s    string
	inf  int8 // -1 for "-", +1 for "+", 0 for a string
	excl bool
}

// zlexCmp compares member a with bound b the way Redis's sdscmplex does.
func zlexCmp(a string, b *zlexBound) int {
	switch {
	case b.inf < 0:
		return 1
	case b.inf > 0:
		return -1
	case a < b.s:
		return -1
	case a > b.s:
		return 1
	}
	return 0
}

type zlexSpec struct{ min, max zlexBound }

func (r *zlexSpec) gteMin(v string) bool {
	c := zlexCmp(v, &r.min)
	if r.min.excl {
		return c > 0
	}
	return c >= 0
}

func (r *zlexSpec) lteMax(v string) bool {
	c := zlexCmp(v, &r.max)
	if r.max.excl {
		return c < 0
	}
	return c <= 0
}

// empty reports whether min > max, or they are equal and either end is exclusive.
func (r *zlexSpec) empty() bool {
	var c int
	switch {
	case r.min.inf == r.max.inf && r.min.inf != 0:
		c = 0
	case r.min.inf < 0 || r.max.inf > 0:
		c = -1
	case r.min.inf > 0 || r.max.inf < 0:
		c = 1
	case r.min.s < r.max.s:
		c = -1
	case r.min.s > r.max.s:
		c = 1
	}
	return c > 0 || (c == 0 && (r.min.excl || r.max.excl))
}

func (zsl *skiplist) isInLexRange(r *zlexSpec) bool {
	if r.empty() {
		return false
	}
	if x := zsl.tail; x == nil || !r.gteMin(x.member) {
		return false
	}
	if x := zsl.header.level[0].forward; x == nil || !r.lteMax(x.member) {
		return false
	}
	return true
}

// FirstInLexRange is the lowest node within r, nil when none. Lex ranges assume all
// scores are equal, as Redis documents.
func (zsl *skiplist) FirstInLexRange(r *zlexSpec) *zslNode {
	if !zsl.isInLexRange(r) {
		return nil
	}
	x := zsl.header
	for i := zsl.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && !r.gteMin(f.member); f = x.level[i].forward {
			x = f
		}
	}
	x = x.level[0].forward
	if !r.lteMax(x.member) {
		return nil
	}
	return x
}

// LastInLexRange is the highest node within r, nil when none.
func (zsl *skiplist) LastInLexRange(r *zlexSpec) *zslNode {
	if !zsl.isInLexRange(r) {
		return nil
	}
	x := zsl.header
	for i := zsl.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && r.lteMax(f.member); f = x.level[i].forward {
			x = f
		}
	}
	if !r.gteMin(x.member) {
		return nil
	}
	return x
}

// deleteWhile skips the nodes for which before reports true, then removes nodes while
// in reports true, calling removed for each, and returns how many it removed.
func (zsl *skiplist) deleteWhile(before func(*zslNode) bool, in func(*zslNode) bool, removed func(*zslNode)) int {
	var update [zslMaxLevel]*zslNode
	x := zsl.header
	for i := zsl.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && before(f); f = x.level[i].forward {
			x = f
		}
		update[i] = x
	}
	x = x.level[0].forward
	n := 0
	for x != nil && in(x) {
		next := x.level[0].forward
		zsl.deleteNode(x, &update)
		removed(x)
		n++
		x = next
	}
	return n
}

// DeleteRangeByScore removes the nodes within r.
func (zsl *skiplist) DeleteRangeByScore(r *zrangeSpec, removed func(*zslNode)) int {
	return zsl.deleteWhile(
		func(n *zslNode) bool { return !r.gteMin(n.score) },
		func(n *zslNode) bool { return r.lteMax(n.score) }, removed)
}

// DeleteRangeByLex removes the nodes within r.
func (zsl *skiplist) DeleteRangeByLex(r *zlexSpec, removed func(*zslNode)) int {
	return zsl.deleteWhile(
		func(n *zslNode) bool { return !r.gteMin(n.member) },
		func(n *zslNode) bool { return r.lteMax(n.member) }, removed)
}

// DeleteRangeByRank removes the nodes with 1-based ranks start..end inclusive.
func (zsl *skiplist) DeleteRangeByRank(start, end int, removed func(*zslNode)) int {
	var update [zslMaxLevel]*zslNode
	traversed := 0
	x := zsl.header
	for i := zsl.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && traversed+x.level[i].span < start {
			traversed += x.level[i].span
			x = x.level[i].forward
		}
		update[i] = x
	}
	traversed++
	x = x.level[0].forward
	n := 0
	for x != nil && traversed <= end {
		next := x.level[0].forward
		zsl.deleteNode(x, &update)
		removed(x)
		n++
		traversed++
		x = next
	}
	return n
}
