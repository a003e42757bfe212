package engine

import (
	"strconv"
	"unsafe"

	"kv/engine/dict"
)

// A hash is stored in one of two encodings, as in Redis:
//
//   - listpack (EncListpack): while it has at most hash-max-listpack-entries fields
//     and no field or value longer than hash-max-listpack-value bytes, its
//     field/value pairs are packed in Object.Str (see listpack.go) in insertion
//     order and Object.Int counts the pairs;
//   - hashtable (EncHashtable): past either limit it moves to a *dict.Dict[string]
//     in Object.Val, and never moves back, as Redis never converts back.

// hashTable is the large-hash encoding: field -> value.
type hashTable = dict.Dict[string]

// lpSafeLimit is the largest listpack Redis builds (lpSafeToAdd's 1 GB); a hash
// that would outgrow it becomes a hashtable whatever the thresholds say.
const lpSafeLimit = 1 << 30

// bytesOf views a string's bytes without copying. The result must not be
// modified; callers only write it into replies or compare it.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// NewHash returns an empty hash in the listpack encoding, as Redis creates every
// hash; callers add fields with HashSet.
func NewHash() Object { return Object{Type: TypeHash, Enc: EncListpack} }

// HashLen is the number of fields of a hash.
func HashLen(o *Object) int {
	if o.Enc == EncListpack {
		return int(o.Int)
	}
	return o.Val.(*hashTable).Len()
}

// HashGet returns field's value. The slice aliases the hash and is valid until
// the hash is next modified.
func HashGet(o *Object, field []byte) ([]byte, bool) {
	if o.Enc == EncListpack {
		_, vpos, _, ok := lpFindPair(o.Str, field)
		if !ok {
			return nil, false
		}
		v, _ := lpNext(o.Str, vpos)
		return v, true
	}
	v, ok := o.Val.(*hashTable).Get(field)
	if !ok {
		return nil, false
	}
	return bytesOf(v), true
}

// HashSet sets field to value, converting the hash to a hashtable when st's
// thresholds say so, and reports whether the field already existed.
func HashSet(o *Object, st *Settings, field, value []byte) (updated bool) {
	if o.Enc == EncListpack && (len(field) > st.HashMaxListpackValue || len(value) > st.HashMaxListpackValue ||
		len(o.Str)+lpEntrySize(len(field))+lpEntrySize(len(value)) > lpSafeLimit) {
		hashConvert(o)
	}
	if o.Enc == EncListpack {
		if _, vpos, vend, ok := lpFindPair(o.Str, field); ok {
			o.Str = lpReplace(o.Str, vpos, vend, value)
			return true
		}
		o.Str = lpAppend(o.Str, field, value)
		o.Int++
		if int(o.Int) > st.HashMaxListpackEntries {
			hashConvert(o)
		}
		return false
	}
	return !o.Val.(*hashTable).Set(field, string(value))
}

// HashDelete removes field and reports whether it existed.
func HashDelete(o *Object, field []byte) bool {
	if o.Enc == EncListpack {
		fpos, _, vend, ok := lpFindPair(o.Str, field)
		if !ok {
			return false
		}
		o.Str = lpDelete(o.Str, fpos, vend)
		o.Int--
		return true
	}
	_, ok := o.Val.(*hashTable).Delete(field)
	return ok
}

// HashRange calls fn for every field and value until it returns false. The
// slices alias the hash; fn must not modify the hash.
func HashRange(o *Object, fn func(field, value []byte) bool) {
	if o.Enc == EncListpack {
		lp := o.Str
		for pos := 0; pos < len(lp); {
			f, next := lpNext(lp, pos)
			v, after := lpNext(lp, next)
			if !fn(f, v) {
				return
			}
			pos = after
		}
		return
	}
	o.Val.(*hashTable).Range(func(f string, v *string) bool {
		return fn(bytesOf(f), bytesOf(*v))
	})
}

// DupHash returns a deep copy of a hash in the same encoding (COPY).
func DupHash(o *Object) Object {
	if o.Enc == EncListpack {
		return Object{Type: TypeHash, Enc: EncListpack, Int: o.Int, Str: append([]byte(nil), o.Str...)}
	}
	src := o.Val.(*hashTable)
	d := dict.New[string]()
	d.Reserve(src.Len())
	src.Range(func(f string, v *string) bool {
		d.SetString(f, *v)
		return true
	})
	return Object{Type: TypeHash, Enc: EncHashtable, Val: d}
}

// hashConvert moves a listpack hash to a hashtable.
func hashConvert(o *Object) {
	d := dict.New[string]()
	d.Reserve(HashLen(o))
	HashRange(o, func(f, v []byte) bool {
		d.Set(f, string(v))
		return true
	})
	*o = Object{Type: TypeHash, Enc: EncHashtable, Val: d, LRU: o.LRU, Gen: o.Gen}
}

// hashTryConversion converts o before a write of args (field/value arguments)
// when one of them is too long for the listpack, as hashTypeTryConversion does,
// so a multi-field HSET converts once rather than midway.
func hashTryConversion(o *Object, st *Settings, args [][]byte) {
	if o.Enc != EncListpack {
		return
	}
	sum := 0
	for _, a := range args {
		if len(a) > st.HashMaxListpackValue {
			hashConvert(o)
			return
		}
		sum += len(a)
	}
	if len(o.Str)+sum > lpSafeLimit {
		hashConvert(o)
	}
}

func hashCommands() []*Command {
	return []*Command{
		{Name: "hdel", Arity: -3, Flags: FlagWrite | FlagFast, ACL: []string{"write", "hash", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "hash", Since: "2.0.0",
			Summary:    "Delete one or more hash fields",
			Syntax:     "key field [field ...]",
			Complexity: "O(N) where N is the number of fields to be removed.",
			Handler:    hdelCommand},
		{Name: "hexists", Arity: 3, Flags: FlagReadonly | FlagFast, ACL: []string{"read", "hash", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "hash", Since: "2.0.0",
			Summary:    "Determine if a hash field exists",
			Syntax:     "key field",
			Complexity: "O(1)",
			Handler:    hexistsCommand},
		{Name: "hget", Arity: 3, Flags: FlagReadonly | FlagFast, ACL: []string{"read", "hash", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "hash", Since: "2.0.0",
			Summary:    "Get the value of a hash field",
			Syntax:     "key field",
			Complexity: "O(1)",
			Handler:    hgetCommand},
		{Name: "hgetall", Arity: 2, Flags: FlagReadonly, ACL: []string{"read", "hash", "slow"},
			Keys: KeySpec{1, 1, 1}, Group: "hash", Since: "2.0.0",
			Summary:    "Get all the fields and values in a hash",
			Syntax:     "key",
			Complexity: "O(N) where N is the size of the hash.",
			Handler:    hgetallCommand},
		{Name: "hincrby", Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagFast, ACL: []string{"write", "hash", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "hash", Since: "2.0.0",
			Summary:    "Increment the integer value of a hash field by the given number",
			Syntax:     "key field increment",
			Complexity: "O(1)",
			Handler:    hincrbyCommand},
		{Name: "hincrbyfloat", Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagFast, ACL: []string{"write", "hash", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "hash", Since: "2.6.0",
			Summary:    "Increment the float value of a hash field by the given amount",
			Syntax:     "key field increment",
			Complexity: "O(1)",
			Handler:    hincrbyfloatCommand},
		{Name: "hkeys", Arity: 2, Flags: FlagReadonly, ACL: []string{"read", "hash", "slow"},
			Keys: KeySpec{1, 1, 1}, Group: "hash", Since: "2.0.0",
			Summary:    "Get all the fields in a hash",
			Syntax:     "key",
			Complexity: "O(N) where N is the size of the hash.",
			Handler:    hkeysCommand},
		{Name: "hlen", Arity: 2, Flags: FlagReadonly | FlagFast, ACL: []string{"read", "hash", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "hash", Since: "2.0.0",
			Summary:    "Get the number of fields in a hash",
			Syntax:     "key",
			Complexity: "O(1)",
			Handler:    hlenCommand},
		{Name: "hmget", Arity: -3, Flags: FlagReadonly | FlagFast, ACL: []string{"read", "hash", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "hash", Since: "2.0.0",
			Summary:    "Get the values of all the given hash fields",
			Syntax:     "key field [field ...]",
			Complexity: "O(N) where N is the number of fields being requested.",
			Handler:    hmgetCommand},
		{Name: "hmset", Arity: -4, Flags: FlagWrite | FlagDenyOOM | FlagFast, ACL: []string{"write", "hash", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "hash", Since: "2.0.0",
			Summary:    "Set multiple hash fields to multiple values",
			Syntax:     "key field value [field value ...]",
			Complexity: "O(N) where N is the number of fields being set.",
			Handler:    hsetCommand},
		{Name: "hrandfield", Arity: -2, Flags: FlagReadonly, ACL: []string{"read", "hash", "slow"},
			Keys: KeySpec{1, 1, 1}, Group: "hash", Since: "6.2.0",
			Summary:    "Get one or multiple random fields from a hash",
			Syntax:     "key [count [WITHVALUES]]",
			Complexity: "O(N) where N is the number of fields returned",
			Handler:    hrandfieldCommand},
		{Name: "hscan", Arity: -3, Flags: FlagReadonly, ACL: []string{"read", "hash", "slow"},
			Keys: KeySpec{1, 1, 1}, Group: "hash", Since: "2.8.0",
			Summary:    "Incrementally iterate hash fields and associated values",
			Syntax:     "key cursor [MATCH pattern] [COUNT count]",
			Complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
			Handler:    hscanCommand},
		{Name: "hset", Arity: -4, Flags: FlagWrite | FlagDenyOOM | FlagFast, ACL: []string{"write", "hash", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "hash", Since: "2.0.0",
			Summary:    "Set the string value of a hash field",
			Syntax:     "key field value [field value ...]",
			Complexity: "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.",
			Handler:    hsetCommand},
		{Name: "hsetnx", Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagFast, ACL: []string{"write", "hash", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "hash", Since: "2.0.0",
			Summary:    "Set the value of a hash field, only if the field does not exist",
			Syntax:     "key field value",
			Complexity: "O(1)",
			Handler:    hsetnxCommand},
		{Name: "hstrlen", Arity: 3, Flags: FlagReadonly | FlagFast, ACL: []string{"read", "hash", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "hash", Since: "3.2.0",
			Summary:    "Get the length of the value of a hash field",
			Syntax:     "key field",
			Complexity: "O(1)",
			Handler:    hstrlenCommand},
		{Name: "hvals", Arity: 2, Flags: FlagReadonly, ACL: []string{"read", "hash", "slow"},
			Keys: KeySpec{1, 1, 1}, Group: "hash", Since: "2.0.0",
			Summary:    "Get all the values in a hash",
			Syntax:     "key",
			Complexity: "O(N) where N is the size of the hash.",
			Handler:    hvalsCommand},
	}
}

// hashRead looks key up for reading. It returns nil without replying when the
// key is missing, and nil after replying WRONGTYPE when it is not a hash; wrong
// tells the two apart.
func hashRead(c *Ctx, key []byte) (o *Object, wrong bool) {
	o = c.LookupRead(key)
	if o != nil && o.Type != TypeHash {
		c.Error(ErrWrongType)
		return nil, true
	}
	return o, false
}

// hashWrite looks key up for writing, creating an empty listpack hash (not yet
// in the keyspace: created reports that the caller must add it) when missing.
func hashWrite(c *Ctx, key []byte, fresh *Object) (o *Object, created, ok bool) {
	o = c.LookupWrite(key)
	if o == nil {
		*fresh = NewHash()
		return fresh, true, true
	}
	if o.Type != TypeHash {
		c.Error(ErrWrongType)
		return nil, false, false
	}
	return o, false, true
}

// hashStore finishes a write to key: a new hash enters the keyspace, an existing
// one is marked changed.
func hashStore(c *Ctx, key []byte, o *Object, created bool) {
	if created {
		c.AddKey(key, *o)
	} else {
		c.Changed(key)
	}
}

// hsetCommand serves HSET and HMSET, which differ only in the reply.
func hsetCommand(c *Ctx) {
	if len(c.Args)%2 == 1 {
		c.WrongArgs()
		return
	}
	key := c.Args[1]
	var fresh Object
	o, created, ok := hashWrite(c, key, &fresh)
	if !ok {
		return
	}
	st := &c.E.Settings
	hashTryConversion(o, st, c.Args[2:])
	if created && o.Enc == EncListpack && (len(c.Args)-2)/2 <= st.HashMaxListpackEntries {
		// A new hash is usually written whole by one command: size it exactly.
		size := 0
		for _, a := range c.Args[2:] {
			size += lpEntrySize(len(a))
		}
		o.Str = make([]byte, 0, size)
	}
	added := 0
	for i := 2; i < len(c.Args); i += 2 {
		if !HashSet(o, st, c.Args[i], c.Args[i+1]) {
			added++
		}
	}
	hashStore(c, key, o, created)
	c.AddDirty((len(c.Args)-2)/2 - 1)
	c.Notify(EventHash, "hset", key)
	if c.Cmd.Name == "hset" {
		c.W.Int(int64(added))
	} else {
		c.W.OK()
	}
}

func hsetnxCommand(c *Ctx) {
	key := c.Args[1]
	var fresh Object
	o, created, ok := hashWrite(c, key, &fresh)
	if !ok {
		return
	}
	if _, exists := HashGet(o, c.Args[2]); exists {
		c.W.Int(0)
		return
	}
	st := &c.E.Settings
	hashTryConversion(o, st, c.Args[2:4])
	HashSet(o, st, c.Args[2], c.Args[3])
	hashStore(c, key, o, created)
	c.Notify(EventHash, "hset", key)
	c.W.Int(1)
}

func hgetCommand(c *Ctx) {
	o, wrong := hashRead(c, c.Args[1])
	if wrong {
		return
	}
	if o == nil {
		c.W.Null()
		return
	}
	if v, ok := HashGet(o, c.Args[2]); ok {
		c.W.Bulk(v)
		return
	}
	c.W.Null()
}

func hmgetCommand(c *Ctx) {
	o, wrong := hashRead(c, c.Args[1])
	if wrong {
		return
	}
	c.W.Array(len(c.Args) - 2)
	for _, f := range c.Args[2:] {
		if o != nil {
			if v, ok := HashGet(o, f); ok {
				c.W.Bulk(v)
				continue
			}
		}
		c.W.Null()
	}
}

func hdelCommand(c *Ctx) {
	key := c.Args[1]
	o := c.LookupWrite(key)
	if o == nil {
		c.W.Int(0)
		return
	}
	if o.Type != TypeHash {
		c.Error(ErrWrongType)
		return
	}
	removeElements(c, key, c.Args[2:], EventHash, "hdel",
		func(f []byte) bool { return HashDelete(o, f) }, func() int { return HashLen(o) })
}

// removeElements is HDEL and SREM: it removes each of elems with remove, deletes the key
// once len reports it empty (Redis never keeps an empty collection), counts and notifies
// as Redis does, and replies with the number removed.
func removeElements(c *Ctx, key []byte, elems [][]byte, class EventClass, event string, remove func([]byte) bool, length func() int) {
	deleted, removed := 0, false
	for _, el := range elems {
		if remove(el) {
			deleted++
			if length() == 0 {
				c.DB.remove(key)
				removed = true
				break
			}
		}
	}
	if deleted > 0 {
		c.Changed(key)
		c.AddDirty(deleted - 1)
		c.Notify(class, event, key)
		if removed {
			c.Notify(EventGeneric, "del", key)
		}
	}
	c.W.Int(int64(deleted))
}

func hlenCommand(c *Ctx) {
	o, wrong := hashRead(c, c.Args[1])
	if wrong {
		return
	}
	if o == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(HashLen(o)))
}

func hstrlenCommand(c *Ctx) {
	o, wrong := hashRead(c, c.Args[1])
	if wrong {
		return
	}
	n := 0
	if o != nil {
		v, _ := HashGet(o, c.Args[2])
		n = len(v)
	}
	c.W.Int(int64(n))
}

func hexistsCommand(c *Ctx) {
	o, wrong := hashRead(c, c.Args[1])
	if wrong {
		return
	}
	found := false
	if o != nil {
		_, found = HashGet(o, c.Args[2])
	}
	if found {
		c.W.Int(1)
	} else {
		c.W.Int(0)
	}
}

const (
	hashWantFields = 1 << iota
	hashWantValues
)

// hgetallGeneric serves HGETALL (a map), HKEYS and HVALS (arrays).
func hgetallGeneric(c *Ctx, want int) {
	both := want == hashWantFields|hashWantValues
	o, wrong := hashRead(c, c.Args[1])
	if wrong {
		return
	}
	n := 0
	if o != nil {
		n = HashLen(o)
	}
	if both {
		c.W.Map(n)
	} else {
		c.W.Array(n)
	}
	if o == nil {
		return
	}
	HashRange(o, func(f, v []byte) bool {
		if want&hashWantFields != 0 {
			c.W.Bulk(f)
		}
		if want&hashWantValues != 0 {
			c.W.Bulk(v)
		}
		return true
	})
}

func hgetallCommand(c *Ctx) { hgetallGeneric(c, hashWantFields|hashWantValues) }
func hkeysCommand(c *Ctx)   { hgetallGeneric(c, hashWantFields) }
func hvalsCommand(c *Ctx)   { hgetallGeneric(c, hashWantValues) }

func hincrbyCommand(c *Ctx) {
	incr, ok := ParseInt(c.Args[3])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	key, field := c.Args[1], c.Args[2]
	var fresh Object
	o, created, ok := hashWrite(c, key, &fresh)
	if !ok {
		return
	}
	var value int64
	if cur, exists := HashGet(o, field); exists {
		value, ok = ParseInt(cur)
		if !ok {
			c.Error("ERR hash value is not an integer")
			return
		}
	}
	if (incr < 0 && value < 0 && incr < minInt64-value) || (incr > 0 && value > 0 && incr > maxInt64-value) {
		c.Error(ErrOverflow)
		return
	}
	value += incr
	var buf [20]byte
	HashSet(o, &c.E.Settings, field, strconv.AppendInt(buf[:0], value, 10))
	hashStore(c, key, o, created)
	c.Notify(EventHash, "hincrby", key)
	c.W.Int(value)
}

const (
	minInt64 = -1 << 63
	maxInt64 = 1<<63 - 1
)

func hincrbyfloatCommand(c *Ctx) {
	incr, ok := ldParse(c.Args[3])
	if !ok {
		c.Error(ErrNotFloat)
		return
	}
	if incr.IsInf() {
		c.Error("ERR value is NaN or Infinity")
		return
	}
	key, field := c.Args[1], c.Args[2]
	var fresh Object
	o, created, ok := hashWrite(c, key, &fresh)
	if !ok {
		return
	}
	value := ldZero()
	if cur, exists := HashGet(o, field); exists {
		value, ok = ldParse(cur)
		if !ok {
			c.Error("ERR hash value is not a float")
			return
		}
	}
	sum, finite := ldAdd(value, incr)
	if !finite {
		c.Error(ErrNaN)
		return
	}
	text := ldFormatHuman(sum)
	HashSet(o, &c.E.Settings, field, text)
	hashStore(c, key, o, created)
	c.Notify(EventHash, "hincrbyfloat", key)
	c.W.Bulk(text)
	// The result, not the increment, goes to replicas and the AOF, so float
	// rounding cannot make them drift from the master.
	c.Propagate([]byte("HSET"), key, field, text)
}

func hscanCommand(c *Ctx) {
	cursor, ok := parseCollCursor(c.Args[2])
	if !ok {
		c.Error(errCollCursor)
		return
	}
	o, wrong := hashRead(c, c.Args[1])
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
	if o.Enc == EncListpack {
		var out [][]byte
		HashRange(o, func(f, v []byte) bool {
			if opts.matches(f) {
				out = append(out, f, v)
			}
			return true
		})
		writeCollScan(c, 0, out)
		return
	}
	d := o.Val.(*hashTable)
	var out [][]byte
	// Each field brings its value, so COUNT counts both, as in Redis.
	limit := opts.count * 2
	maxIter := limit * 10
	for {
		cursor = d.Scan(cursor, func(f string, v *string) {
			out = append(out, bytesOf(f), bytesOf(*v))
		})
		maxIter--
		if cursor == 0 || maxIter <= 0 || len(out) >= limit {
			break
		}
	}
	if opts.usePattern {
		kept := out[:0]
		for i := 0; i < len(out); i += 2 {
			if opts.matches(out[i]) {
				kept = append(kept, out[i], out[i+1])
			}
		}
		out = kept
	}
	writeCollScan(c, cursor, out)
}

// hrandfieldCommand serves HRANDFIELD key [count [WITHVALUES]].
func hrandfieldCommand(c *Ctx) {
	if len(c.Args) >= 3 {
		l, ok := ParseInt(c.Args[2])
		if !ok {
			c.Error(ErrNotInt)
			return
		}
		if l == minInt64 {
			c.Error(errLongRange)
			return
		}
		withValues := false
		if len(c.Args) > 4 || (len(c.Args) == 4 && !c.Is(3, "withvalues")) {
			c.Error(ErrSyntax)
			return
		} else if len(c.Args) == 4 {
			withValues = true
			if l < -maxInt64/2 || l > maxInt64/2 {
				c.Error("ERR value is out of range")
				return
			}
		}
		hrandfieldWithCount(c, l, withValues)
		return
	}
	o, wrong := hashRead(c, c.Args[1])
	if wrong {
		return
	}
	if o == nil {
		c.W.Null()
		return
	}
	f, _ := hashRandomPair(c, o, nil)
	c.W.Bulk(f)
}

// errLongRange is getRangeLongFromObjectOrReply's text for [-LONG_MAX, LONG_MAX].
const errLongRange = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"

// hashRandomPair picks a field uniformly. offs, when not nil, are the listpack's
// element offsets (lpOffsets), to pick many times without walking.
func hashRandomPair(c *Ctx, o *Object, offs []int32) (f, v []byte) {
	if o.Enc == EncListpack {
		i := c.E.Rand.IntN(int(o.Int))
		pos := 0
		if offs != nil {
			pos = int(offs[2*i])
		} else {
			for ; i > 0; i-- {
				_, pos = lpNext(o.Str, pos)
				_, pos = lpNext(o.Str, pos)
			}
		}
		f, pos = lpNext(o.Str, pos)
		v, _ = lpNext(o.Str, pos)
		return f, v
	}
	k, val, _ := o.Val.(*hashTable).RandomEntry(c.E.Rand)
	return bytesOf(k), bytesOf(*val)
}

func hrandfieldWithCount(c *Ctx, l int64, withValues bool) {
	o, wrong := hashRead(c, c.Args[1])
	if wrong {
		return
	}
	if o == nil {
		c.W.Array(0)
		return
	}
	size := HashLen(o)
	count, unique := uint64(l), true
	if l < 0 {
		count, unique = uint64(-l), false
	}
	if count == 0 {
		c.W.Array(0)
		return
	}
	resp3 := c.W.Proto() >= 3
	pair := func(f, v []byte) {
		if withValues && resp3 {
			c.W.Array(2)
		}
		c.W.Bulk(f)
		if withValues {
			c.W.Bulk(v)
		}
	}
	header := func(n uint64) {
		if withValues && !resp3 {
			c.W.Array(int(n * 2))
		} else {
			c.W.Array(int(n))
		}
	}

	// Repeats allowed (negative count), or a single pick: independent draws, in
	// random order.
	if !unique || count == 1 {
		header(count)
		var offs []int32
		if o.Enc == EncListpack && count > 1 {
			offs = lpOffsets(o.Str, make([]int32, 0, 2*size))
		}
		for ; count > 0; count-- {
			pair(hashRandomPair(c, o, offs))
		}
		return
	}

	// Asking for at least the whole hash returns the whole hash.
	if count >= uint64(size) {
		header(uint64(size))
		HashRange(o, func(f, v []byte) bool {
			pair(f, v)
			return true
		})
		return
	}

	// Otherwise choose count distinct positions. A partial Fisher-Yates shuffle
	// of the indexes gives a uniform sample whatever count is relative to size,
	// which covers both of Redis's strategies (remove from a copy when count is
	// close to size, draw until enough distinct ones otherwise).
	header(count)
	picks := samplePositions(c, size, int(count))
	if o.Enc == EncListpack {
		offs := lpOffsets(o.Str, make([]int32, 0, 2*size))
		for _, i := range picks {
			f, pos := lpNext(o.Str, int(offs[2*i]))
			v, _ := lpNext(o.Str, pos)
			pair(f, v)
		}
		return
	}
	// The hashtable has no positions: draw random entries until enough distinct
	// ones, as Redis's CASE 4, or walk a copy when count is close to size.
	d := o.Val.(*hashTable)
	if count*3 > uint64(size) {
		all := make([]string, 0, size)
		d.Range(func(f string, _ *string) bool {
			all = append(all, f)
			return true
		})
		for _, i := range picks {
			v, _ := d.GetString(all[i])
			pair(bytesOf(all[i]), bytesOf(v))
		}
		return
	}
	seen := make(map[string]struct{}, count)
	for uint64(len(seen)) < count {
		f, v, _ := d.RandomEntry(c.E.Rand)
		if _, dup := seen[f]; dup {
			continue
		}
		seen[f] = struct{}{}
		pair(bytesOf(f), bytesOf(*v))
	}
}

// samplePositions returns count distinct indexes in [0, size), in random order.
func samplePositions(c *Ctx, size, count int) []int {
	idx := make([]int, size)
	for i := range idx {
		idx[i] = i
	}
	for i := 0; i < count; i++ {
		j := i + c.E.Rand.IntN(size-i)
		idx[i], idx[j] = idx[j], idx[i]
	}
	return idx[:count]
}
