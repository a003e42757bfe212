package engine

import (
	"encoding/binary"
	"math"
	"unsafe"

	"kv/engine/dict"
)

// A sorted set has two encodings, as in Redis 7.0:
//
//   - listpack (small sets): Object.Str holds the members in (score, member) order,
//     each as a uvarint length, the member's bytes and the score. A score that is a
//     whole number within ±2^62 is the uvarint of its zigzag value plus one (one
//     byte for -63..63); any other score is a 0 byte followed by the 8 bytes of the
//     IEEE double. A five-member set of short members is one small allocation,
//     which is what keeps memory per key near Redis's listpack.
//   - skiplist (past zset-max-listpack-entries / zset-max-listpack-value):
//     Object.Val is a *zset, a skiplist with spans for order and rank plus a hash
//     table from member to score, sharing each member string.
//
// Every function here takes the Object so the encoding can change under it.

// zset is the skiplist encoding.
type zset struct {
	dict *dict.Dict[float64]
	zsl  *skiplist
}

func newZSet() *zset { return &zset{dict: dict.New[float64](), zsl: newSkiplist()} }

// insert adds a member known to be absent.
func (zs *zset) insert(score float64, member string) {
	zs.zsl.Insert(score, member)
	zs.dict.SetString(member, score)
}

// remove deletes member, reporting whether it was there.
func (zs *zset) remove(member []byte) bool {
	score, ok := zs.dict.Delete(member)
	if !ok {
		return false
	}
	zs.zsl.Delete(score, unsafeString(member))
	return true
}

// unsafeBytes views a string's bytes without copying. The result must never be written:
// it lets skiplist members be written into replies and compared with listpack
// members through the same []byte paths.
func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// unsafeString views b as a string without copying, for comparisons and lookups that do
// not keep the result; b must not change while the string is in use.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// Flags of zsetAdd: the ZADD options in, and what happened out.
const (
	zaddIncr = 1 << iota
	zaddNX
	zaddXX
	zaddGT
	zaddLT

	zaddOutNaN     = 1 << 0
	zaddOutAdded   = 1 << 1
	zaddOutUpdated = 1 << 2
	zaddOutNop     = 1 << 3
)

// lpSafetySize is Redis's LISTPACK_MAX_SAFETY_SIZE: a listpack never grows past 1 GB.
const lpSafetySize = 1 << 30

// ---- listpack encoding ----

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// zlpIntScore reports whether f is stored as an integer, by Redis's double2ll rule:
// whole and within ±2^62. Like Redis's listpack, this turns -0 into 0; every other
// score reads back exactly (non-integers are kept as the raw double).
func zlpIntScore(f float64) (int64, bool) {
	if !(f >= -(1<<62) && f <= 1<<62) {
		return 0, false
	}
	v := int64(f)
	return v, float64(v) == f
}

func zlpAppendScore(b []byte, f float64) []byte {
	if v, ok := zlpIntScore(f); ok {
		return binary.AppendUvarint(b, zigzag(v)+1)
	}
	b = append(b, 0)
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}

func uvarintSize(u uint64) int {
	n := 1
	for ; u >= 0x80; u >>= 7 {
		n++
	}
	return n
}

// zlpEntrySize is the encoded size of one member/score pair.
func zlpEntrySize(member []byte, score float64) int {
	n := uvarintSize(uint64(len(member))) + len(member)
	if v, ok := zlpIntScore(score); ok {
		return n + uvarintSize(zigzag(v)+1)
	}
	return n + 9
}

// zlpEntry decodes the pair starting at pos. member aliases lp.
func zlpEntry(lp []byte, pos int) (member []byte, score float64, next int) {
	n, w := binary.Uvarint(lp[pos:])
	start := pos + w
	end := start + int(n)
	member = lp[start:end:end]
	u, w := binary.Uvarint(lp[end:])
	if u == 0 {
		bits := binary.LittleEndian.Uint64(lp[end+w:])
		return member, math.Float64frombits(bits), end + w + 8
	}
	return member, float64(unzigzag(u - 1)), end + w
}

// zlpLen counts the pairs.
func zlpLen(lp []byte) int {
	n := 0
	for pos := 0; pos < len(lp); n++ {
		_, _, pos = zlpEntry(lp, pos)
	}
	return n
}

// zlpFind finds member, returning where its pair starts and ends.
func zlpFind(lp []byte, member []byte) (start, end int, score float64, ok bool) {
	for pos := 0; pos < len(lp); {
		m, s, next := zlpEntry(lp, pos)
		if string(m) == string(member) {
			return pos, next, s, true
		}
		pos = next
	}
	return 0, 0, 0, false
}

// zlpOffsets appends the start of every pair to dst.
func zlpOffsets(lp []byte, dst []int32) []int32 {
	for pos := 0; pos < len(lp); {
		dst = append(dst, int32(pos))
		_, _, pos = zlpEntry(lp, pos)
	}
	return dst
}

// zlpInsert adds a pair (member absent) at its place in order.
func zlpInsert(lp []byte, member []byte, score float64) []byte {
	pos := 0
	for pos < len(lp) {
		m, s, next := zlpEntry(lp, pos)
		if s > score || (s == score && string(m) > string(member)) {
			break
		}
		pos = next
	}
	return zlpInsertAt(lp, pos, member, score)
}

// zlpInsertAt puts a pair at byte offset pos. Growth leaves an eighth of slack, not
// append's doubling: a small set is written a few times and then kept.
func zlpInsertAt(lp []byte, pos int, member []byte, score float64) []byte {
	size := zlpEntrySize(member, score)
	if cap(lp)-len(lp) < size {
		need := len(lp) + size
		nb := make([]byte, len(lp), need+need/8)
		copy(nb, lp)
		lp = nb
	}
	lp = lp[:len(lp)+size]
	copy(lp[pos+size:], lp[pos:len(lp)-size])
	e := lp[pos:pos]
	e = binary.AppendUvarint(e, uint64(len(member)))
	e = append(e, member...)
	zlpAppendScore(e, score)
	return lp
}

// zlpReserve makes room for extra more bytes in one exact allocation, so a ZADD of
// many members builds its listpack with one copy instead of one per member, and
// leaves no garbage behind for the collector.
func zlpReserve(lp []byte, extra int) []byte {
	if cap(lp)-len(lp) >= extra {
		return lp
	}
	nb := make([]byte, len(lp), len(lp)+extra)
	copy(nb, lp)
	return nb
}

// zlpTrim gives back room a reservation left unused (members that were updates,
// not additions), as Redis's listpack is always exactly its size.
func zlpTrim(lp []byte) []byte {
	if cap(lp)-len(lp) <= len(lp)/8 {
		return lp
	}
	return append(make([]byte, 0, len(lp)), lp...)
}

// zlpCut removes lp[start:end] (whole pairs), giving back a mostly empty buffer.
func zlpCut(lp []byte, start, end int) []byte {
	copy(lp[start:], lp[end:])
	lp = lp[:len(lp)-(end-start)]
	if len(lp) == 0 {
		return nil
	}
	if cap(lp) > 64 && len(lp) < cap(lp)/2 {
		nb := make([]byte, len(lp), len(lp)+len(lp)/8)
		copy(nb, lp)
		return nb
	}
	return lp
}

// ---- operations on either encoding ----

// newZSetObject makes an empty sorted set in the given encoding.
func newZSetObject(listpack bool) Object {
	if listpack {
		return Object{Type: TypeZSet, Enc: EncListpack}
	}
	return Object{Type: TypeZSet, Enc: EncSkiplist, Val: newZSet()}
}

// zsetLen is ZCARD.
func zsetLen(o *Object) int {
	if o.Enc == EncListpack {
		return zlpLen(o.Str)
	}
	return o.Val.(*zset).zsl.length
}

// zsetScore looks member up.
func zsetScore(o *Object, member []byte) (float64, bool) {
	if o.Enc == EncListpack {
		_, _, s, ok := zlpFind(o.Str, member)
		return s, ok
	}
	return o.Val.(*zset).dict.Get(member)
}

// zsetConvert changes the encoding in place.
func zsetConvert(o *Object, enc Encoding) {
	if o.Enc == enc {
		return
	}
	if o.Enc == EncListpack {
		zs := newZSet()
		lp := o.Str
		for pos := 0; pos < len(lp); {
			m, s, next := zlpEntry(lp, pos)
			zs.insert(s, string(m))
			pos = next
		}
		o.Str, o.Val, o.Enc = nil, zs, EncSkiplist
		return
	}
	zs := o.Val.(*zset)
	size := 0
	for n := zs.zsl.First(); n != nil; n = n.Next() {
		size += zlpEntrySize(unsafeBytes(n.member), n.score)
	}
	lp := make([]byte, 0, size)
	for n := zs.zsl.First(); n != nil; n = n.Next() {
		lp = zlpInsertAt(lp, len(lp), unsafeBytes(n.member), n.score)
	}
	o.Str, o.Val, o.Enc = lp, nil, EncListpack
}

// zsetConvertToListpackIfNeeded shrinks a result built as a skiplist when it fits the
// listpack limits (zsetConvertToListpackIfNeeded in Redis).
func zsetConvertToListpackIfNeeded(o *Object, st *Settings, maxLen, totLen int) {
	if o.Enc == EncListpack {
		return
	}
	if o.Val.(*zset).zsl.length <= st.ZSetMaxListpackEntries && maxLen <= st.ZSetMaxListpackValue && totLen <= lpSafetySize {
		zsetConvert(o, EncListpack)
	}
}

// zsetAdd adds or updates member as ZADD does with the given options; see Redis's
// zsetAdd for the exact contract. ok is false only when the result would be NaN.
func zsetAdd(o *Object, st *Settings, score float64, member []byte, in int) (out int, newScore float64, ok bool) {
	incr, nx, xx := in&zaddIncr != 0, in&zaddNX != 0, in&zaddXX != 0
	gt, lt := in&zaddGT != 0, in&zaddLT != 0
	if math.IsNaN(score) {
		return zaddOutNaN, 0, false
	}
	// update applies INCR/GT/LT to an existing member's score.
	update := func(cur float64) (float64, int, bool) {
		if nx {
			return 0, zaddOutNop, true
		}
		if incr {
			score += cur
			if math.IsNaN(score) {
				return 0, zaddOutNaN, false
			}
		}
		if (lt && score >= cur) || (gt && score <= cur) {
			return 0, zaddOutNop, true
		}
		return score, 0, true
	}
	if o.Enc == EncListpack {
		if start, end, cur, found := zlpFind(o.Str, member); found {
			s, flags, good := update(cur)
			if !good || flags != 0 {
				return flags, 0, good
			}
			if s != cur {
				o.Str = zlpInsert(zlpCut(o.Str, start, end), member, s)
				return zaddOutUpdated, s, true
			}
			return 0, s, true
		}
		if xx {
			return zaddOutNop, 0, true
		}
		if zlpLen(o.Str)+1 > st.ZSetMaxListpackEntries || len(member) > st.ZSetMaxListpackValue ||
			len(o.Str)+len(member) > lpSafetySize {
			zsetConvert(o, EncSkiplist)
		} else {
			o.Str = zlpInsert(o.Str, member, score)
			return zaddOutAdded, score, true
		}
	}
	zs := o.Val.(*zset)
	if cur, found := zs.dict.Get(member); found {
		s, flags, good := update(cur)
		if !good || flags != 0 {
			return flags, 0, good
		}
		if s != cur {
			// The node is re-linked but keeps its member string, which the dict shares.
			n := zs.zsl.UpdateScore(cur, unsafeString(member), s)
			zs.dict.SetString(n.member, s)
			return zaddOutUpdated, s, true
		}
		return 0, s, true
	}
	if xx {
		return zaddOutNop, 0, true
	}
	zs.insert(score, string(member))
	return zaddOutAdded, score, true
}

// zsetDel removes member, reporting whether it was there.
func zsetDel(o *Object, member []byte) bool {
	if o.Enc == EncListpack {
		if start, end, _, ok := zlpFind(o.Str, member); ok {
			o.Str = zlpCut(o.Str, start, end)
			return true
		}
		return false
	}
	return o.Val.(*zset).remove(member)
}

// zsetRank is member's 0-based rank (from the top when reverse), -1 when absent.
func zsetRank(o *Object, member []byte, reverse bool) int {
	n := zsetLen(o)
	rank := -1
	if o.Enc == EncListpack {
		i := 0
		for pos := 0; pos < len(o.Str); i++ {
			m, _, next := zlpEntry(o.Str, pos)
			if string(m) == string(member) {
				rank = i
				break
			}
			pos = next
		}
	} else {
		zs := o.Val.(*zset)
		if s, ok := zs.dict.Get(member); ok {
			rank = zs.zsl.Rank(s, unsafeString(member)) - 1
		}
	}
	if rank < 0 {
		return -1
	}
	if reverse {
		return n - 1 - rank
	}
	return rank
}

// ---- the API other packages use (COPY, SORT, persistence) ----

// NewZSetObject returns an empty sorted set; ZSetAdd grows and converts it.
func NewZSetObject() Object { return newZSetObject(true) }

// ZSetAdd sets member's score, converting the encoding as st's limits require, and
// reports whether member was new.
func ZSetAdd(o *Object, st *Settings, score float64, member []byte) bool {
	out, _, _ := zsetAdd(o, st, score, member, 0)
	return out&zaddOutAdded != 0
}

// ZSetLen is the number of members.
func ZSetLen(o *Object) int { return zsetLen(o) }

// ZSetRange calls fn for every member, lowest score first, until it returns false. The
// member slice aliases the set: valid during the call, and fn must not modify the set.
func ZSetRange(o *Object, fn func(member []byte, score float64) bool) { zsetEach(o, fn) }

// ZSetMembers lists the members lowest score first, aliasing the set (SORT reads them
// before the keyspace changes again).
func ZSetMembers(o *Object) [][]byte {
	out := make([][]byte, 0, zsetLen(o))
	zsetEach(o, func(m []byte, _ float64) bool {
		out = append(out, m)
		return true
	})
	return out
}

// DupZSet copies a sorted set keeping its encoding (COPY).
func DupZSet(o *Object) Object {
	if o.Enc == EncListpack {
		return Object{Type: TypeZSet, Enc: EncListpack, Str: append([]byte(nil), o.Str...)}
	}
	src := o.Val.(*zset)
	zs := newZSet()
	zs.dict.Reserve(src.dict.Len())
	// Inserting from the highest down makes every insert stop at the head.
	for n := src.zsl.Last(); n != nil; n = n.Prev() {
		zs.insert(n.score, n.member)
	}
	return Object{Type: TypeZSet, Enc: EncSkiplist, Val: zs}
}

// ---- cursors ----

// zcursorStack is how many listpack offsets a cursor keeps without allocating; it
// covers the default zset-max-listpack-entries.
const zcursorStack = 128

// zcursor walks a sorted set of either encoding in one direction. A listpack is
// indexed through the offsets of its pairs so that it can be walked backwards and
// entered at a rank. After each move, ok says whether the cursor is on a member,
// and member/score hold it (member aliases the set: do not keep or modify it).
type zcursor struct {
	lp     []byte
	offs   []int32
	i      int
	node   *zslNode
	rev    bool
	ok     bool
	member []byte
	score  float64
}

func (z *zcursor) init(o *Object, rev bool, buf []int32) {
	*z = zcursor{rev: rev}
	if o.Enc == EncListpack {
		z.lp = o.Str
		z.offs = zlpOffsets(o.Str, buf[:0])
	}
}

func (z *zcursor) load() {
	if z.lp != nil {
		z.ok = z.i >= 0 && z.i < len(z.offs)
		if z.ok {
			z.member, z.score, _ = zlpEntry(z.lp, int(z.offs[z.i]))
		}
		return
	}
	z.ok = z.node != nil
	if z.ok {
		z.member, z.score = unsafeBytes(z.node.member), z.node.score
	}
}

// next moves one member on in the cursor's direction.
func (z *zcursor) next() {
	if z.lp != nil {
		if z.rev {
			z.i--
		} else {
			z.i++
		}
	} else if z.node != nil {
		if z.rev {
			z.node = z.node.backward
		} else {
			z.node = z.node.level[0].forward
		}
	}
	z.load()
}

// atRank starts at the 0-based rank counted in the cursor's direction.
func (z *zcursor) atRank(o *Object, rank int, rev bool, buf []int32) {
	z.init(o, rev, buf)
	if z.lp != nil {
		z.i = rank
		if rev {
			z.i = len(z.offs) - 1 - rank
		}
	} else {
		zsl := o.Val.(*zset).zsl
		switch {
		case rev && rank == 0:
			z.node = zsl.tail
		case rev:
			z.node = zsl.ByRank(zsl.length - rank)
		case rank == 0:
			z.node = zsl.First()
		default:
			z.node = zsl.ByRank(rank + 1)
		}
	}
	z.load()
}

// inScore starts at the first member within r, or the last when rev.
func (z *zcursor) inScore(o *Object, r *zrangeSpec, rev bool, buf []int32) {
	z.init(o, rev, buf)
	if z.lp != nil {
		z.i = -1
		if zlpInScoreRange(z.lp, z.offs, r) {
			if rev {
				for i := len(z.offs) - 1; i >= 0; i-- {
					_, s, _ := zlpEntry(z.lp, int(z.offs[i]))
					if r.lteMax(s) {
						if r.gteMin(s) {
							z.i = i
						}
						break
					}
				}
			} else {
				for i := range z.offs {
					_, s, _ := zlpEntry(z.lp, int(z.offs[i]))
					if r.gteMin(s) {
						if r.lteMax(s) {
							z.i = i
						}
						break
					}
				}
			}
		}
	} else {
		zsl := o.Val.(*zset).zsl
		if rev {
			z.node = zsl.LastInRange(r)
		} else {
			z.node = zsl.FirstInRange(r)
		}
	}
	z.load()
}

// zlpInScoreRange is Redis's zzlIsInRange: the range is not empty, the last member
// is at or above min and the first at or below max.
func zlpInScoreRange(lp []byte, offs []int32, r *zrangeSpec) bool {
	if r.empty() || len(offs) == 0 {
		return false
	}
	_, last, _ := zlpEntry(lp, int(offs[len(offs)-1]))
	_, first, _ := zlpEntry(lp, int(offs[0]))
	return r.gteMin(last) && r.lteMax(first)
}

// zlpInLexRange is zzlIsInLexRange. With members of different scores the listpack is
// not in lex order, and Redis's answers then follow from exactly these checks.
func zlpInLexRange(lp []byte, offs []int32, r *zlexSpec) bool {
	if r.empty() || len(offs) == 0 {
		return false
	}
	last, _, _ := zlpEntry(lp, int(offs[len(offs)-1]))
	first, _, _ := zlpEntry(lp, int(offs[0]))
	return r.gteMin(unsafeString(last)) && r.lteMax(unsafeString(first))
}

// inLex starts at the first member within r, or the last when rev.
func (z *zcursor) inLex(o *Object, r *zlexSpec, rev bool, buf []int32) {
	z.init(o, rev, buf)
	if z.lp != nil {
		z.i = -1
		if zlpInLexRange(z.lp, z.offs, r) {
			if rev {
				for i := len(z.offs) - 1; i >= 0; i-- {
					m, _, _ := zlpEntry(z.lp, int(z.offs[i]))
					if r.lteMax(unsafeString(m)) {
						if r.gteMin(unsafeString(m)) {
							z.i = i
						}
						break
					}
				}
			} else {
				for i := range z.offs {
					m, _, _ := zlpEntry(z.lp, int(z.offs[i]))
					if r.gteMin(unsafeString(m)) {
						if r.lteMax(unsafeString(m)) {
							z.i = i
						}
						break
					}
				}
			}
		}
	} else {
		zsl := o.Val.(*zset).zsl
		if rev {
			z.node = zsl.LastInLexRange(r)
		} else {
			z.node = zsl.FirstInLexRange(r)
		}
	}
	z.load()
}

// ---- range removal ----

// zlpDeleteIndexes removes pairs first..last (0-based, inclusive) of a listpack set.
func zlpDeleteIndexes(o *Object, offs []int32, first, last int) int {
	if first > last {
		return 0
	}
	end := len(o.Str)
	if last+1 < len(offs) {
		end = int(offs[last+1])
	}
	o.Str = zlpCut(o.Str, int(offs[first]), end)
	return last - first + 1
}

// zsetDeleteRangeByRank removes ranks start..end (0-based, already clamped).
func zsetDeleteRangeByRank(o *Object, start, end int) int {
	if o.Enc == EncListpack {
		var buf [zcursorStack]int32
		offs := zlpOffsets(o.Str, buf[:0])
		return zlpDeleteIndexes(o, offs, start, end)
	}
	zs := o.Val.(*zset)
	return zs.zsl.DeleteRangeByRank(start+1, end+1, func(n *zslNode) { zs.dict.DeleteString(n.member) })
}

// zsetDeleteRangeByScore removes the members within r.
func zsetDeleteRangeByScore(o *Object, r *zrangeSpec) int {
	if o.Enc == EncListpack {
		var buf [zcursorStack]int32
		offs := zlpOffsets(o.Str, buf[:0])
		first, last := -1, -1
		for i := range offs {
			_, s, _ := zlpEntry(o.Str, int(offs[i]))
			if !r.gteMin(s) {
				continue
			}
			if !r.lteMax(s) {
				break
			}
			if first < 0 {
				first = i
			}
			last = i
		}
		if first < 0 {
			return 0
		}
		return zlpDeleteIndexes(o, offs, first, last)
	}
	zs := o.Val.(*zset)
	return zs.zsl.DeleteRangeByScore(r, func(n *zslNode) { zs.dict.DeleteString(n.member) })
}

// zsetDeleteRangeByLex removes the members within r.
func zsetDeleteRangeByLex(o *Object, r *zlexSpec) int {
	if o.Enc == EncListpack {
		var buf [zcursorStack]int32
		offs := zlpOffsets(o.Str, buf[:0])
		first, last := -1, -1
		for i := range offs {
			m, _, _ := zlpEntry(o.Str, int(offs[i]))
			if !r.gteMin(unsafeString(m)) {
				continue
			}
			if !r.lteMax(unsafeString(m)) {
				break
			}
			if first < 0 {
				first = i
			}
			last = i
		}
		if first < 0 {
			return 0
		}
		return zlpDeleteIndexes(o, offs, first, last)
	}
	zs := o.Val.(*zset)
	return zs.zsl.DeleteRangeByLex(r, func(n *zslNode) { zs.dict.DeleteString(n.member) })
}

// zsetEach calls fn for every member in order until it returns false (the iteration
// behind set operations, persistence and DEBUG).
func zsetEach(o *Object, fn func(member []byte, score float64) bool) {
	if o.Enc == EncListpack {
		for pos := 0; pos < len(o.Str); {
			m, s, next := zlpEntry(o.Str, pos)
			if !fn(m, s) {
				return
			}
			pos = next
		}
		return
	}
	for n := o.Val.(*zset).zsl.First(); n != nil; n = n.Next() {
		if !fn(unsafeBytes(n.member), n.score) {
			return
		}
	}
}
