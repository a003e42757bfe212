package engine

import (
	"bytes"
	"encoding/binary"
	"slices"
)

// Quicklist is the list value: a doubly linked deque of small packed nodes, as Redis's
// quicklist. Pushing and popping at either end touches one node, so both are O(1)
// amortized; reaching index i walks node counts from the nearer end and then at most
// one node's entries, so LINDEX in the middle of a long list costs a few thousand
// steps, not a million.
//
// A node packs its entries into one byte slice (like a listpack): each entry is
//
//	uvarint(len(value)) value backlen
//
// where backlen is the length of the first two parts, written so it can be read from
// its last byte leftwards; that lets iteration go either way without an index. Nodes
// keep spare room at the front as well as at the back, so pushes and pops at the head
// do not move the node's bytes each time.
//
// Entries handed out by Index and the iterator alias node memory: they are valid only
// until the list is next modified, and must be copied to be kept.
type Quicklist struct {
	head, tail *qlNode
	count      int
	nodes      int
	fill       int
}

type qlNode struct {
	prev, next *qlNode
	// buf[off:] holds the entries; buf[:off] is headroom for pushes at the head.
	buf   []byte
	off   int
	count int
}

// Node size classes for a negative list-max-listpack-size (-1 .. -5), in bytes.
var qlSizeClasses = [...]int{4096, 8192, 16384, 32768, 65536}

const (
	// qlSafetyLimit bounds a node's bytes when the fill is a count, so a list of big
	// elements with list-max-listpack-size 128 does not make megabyte nodes.
	qlSafetyLimit = 8192
	// qlEntryOverhead over-estimates what one entry adds besides its value, as Redis's
	// SIZE_ESTIMATE_OVERHEAD does; qlNodeHeader stands for a listpack's header and end
	// byte, so size decisions match Redis's within a few bytes.
	qlEntryOverhead = 8
	qlNodeHeader    = 7
	qlFillMax       = 1 << 15
)

// NewQuicklist returns an empty list whose nodes are bounded by fill, which is
// list-max-listpack-size: -1..-5 selects a byte size class (4 KB .. 64 KB), a positive
// value a maximum number of entries per node.
func NewQuicklist(fill int) *Quicklist {
	q := &Quicklist{}
	q.SetFill(fill)
	return q
}

// SetFill changes the node bound for nodes filled from now on; clamped as Redis does.
func (q *Quicklist) SetFill(fill int) {
	switch {
	case fill > qlFillMax:
		fill = qlFillMax
	case fill < -len(qlSizeClasses):
		fill = -len(qlSizeClasses)
	case fill == 0:
		// 0 would forbid every insert; Redis's config rejects it, treat it as 1 entry.
		fill = 1
	}
	q.fill = fill
}

// Len is the number of entries.
func (q *Quicklist) Len() int { return q.count }

// Nodes is the number of nodes (OBJECT/DEBUG introspection and tests).
func (q *Quicklist) Nodes() int { return q.nodes }

// ---- entry encoding ----

func entrySize(v []byte) int {
	h := uvarintLen(uint64(len(v)))
	return h + len(v) + backlenLen(h+len(v))
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

func backlenLen(x int) int { return uvarintLen(uint64(x)) }

// putEntry writes v's encoding at dst, which must have entrySize(v) bytes.
func putEntry(dst, v []byte) {
	h := binary.PutUvarint(dst, uint64(len(v)))
	copy(dst[h:], v)
	total := h + len(v)
	// backlen: the least significant 7 bits go in the last byte; every byte that has a
	// more significant group to its left carries the high bit.
	n := backlenLen(total)
	end := h + len(v) + n
	for i := 0; i < n; i++ {
		b := byte(total & 0x7f)
		total >>= 7
		if i < n-1 {
			b |= 0x80
		}
		dst[end-1-i] = b
	}
}

// entryAt decodes the entry starting at p and returns its value and the offset of the
// next entry.
func entryAt(b []byte, p int) ([]byte, int) {
	l, h := binary.Uvarint(b[p:])
	start := p + h
	end := start + int(l)
	return b[start:end], end + backlenLen(h+int(l))
}

// entryBefore decodes the entry that ends at end and returns its value and its start.
func entryBefore(b []byte, end int) ([]byte, int) {
	p := end - 1
	total, shift := 0, 0
	for {
		c := b[p]
		total |= int(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			break
		}
		p--
	}
	start := p - total
	l, h := binary.Uvarint(b[start:])
	return b[start+h : start+h+int(l)], start
}

// ---- nodes ----

func (n *qlNode) entries() []byte { return n.buf[n.off:] }

func (n *qlNode) size() int { return len(n.buf) - n.off + qlNodeHeader }

// allowInsert reports whether a value of sz bytes may join node under fill.
func allowInsert(n *qlNode, fill, sz int) bool {
	if n == nil {
		return false
	}
	newSz := n.size() + sz + qlEntryOverhead
	return sizeAllowed(newSz, n.count+1, fill)
}

func sizeAllowed(sz, count, fill int) bool {
	if fill < 0 {
		return sz <= qlSizeClasses[-fill-1]
	}
	return sz <= qlSafetyLimit && count <= fill
}

func allowMerge(a, b *qlNode, fill int) bool {
	if a == nil || b == nil {
		return false
	}
	return sizeAllowed(a.size()+b.size()-qlNodeHeader, a.count+b.count, fill)
}

// nodeBytes is the most entry bytes a node may hold under fill: growing a buffer
// past it only makes room the node is never allowed to use. Nodes bounded by a count
// still stop at qlSafetyLimit bytes.
func nodeBytes(fill int) int {
	if fill < 0 {
		return qlSizeClasses[-fill-1] - qlNodeHeader
	}
	return qlSafetyLimit - qlNodeHeader
}

// growCap is the capacity a node holding used bytes grows to when it needs sz more:
// doubling, or want (what the rest of a multi-element push will add) when that is
// more, but never past the node's bound limit unless sz alone needs it. Doubling
// past the bound is what would otherwise leave a full node with up to half its
// buffer empty for the life of the list.
//
// With entries of a sixteenth of the bound or more, a doubling that passes half the
// bound goes straight to it: the node is full after a few more entries anyway, and
// the step saved is a buffer to allocate, clear and copy (LPUSH of 1 KB values cleared
// 2.4 KB a push).
func growCap(used, sz, want, limit int) int {
	c := max(2*used, used+want, 32)
	if sz >= limit/16 && c > limit/2 {
		c = limit
	}
	return max(min(c, limit), used+sz)
}

// allocEntries returns a zero-length buffer whose capacity is at least n, rounded up
// to the allocator's size class: the rounding is memory the allocation takes anyway,
// so the node may as well be able to fill it.
func allocEntries(n int) []byte { return slices.Grow([]byte(nil), n) }

func newNode(v []byte) *qlNode { return newNodeFor(v, 0, 0, false) }

// newNodeFor is newNode with room for want bytes of entries (0: just v), at most
// limit, put at the front when the node is to grow at the head.
func newNodeFor(v []byte, want, limit int, head bool) *qlNode {
	sz := entrySize(v)
	buf := allocEntries(max(min(want, limit), sz, 32))
	n := &qlNode{buf: buf[:sz], count: 1}
	if head {
		n.buf = buf[:cap(buf)]
		n.off = len(n.buf) - sz
	}
	putEntry(n.buf[n.off:], v)
	return n
}

// pushFront prepends v, using the headroom and growing it when it runs out (see
// growCap; want and limit as there).
func (n *qlNode) pushFront(v []byte, want, limit int) {
	sz := entrySize(v)
	if n.off < sz {
		used := len(n.buf) - n.off
		// Room kept at the back counts against the bound like entries do.
		tailRoom := cap(n.buf) - len(n.buf)
		nb := allocEntries(growCap(used+tailRoom, sz, want, limit))
		nb = nb[:cap(nb)-tailRoom]
		room := len(nb) - used
		copy(nb[room:], n.buf[n.off:])
		n.buf, n.off = nb, room
	}
	n.off -= sz
	putEntry(n.buf[n.off:n.off+sz], v)
	n.count++
}

// pushBack appends v, growing the buffer as growCap says when it is full.
func (n *qlNode) pushBack(v []byte, want, limit int) {
	sz := entrySize(v)
	l := len(n.buf)
	if cap(n.buf)-l < sz {
		used := l - n.off
		nb := allocEntries(growCap(used, sz, want, limit))
		nb = append(nb, n.buf[n.off:]...)
		n.buf, n.off, l = nb, 0, used
	}
	n.buf = n.buf[:l+sz]
	putEntry(n.buf[l:], v)
	n.count++
}

// insertAt inserts v so it starts at byte offset p of the node's entries.
func (n *qlNode) insertAt(p int, v []byte, limit int) {
	if p == 0 {
		n.pushFront(v, 0, limit)
		return
	}
	sz := entrySize(v)
	used := len(n.buf) - n.off
	if cap(n.buf)-len(n.buf) < sz {
		nb := allocEntries(growCap(used, sz, 0, limit))
		nb = append(nb, n.buf[n.off:]...)
		n.buf, n.off = nb, 0
	}
	abs := n.off + p
	n.buf = n.buf[:len(n.buf)+sz]
	copy(n.buf[abs+sz:], n.buf[abs:len(n.buf)-sz])
	putEntry(n.buf[abs:abs+sz], v)
	n.count++
}

// deleteBytes removes the entries in [p, end) of the node's entries, k of them.
func (n *qlNode) deleteBytes(p, end, k int) {
	if p == 0 {
		n.off += end
	} else {
		abs, absEnd := n.off+p, n.off+end
		copy(n.buf[abs:], n.buf[absEnd:])
		n.buf = n.buf[:len(n.buf)-(absEnd-abs)]
	}
	n.count -= k
	n.shrink()
}

// shrink gives memory back when a node has become mostly empty space.
func (n *qlNode) shrink() {
	used := len(n.buf) - n.off
	if cap(n.buf) > 256 && used < cap(n.buf)/4 {
		nb := make([]byte, used, max(2*used, 32))
		copy(nb, n.buf[n.off:])
		n.buf, n.off = nb, 0
	}
}

// offsetOf returns the byte offset of the node's i-th entry, walking from the nearer end.
func (n *qlNode) offsetOf(i int) int {
	b := n.entries()
	if i <= n.count/2 {
		p := 0
		for ; i > 0; i-- {
			_, p = entryAt(b, p)
		}
		return p
	}
	p := len(b)
	for j := n.count; j > i; j-- {
		_, p = entryBefore(b, p)
	}
	return p
}

// ---- list structure ----

func (q *Quicklist) linkAfter(at, n *qlNode) {
	n.prev = at
	if at == nil {
		n.next = q.head
		if q.head != nil {
			q.head.prev = n
		}
		q.head = n
	} else {
		n.next = at.next
		if at.next != nil {
			at.next.prev = n
		}
		at.next = n
	}
	if n.next == nil {
		q.tail = n
	}
	q.nodes++
}

func (q *Quicklist) unlink(n *qlNode) {
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		q.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		q.tail = n.prev
	}
	n.prev, n.next = nil, nil
	q.nodes--
}

// PushHead adds v at the head (LPUSH). v is copied.
func (q *Quicklist) PushHead(v []byte) { q.push(v, true, 0, nodeBytes(q.fill)) }

// PushTail adds v at the tail (RPUSH). v is copied.
func (q *Quicklist) PushTail(v []byte) { q.push(v, false, 0, nodeBytes(q.fill)) }

// push adds v at one end. want is the entry bytes still to come at that end in the
// same command, so a node grows once for a batch instead of doubling its way up;
// limit is nodeBytes(q.fill).
func (q *Quicklist) push(v []byte, head bool, want, limit int) {
	end := q.tail
	if head {
		end = q.head
	}
	fits := allowInsert(end, q.fill, len(v))
	// A list that has filled a node with large entries gets its next nodes at their
	// bound at once rather than growing them step by step (see growCap); a short
	// list of large entries keeps small buffers.
	if entrySize(v) >= limit/16 && (q.nodes > 1 || (q.nodes == 1 && !fits)) {
		want = max(want, limit)
	}
	switch {
	case fits && head:
		end.pushFront(v, want, limit)
	case fits:
		end.pushBack(v, want, limit)
	case head:
		q.linkAfter(nil, newNodeFor(v, want, limit, true))
	default:
		q.linkAfter(q.tail, newNodeFor(v, want, limit, false))
	}
	q.count++
}

// PushAll adds vs one by one at the head (LPUSH order: the last ends up first) or at
// the tail. The values are copied.
func (q *Quicklist) PushAll(vs [][]byte, head bool) {
	limit := nodeBytes(q.fill)
	want := 0
	if q.fill < 0 {
		// Nodes bounded by a count stop after fill entries whatever their bytes, so
		// a byte estimate would over-reserve them; they grow by doubling. The
		// estimate counts each entry's two smallest header bytes: it is a hint.
		for _, v := range vs {
			want += len(v) + 2
		}
	}
	for _, v := range vs {
		q.push(v, head, want, limit)
		want -= len(v) + 2
	}
}

// PopInto removes the head or tail entry after passing it to use, which must not keep
// it (LPOP writes it to the reply: no copy). False when empty.
func (q *Quicklist) PopInto(head bool, use func(v []byte)) bool {
	if head {
		n := q.head
		if n == nil {
			return false
		}
		v, end := entryAt(n.entries(), 0)
		use(v)
		q.deleteInNode(n, 0, end, 1)
		return true
	}
	n := q.tail
	if n == nil {
		return false
	}
	b := n.entries()
	v, start := entryBefore(b, len(b))
	use(v)
	q.deleteInNode(n, start, len(b), 1)
	return true
}

// PopHead removes and returns the head entry (a copy), or false when empty.
func (q *Quicklist) PopHead() ([]byte, bool) { return q.popCopy(true) }

// PopTail removes and returns the tail entry (a copy), or false when empty.
func (q *Quicklist) PopTail() ([]byte, bool) { return q.popCopy(false) }

func (q *Quicklist) popCopy(head bool) ([]byte, bool) {
	var out []byte
	ok := q.PopInto(head, func(v []byte) { out = append([]byte(nil), v...) })
	return out, ok
}

func (q *Quicklist) deleteInNode(n *qlNode, p, end, k int) {
	q.count -= k
	if k == n.count {
		q.unlink(n)
		return
	}
	n.deleteBytes(p, end, k)
}

// locate finds the node holding index i (0 <= i < count) and i's index inside it,
// walking node counts from the nearer end of the list.
func (q *Quicklist) locate(i int) (*qlNode, int) {
	if i < q.count/2 {
		for n := q.head; n != nil; n = n.next {
			if i < n.count {
				return n, i
			}
			i -= n.count
		}
		return nil, 0
	}
	j := q.count - 1 - i // distance from the tail
	for n := q.tail; n != nil; n = n.prev {
		if j < n.count {
			return n, n.count - 1 - j
		}
		j -= n.count
	}
	return nil, 0
}

// normIndex turns a possibly negative Redis index into 0..count-1, or false.
func (q *Quicklist) normIndex(i int) (int, bool) {
	if i < 0 {
		i += q.count
	}
	if i < 0 || i >= q.count {
		return 0, false
	}
	return i, true
}

// Index returns the entry at index i (negative counts from the tail), aliasing list
// memory.
func (q *Quicklist) Index(i int) ([]byte, bool) {
	i, ok := q.normIndex(i)
	if !ok {
		return nil, false
	}
	n, j := q.locate(i)
	v, _ := entryAt(n.entries(), n.offsetOf(j))
	return v, true
}

// Replace sets the entry at index i to v and reports whether i was in range.
func (q *Quicklist) Replace(i int, v []byte) bool {
	i, ok := q.normIndex(i)
	if !ok {
		return false
	}
	n, j := q.locate(i)
	p := n.offsetOf(j)
	_, end := entryAt(n.entries(), p)
	old := end - p
	sz := entrySize(v)
	if sz == old {
		putEntry(n.buf[n.off+p:n.off+end], v)
		return true
	}
	// Different size: remove and re-insert at the same place, which keeps the node
	// bounds (a big replacement may move to its own node).
	q.deleteAt(n, p, end)
	q.insertAtIndex(i, v)
	return true
}

func (q *Quicklist) deleteAt(n *qlNode, p, end int) { q.deleteInNode(n, p, end, 1) }

// insertAtIndex inserts v so that it becomes index i (0 <= i <= count).
func (q *Quicklist) insertAtIndex(i int, v []byte) {
	if i == 0 {
		q.PushHead(v)
		return
	}
	if i == q.count {
		q.PushTail(v)
		return
	}
	n, j := q.locate(i)
	q.insertInNode(n, j, n.offsetOf(j), v)
}

// insertInNode inserts v before entry j of n, whose byte offset is p (j may equal
// n.count, meaning after the last entry). A full node spills into a neighbour when v
// goes at its edge, or is split in two, as Redis's _quicklistInsert does.
func (q *Quicklist) insertInNode(n *qlNode, j, p int, v []byte) {
	q.count++
	limit := nodeBytes(q.fill)
	if allowInsert(n, q.fill, len(v)) {
		n.insertAt(p, v, limit)
		return
	}
	if j == n.count {
		if allowInsert(n.next, q.fill, len(v)) {
			n.next.pushFront(v, 0, limit)
		} else {
			q.linkAfter(n, newNode(v))
		}
		return
	}
	if j == 0 {
		if allowInsert(n.prev, q.fill, len(v)) {
			n.prev.pushBack(v, 0, limit)
		} else {
			q.linkAfter(n.prev, newNode(v))
		}
		return
	}
	// Split: entries from j on move to a new node after n, v joins the end of n when
	// it fits there, else the front of the new node, else a node of its own.
	tail := &qlNode{buf: append(make([]byte, 0, max(len(n.buf)-n.off-p, 32)), n.entries()[p:]...), count: n.count - j}
	n.buf = n.buf[:n.off+p]
	n.count = j
	q.linkAfter(n, tail)
	switch {
	case allowInsert(n, q.fill, len(v)):
		n.pushBack(v, 0, limit)
	case allowInsert(tail, q.fill, len(v)):
		tail.pushFront(v, 0, limit)
	default:
		q.linkAfter(n, newNode(v))
	}
	q.tryMerge(n)
}

// tryMerge joins n with a neighbour when together they fit one node, so inserts and
// deletes in the middle do not leave a trail of tiny nodes.
func (q *Quicklist) tryMerge(n *qlNode) {
	if n == nil {
		return
	}
	if allowMerge(n.prev, n, q.fill) {
		p := n.prev
		p.buf = append(p.buf, n.entries()...)
		p.count += n.count
		q.unlink(n)
		n = p
	}
	if allowMerge(n, n.next, q.fill) {
		nx := n.next
		n.buf = append(n.buf, nx.entries()...)
		n.count += nx.count
		q.unlink(nx)
	}
}

// DelRange deletes count entries starting at index start (negative counts from the
// tail), clamped to the list, and returns how many it removed.
func (q *Quicklist) DelRange(start, count int) int {
	if count <= 0 {
		return 0
	}
	if start < 0 {
		start += q.count
		if start < 0 {
			start = 0
		}
	}
	if start >= q.count {
		return 0
	}
	count = min(count, q.count-start)
	removed := count
	n, j := q.locate(start)
	var first *qlNode // the first node only partly emptied, merged with neighbours after
	for count > 0 && n != nil {
		next := n.next
		k := min(n.count-j, count)
		if j == 0 && k == n.count {
			q.unlink(n)
			q.count -= k
		} else {
			p := n.offsetOf(j)
			end := p
			b := n.entries()
			for x := 0; x < k; x++ {
				_, end = entryAt(b, end)
			}
			q.deleteInNode(n, p, end, k)
			if first == nil {
				first = n
			}
		}
		count -= k
		n, j = next, 0
	}
	q.tryMerge(first)
	return removed
}

// Iterator walks a list from an index in either direction. It may delete the entry it
// last returned (LREM) or insert next to it (LINSERT, which then ends the walk).
type Iterator struct {
	q       *Quicklist
	n       *qlNode
	p       int // forward: offset of the next entry; backward: end of the next entry
	fwd     bool
	lastP   int // start and end of the entry last returned
	lastEnd int
	lastJ   int // its index inside the node
	j       int // index inside the node of the next entry
}

// Iter starts an iterator at index i (negative counts from the tail); forward walks
// toward the tail. An out-of-range i gives an iterator that yields nothing.
func (q *Quicklist) Iter(i int, forward bool) *Iterator {
	it := &Iterator{q: q, fwd: forward}
	i, ok := q.normIndex(i)
	if !ok {
		return it
	}
	n, j := q.locate(i)
	it.n, it.j = n, j
	p := n.offsetOf(j)
	if forward {
		it.p = p
	} else {
		_, it.p = entryAt(n.entries(), p)
	}
	return it
}

// Next returns the next entry (aliasing list memory), or false at the end.
func (it *Iterator) Next() ([]byte, bool) {
	for it.n != nil {
		b := it.n.entries()
		if it.fwd {
			if it.p < len(b) {
				v, end := entryAt(b, it.p)
				it.lastP, it.lastEnd, it.lastJ = it.p, end, it.j
				it.p = end
				it.j++
				return v, true
			}
			it.n, it.p, it.j = it.n.next, 0, 0
		} else {
			if it.p > 0 {
				v, start := entryBefore(b, it.p)
				it.lastP, it.lastEnd, it.lastJ = start, it.p, it.j
				it.p = start
				it.j--
				return v, true
			}
			it.n = it.n.prev
			if it.n != nil {
				it.p = len(it.n.entries())
				it.j = it.n.count - 1
			}
		}
	}
	return nil, false
}

// Delete removes the entry last returned by Next; iteration continues after it.
func (it *Iterator) Delete() {
	n := it.n
	last := n.count == 1
	prev, next := n.prev, n.next
	it.q.deleteInNode(n, it.lastP, it.lastEnd, 1)
	if last {
		if it.fwd {
			it.n, it.p, it.j = next, 0, 0
		} else {
			it.n = prev
			if prev != nil {
				it.p, it.j = len(prev.entries()), prev.count-1
			}
		}
		return
	}
	if it.fwd {
		// The following entry slid into the deleted one's place.
		it.p, it.j = it.lastP, it.lastJ
	}
	// Backward, the next entry still ends where the deleted one started. Offsets are
	// relative to entries(), so a trimmed or shrunk node keeps them valid.
}

// Insert puts v before (after=false) or after the entry last returned by Next. The
// iterator must not be used afterwards.
func (it *Iterator) Insert(v []byte, after bool) {
	if after {
		it.q.insertInNode(it.n, it.lastJ+1, it.lastEnd, v)
	} else {
		it.q.insertInNode(it.n, it.lastJ, it.lastP, v)
	}
	it.n = nil
}

// Equal reports whether an entry equals v (LREM, LPOS, LINSERT pivots).
func entryEqual(e, v []byte) bool { return bytes.Equal(e, v) }

// Range calls fn for up to n entries from index start (already normalized, in range),
// forward or backward, stopping early if fn returns false.
func (q *Quicklist) Range(start, n int, forward bool, fn func(v []byte) bool) {
	it := q.Iter(start, forward)
	for ; n > 0; n-- {
		v, ok := it.Next()
		if !ok || !fn(v) {
			return
		}
	}
}

// All returns copies of every entry, head to tail (tests, persistence helpers).
func (q *Quicklist) All() [][]byte {
	out := make([][]byte, 0, q.count)
	for n := q.head; n != nil; n = n.next {
		b := n.entries()
		for p := 0; p < len(b); {
			var v []byte
			v, p = entryAt(b, p)
			out = append(out, append([]byte(nil), v...))
		}
	}
	return out
}

// check verifies the structure's invariants; tests call it after every operation.
func (q *Quicklist) check() string {
	total, nodes := 0, 0
	var prev *qlNode
	for n := q.head; n != nil; n = n.next {
		if n.prev != prev {
			return "broken prev link"
		}
		if n.count == 0 {
			return "empty node"
		}
		b := n.entries()
		c := 0
		for p := 0; p < len(b); c++ {
			_, p = entryAt(b, p)
			if p > len(b) {
				return "entry overruns node"
			}
		}
		if c != n.count {
			return "node count mismatch"
		}
		c = 0
		for p := len(b); p > 0; c++ {
			_, p = entryBefore(b, p)
		}
		if c != n.count {
			return "backward count mismatch"
		}
		total += n.count
		nodes++
		prev = n
	}
	if prev != q.tail {
		return "bad tail"
	}
	if total != q.count || nodes != q.nodes {
		return "totals mismatch"
	}
	return ""
}
