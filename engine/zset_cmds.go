package engine

import (
	"math"
	"strconv"

	"kv/resp"
)

// Sorted set commands, in the order of Redis's t_zset.c: ZADD and ZINCRBY, removal,
// ranges, lookups, pops and random members. The set operations (ZUNION...) are in
// zset_setops.go and the blocking pops in zset_blocking.go.

const (
	errZaddXXNX      = "ERR XX and NX options at the same time are not compatible"
	errZaddGTLTNX    = "ERR GT, LT, and/or NX options at the same time are not compatible"
	errZaddIncrPairs = "ERR INCR option supports a single increment-element pair"
	errZaddNaN       = "ERR resulting score is not a number (NaN)"
	errMinMaxFloat   = "ERR min or max is not a float"
	errMinMaxLex     = "ERR min or max not valid string range item"
	errLimitRank     = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
	errWithscoresLex = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
)

// zsetLookup finds key for reading: nil without error when absent; on a value of
// another type it answers WRONGTYPE and returns ok false.
func zsetLookup(c *Ctx, key []byte) (o *Object, ok bool) {
	o = c.LookupRead(key)
	if o != nil && o.Type != TypeZSet {
		c.Error(ErrWrongType)
		return nil, false
	}
	return o, true
}

// zsetLookupWrite is zsetLookup for commands that modify the set.
func zsetLookupWrite(c *Ctx, key []byte) (o *Object, ok bool) {
	o = c.LookupWrite(key)
	if o != nil && o.Type != TypeZSet {
		c.Error(ErrWrongType)
		return nil, false
	}
	return o, true
}

// zsetSignal accounts for a write that changed n members of key (n > 0) as Redis does:
// one signalModifiedKey and server.dirty += n. When the set became empty the key goes.
func zsetSignal(c *Ctx, key []byte, n int, deleteKey bool) {
	if deleteKey {
		c.DeleteKey(key)
	} else {
		c.Changed(key)
	}
	c.AddDirty(n - 1)
}

// parseLong is getLongFromObjectOrReply: it answers the error itself.
func parseLong(c *Ctx, b []byte, msg string) (int64, bool) {
	n, ok := ParseInt(b)
	if !ok {
		if msg == "" {
			msg = ErrNotInt
		}
		c.Error(msg)
	}
	return n, ok
}

// parseRangeLong is getRangeLongFromObjectOrReply.
func parseRangeLong(c *Ctx, b []byte, lo, hi int64, msg string) (int64, bool) {
	n, ok := ParseInt(b)
	if !ok || n < lo || n > hi {
		switch {
		case msg != "":
			c.Error(msg)
		case !ok:
			c.Error(ErrNotInt)
		default:
			c.Error("ERR value is out of range, value must between " + strconv.FormatInt(lo, 10) + " and " + strconv.FormatInt(hi, 10))
		}
		return 0, false
	}
	return n, true
}

// parseScoreRange is zslParseRange: "(" makes an end exclusive; the rest is read by
// strtod up to the end of the C string, so "" is 0 and overflow is infinity.
func parseScoreRange(min, max []byte) (r zrangeSpec, ok bool) {
	parse := func(b []byte) (float64, bool, bool) {
		b = cString(b)
		excl := len(b) > 0 && b[0] == '('
		if excl {
			b = b[1:]
		}
		v, n, _ := strtod(b)
		if n != len(b) || math.IsNaN(v) {
			return 0, false, false
		}
		return v, excl, true
	}
	var okMin, okMax bool
	r.min, r.minex, okMin = parse(min)
	r.max, r.maxex, okMax = parse(max)
	return r, okMin && okMax
}

// parseLexBound is zslParseLexRangeItem.
func parseLexBound(b []byte) (zlexBound, bool) {
	if len(b) == 0 {
		return zlexBound{}, false
	}
	switch b[0] {
	case '+':
		return zlexBound{inf: 1, excl: true}, len(b) == 1
	case '-':
		return zlexBound{inf: -1, excl: true}, len(b) == 1
	case '(':
		return zlexBound{s: string(b[1:]), excl: true}, true
	case '[':
		return zlexBound{s: string(b[1:])}, true
	}
	return zlexBound{}, false
}

func parseLexRange(min, max []byte) (r zlexSpec, ok bool) {
	var okMin, okMax bool
	r.min, okMin = parseLexBound(min)
	r.max, okMax = parseLexBound(max)
	return r, okMin && okMax
}

// ---- ZADD, ZINCRBY ----

func cmdZadd(c *Ctx)    { zaddGeneric(c, 0) }
func cmdZincrby(c *Ctx) { zaddGeneric(c, zaddIncr) }

func zaddGeneric(c *Ctx, flags int) {
	key := c.Args[1]
	ch := false
	idx := 2
options:
	for ; idx < len(c.Args); idx++ {
		switch {
		case c.Is(idx, "nx"):
			flags |= zaddNX
		case c.Is(idx, "xx"):
			flags |= zaddXX
		case c.Is(idx, "ch"):
			ch = true
		case c.Is(idx, "incr"):
			flags |= zaddIncr
		case c.Is(idx, "gt"):
			flags |= zaddGT
		case c.Is(idx, "lt"):
			flags |= zaddLT
		default:
			break options // the first score
		}
	}
	incr, nx, xx := flags&zaddIncr != 0, flags&zaddNX != 0, flags&zaddXX != 0
	gt, lt := flags&zaddGT != 0, flags&zaddLT != 0
	elements := len(c.Args) - idx
	if elements%2 != 0 || elements == 0 {
		c.Error(ErrSyntax)
		return
	}
	elements /= 2
	if nx && xx {
		c.Error(errZaddXXNX)
		return
	}
	if (gt && nx) || (lt && nx) || (gt && lt) {
		c.Error(errZaddGTLTNX)
		return
	}
	if incr && elements > 1 {
		c.Error(errZaddIncrPairs)
		return
	}
	// Every score is checked before anything changes: the command applies fully or not at all.
	var stack [32]float64
	scores := stack[:0]
	for j := 0; j < elements; j++ {
		s, ok := parseScore(c.Args[idx+2*j])
		if !ok {
			c.Error(ErrNotFloat)
			return
		}
		scores = append(scores, s)
	}
	o, ok := zsetLookupWrite(c, key)
	if !ok {
		return
	}
	var added, updated, processed int
	var score float64
	if o == nil && !xx {
		// A new set starts as a skiplist when even its first member is past the limits.
		st := &c.E.Settings
		local := newZSetObject(st.ZSetMaxListpackEntries != 0 && len(c.Args[idx+1]) <= st.ZSetMaxListpackValue)
		zaddReserve(&local, st, c.Args[idx:], scores)
		for j := 0; j < elements; j++ {
			out, ns, _ := zsetAdd(&local, st, scores[j], c.Args[idx+1+2*j], flags)
			added, updated, processed, score = zaddCount(out, ns, added, updated, processed)
		}
		if local.Enc == EncListpack {
			local.Str = zlpTrim(local.Str)
		}
		c.AddKey(key, local)
		c.AddDirty(added + updated - 1)
	} else if o != nil {
		reserved := !xx && zaddReserve(o, &c.E.Settings, c.Args[idx:], scores)
		for j := 0; j < elements; j++ {
			out, ns, good := zsetAdd(o, &c.E.Settings, scores[j], c.Args[idx+1+2*j], flags)
			if !good {
				// Only INCR, with its single pair, can reach NaN: nothing has changed.
				c.Error(errZaddNaN)
				return
			}
			added, updated, processed, score = zaddCount(out, ns, added, updated, processed)
		}
		if reserved && o.Enc == EncListpack {
			o.Str = zlpTrim(o.Str)
		}
		if added+updated > 0 {
			zsetSignal(c, key, added+updated, false)
		}
	}
	if incr {
		if processed > 0 {
			c.W.Double(score)
		} else {
			c.W.Null()
		}
	} else if ch {
		c.W.Int(int64(added + updated))
	} else {
		c.W.Int(int64(added))
	}
	if added+updated > 0 {
		c.zaddNotify(incr, key)
	}
}

// zaddReserve grows a listpack set once for all the pairs of a multi-member ZADD
// (pairs alternates scores and members; scores holds them parsed) when they would
// all fit within the listpack limits, and reports whether it did. Members that turn
// out to exist already leave room that zlpTrim gives back afterwards.
func zaddReserve(o *Object, st *Settings, pairs [][]byte, scores []float64) bool {
	if o.Enc != EncListpack || len(scores) < 2 {
		return false
	}
	extra := 0
	for j, s := range scores {
		m := pairs[2*j+1]
		if len(m) > st.ZSetMaxListpackValue {
			return false
		}
		extra += zlpEntrySize(m, s)
	}
	if len(o.Str)+extra > lpSafetySize || zlpLen(o.Str)+len(scores) > st.ZSetMaxListpackEntries {
		return false
	}
	o.Str = zlpReserve(o.Str, extra)
	return true
}

func zaddCount(out int, ns float64, added, updated, processed int) (int, int, int, float64) {
	if out&zaddOutAdded != 0 {
		added++
	}
	if out&zaddOutUpdated != 0 {
		updated++
	}
	if out&zaddOutNop == 0 {
		processed++
	}
	return added, updated, processed, ns
}

func (c *Ctx) zaddNotify(incr bool, key []byte) {
	if incr {
		c.Notify(EventZSet, "zincr", key)
	} else {
		c.Notify(EventZSet, "zadd", key)
	}
}

// ---- ZREM, ZREMRANGEBY* ----

func cmdZrem(c *Ctx) {
	key := c.Args[1]
	o, ok := zsetLookupWrite(c, key)
	if !ok {
		return
	}
	if o == nil {
		c.W.Int(0)
		return
	}
	deleted, removed := 0, false
	for _, m := range c.Args[2:] {
		if zsetDel(o, m) {
			deleted++
		}
		if zsetLen(o) == 0 {
			removed = true
			break
		}
	}
	if deleted > 0 {
		c.Notify(EventZSet, "zrem", key)
		zsetSignal(c, key, deleted, removed)
		if removed {
			c.Notify(EventGeneric, "del", key)
		}
	}
	c.W.Int(int64(deleted))
}

const (
	zrangeAuto = iota
	zrangeRank
	zrangeScore
	zrangeLex
)

func cmdZremrangebyrank(c *Ctx)  { zremrangeGeneric(c, zrangeRank) }
func cmdZremrangebyscore(c *Ctx) { zremrangeGeneric(c, zrangeScore) }
func cmdZremrangebylex(c *Ctx)   { zremrangeGeneric(c, zrangeLex) }

func zremrangeGeneric(c *Ctx, kind int) {
	key := c.Args[1]
	var start, end int64
	var sr zrangeSpec
	var lr zlexSpec
	var event string
	switch kind {
	case zrangeRank:
		event = "zremrangebyrank"
		var ok bool
		if start, ok = parseLong(c, c.Args[2], ""); !ok {
			return
		}
		if end, ok = parseLong(c, c.Args[3], ""); !ok {
			return
		}
	case zrangeScore:
		event = "zremrangebyscore"
		var ok bool
		if sr, ok = parseScoreRange(c.Args[2], c.Args[3]); !ok {
			c.Error(errMinMaxFloat)
			return
		}
	case zrangeLex:
		event = "zremrangebylex"
		var ok bool
		if lr, ok = parseLexRange(c.Args[2], c.Args[3]); !ok {
			c.Error(errMinMaxLex)
			return
		}
	}
	o, ok := zsetLookupWrite(c, key)
	if !ok {
		return
	}
	if o == nil {
		c.W.Int(0)
		return
	}
	var deleted int
	switch kind {
	case zrangeRank:
		n := int64(zsetLen(o))
		if start < 0 {
			start += n
		}
		if end < 0 {
			end += n
		}
		if start < 0 {
			start = 0
		}
		if start > end || start >= n {
			c.W.Int(0)
			return
		}
		if end >= n {
			end = n - 1
		}
		deleted = zsetDeleteRangeByRank(o, int(start), int(end))
	case zrangeScore:
		deleted = zsetDeleteRangeByScore(o, &sr)
	case zrangeLex:
		deleted = zsetDeleteRangeByLex(o, &lr)
	}
	if deleted > 0 {
		removed := zsetLen(o) == 0
		zsetSignal(c, key, deleted, removed)
		c.Notify(EventZSet, event, key)
		if removed {
			c.Notify(EventGeneric, "del", key)
		}
	}
	c.W.Int(int64(deleted))
}

// ---- ZRANGE and friends ----

// zrangeSink receives a range: either the client's reply or the set ZRANGESTORE builds.
type zrangeSink struct {
	c          *Ctx
	store      bool
	dst        []byte
	dstObj     Object
	withScores bool
	nested     bool // RESP3 WITHSCORES: each pair is its own array
	deferred   bool
	d          resp.Deferred
}

func (s *zrangeSink) begin(length int) {
	if s.store {
		s.dstObj = newZSetObject(length <= s.c.E.Settings.ZSetMaxListpackEntries)
		return
	}
	if length > 0 {
		if s.withScores && !s.nested {
			length *= 2
		}
		s.c.W.Array(length)
		return
	}
	s.deferred = true
	s.d = s.c.W.DeferLen()
}

func (s *zrangeSink) emit(member []byte, score float64) {
	if s.store {
		zsetAdd(&s.dstObj, &s.c.E.Settings, score, member, 0)
		return
	}
	w := s.c.W
	if s.nested {
		w.Array(2)
	}
	w.Bulk(member)
	if s.withScores {
		w.Double(score)
	}
}

func (s *zrangeSink) finish(count int) {
	c := s.c
	if s.store {
		if count > 0 {
			c.SetKey(s.dst, s.dstObj, false)
			c.W.Int(int64(count))
			c.Notify(EventZSet, "zrangestore", s.dst)
			return
		}
		c.W.Int(0)
		if c.DeleteKey(s.dst) {
			c.Notify(EventGeneric, "del", s.dst)
		}
		return
	}
	if s.deferred {
		if s.withScores && !s.nested {
			count *= 2
		}
		c.W.SetArray(s.d, count)
	}
}

func cmdZrange(c *Ctx)        { zrangeGeneric(c, 1, false, zrangeAuto, dirAuto) }
func cmdZrangestore(c *Ctx)   { zrangeGeneric(c, 2, true, zrangeAuto, dirAuto) }
func cmdZrevrange(c *Ctx)     { zrangeGeneric(c, 1, false, zrangeRank, dirReverse) }
func cmdZrangebyscore(c *Ctx) { zrangeGeneric(c, 1, false, zrangeScore, dirForward) }
func cmdZrevrangebyscore(c *Ctx) {
	zrangeGeneric(c, 1, false, zrangeScore, dirReverse)
}
func cmdZrangebylex(c *Ctx)    { zrangeGeneric(c, 1, false, zrangeLex, dirForward) }
func cmdZrevrangebylex(c *Ctx) { zrangeGeneric(c, 1, false, zrangeLex, dirReverse) }

const (
	dirAuto = iota
	dirForward
	dirReverse
)

// zrangeGeneric is ZRANGE, ZRANGESTORE and the older Z[REV]RANGE[BYSCORE|BYLEX]; src
// is the position of the source key, followed by min, max and the options.
func zrangeGeneric(c *Ctx, src int, store bool, kind, dir int) {
	key := c.Args[src]
	minIdx, maxIdx := src+1, src+2
	withScores := false
	var offset, limit int64 = 0, -1
	for j := src + 3; j < len(c.Args); j++ {
		left := len(c.Args) - j - 1
		switch {
		case !store && c.Is(j, "withscores"):
			withScores = true
		case c.Is(j, "limit") && left >= 2:
			var ok bool
			if offset, ok = parseLong(c, c.Args[j+1], ""); !ok {
				return
			}
			if limit, ok = parseLong(c, c.Args[j+2], ""); !ok {
				return
			}
			j += 2
		case dir == dirAuto && c.Is(j, "rev"):
			dir = dirReverse
		case kind == zrangeAuto && c.Is(j, "bylex"):
			kind = zrangeLex
		case kind == zrangeAuto && c.Is(j, "byscore"):
			kind = zrangeScore
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	if dir == dirAuto {
		dir = dirForward
	}
	if kind == zrangeAuto {
		kind = zrangeRank
	}
	if limit != -1 && kind == zrangeRank {
		c.Error(errLimitRank)
		return
	}
	if withScores && kind == zrangeLex {
		c.Error(errWithscoresLex)
		return
	}
	rev := dir == dirReverse
	if rev && kind != zrangeRank {
		minIdx, maxIdx = maxIdx, minIdx // given as max, min
	}
	var start, end int64
	var sr zrangeSpec
	var lr zlexSpec
	switch kind {
	case zrangeRank:
		var ok bool
		if start, ok = parseLong(c, c.Args[minIdx], ""); !ok {
			return
		}
		if end, ok = parseLong(c, c.Args[maxIdx], ""); !ok {
			return
		}
	case zrangeScore:
		var ok bool
		if sr, ok = parseScoreRange(c.Args[minIdx], c.Args[maxIdx]); !ok {
			c.Error(errMinMaxFloat)
			return
		}
	case zrangeLex:
		var ok bool
		if lr, ok = parseLexRange(c.Args[minIdx], c.Args[maxIdx]); !ok {
			c.Error(errMinMaxLex)
			return
		}
	}
	sink := zrangeSink{c: c, store: store, withScores: withScores || store}
	if store {
		sink.dst = c.Args[1]
	} else {
		sink.nested = withScores && c.W.Proto() > 2
	}
	o := c.LookupRead(key)
	if o == nil {
		if store {
			sink.begin(-1)
			sink.finish(0)
		} else {
			c.W.Array(0)
		}
		return
	}
	if o.Type != TypeZSet {
		c.Error(ErrWrongType)
		return
	}
	switch kind {
	case zrangeRank:
		zrangeByRank(&sink, o, start, end, rev)
	case zrangeScore:
		zrangeByScore(&sink, o, &sr, offset, limit, rev)
	case zrangeLex:
		zrangeByLex(&sink, o, &lr, offset, limit, rev)
	}
}

func zrangeByRank(s *zrangeSink, o *Object, start, end int64, rev bool) {
	n := int64(zsetLen(o))
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	if start < 0 {
		start = 0
	}
	if start > end || start >= n {
		s.begin(0)
		s.finish(0)
		return
	}
	if end >= n {
		end = n - 1
	}
	count := int(end - start + 1)
	s.begin(count)
	var buf [zcursorStack]int32
	var z zcursor
	for z.atRank(o, int(start), rev, buf[:]); z.ok && count > 0; z.next() {
		s.emit(z.member, z.score)
		count--
	}
	s.finish(int(end - start + 1))
}

func zrangeByScore(s *zrangeSink, o *Object, r *zrangeSpec, offset, limit int64, rev bool) {
	s.begin(-1)
	if offset > 0 && offset >= int64(zsetLen(o)) {
		s.finish(0)
		return
	}
	var buf [zcursorStack]int32
	var z zcursor
	z.inScore(o, r, rev, buf[:])
	// A negative offset walks off the end, as Redis's "while (offset--)" does.
	for ; z.ok && offset != 0; offset-- {
		z.next()
	}
	n := 0
	for ; z.ok && limit != 0; limit-- {
		if rev && !r.gteMin(z.score) || !rev && !r.lteMax(z.score) {
			break
		}
		s.emit(z.member, z.score)
		n++
		z.next()
	}
	s.finish(n)
}

func zrangeByLex(s *zrangeSink, o *Object, r *zlexSpec, offset, limit int64, rev bool) {
	s.begin(-1)
	var buf [zcursorStack]int32
	var z zcursor
	z.inLex(o, r, rev, buf[:])
	for ; z.ok && offset != 0; offset-- {
		z.next()
	}
	n := 0
	for ; z.ok && limit != 0; limit-- {
		m := unsafeString(z.member)
		if rev && !r.gteMin(m) || !rev && !r.lteMax(m) {
			break
		}
		s.emit(z.member, z.score)
		n++
		z.next()
	}
	s.finish(n)
}

// ---- counting and lookups ----

func cmdZcount(c *Ctx) {
	r, ok := parseScoreRange(c.Args[2], c.Args[3])
	if !ok {
		c.Error(errMinMaxFloat)
		return
	}
	o, ok := zsetLookup(c, c.Args[1])
	if !ok {
		return
	}
	if o == nil {
		c.W.Int(0)
		return
	}
	if o.Enc == EncSkiplist {
		zsl := o.Val.(*zset).zsl
		c.W.Int(int64(zsl.countBetween(zsl.FirstInRange(&r), zsl.LastInRange(&r))))
		return
	}
	var buf [zcursorStack]int32
	var z zcursor
	count := 0
	for z.inScore(o, &r, false, buf[:]); z.ok && r.lteMax(z.score); z.next() {
		count++
	}
	c.W.Int(int64(count))
}

func cmdZlexcount(c *Ctx) {
	r, ok := parseLexRange(c.Args[2], c.Args[3])
	if !ok {
		c.Error(errMinMaxLex)
		return
	}
	o, ok := zsetLookup(c, c.Args[1])
	if !ok {
		return
	}
	if o == nil {
		c.W.Int(0)
		return
	}
	if o.Enc == EncSkiplist {
		zsl := o.Val.(*zset).zsl
		c.W.Int(int64(zsl.countBetween(zsl.FirstInLexRange(&r), zsl.LastInLexRange(&r))))
		return
	}
	var buf [zcursorStack]int32
	var z zcursor
	count := 0
	for z.inLex(o, &r, false, buf[:]); z.ok && r.lteMax(unsafeString(z.member)); z.next() {
		count++
	}
	c.W.Int(int64(count))
}

func cmdZcard(c *Ctx) {
	o, ok := zsetLookup(c, c.Args[1])
	if !ok {
		return
	}
	if o == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(zsetLen(o)))
}

func cmdZscore(c *Ctx) {
	o, ok := zsetLookup(c, c.Args[1])
	if !ok {
		return
	}
	if o == nil {
		c.W.Null()
		return
	}
	if s, found := zsetScore(o, c.Args[2]); found {
		c.W.Double(s)
	} else {
		c.W.Null()
	}
}

func cmdZmscore(c *Ctx) {
	o, ok := zsetLookup(c, c.Args[1])
	if !ok {
		return
	}
	c.W.Array(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		if o == nil {
			c.W.Null()
			continue
		}
		if s, found := zsetScore(o, m); found {
			c.W.Double(s)
		} else {
			c.W.Null()
		}
	}
}

func cmdZrank(c *Ctx)    { zrankGeneric(c, false) }
func cmdZrevrank(c *Ctx) { zrankGeneric(c, true) }

func zrankGeneric(c *Ctx, rev bool) {
	o, ok := zsetLookup(c, c.Args[1])
	if !ok {
		return
	}
	if o == nil {
		c.W.Null()
		return
	}
	if r := zsetRank(o, c.Args[2], rev); r >= 0 {
		c.W.Int(int64(r))
	} else {
		c.W.Null()
	}
}

// ---- ZSCAN ----

func cmdZscan(c *Ctx) {
	cursor, ok := parseCollCursor(c.Args[2])
	if !ok {
		c.Error(errCollCursor)
		return
	}
	o, ok := zsetLookup(c, c.Args[1])
	if !ok {
		return
	}
	if o == nil {
		writeCollScan(c, 0, nil)
		return
	}
	opts, ok := parseCollScanOptions(c, 3)
	if !ok {
		return
	}
	// Scores are strings here, in RESP3 too, printed as Redis keeps them: a listpack
	// holds whole scores as integers, a skiplist prints every score with %.17g.
	var elems [][]byte
	add := func(m []byte, s float64, listpack bool) {
		if !opts.matches(m) {
			return
		}
		var text []byte
		if v, isInt := zlpIntScore(s); listpack && isInt {
			text = strconv.AppendInt(nil, v, 10)
		} else {
			text = resp.AppendDouble(nil, s)
		}
		elems = append(elems, m, text)
	}
	if o.Enc == EncListpack {
		zsetEach(o, func(m []byte, s float64) bool { add(m, s, true); return true })
		writeCollScan(c, 0, elems)
		return
	}
	d := o.Val.(*zset).dict
	// COUNT counts reply elements, two per member; at most ten times as many buckets
	// are visited, so a sparse table cannot stall the server.
	count := opts.count * 2
	maxIter := count * 10
	for {
		cursor = d.Scan(cursor, func(k string, v *float64) { add(unsafeBytes(k), *v, false) })
		if cursor == 0 || maxIter == 0 || len(elems) >= count {
			break
		}
		maxIter--
	}
	writeCollScan(c, cursor, elems)
}

// ---- ZPOPMIN, ZPOPMAX, ZMPOP ----

const (
	zsetMin = 0
	zsetMax = 1
)

var zpopEvents = [2]string{"zpopmin", "zpopmax"}

// zpopOpts says how genericZpop replies.
type zpopOpts struct {
	where      int
	emitKey    bool  // BZPOP*, ZMPOP: the key is part of the reply
	count      int64 // -1: a plain single pop
	nested     bool  // pairs as arrays of two
	nilIfEmpty bool  // ZMPOP answers a null array when no key has members
}

// genericZpop pops from the first existing key of keys (Redis's genericZpopCommand)
// and returns the key it popped from (nil if none) and how many members it popped.
func genericZpop(c *Ctx, keys [][]byte, opt zpopOpts) (popped []byte, n int) {
	var key []byte
	var o *Object
	for _, k := range keys {
		obj, ok := zsetLookupWrite(c, k)
		if !ok {
			return nil, 0
		}
		if obj != nil {
			key, o = k, obj
			break
		}
	}
	if o == nil {
		if opt.nilIfEmpty {
			c.W.NullArray()
		} else {
			c.W.Array(0)
		}
		return nil, 0
	}
	count := opt.count
	if count == 0 {
		c.W.Array(0)
		return nil, 0
	}
	if count == -1 {
		count = 1
	}
	llen := int64(zsetLen(o))
	rangelen := min(count, llen)
	switch {
	case !opt.nested && !opt.emitKey:
		c.W.Array(int(rangelen * 2))
	case opt.nested && !opt.emitKey:
		c.W.Array(int(rangelen))
	case !opt.nested && opt.emitKey:
		c.W.Array(int(rangelen*2 + 1))
		c.W.Bulk(key)
	default:
		c.W.Array(2)
		c.W.Bulk(key)
		c.W.Array(int(rangelen))
	}
	var member []byte
	for i := int64(0); i < rangelen; i++ {
		var score float64
		if o.Enc == EncListpack {
			var buf [zcursorStack]int32
			var z zcursor
			z.atRank(o, 0, opt.where == zsetMax, buf[:])
			member, score = append(member[:0], z.member...), z.score
		} else {
			zsl := o.Val.(*zset).zsl
			nd := zsl.First()
			if opt.where == zsetMax {
				nd = zsl.Last()
			}
			member, score = append(member[:0], nd.member...), nd.score
		}
		zsetDel(o, member)
		if opt.nested {
			c.W.Array(2)
		}
		c.W.Bulk(member)
		c.W.Double(score)
	}
	removed := zsetLen(o) == 0
	c.Notify(EventZSet, zpopEvents[opt.where], key)
	zsetSignal(c, key, int(rangelen), removed)
	if removed {
		c.Notify(EventGeneric, "del", key)
	}
	return key, int(rangelen)
}

func cmdZpopmin(c *Ctx) { zpopMinMax(c, zsetMin) }
func cmdZpopmax(c *Ctx) { zpopMinMax(c, zsetMax) }

func zpopMinMax(c *Ctx, where int) {
	if len(c.Args) > 3 {
		c.Error(ErrSyntax)
		return
	}
	count := int64(-1)
	if len(c.Args) == 3 {
		var ok bool
		if count, ok = parseRangeLong(c, c.Args[2], 0, math.MaxInt64, ErrNotPositive); !ok {
			return
		}
	}
	genericZpop(c, c.Args[1:2], zpopOpts{where: where, count: count, nested: c.W.Proto() > 2 && count != -1})
}

// parseZmpop reads "numkeys key... MIN|MAX [COUNT count]" from position idx.
func parseZmpop(c *Ctx, idx int) (keys [][]byte, where int, count int64, ok bool) {
	numkeys, ok := parseRangeLong(c, c.Args[idx], 1, math.MaxInt64, "ERR numkeys should be greater than 0")
	if !ok {
		return nil, 0, 0, false
	}
	whereIdx := int64(idx) + numkeys + 1
	if whereIdx >= int64(len(c.Args)) {
		c.Error(ErrSyntax)
		return nil, 0, 0, false
	}
	switch {
	case c.Is(int(whereIdx), "min"):
		where = zsetMin
	case c.Is(int(whereIdx), "max"):
		where = zsetMax
	default:
		c.Error(ErrSyntax)
		return nil, 0, 0, false
	}
	count = -1
	for j := int(whereIdx) + 1; j < len(c.Args); j++ {
		if count == -1 && c.Is(j, "count") && j+1 < len(c.Args) {
			j++
			if count, ok = parseRangeLong(c, c.Args[j], 1, math.MaxInt64, "ERR count should be greater than 0"); !ok {
				return nil, 0, 0, false
			}
			continue
		}
		c.Error(ErrSyntax)
		return nil, 0, 0, false
	}
	if count == -1 {
		count = 1
	}
	return c.Args[idx+1 : whereIdx], where, count, true
}

func cmdZmpop(c *Ctx) {
	keys, where, count, ok := parseZmpop(c, 1)
	if !ok {
		return
	}
	key, n := genericZpop(c, keys, zpopOpts{where: where, emitKey: true, count: count, nested: true, nilIfEmpty: true})
	if n > 0 {
		// Replicas and the AOF see the pop it was: ZPOPMIN/ZPOPMAX key count.
		c.Propagate([]byte(zpopCommandName(where)), key, strconv.AppendInt(nil, int64(n), 10))
	}
}

func zpopCommandName(where int) string {
	if where == zsetMax {
		return "ZPOPMAX"
	}
	return "ZPOPMIN"
}

// ---- ZRANDMEMBER ----

// zrandSubStrategyMul: when the set is at most this many times the count asked for,
// picking distinct members at random would retry too often, so all are shuffled.
const zrandSubStrategyMul = 3

func cmdZrandmember(c *Ctx) {
	if len(c.Args) >= 3 {
		l, ok := parseRangeLong(c, c.Args[2], -math.MaxInt64, math.MaxInt64, "")
		if !ok {
			return
		}
		withScores := false
		if len(c.Args) > 4 || (len(c.Args) == 4 && !c.Is(3, "withscores")) {
			c.Error(ErrSyntax)
			return
		} else if len(c.Args) == 4 {
			withScores = true
			if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
				c.Error("ERR value is out of range")
				return
			}
		}
		zrandmemberWithCount(c, l, withScores)
		return
	}
	o, ok := zsetLookup(c, c.Args[1])
	if !ok {
		return
	}
	if o == nil {
		c.W.Null()
		return
	}
	m, _ := zsetRandom(c, o)
	c.W.Bulk(m)
}

// zsetRandom picks one member uniformly.
func zsetRandom(c *Ctx, o *Object) ([]byte, float64) {
	if o.Enc == EncListpack {
		var buf [zcursorStack]int32
		var z zcursor
		z.atRank(o, c.E.Rand.IntN(zsetLen(o)), false, buf[:])
		return z.member, z.score
	}
	k, v, _ := o.Val.(*zset).dict.RandomEntry(c.E.Rand)
	return unsafeBytes(k), *v
}

func zrandmemberWithCount(c *Ctx, l int64, withScores bool) {
	o, ok := zsetLookup(c, c.Args[1])
	if !ok {
		return
	}
	if o == nil {
		c.W.Array(0)
		return
	}
	size := int64(zsetLen(o))
	count, uniq := l, true
	if l < 0 {
		count, uniq = -l, false
	}
	if count == 0 {
		c.W.Array(0)
		return
	}
	nested := withScores && c.W.Proto() > 2
	header := func(n int64) {
		if withScores && !nested {
			n *= 2
		}
		c.W.Array(int(n))
	}
	pair := func(m []byte, s float64) {
		if nested {
			c.W.Array(2)
		}
		c.W.Bulk(m)
		if withScores {
			c.W.Double(s)
		}
	}
	// Case 1: repetitions allowed (or a single member): independent picks.
	if !uniq || count == 1 {
		header(count)
		if o.Enc == EncListpack {
			var buf [zcursorStack]int32
			offs := zlpOffsets(o.Str, buf[:0])
			for ; count > 0; count-- {
				m, s, _ := zlpEntry(o.Str, int(offs[c.E.Rand.IntN(len(offs))]))
				pair(m, s)
			}
			return
		}
		d := o.Val.(*zset).dict
		for ; count > 0; count-- {
			k, v, _ := d.RandomEntry(c.E.Rand)
			pair(unsafeBytes(k), *v)
		}
		return
	}
	// Case 2: asking for at least the whole set returns the whole set, highest first
	// as Redis's set-operation iterator walks it.
	if count >= size {
		header(size)
		var buf [zcursorStack]int32
		var z zcursor
		for z.atRank(o, 0, true, buf[:]); z.ok; z.next() {
			pair(z.member, z.score)
		}
		return
	}
	header(count)
	// Cases 3 and 4: distinct members. Take all members and shuffle the first count
	// into place when count is a large share of the set; otherwise pick until count
	// distinct members have been seen.
	if count*zrandSubStrategyMul > size || o.Enc == EncListpack {
		type entry struct {
			m []byte
			s float64
		}
		all := make([]entry, 0, size)
		zsetEach(o, func(m []byte, s float64) bool { all = append(all, entry{m, s}); return true })
		for i := int64(0); i < count; i++ {
			j := i + c.E.Rand.Int64N(size-i)
			all[i], all[j] = all[j], all[i]
			pair(all[i].m, all[i].s)
		}
		return
	}
	d := o.Val.(*zset).dict
	seen := make(map[string]struct{}, count)
	for int64(len(seen)) < count {
		k, v, _ := d.RandomEntry(c.E.Rand)
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		pair(unsafeBytes(k), *v)
	}
}
