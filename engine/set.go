package engine

import (
	"sort"
	"strconv"

	"kv/engine/dict"
	"kv/resp"
)

// A set is stored in one of two encodings, as in Redis 7.0 (which has no
// listpack sets):
//
//   - intset (EncIntset): while every member is an integer (canonical, as
//     string2ll reads it) and there are at most set-max-intset-entries of them,
//     the sorted values are packed in Object.Str and Object.Int holds their width
//     (see intset.go);
//   - hashtable (EncHashtable): otherwise a *dict.Dict[struct{}] in Object.Val. A
//     set never converts back.

// setTable is the hashtable encoding: the members are the keys.
type setTable = dict.Dict[struct{}]

// maxIntsetEntries caps set-max-intset-entries as Redis does (intset internals
// limit it to 2^30).
const maxIntsetEntries = 1 << 30

// NewSetFor returns an empty set in the encoding Redis picks for a set whose
// first member will be member: an intset when it is an integer.
func NewSetFor(member []byte) Object {
	if _, ok := ParseInt(member); ok {
		return newIntsetObject()
	}
	return Object{Type: TypeSet, Enc: EncHashtable, Val: dict.New[struct{}]()}
}

func newIntsetObject() Object { return Object{Type: TypeSet, Enc: EncIntset, Int: 2} }

func intsetOf(o *Object) intset { return intset{data: o.Str, width: int(o.Int)} }

func storeIntset(o *Object, s intset) { o.Str, o.Int = s.data, int64(s.width) }

// SetLen is the number of members of a set.
func SetLen(o *Object) int {
	if o.Enc == EncIntset {
		return intsetOf(o).Len()
	}
	return o.Val.(*setTable).Len()
}

// SetAdd adds member, converting to a hashtable as st's threshold and the
// member's form require, and reports whether it was new.
func SetAdd(o *Object, st *Settings, member []byte) bool {
	if o.Enc == EncIntset {
		v, ok := ParseInt(member)
		if !ok {
			setConvert(o)
			return o.Val.(*setTable).Set(member, struct{}{})
		}
		s := intsetOf(o)
		if !s.Add(v) {
			return false
		}
		storeIntset(o, s)
		if s.Len() > min(st.SetMaxIntsetEntries, maxIntsetEntries) {
			setConvert(o)
		}
		return true
	}
	return o.Val.(*setTable).Set(member, struct{}{})
}

// SetRemove removes member and reports whether it was there.
func SetRemove(o *Object, member []byte) bool {
	if o.Enc == EncIntset {
		v, ok := ParseInt(member)
		if !ok {
			return false
		}
		s := intsetOf(o)
		if !s.Remove(v) {
			return false
		}
		storeIntset(o, s)
		return true
	}
	_, ok := o.Val.(*setTable).Delete(member)
	return ok
}

// SetContains reports whether member is in the set.
func SetContains(o *Object, member []byte) bool {
	if o.Enc == EncIntset {
		v, ok := ParseInt(member)
		return ok && intsetOf(o).Contains(v)
	}
	return o.Val.(*setTable).Ref(member) != nil
}

// setContainsInt is SetContains for a member known as an integer.
func setContainsInt(o *Object, v int64, text []byte) bool {
	if o.Enc == EncIntset {
		return intsetOf(o).Contains(v)
	}
	return o.Val.(*setTable).Ref(text) != nil
}

// SetRange calls fn for every member until it returns false; an intset's
// members ascending. The slice is only valid during the call, and fn must not
// modify the set.
func SetRange(o *Object, fn func(member []byte) bool) {
	if o.Enc == EncIntset {
		s := intsetOf(o)
		var buf [20]byte
		for i, n := 0, s.Len(); i < n; i++ {
			if !fn(strconv.AppendInt(buf[:0], s.At(i), 10)) {
				return
			}
		}
		return
	}
	o.Val.(*setTable).Range(func(m string, _ *struct{}) bool { return fn(bytesOf(m)) })
}

// DupSet returns a deep copy of a set in the same encoding (COPY).
func DupSet(o *Object) Object {
	if o.Enc == EncIntset {
		return Object{Type: TypeSet, Enc: EncIntset, Int: o.Int, Str: append([]byte(nil), o.Str...)}
	}
	d := dict.New[struct{}]()
	o.Val.(*setTable).Range(func(m string, _ *struct{}) bool {
		d.SetString(m, struct{}{})
		return true
	})
	return Object{Type: TypeSet, Enc: EncHashtable, Val: d}
}

// setConvert moves an intset to a hashtable.
func setConvert(o *Object) {
	d := dict.New[struct{}]()
	d.Reserve(SetLen(o))
	SetRange(o, func(m []byte) bool {
		d.Set(m, struct{}{})
		return true
	})
	*o = Object{Type: TypeSet, Enc: EncHashtable, Val: d, LRU: o.LRU, Gen: o.Gen}
}

// setRandom returns a uniformly chosen member (a fresh slice for an intset,
// aliasing the set otherwise).
func setRandom(c *Ctx, o *Object) []byte {
	if o.Enc == EncIntset {
		s := intsetOf(o)
		return strconv.AppendInt(nil, s.At(c.E.Rand.IntN(s.Len())), 10)
	}
	m, _, _ := o.Val.(*setTable).RandomEntry(c.E.Rand)
	return bytesOf(m)
}

func setCommands() []*Command {
	return []*Command{
		{Name: "sadd", Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, ACL: []string{"write", "set", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "set", Since: "1.0.0",
			Summary:    "Add one or more members to a set",
			Syntax:     "key member [member ...]",
			Complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
			Handler:    saddCommand},
		{Name: "scard", Arity: 2, Flags: FlagReadonly | FlagFast, ACL: []string{"read", "set", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "set", Since: "1.0.0",
			Summary:    "Get the number of members in a set",
			Syntax:     "key",
			Complexity: "O(1)",
			Handler:    scardCommand},
		{Name: "sdiff", Arity: -2, Flags: FlagReadonly, ACL: []string{"read", "set", "slow"},
			Keys: KeySpec{1, -1, 1}, Group: "set", Since: "1.0.0",
			Summary:    "Subtract multiple sets",
			Syntax:     "key [key ...]",
			Complexity: "O(N) where N is the total number of elements in all given sets.",
			Handler:    sdiffCommand},
		{Name: "sdiffstore", Arity: -3, Flags: FlagWrite | FlagDenyOOM, ACL: []string{"write", "set", "slow"},
			Keys: KeySpec{1, -1, 1}, Group: "set", Since: "1.0.0",
			Summary:    "Subtract multiple sets and store the resulting set in a key",
			Syntax:     "destination key [key ...]",
			Complexity: "O(N) where N is the total number of elements in all given sets.",
			Handler:    sdiffstoreCommand},
		{Name: "sinter", Arity: -2, Flags: FlagReadonly, ACL: []string{"read", "set", "slow"},
			Keys: KeySpec{1, -1, 1}, Group: "set", Since: "1.0.0",
			Summary:    "Intersect multiple sets",
			Syntax:     "key [key ...]",
			Complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
			Handler:    sinterCommand},
		{Name: "sintercard", Arity: -3, Flags: FlagReadonly | FlagMovableKeys, ACL: []string{"read", "set", "slow"},
			Keys: KeySpec{0, 0, 0}, Group: "set", Since: "7.0.0",
			Summary:    "Intersect multiple sets and return the cardinality of the result",
			Syntax:     "numkeys key [key ...] [LIMIT limit]",
			Complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
			Handler:    sintercardCommand, GetKeys: sintercardKeys},
		{Name: "sinterstore", Arity: -3, Flags: FlagWrite | FlagDenyOOM, ACL: []string{"write", "set", "slow"},
			Keys: KeySpec{1, -1, 1}, Group: "set", Since: "1.0.0",
			Summary:    "Intersect multiple sets and store the resulting set in a key",
			Syntax:     "destination key [key ...]",
			Complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
			Handler:    sinterstoreCommand},
		{Name: "sismember", Arity: 3, Flags: FlagReadonly | FlagFast, ACL: []string{"read", "set", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "set", Since: "1.0.0",
			Summary:    "Determine if a given value is a member of a set",
			Syntax:     "key member",
			Complexity: "O(1)",
			Handler:    sismemberCommand},
		{Name: "smembers", Arity: 2, Flags: FlagReadonly, ACL: []string{"read", "set", "slow"},
			Keys: KeySpec{1, 1, 1}, Group: "set", Since: "1.0.0",
			Summary:    "Get all the members in a set",
			Syntax:     "key",
			Complexity: "O(N) where N is the set cardinality.",
			Handler:    sinterCommand},
		{Name: "smismember", Arity: -3, Flags: FlagReadonly | FlagFast, ACL: []string{"read", "set", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "set", Since: "6.2.0",
			Summary:    "Returns the membership associated with the given elements for a set",
			Syntax:     "key member [member ...]",
			Complexity: "O(N) where N is the number of elements being checked for membership",
			Handler:    smismemberCommand},
		{Name: "smove", Arity: 4, Flags: FlagWrite | FlagFast, ACL: []string{"write", "set", "fast"},
			Keys: KeySpec{1, 2, 1}, Group: "set", Since: "1.0.0",
			Summary:    "Move a member from one set to another",
			Syntax:     "source destination member",
			Complexity: "O(1)",
			Handler:    smoveCommand},
		{Name: "spop", Arity: -2, Flags: FlagWrite | FlagFast, ACL: []string{"write", "set", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "set", Since: "1.0.0",
			Summary:    "Remove and return one or multiple random members from a set",
			Syntax:     "key [count]",
			Complexity: "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
			Handler:    spopCommand},
		{Name: "srandmember", Arity: -2, Flags: FlagReadonly, ACL: []string{"read", "set", "slow"},
			Keys: KeySpec{1, 1, 1}, Group: "set", Since: "1.0.0",
			Summary:    "Get one or multiple random members from a set",
			Syntax:     "key [count]",
			Complexity: "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
			Handler:    srandmemberCommand},
		{Name: "srem", Arity: -3, Flags: FlagWrite | FlagFast, ACL: []string{"write", "set", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "set", Since: "1.0.0",
			Summary:    "Remove one or more members from a set",
			Syntax:     "key member [member ...]",
			Complexity: "O(N) where N is the number of members to be removed.",
			Handler:    sremCommand},
		{Name: "sscan", Arity: -3, Flags: FlagReadonly, ACL: []string{"read", "set", "slow"},
			Keys: KeySpec{1, 1, 1}, Group: "set", Since: "2.8.0",
			Summary:    "Incrementally iterate Set elements",
			Syntax:     "key cursor [MATCH pattern] [COUNT count]",
			Complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
			Handler:    sscanCommand},
		{Name: "sunion", Arity: -2, Flags: FlagReadonly, ACL: []string{"read", "set", "slow"},
			Keys: KeySpec{1, -1, 1}, Group: "set", Since: "1.0.0",
			Summary:    "Add multiple sets",
			Syntax:     "key [key ...]",
			Complexity: "O(N) where N is the total number of elements in all given sets.",
			Handler:    sunionCommand},
		{Name: "sunionstore", Arity: -3, Flags: FlagWrite | FlagDenyOOM, ACL: []string{"write", "set", "slow"},
			Keys: KeySpec{1, -1, 1}, Group: "set", Since: "1.0.0",
			Summary:    "Add multiple sets and store the resulting set in a key",
			Syntax:     "destination key [key ...]",
			Complexity: "O(N) where N is the total number of elements in all given sets.",
			Handler:    sunionstoreCommand},
	}
}

// setRead looks key up for reading: nil without a reply when missing, nil after
// replying WRONGTYPE (wrong=true) when it is not a set.
func setRead(c *Ctx, key []byte) (o *Object, wrong bool) {
	o = c.LookupRead(key)
	if o != nil && o.Type != TypeSet {
		c.Error(ErrWrongType)
		return nil, true
	}
	return o, false
}

// setWrite is setRead for modification.
func setWrite(c *Ctx, key []byte) (o *Object, wrong bool) {
	o = c.LookupWrite(key)
	if o != nil && o.Type != TypeSet {
		c.Error(ErrWrongType)
		return nil, true
	}
	return o, false
}

func saddCommand(c *Ctx) {
	key := c.Args[1]
	o, wrong := setWrite(c, key)
	if wrong {
		return
	}
	var fresh Object
	created := o == nil
	if created {
		fresh = NewSetFor(c.Args[2])
		o = &fresh
	}
	st := &c.E.Settings
	added := 0
	for _, m := range c.Args[2:] {
		if SetAdd(o, st, m) {
			added++
		}
	}
	if created {
		c.AddKey(key, fresh)
	} else if added > 0 {
		c.Changed(key)
	}
	if added > 0 {
		c.AddDirty(added - 1)
		c.Notify(EventSet, "sadd", key)
	}
	c.W.Int(int64(added))
}

func sremCommand(c *Ctx) {
	key := c.Args[1]
	o, wrong := setWrite(c, key)
	if wrong {
		return
	}
	if o == nil {
		c.W.Int(0)
		return
	}
	removeElements(c, key, c.Args[2:], EventSet, "srem",
		func(m []byte) bool { return SetRemove(o, m) }, func() int { return SetLen(o) })
}

func smoveCommand(c *Ctx) {
	srcKey, dstKey, member := c.Args[1], c.Args[2], c.Args[3]
	src := c.LookupWrite(srcKey)
	dst := c.LookupWrite(dstKey)
	if src == nil {
		c.W.Int(0)
		return
	}
	if src.Type != TypeSet || (dst != nil && dst.Type != TypeSet) {
		c.Error(ErrWrongType)
		return
	}
	if src == dst {
		if SetContains(src, member) {
			c.W.Int(1)
		} else {
			c.W.Int(0)
		}
		return
	}
	if !SetRemove(src, member) {
		c.W.Int(0)
		return
	}
	c.Notify(EventSet, "srem", srcKey)
	if SetLen(src) == 0 {
		c.DB.remove(srcKey)
		c.Notify(EventGeneric, "del", srcKey)
	}
	var fresh Object
	created := dst == nil
	if created {
		fresh = NewSetFor(member)
		dst = &fresh
	}
	c.Changed(srcKey)
	if SetAdd(dst, &c.E.Settings, member) {
		if created {
			c.AddKey(dstKey, fresh)
		} else {
			c.Changed(dstKey)
		}
		c.Notify(EventSet, "sadd", dstKey)
	}
	c.W.Int(1)
}

func sismemberCommand(c *Ctx) {
	o, wrong := setRead(c, c.Args[1])
	if wrong {
		return
	}
	if o != nil && SetContains(o, c.Args[2]) {
		c.W.Int(1)
	} else {
		c.W.Int(0)
	}
}

func smismemberCommand(c *Ctx) {
	o, wrong := setRead(c, c.Args[1])
	if wrong {
		return
	}
	c.W.Array(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		if o != nil && SetContains(o, m) {
			c.W.Int(1)
		} else {
			c.W.Int(0)
		}
	}
}

func scardCommand(c *Ctx) {
	o, wrong := setRead(c, c.Args[1])
	if wrong {
		return
	}
	if o == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(SetLen(o)))
}

func spopCommand(c *Ctx) {
	if len(c.Args) == 3 {
		spopWithCount(c)
		return
	}
	if len(c.Args) > 3 {
		c.Error(ErrSyntax)
		return
	}
	key := c.Args[1]
	o, wrong := setWrite(c, key)
	if wrong {
		return
	}
	if o == nil {
		c.W.Null()
		return
	}
	// setRandom's slice stays valid after the removal: an intset member is
	// formatted afresh and a hashtable key is an immutable string.
	m := setRandom(c, o)
	SetRemove(o, m)
	c.Notify(EventSet, "spop", key)
	// What happened is a removal of that member; SPOP itself would pick another.
	c.Propagate([]byte("SREM"), key, m)
	c.W.Bulk(m)
	if SetLen(o) == 0 {
		c.DB.remove(key)
		c.Notify(EventGeneric, "del", key)
	}
	c.Changed(key)
}

func spopWithCount(c *Ctx) {
	l, ok := ParseInt(c.Args[2])
	if !ok || l < 0 {
		c.Error(ErrNotPositive)
		return
	}
	key := c.Args[1]
	o, wrong := setWrite(c, key)
	if wrong {
		return
	}
	if o == nil || l == 0 {
		c.W.Set(0)
		return
	}
	count := uint64(l)
	size := SetLen(o)
	c.Notify(EventSet, "spop", key)
	c.Changed(key)
	c.AddDirty(int(min(count, uint64(size))) - 1)

	if count >= uint64(size) {
		// Everything goes: reply with the whole set and delete the key, which is
		// what replicas are told to do.
		c.W.Set(size)
		SetRange(o, func(m []byte) bool {
			c.W.Bulk(m)
			return true
		})
		c.DB.remove(key)
		c.Notify(EventGeneric, "del", key)
		c.Propagate([]byte("DEL"), key)
		return
	}

	c.W.Set(int(count))
	srem := []byte("SREM")
	emit := func(m []byte) {
		c.W.Bulk(m)
		c.Propagate(srem, key, m)
	}
	if o.Enc == EncIntset {
		s := intsetOf(o)
		picked := make([]int64, 0, count)
		for _, i := range samplePositions(c, size, int(count)) {
			picked = append(picked, s.At(i))
		}
		var buf [20]byte
		for _, v := range picked {
			s.Remove(v)
			emit(strconv.AppendInt(buf[:0], v, 10))
		}
		storeIntset(o, s)
		return
	}
	d := o.Val.(*setTable)
	if uint64(size-int(count))*5 > count {
		// Few to take compared to what stays: draw and remove one at a time.
		for ; count > 0; count-- {
			m, _, _ := d.RandomEntry(c.E.Rand)
			d.Delete(bytesOf(m))
			emit(bytesOf(m))
		}
		return
	}
	// Most of the set goes: list it once and take a random subset.
	all := make([]string, 0, size)
	d.Range(func(m string, _ *struct{}) bool {
		all = append(all, m)
		return true
	})
	for _, i := range samplePositions(c, size, int(count)) {
		d.Delete(bytesOf(all[i]))
		emit(bytesOf(all[i]))
	}
}

func srandmemberCommand(c *Ctx) {
	if len(c.Args) == 3 {
		srandmemberWithCount(c)
		return
	}
	if len(c.Args) > 3 {
		c.Error(ErrSyntax)
		return
	}
	o, wrong := setRead(c, c.Args[1])
	if wrong {
		return
	}
	if o == nil {
		c.W.Null()
		return
	}
	c.W.Bulk(setRandom(c, o))
}

func srandmemberWithCount(c *Ctx) {
	l, ok := ParseInt(c.Args[2])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	if l == minInt64 {
		c.Error(errLongRange)
		return
	}
	count, unique := uint64(l), true
	if l < 0 {
		count, unique = uint64(-l), false
	}
	o, wrong := setRead(c, c.Args[1])
	if wrong {
		return
	}
	if o == nil || count == 0 {
		c.W.Array(0)
		return
	}
	size := SetLen(o)
	if !unique || count == 1 {
		c.W.Array(int(count))
		for ; count > 0; count-- {
			c.W.Bulk(setRandom(c, o))
		}
		return
	}
	if count >= uint64(size) {
		c.W.Array(size)
		SetRange(o, func(m []byte) bool {
			c.W.Bulk(m)
			return true
		})
		return
	}
	c.W.Array(int(count))
	if o.Enc == EncIntset {
		s := intsetOf(o)
		var buf [20]byte
		for _, i := range samplePositions(c, size, int(count)) {
			c.W.Bulk(strconv.AppendInt(buf[:0], s.At(i), 10))
		}
		return
	}
	d := o.Val.(*setTable)
	if count*3 > uint64(size) {
		all := make([]string, 0, size)
		d.Range(func(m string, _ *struct{}) bool {
			all = append(all, m)
			return true
		})
		for _, i := range samplePositions(c, size, int(count)) {
			c.W.BulkString(all[i])
		}
		return
	}
	seen := make(map[string]struct{}, count)
	for uint64(len(seen)) < count {
		m, _, _ := d.RandomEntry(c.E.Rand)
		if _, dup := seen[m]; dup {
			continue
		}
		seen[m] = struct{}{}
		c.W.BulkString(m)
	}
}

// setsRead looks up keys for SINTER/SUNION/SDIFF and their variants: missing keys
// are nil (empty sets); a key of another type replies WRONGTYPE (ok=false).
func setsRead(c *Ctx, keys [][]byte) (sets []*Object, ok bool) {
	sets = make([]*Object, len(keys))
	for i, k := range keys {
		o, wrong := setRead(c, k)
		if wrong {
			return nil, false
		}
		sets[i] = o
	}
	return sets, true
}

// storeSetResult puts a computed set at dst, or deletes dst when the result is
// empty, replying with the result's size, as the *STORE commands do.
func storeSetResult(c *Ctx, dst []byte, result *Object, event string) {
	if result != nil && SetLen(result) > 0 {
		n := SetLen(result)
		c.SetKey(dst, *result, false)
		c.Notify(EventSet, event, dst)
		c.W.Int(int64(n))
		return
	}
	c.W.Int(0)
	// Like dbDelete, this removes the key even if it has logically expired.
	if c.DB.remove(dst) {
		c.Changed(dst)
		c.Notify(EventGeneric, "del", dst)
	}
}

// sinterGeneric serves SINTER, SMEMBERS, SINTERSTORE (dst != nil) and SINTERCARD
// (cardOnly, stopping at limit when it is not 0).
func sinterGeneric(c *Ctx, keys [][]byte, dst []byte, cardOnly bool, limit uint64) {
	sets, ok := setsRead(c, keys)
	if !ok {
		return
	}
	for _, s := range sets {
		if s == nil {
			// Intersecting with an empty set: nothing, decided before any work.
			switch {
			case dst != nil:
				storeSetResult(c, dst, nil, "")
			case cardOnly:
				c.W.Int(0)
			default:
				c.W.Set(0)
			}
			return
		}
	}
	// Every candidate comes from the smallest set.
	sort.Slice(sets, func(i, j int) bool { return SetLen(sets[i]) < SetLen(sets[j]) })
	first := sets[0]
	var result Object
	if dst != nil {
		result = newIntsetObject()
	}
	var header resp.Deferred
	if dst == nil && !cardOnly {
		header = c.W.DeferLen()
	}
	st := &c.E.Settings
	var card uint64
	visit := func(m []byte, v int64, isInt bool) bool {
		for _, s := range sets[1:] {
			if s == first {
				continue
			}
			if isInt {
				if !setContainsInt(s, v, m) {
					return true
				}
			} else if !SetContains(s, m) {
				return true
			}
		}
		card++
		switch {
		case cardOnly:
			return limit == 0 || card < limit
		case dst == nil:
			c.W.Bulk(m)
		default:
			SetAdd(&result, st, m)
		}
		return true
	}
	if first.Enc == EncIntset {
		s := intsetOf(first)
		var buf [20]byte
		for i, n := 0, s.Len(); i < n; i++ {
			v := s.At(i)
			if !visit(strconv.AppendInt(buf[:0], v, 10), v, true) {
				break
			}
		}
	} else {
		first.Val.(*setTable).Range(func(m string, _ *struct{}) bool { return visit(bytesOf(m), 0, false) })
	}
	switch {
	case cardOnly:
		c.W.Int(int64(card))
	case dst != nil:
		storeSetResult(c, dst, &result, "sinterstore")
	default:
		c.W.SetSet(header, int(card))
	}
}

func sinterCommand(c *Ctx)      { sinterGeneric(c, c.Args[1:], nil, false, 0) }
func sinterstoreCommand(c *Ctx) { sinterGeneric(c, c.Args[2:], c.Args[1], false, 0) }

const (
	errNumkeys     = "ERR numkeys should be greater than 0"
	errNumkeysArgs = "ERR Number of keys can't be greater than number of args"
)

func sintercardCommand(c *Ctx) {
	numkeys, ok := ParseInt(c.Args[1])
	if !ok || numkeys < 1 {
		c.Error(errNumkeys)
		return
	}
	if numkeys > int64(len(c.Args)-2) {
		c.Error(errNumkeysArgs)
		return
	}
	var limit uint64
	for j := 2 + int(numkeys); j < len(c.Args); j++ {
		if c.Is(j, "limit") && j+1 < len(c.Args) {
			j++
			l, ok := ParseInt(c.Args[j])
			if !ok || l < 0 {
				c.Error("ERR LIMIT can't be negative")
				return
			}
			limit = uint64(l)
		} else {
			c.Error(ErrSyntax)
			return
		}
	}
	sinterGeneric(c, c.Args[2:2+numkeys], nil, true, limit)
}

// sintercardKeys finds SINTERCARD's keys from its numkeys argument.
func sintercardKeys(args [][]byte) []int {
	if len(args) < 2 {
		return nil
	}
	n, ok := ParseInt(args[1])
	if !ok || n < 1 || n > int64(len(args)-2) {
		return nil
	}
	out := make([]int, n)
	for i := range out {
		out[i] = 2 + i
	}
	return out
}

// sunionDiffGeneric serves SUNION, SDIFF and their STORE variants (dst != nil).
func sunionDiffGeneric(c *Ctx, keys [][]byte, dst []byte, diff bool) {
	sets, ok := setsRead(c, keys)
	if !ok {
		return
	}
	sameSet := false
	for _, s := range sets[1:] {
		if s != nil && s == sets[0] {
			sameSet = true
		}
	}
	st := &c.E.Settings
	result := newIntsetObject()
	add := func(m []byte) bool {
		SetAdd(&result, st, m)
		return true
	}
	switch {
	case !diff:
		for _, s := range sets {
			if s != nil {
				SetRange(s, add)
			}
		}
	case sameSet || sets[0] == nil:
		// A set minus itself, or nothing minus anything, is empty.
	default:
		// Checking each member of the first set against the others costs
		// |first|*sets; copying the first and removing the others costs the
		// total size. Pick the cheaper, giving the first a head start as Redis
		// does since it stops at the first set holding the member.
		var work1, work2 int
		for _, s := range sets {
			if s != nil {
				work1 += SetLen(sets[0])
				work2 += SetLen(s)
			}
		}
		if work1/2 <= work2 {
			others := append([]*Object(nil), sets[1:]...)
			// Largest first: a member present elsewhere is most likely found early.
			sort.SliceStable(others, func(i, j int) bool { return setLenOrZero(others[i]) > setLenOrZero(others[j]) })
			SetRange(sets[0], func(m []byte) bool {
				for _, s := range others {
					if s != nil && SetContains(s, m) {
						return true
					}
				}
				return add(m)
			})
		} else {
			SetRange(sets[0], add)
			for _, s := range sets[1:] {
				if s == nil {
					continue
				}
				SetRange(s, func(m []byte) bool {
					SetRemove(&result, m)
					return true
				})
				if SetLen(&result) == 0 {
					break
				}
			}
		}
	}
	if dst != nil {
		event := "sunionstore"
		if diff {
			event = "sdiffstore"
		}
		storeSetResult(c, dst, &result, event)
		return
	}
	c.W.Set(SetLen(&result))
	SetRange(&result, func(m []byte) bool {
		c.W.Bulk(m)
		return true
	})
}

func setLenOrZero(o *Object) int {
	if o == nil {
		return 0
	}
	return SetLen(o)
}

func sunionCommand(c *Ctx)      { sunionDiffGeneric(c, c.Args[1:], nil, false) }
func sunionstoreCommand(c *Ctx) { sunionDiffGeneric(c, c.Args[2:], c.Args[1], false) }
func sdiffCommand(c *Ctx)       { sunionDiffGeneric(c, c.Args[1:], nil, true) }
func sdiffstoreCommand(c *Ctx)  { sunionDiffGeneric(c, c.Args[2:], c.Args[1], true) }

func sscanCommand(c *Ctx) {
	cursor, ok := parseCollCursor(c.Args[2])
	if !ok {
		c.Error(errCollCursor)
		return
	}
	o, wrong := setRead(c, c.Args[1])
	if wrong {
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
	var out [][]byte
	if o.Enc == EncIntset {
		SetRange(o, func(m []byte) bool {
			if opts.matches(m) {
				out = append(out, append([]byte(nil), m...))
			}
			return true
		})
		writeCollScan(c, 0, out)
		return
	}
	d := o.Val.(*setTable)
	maxIter := opts.count * 10
	for {
		cursor = d.Scan(cursor, func(m string, _ *struct{}) {
			out = append(out, bytesOf(m))
		})
		maxIter--
		if cursor == 0 || maxIter <= 0 || len(out) >= opts.count {
			break
		}
	}
	if opts.usePattern {
		kept := out[:0]
		for _, m := range out {
			if opts.matches(m) {
				kept = append(kept, m)
			}
		}
		out = kept
	}
	writeCollScan(c, cursor, out)
}
