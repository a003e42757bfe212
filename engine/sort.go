package engine

import (
	"bytes"
	"math"
	"sort"
	"strconv"
	"strings"
)

// SORT and SORT_RO (Redis's sort.c).
//
// SORT reads lists, sets and sorted sets, and writes lists, all of which live in their
// own files. It reaches them only through the three small hooks below, which those
// files fill in from init functions. Every hook runs with the engine lock held and
// must not block or keep the slices it is given.

func sortCommands() []*Command {
	acl := []string{"set", "sortedset", "list", "slow", "dangerous"}
	complexity := "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N)."
	return []*Command{
		{Name: "sort", Arity: -2, Flags: FlagWrite | FlagDenyOOM | FlagMovableKeys,
			ACL: append([]string{"write"}, acl...), Keys: KeySpec{FirstKey: 1, LastKey: 1, Step: 1},
			Group: "generic", Since: "1.0.0", Summary: "Sort the elements in a list, set or sorted set",
			Syntax:     "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA] [STORE destination]",
			Complexity: complexity, GetKeys: sortGetKeys, Handler: func(c *Ctx) { sortGeneric(c, false) }},
		{Name: "sort_ro", Arity: -2, Flags: FlagReadonly,
			ACL: append([]string{"read"}, acl...), Keys: KeySpec{FirstKey: 1, LastKey: 1, Step: 1},
			Group: "generic", Since: "7.0.0", Summary: "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
			Syntax:     "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA]",
			Complexity: complexity, Handler: func(c *Ctx) { sortGeneric(c, true) }},
	}
}

// sortGetKeys finds the sorted key and the last STORE destination the way Redis's
// sortGetKeys does, skipping the arguments of LIMIT, GET and BY.
func sortGetKeys(args [][]byte) []int {
	keys := []int{1}
	store := -1
	for i := 2; i < len(args); i++ {
		switch {
		case EqualFold(args[i], "limit"):
			i += 2
		case EqualFold(args[i], "get"), EqualFold(args[i], "by"):
			i++
		case EqualFold(args[i], "store") && i+1 < len(args):
			store = i + 1
		}
	}
	if store > 0 {
		keys = append(keys, store)
	}
	return keys
}

// sortItem is one element being sorted with what it sorts by.
type sortItem struct {
	elem  []byte
	score float64
	by    []byte // ALPHA BY: the looked-up value, nil when missing
}

func sortGeneric(c *Ctx, readonly bool) {
	var (
		desc, alpha, dontsort bool
		limitStart, limitCnt  int64 = 0, -1
		sortBy, storeKey      []byte
		gets                  [][]byte
	)
	for j := 2; j < len(c.Args); j++ {
		left := len(c.Args) - j - 1
		switch {
		case c.Is(j, "asc"):
			desc = false
		case c.Is(j, "desc"):
			desc = true
		case c.Is(j, "alpha"):
			alpha = true
		case c.Is(j, "limit") && left >= 2:
			var ok bool
			if limitStart, ok = ParseInt(c.Args[j+1]); !ok {
				c.Error(ErrNotInt)
				return
			}
			if limitCnt, ok = ParseInt(c.Args[j+2]); !ok {
				c.Error(ErrNotInt)
				return
			}
			j += 2
		case !readonly && c.Is(j, "store") && left >= 1:
			storeKey = c.Args[j+1]
			j++
		case c.Is(j, "by") && left >= 1:
			sortBy = c.Args[j+1]
			// A pattern without '*' names one fixed key: nothing to sort by.
			dontsort = bytes.IndexByte(sortBy, '*') < 0
			j++
		case c.Is(j, "get") && left >= 1:
			gets = append(gets, c.Args[j+1])
			j++
		default:
			c.Error(ErrSyntax)
			return
		}
	}

	var elems [][]byte
	typ := TypeList
	if o := c.LookupRead(c.Args[1]); o != nil {
		if o.Type != TypeList && o.Type != TypeSet && o.Type != TypeZSet {
			c.Error(ErrWrongType)
			return
		}
		got, ok := c.E.hooks.sortElements(o)
		if !ok {
			c.Error("ERR unknown type object")
			return
		}
		typ, elems = o.Type, got
	}
	// A set has no order of its own, so what STORE writes would differ between master
	// and replica: sort it.
	if dontsort && typ == TypeSet && storeKey != nil {
		dontsort, alpha, sortBy = false, true, nil
	}

	n := int64(len(elems))
	start := min(max(limitStart, 0), n)
	limitCnt = min(max(limitCnt, -1), n)
	end := n - 1
	if limitCnt >= 0 {
		end = start + limitCnt - 1
	}
	if start >= n {
		start, end = n-1, n-2
	}
	end = min(end, n-1)

	items := make([]sortItem, len(elems))
	for i, e := range elems {
		items[i].elem = e
	}
	if dontsort && (typ == TypeList || typ == TypeZSet) {
		// Natural order (reversed for DESC), and only the requested range.
		if desc {
			for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
				items[i], items[j] = items[j], items[i]
			}
		}
		if end >= start {
			items = items[start : end+1]
		} else {
			items = nil
		}
		end -= start
		start = 0
	}

	if !dontsort {
		badScore := false
		for i := range items {
			it := &items[i]
			byval := it.elem
			if sortBy != nil {
				v, ok := c.lookupByPattern(sortBy, it.elem)
				if !ok {
					continue
				}
				byval = v
			}
			if alpha {
				if sortBy != nil {
					it.by = byval
				}
				continue
			}
			score, ok := parseSortScore(byval)
			if !ok {
				badScore = true
			}
			it.score = score
		}
		if badScore {
			c.Error("ERR One or more scores can't be converted into double")
			return
		}
		cmp := sortCompare(alpha, sortBy != nil, storeKey != nil)
		sort.SliceStable(items, func(i, j int) bool {
			r := cmp(&items[i], &items[j])
			if desc {
				r = -r
			}
			return r < 0
		})
	}

	count := end - start + 1
	outLen := count
	if len(gets) > 0 {
		outLen = int64(len(gets)) * count
	}
	if storeKey == nil {
		c.W.Array(int(outLen))
		for j := start; j <= end; j++ {
			if len(gets) == 0 {
				c.W.Bulk(items[j].elem)
			}
			for _, g := range gets {
				if v, ok := c.lookupByPattern(g, items[j].elem); ok {
					c.W.Bulk(v)
				} else {
					c.W.Null()
				}
			}
		}
		return
	}

	out := make([][]byte, 0, outLen)
	for j := start; j <= end; j++ {
		if len(gets) == 0 {
			out = append(out, append([]byte(nil), items[j].elem...))
		}
		for _, g := range gets {
			v, _ := c.lookupByPattern(g, items[j].elem)
			out = append(out, append([]byte{}, v...))
		}
	}
	if outLen > 0 {
		c.LookupWrite(storeKey)
		c.SetKey(storeKey, c.E.hooks.sortNewList(&c.E.Settings, out), false)
		c.Notify(EventList, "sortstore", storeKey)
		c.AddDirty(int(outLen) - 1)
	} else if c.DeleteKey(storeKey) {
		c.Notify(EventGeneric, "del", storeKey)
	}
	c.W.Int(outLen)
}

// sortCompare returns SORT's ordering. Numeric ties fall back to comparing the
// elements so the result is deterministic. ALPHA without STORE collates as strcoll
// does in the C locale; with STORE it compares bytes, so replicas agree.
func sortCompare(alpha, byPattern, store bool) func(a, b *sortItem) int {
	collate := collateBytes
	if store {
		collate = bytes.Compare
	}
	switch {
	case !alpha:
		return func(a, b *sortItem) int {
			switch {
			case a.score > b.score:
				return 1
			case a.score < b.score:
				return -1
			}
			return bytes.Compare(a.elem, b.elem)
		}
	case byPattern:
		return func(a, b *sortItem) int {
			switch {
			case a.by == nil && b.by == nil:
				return 0
			case a.by == nil:
				return -1
			case b.by == nil:
				return 1
			}
			return collate(a.by, b.by)
		}
	default:
		return func(a, b *sortItem) int { return collate(a.elem, b.elem) }
	}
}

// collateBytes is strcoll in the C locale: a byte comparison that, like any C string
// function, stops at a NUL byte.
func collateBytes(a, b []byte) int { return bytes.Compare(cutNUL(a), cutNUL(b)) }

func cutNUL(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// lookupByPattern is SORT's BY/GET substitution: "#" is the element itself; otherwise
// the first '*' of pattern is replaced by the element to name a string key, or, with
// "->field" after the '*', a hash field. ok is false when there is no such value.
func (c *Ctx) lookupByPattern(pattern, elem []byte) ([]byte, bool) {
	if len(pattern) == 1 && pattern[0] == '#' {
		return elem, true
	}
	star := bytes.IndexByte(pattern, '*')
	if star < 0 {
		return nil, false
	}
	keyEnd := len(pattern)
	var field []byte
	if f := bytes.Index(pattern[star+1:], []byte("->")); f >= 0 && star+1+f+2 < len(pattern) {
		keyEnd = star + 1 + f
		field = pattern[keyEnd+2:]
	}
	key := make([]byte, 0, keyEnd-1+len(elem))
	key = append(key, pattern[:star]...)
	key = append(key, elem...)
	key = append(key, pattern[star+1:keyEnd]...)
	o := c.LookupRead(key)
	if o == nil {
		return nil, false
	}
	if field != nil {
		if o.Type != TypeHash {
			return nil, false
		}
		return c.E.hooks.sortHashField(o, field)
	}
	if o.Type != TypeString {
		return nil, false
	}
	return o.Bytes(), true
}

// parseSortScore converts a sort weight the way SORT's strtod call does: leading
// white space, hex, "inf" are accepted; trailing bytes, NaN and out-of-range values are
// not. An empty string is 0. As a C string, the value ends at a NUL byte.
func parseSortScore(b []byte) (float64, bool) {
	b = cutNUL(b)
	if len(b) == 0 {
		return 0, true
	}
	s := strings.TrimLeft(string(b), " \t\n\v\f\r")
	if s == "" || strings.ContainsRune(s, '_') {
		return 0, false
	}
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 {
		return 0, false
	}
	if len(body) > 1 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') && !strings.ContainsAny(body, "pP") {
		s += "p0"
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	// strtod reports underflow (a non-zero value that rounds to zero or a subnormal)
	// as ERANGE too.
	if f != 0 && math.Abs(f) < 0x1p-1022 || f == 0 && strings.ContainsAny(mantissa(body), "123456789abcdefABCDEF") {
		return 0, false
	}
	return f, true
}

// mantissa is the part of a decimal or hex number before its exponent.
func mantissa(s string) string {
	hex := len(s) > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')
	if hex {
		s = s[2:]
		if i := strings.IndexAny(s, "pP"); i >= 0 {
			return s[:i]
		}
		return s
	}
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		return s[:i]
	}
	return s
}
