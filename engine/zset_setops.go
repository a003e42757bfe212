package engine

import (
	"math"
	"slices"
	"strings"
)

// ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD (Redis's
// zunionInterDiffGenericCommand). Inputs may be sorted sets or plain sets, whose
// members count with score 1.

const (
	setOpUnion = iota
	setOpInter
	setOpDiff
)

const (
	aggrSum = iota
	aggrMin
	aggrMax
)

// zsrc is one input of a set operation; o is nil for a missing key.
type zsrc struct {
	o      *Object
	weight float64
}

func (s *zsrc) len() int {
	switch {
	case s.o == nil:
		return 0
	case s.o.Type == TypeSet:
		return setSourceLen(s.o)
	}
	return zsetLen(s.o)
}

// each visits every member with its score (1 for a plain set).
func (s *zsrc) each(fn func(member []byte, score float64) bool) {
	switch {
	case s.o == nil:
	case s.o.Type == TypeSet:
		setSourceEach(s.o, func(m []byte) bool { return fn(m, 1) })
	default:
		zsetEach(s.o, fn)
	}
}

func (s *zsrc) find(member []byte) (float64, bool) {
	switch {
	case s.o == nil:
		return 0, false
	case s.o.Type == TypeSet:
		return 1, setSourceHas(s.o, member)
	}
	return zsetScore(s.o, member)
}

// zunionInterAggregate folds val into target. Summing +inf and -inf gives 0, not NaN,
// as Redis decided.
func zunionInterAggregate(target *float64, val float64, aggr int) {
	switch aggr {
	case aggrSum:
		*target += val
		if math.IsNaN(*target) {
			*target = 0
		}
	case aggrMin:
		if val < *target {
			*target = val
		}
	case aggrMax:
		if val > *target {
			*target = val
		}
	}
}

// zpair is one member of a result being built.
type zpair struct {
	member string
	score  float64
}

func cmdZunionstore(c *Ctx) { zsetOpGeneric(c, c.Args[1], 2, setOpUnion, false) }
func cmdZinterstore(c *Ctx) { zsetOpGeneric(c, c.Args[1], 2, setOpInter, false) }
func cmdZdiffstore(c *Ctx)  { zsetOpGeneric(c, c.Args[1], 2, setOpDiff, false) }
func cmdZunion(c *Ctx)      { zsetOpGeneric(c, nil, 1, setOpUnion, false) }
func cmdZinter(c *Ctx)      { zsetOpGeneric(c, nil, 1, setOpInter, false) }
func cmdZintercard(c *Ctx)  { zsetOpGeneric(c, nil, 1, setOpInter, true) }
func cmdZdiff(c *Ctx)       { zsetOpGeneric(c, nil, 1, setOpDiff, false) }

func zsetOpGeneric(c *Ctx, dst []byte, numIdx int, op int, cardOnly bool) {
	setnum, ok := parseLong(c, c.Args[numIdx], "")
	if !ok {
		return
	}
	if setnum < 1 {
		c.Error("ERR at least 1 input key is needed for '" + c.Cmd.Name + "' command")
		return
	}
	if setnum > int64(len(c.Args)-(numIdx+1)) {
		c.Error(ErrSyntax)
		return
	}
	src := make([]zsrc, setnum)
	j := numIdx + 1
	for i := range src {
		o := c.LookupRead(c.Args[j])
		if o != nil && o.Type != TypeZSet && o.Type != TypeSet {
			c.Error(ErrWrongType)
			return
		}
		src[i] = zsrc{o: o, weight: 1}
		j++
	}
	aggr, withScores := aggrSum, false
	var limit int64
	for j < len(c.Args) {
		remaining := len(c.Args) - j
		switch {
		case op != setOpDiff && !cardOnly && remaining >= int(setnum)+1 && c.Is(j, "weights"):
			j++
			for i := range src {
				w, ok := parseScore(c.Args[j])
				if !ok {
					c.Error("ERR weight value is not a float")
					return
				}
				src[i].weight = w
				j++
			}
		case op != setOpDiff && !cardOnly && remaining >= 2 && c.Is(j, "aggregate"):
			j++
			switch {
			case c.Is(j, "sum"):
				aggr = aggrSum
			case c.Is(j, "min"):
				aggr = aggrMin
			case c.Is(j, "max"):
				aggr = aggrMax
			default:
				c.Error(ErrSyntax)
				return
			}
			j++
		case dst == nil && !cardOnly && c.Is(j, "withscores"):
			j++
			withScores = true
		case cardOnly && remaining >= 2 && c.Is(j, "limit"):
			j++
			n, ok := parseRangeLong(c, c.Args[j], 0, math.MaxInt64, "ERR LIMIT can't be negative")
			if !ok {
				return
			}
			limit = n
			j++
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	if op != setOpDiff {
		// Smallest first: the intersection walks the smallest input, and sums add up
		// in the same order as Redis's (stable) sort leaves them.
		slices.SortStableFunc(src, func(a, b zsrc) int { return a.len() - b.len() })
	}

	var res []zpair
	cardinality := int64(0)
	switch op {
	case setOpInter:
		if src[0].len() == 0 {
			break
		}
		src[0].each(func(m []byte, s float64) bool {
			score := src[0].weight * s
			if math.IsNaN(score) {
				score = 0
			}
			k := 1
			for ; k < len(src); k++ {
				var v float64
				if src[k].o == src[0].o {
					v = s * src[k].weight
				} else if found, ok := src[k].find(m); ok {
					v = found * src[k].weight
				} else {
					break
				}
				zunionInterAggregate(&score, v, aggr)
			}
			if k < len(src) {
				return true
			}
			if cardOnly {
				cardinality++
				return limit == 0 || cardinality < limit
			}
			res = append(res, zpair{string(m), score})
			return true
		})
	case setOpUnion:
		acc := make(map[string]int, src[len(src)-1].len())
		for i := range src {
			src[i].each(func(m []byte, s float64) bool {
				score := src[i].weight * s
				if math.IsNaN(score) {
					score = 0
				}
				if at, ok := acc[string(m)]; ok {
					zunionInterAggregate(&res[at].score, score, aggr)
					return true
				}
				acc[string(m)] = len(res)
				res = append(res, zpair{string(m), score})
				return true
			})
		}
	case setOpDiff:
		if src[0].len() == 0 {
			break
		}
		for k := 1; k < len(src); k++ {
			if src[k].o == src[0].o {
				// Subtracting the set from itself leaves nothing.
				src[0].o = nil
			}
		}
		src[0].each(func(m []byte, s float64) bool {
			for k := 1; k < len(src); k++ {
				if _, ok := src[k].find(m); ok {
					return true
				}
			}
			res = append(res, zpair{string(m), s})
			return true
		})
	}

	if cardOnly {
		c.W.Int(cardinality)
		return
	}
	slices.SortFunc(res, func(a, b zpair) int {
		switch {
		case a.score < b.score:
			return -1
		case a.score > b.score:
			return 1
		}
		return strings.Compare(a.member, b.member)
	})
	if dst != nil {
		zsetOpStore(c, dst, op, res)
		return
	}
	nested := withScores && c.W.Proto() > 2
	if withScores && !nested {
		c.W.Array(2 * len(res))
	} else {
		c.W.Array(len(res))
	}
	for _, p := range res {
		if nested {
			c.W.Array(2)
		}
		c.W.BulkString(p.member)
		if withScores {
			c.W.Double(p.score)
		}
	}
}

var zsetOpEvents = [...]string{setOpUnion: "zunionstore", setOpInter: "zinterstore", setOpDiff: "zdiffstore"}

// zsetOpStore writes a sorted result to dst in the encoding Redis would end with: a
// listpack when it fits the limits, else a skiplist.
func zsetOpStore(c *Ctx, dst []byte, op int, res []zpair) {
	if len(res) == 0 {
		c.W.Int(0)
		if c.DeleteKey(dst) {
			c.Notify(EventGeneric, "del", dst)
		}
		return
	}
	maxLen, totLen := 0, 0
	for _, p := range res {
		maxLen = max(maxLen, len(p.member))
		totLen += len(p.member)
	}
	st := &c.E.Settings
	var o Object
	if len(res) <= st.ZSetMaxListpackEntries && maxLen <= st.ZSetMaxListpackValue && totLen <= lpSafetySize {
		size := 0
		for _, p := range res {
			size += zlpEntrySize(unsafeBytes(p.member), p.score)
		}
		lp := make([]byte, 0, size)
		for _, p := range res {
			lp = zlpInsertAt(lp, len(lp), unsafeBytes(p.member), p.score)
		}
		o = Object{Type: TypeZSet, Enc: EncListpack, Str: lp}
	} else {
		zs := newZSet()
		zs.dict.Reserve(len(res))
		for i := len(res) - 1; i >= 0; i-- {
			zs.insert(res[i].score, res[i].member)
		}
		o = Object{Type: TypeZSet, Enc: EncSkiplist, Val: zs}
	}
	c.SetKey(dst, o, false)
	c.W.Int(int64(len(res)))
	c.Notify(EventZSet, zsetOpEvents[op], dst)
}
