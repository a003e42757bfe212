package engine

import (
	"strconv"

	"kv/resp"
)

// String commands (Redis's t_string.c). Values are Objects of TypeString, held either as
// an int64 (EncInt) or as bytes (EncEmbstr up to 44 bytes, EncRaw beyond, or whenever a
// command edits the bytes in place as APPEND and SETRANGE do).

func stringCommands() []*Command {
	return []*Command{
		{Name: "append", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, ACL: []string{"write", "string", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "string", Since: "2.0.0",
			Summary:    "Append a value to a key",
			Syntax:     "key value",
			Complexity: "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.",
			Handler:    cmdAppend},
		{Name: "decr", Arity: 2, Flags: FlagWrite | FlagDenyOOM | FlagFast, ACL: []string{"write", "string", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "string", Since: "1.0.0",
			Summary:    "Decrement the integer value of a key by one",
			Syntax:     "key",
			Complexity: "O(1)",
			Handler:    cmdDecr},
		{Name: "decrby", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, ACL: []string{"write", "string", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "string", Since: "1.0.0",
			Summary:    "Decrement the integer value of a key by the given number",
			Syntax:     "key decrement",
			Complexity: "O(1)",
			Handler:    cmdDecrBy},
		{Name: "get", Arity: 2, Flags: FlagReadonly | FlagFast, ACL: []string{"read", "string", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "string", Since: "1.0.0",
			Summary:    "Get the value of a key",
			Syntax:     "key",
			Complexity: "O(1)",
			Handler:    cmdGet},
		{Name: "getdel", Arity: 2, Flags: FlagWrite | FlagFast, ACL: []string{"write", "string", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "string", Since: "6.2.0",
			Summary:    "Get the value of a key and delete the key",
			Syntax:     "key",
			Complexity: "O(1)",
			Handler:    cmdGetDel},
		{Name: "getex", Arity: -2, Flags: FlagWrite | FlagFast, ACL: []string{"write", "string", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "string", Since: "6.2.0",
			Summary:    "Get the value of a key and optionally set its expiration",
			Syntax:     "key [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|PERSIST]",
			Complexity: "O(1)",
			Handler:    cmdGetEx},
		{Name: "getrange", Arity: 4, Flags: FlagReadonly, ACL: []string{"read", "string", "slow"},
			Keys: KeySpec{1, 1, 1}, Group: "string", Since: "2.4.0",
			Summary:    "Get a substring of the string stored at a key",
			Syntax:     "key start end",
			Complexity: "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.",
			Handler:    cmdGetRange},
		{Name: "getset", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, ACL: []string{"write", "string", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "string", Since: "1.0.0",
			Summary:    "Set the string value of a key and return its old value",
			Syntax:     "key value",
			Complexity: "O(1)",
			Handler:    cmdGetSet},
		{Name: "incr", Arity: 2, Flags: FlagWrite | FlagDenyOOM | FlagFast, ACL: []string{"write", "string", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "string", Since: "1.0.0",
			Summary:    "Increment the integer value of a key by one",
			Syntax:     "key",
			Complexity: "O(1)",
			Handler:    cmdIncr},
		{Name: "incrby", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, ACL: []string{"write", "string", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "string", Since: "1.0.0",
			Summary:    "Increment the integer value of a key by the given amount",
			Syntax:     "key increment",
			Complexity: "O(1)",
			Handler:    cmdIncrBy},
		{Name: "incrbyfloat", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, ACL: []string{"write", "string", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "string", Since: "2.6.0",
			Summary:    "Increment the float value of a key by the given amount",
			Syntax:     "key increment",
			Complexity: "O(1)",
			Handler:    cmdIncrByFloat},
		{Name: "lcs", Arity: -3, Flags: FlagReadonly, ACL: []string{"read", "string", "slow"},
			Keys: KeySpec{1, 2, 1}, Group: "string", Since: "7.0.0",
			Summary:    "Find longest common substring",
			Syntax:     "key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]",
			Complexity: "O(N*M) where N and M are the lengths of s1 and s2, respectively",
			Handler:    cmdLCS},
		{Name: "mget", Arity: -2, Flags: FlagReadonly | FlagFast, ACL: []string{"read", "string", "fast"},
			Keys: KeySpec{1, -1, 1}, Group: "string", Since: "1.0.0",
			Summary:    "Get the values of all the given keys",
			Syntax:     "key [key ...]",
			Complexity: "O(N) where N is the number of keys to retrieve.",
			Handler:    cmdMGet},
		{Name: "mset", Arity: -3, Flags: FlagWrite | FlagDenyOOM, ACL: []string{"write", "string", "slow"},
			Keys: KeySpec{1, -1, 2}, Group: "string", Since: "1.0.1",
			Summary:    "Set multiple keys to multiple values",
			Syntax:     "key value [key value ...]",
			Complexity: "O(N) where N is the number of keys to set.",
			Handler:    cmdMSet},
		{Name: "msetnx", Arity: -3, Flags: FlagWrite | FlagDenyOOM, ACL: []string{"write", "string", "slow"},
			Keys: KeySpec{1, -1, 2}, Group: "string", Since: "1.0.1",
			Summary:    "Set multiple keys to multiple values, only if none of the keys exist",
			Syntax:     "key value [key value ...]",
			Complexity: "O(N) where N is the number of keys to set.",
			Handler:    cmdMSetNX},
		{Name: "psetex", Arity: 4, Flags: FlagWrite | FlagDenyOOM, ACL: []string{"write", "string", "slow"},
			Keys: KeySpec{1, 1, 1}, Group: "string", Since: "2.6.0",
			Summary:    "Set the value and expiration in milliseconds of a key",
			Syntax:     "key milliseconds value",
			Complexity: "O(1)",
			Handler:    cmdPSetEx},
		{Name: "set", Arity: -3, Flags: FlagWrite | FlagDenyOOM, ACL: []string{"write", "string", "slow"},
			Keys: KeySpec{1, 1, 1}, Group: "string", Since: "1.0.0",
			Summary:    "Set the string value of a key",
			Syntax:     "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]",
			Complexity: "O(1)",
			Handler:    cmdSet},
		{Name: "setex", Arity: 4, Flags: FlagWrite | FlagDenyOOM, ACL: []string{"write", "string", "slow"},
			Keys: KeySpec{1, 1, 1}, Group: "string", Since: "2.0.0",
			Summary:    "Set the value and expiration of a key",
			Syntax:     "key seconds value",
			Complexity: "O(1)",
			Handler:    cmdSetEx},
		{Name: "setnx", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, ACL: []string{"write", "string", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "string", Since: "1.0.0",
			Summary:    "Set the value of a key, only if the key does not exist",
			Syntax:     "key value",
			Complexity: "O(1)",
			Handler:    cmdSetNX},
		{Name: "setrange", Arity: 4, Flags: FlagWrite | FlagDenyOOM, ACL: []string{"write", "string", "slow"},
			Keys: KeySpec{1, 1, 1}, Group: "string", Since: "2.2.0",
			Summary:    "Overwrite part of a string at key starting at the specified offset",
			Syntax:     "key offset value",
			Complexity: "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.",
			Handler:    cmdSetRange},
		{Name: "strlen", Arity: 2, Flags: FlagReadonly | FlagFast, ACL: []string{"read", "string", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "string", Since: "2.2.0",
			Summary:    "Get the length of the value stored in a key",
			Syntax:     "key",
			Complexity: "O(1)",
			Handler:    cmdStrlen},
		{Name: "substr", Arity: 4, Flags: FlagReadonly, ACL: []string{"read", "string", "slow"},
			Keys: KeySpec{1, 1, 1}, Group: "string", Since: "1.0.0",
			Summary:    "Get a substring of the string stored at a key",
			Syntax:     "key start end",
			Complexity: "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.",
			Handler:    cmdGetRange},
	}
}

// Options of SET and GETEX, as Redis's parseExtendedStringArgumentsOrReply knows them.
const (
	setNX = 1 << iota
	setXX
	setEX
	setPX
	setKeepTTL
	setGet
	setEXAT
	setPXAT
	setPersist
)

const setAnyExpire = setEX | setPX | setEXAT | setPXAT

// parseStringOptions reads SET's (forSet) or GETEX's options from args[first:]. It
// returns the flags and the index of the expiry argument (0 when none). Each option
// is accepted only where it does not conflict with an earlier one, exactly as Redis
// checks, so "SET k v EX 1 PX 1" and "SET k v NX XX" are syntax errors.
func parseStringOptions(c *Ctx, first int, forSet bool) (flags, expireArg int, ok bool) {
	for j := first; j < len(c.Args); j++ {
		hasNext := j < len(c.Args)-1
		switch {
		case forSet && c.Is(j, "nx") && flags&setXX == 0:
			flags |= setNX
		case forSet && c.Is(j, "xx") && flags&setNX == 0:
			flags |= setXX
		case forSet && c.Is(j, "get"):
			flags |= setGet
		case forSet && c.Is(j, "keepttl") && flags&(setPersist|setAnyExpire) == 0:
			flags |= setKeepTTL
		case !forSet && c.Is(j, "persist") && flags&(setAnyExpire|setKeepTTL) == 0:
			flags |= setPersist
		case c.Is(j, "ex") && hasNext && flags&(setKeepTTL|setPersist|setEXAT|setPX|setPXAT) == 0:
			flags |= setEX
			expireArg = j + 1
			j++
		case c.Is(j, "px") && hasNext && flags&(setKeepTTL|setPersist|setEX|setEXAT|setPXAT) == 0:
			flags |= setPX
			expireArg = j + 1
			j++
		case c.Is(j, "exat") && hasNext && flags&(setKeepTTL|setPersist|setEX|setPX|setPXAT) == 0:
			flags |= setEXAT
			expireArg = j + 1
			j++
		case c.Is(j, "pxat") && hasNext && flags&(setKeepTTL|setPersist|setEX|setEXAT|setPX) == 0:
			flags |= setPXAT
			expireArg = j + 1
			j++
		default:
			c.Error(ErrSyntax)
			return 0, 0, false
		}
	}
	return flags, expireArg, true
}

// expireAtMs turns an EX/PX/EXAT/PXAT argument into an absolute Unix time in ms, with
// Redis's checks: not positive, or overflowing once scaled or offset, is an invalid
// expire time for the command.
func expireAtMs(c *Ctx, arg []byte, flags int) (int64, bool) {
	ms, ok := ParseInt(arg)
	if !ok {
		c.Error(ErrNotInt)
		return 0, false
	}
	seconds := flags&(setEX|setEXAT) != 0
	if ms <= 0 || (seconds && ms > maxInt64/1000) {
		c.Error(errInvalidExpire(c.Cmd.Name))
		return 0, false
	}
	if seconds {
		ms *= 1000
	}
	if flags&(setEX|setPX) != 0 {
		// Wraps like C's signed addition on every platform Redis runs on; the check
		// below then catches it.
		ms += c.Now
	}
	if ms <= 0 {
		c.Error(errInvalidExpire(c.Cmd.Name))
		return 0, false
	}
	return ms, true
}

func errInvalidExpire(cmd string) string {
	return "ERR invalid expire time in '" + cmd + "' command"
}

// replyString writes a string value as a bulk reply.
func replyString(c *Ctx, o *Object) {
	if o.Enc == EncInt {
		c.W.BulkInt(o.Int)
		return
	}
	c.W.Bulk(o.Str)
}

// getGeneric is GET's body, shared by SET ... GET, GETSET and GETDEL: it replies with
// the value or null and reports false only when the key holds another type.
func getGeneric(c *Ctx) bool {
	o := c.LookupRead(c.Args[1])
	if o == nil {
		c.W.Null()
		return true
	}
	if o.Type != TypeString {
		c.Error(ErrWrongType)
		return false
	}
	replyString(c, o)
	return true
}

// setReply is how a SET-family command answers: SET and SETEX say OK or null,
// SETNX says 1 or 0.
type setReply uint8

const (
	replyOKNull setReply = iota
	replyOneZero
)

// setGeneric implements SET, SETNX, SETEX and PSETEX (Redis's setGenericCommand).
func setGeneric(c *Ctx, flags int, key, val, expire []byte, reply setReply) {
	var when int64
	if expire != nil {
		var ok bool
		if when, ok = expireAtMs(c, expire, flags); !ok {
			return
		}
	}
	if flags&setGet != 0 && !getGeneric(c) {
		return
	}
	old := c.LookupWrite(key)
	found := old != nil
	if (flags&setNX != 0 && found) || (flags&setXX != 0 && !found) {
		if flags&setGet == 0 {
			if reply == replyOneZero {
				c.W.Int(0)
			} else {
				c.W.Null()
			}
		}
		return
	}
	nv, reused := Object{}, false
	if found {
		nv, reused = overwriteRaw(old, val)
	}
	if !reused {
		nv = NewString(val)
	}
	c.SetKey(key, nv, flags&setKeepTTL != 0)
	c.Notify(EventString, "set", key)
	if expire != nil {
		c.DB.SetExpire(key, when)
		// The relative forms would mean a different instant on a replica or when the
		// AOF is replayed, so what is propagated is always the absolute time.
		var tmp [20]byte
		c.Propagate(cmdSetName, key, val, argPXAT, strconv.AppendInt(tmp[:0], when, 10))
		c.Notify(EventGeneric, "expire", key)
	}
	if flags&setGet == 0 {
		if reply == replyOneZero {
			c.W.Int(1)
		} else {
			c.W.OK()
		}
	}
	if flags&setGet != 0 && expire == nil {
		// GET only shapes the reply, so replicas get the command without it.
		out := make([][]byte, 0, len(c.Args))
		for j, a := range c.Args {
			if j >= 3 && EqualFold(a, "get") {
				continue
			}
			out = append(out, a)
		}
		c.Propagate(out...)
	}
}

var (
	cmdSetName = []byte("SET")
	argPXAT    = []byte("PXAT")
	argKeepTTL = []byte("KEEPTTL")
)

func cmdSet(c *Ctx) {
	flags, exp, ok := parseStringOptions(c, 3, true)
	if !ok {
		return
	}
	var expire []byte
	if exp > 0 {
		expire = c.Args[exp]
	}
	setGeneric(c, flags, c.Args[1], c.Args[2], expire, replyOKNull)
}

func cmdSetNX(c *Ctx) { setGeneric(c, setNX, c.Args[1], c.Args[2], nil, replyOneZero) }

func cmdSetEx(c *Ctx) { setGeneric(c, setEX, c.Args[1], c.Args[3], c.Args[2], replyOKNull) }

func cmdPSetEx(c *Ctx) { setGeneric(c, setPX, c.Args[1], c.Args[3], c.Args[2], replyOKNull) }

func cmdGet(c *Ctx) { getGeneric(c) }

// cmdGetEx is GET that may also change the TTL. It is never propagated as itself: a
// TTL change goes out as PEXPIREAT or PERSIST, and an EXAT/PXAT already in the past
// deletes the key and goes out as DEL (UNLINK under lazyfree-lazy-expire).
func cmdGetEx(c *Ctx) {
	flags, exp, ok := parseStringOptions(c, 2, false)
	if !ok {
		return
	}
	key := c.Args[1]
	o := c.LookupRead(key)
	if o == nil {
		c.W.Null()
		return
	}
	if o.Type != TypeString {
		c.Error(ErrWrongType)
		return
	}
	var when int64
	if exp > 0 {
		if when, ok = expireAtMs(c, c.Args[exp], flags); !ok {
			return
		}
	}
	replyString(c, o)
	switch {
	case flags&(setEXAT|setPXAT) != 0 && when <= c.Now && !c.E.Replica:
		c.DeleteKey(key)
		c.Propagate(delVerb(c.E.Settings.LazyfreeLazyExpire), key)
		c.Notify(EventGeneric, "del", key)
	case exp > 0:
		c.DB.SetExpire(key, when)
		var tmp [20]byte
		c.Propagate([]byte("PEXPIREAT"), key, strconv.AppendInt(tmp[:0], when, 10))
		c.Changed(key)
		c.Notify(EventGeneric, "expire", key)
	case flags&setPersist != 0:
		if c.DB.Persist(key) {
			c.Changed(key)
			c.Propagate([]byte("PERSIST"), key)
			c.Notify(EventGeneric, "persist", key)
		}
	}
}

// delVerb is how a deletion is propagated: UNLINK when the matching lazyfree option
// is on, as Redis does.
func delVerb(lazy bool) []byte {
	if lazy {
		return []byte("UNLINK")
	}
	return []byte("DEL")
}

func cmdGetDel(c *Ctx) {
	if !getGeneric(c) {
		return
	}
	key := c.Args[1]
	if c.DeleteKey(key) {
		c.Propagate(delVerb(c.E.Settings.LazyfreeUserDel), key)
		c.Notify(EventGeneric, "del", key)
	}
}

func cmdGetSet(c *Ctx) {
	if !getGeneric(c) {
		return
	}
	key := c.Args[1]
	c.SetKey(key, NewString(c.Args[2]), false)
	c.Notify(EventString, "set", key)
	c.Propagate(cmdSetName, key, c.Args[2])
}

func cmdMSet(c *Ctx)   { msetGeneric(c, false) }
func cmdMSetNX(c *Ctx) { msetGeneric(c, true) }

func msetGeneric(c *Ctx, nx bool) {
	if len(c.Args)%2 == 0 {
		c.WrongArgs()
		return
	}
	if nx {
		for j := 1; j < len(c.Args); j += 2 {
			if c.LookupWrite(c.Args[j]) != nil {
				c.W.Int(0)
				return
			}
		}
	}
	for j := 1; j < len(c.Args); j += 2 {
		c.SetKey(c.Args[j], NewString(c.Args[j+1]), false)
		c.Notify(EventString, "set", c.Args[j])
	}
	if nx {
		c.W.Int(1)
	} else {
		c.W.OK()
	}
}

// cmdMGet answers null for missing keys and for keys of other types alike.
func cmdMGet(c *Ctx) {
	c.W.Array(len(c.Args) - 1)
	for _, key := range c.Args[1:] {
		o := c.LookupRead(key)
		if o == nil || o.Type != TypeString {
			c.W.Null()
			continue
		}
		replyString(c, o)
	}
}

// checkStringLength refuses a result longer than proto-max-bulk-len (or overflowing),
// except for the master's stream, which must be applied whatever it says.
func checkStringLength(c *Ctx, size, add int64) bool {
	if c.FromMaster {
		return true
	}
	total := int64(uint64(size) + uint64(add))
	if total > c.E.Settings.ProtoMaxBulkLen || total < size || total < add {
		c.Error(ErrStringTooLong)
		return false
	}
	return true
}

// makeRaw turns a string value into an EncRaw one whose bytes the caller may edit, as
// Redis's dbUnshareStringValue does before APPEND, SETRANGE and the bit commands: so
// afterwards OBJECT ENCODING says "raw" whatever the length.
func makeRaw(o *Object) {
	switch o.Enc {
	case EncInt:
		o.Str = strconv.AppendInt(make([]byte, 0, 24), o.Int, 10)
		o.Int = 0
	case EncEmbstr:
		// Embedded strings are exact-size; give the copy room to grow as sds does.
		o.Str = append(make([]byte, 0, len(o.Str)*2), o.Str...)
	}
	o.Enc = EncRaw
}

// overwriteRaw makes the value that replaces old, a raw string of about val's size, in
// old's buffer rather than a new one: SET overwriting a key with a value of the same
// size then allocates nothing. A raw string owns its bytes (APPEND and SETRANGE edit
// them in place, COPY and snapshots copy them), and old is about to be replaced, so
// nothing else sees the buffer change. False when old cannot take val.
func overwriteRaw(old *Object, val []byte) (Object, bool) {
	if old.Type != TypeString || old.Enc != EncRaw || len(val) <= embstrLimit ||
		cap(old.Str) < len(val) || cap(old.Str) > len(val)+len(val)/4 {
		return Object{}, false
	}
	return rawString(append(old.Str[:0], val...)), true
}

// rawString makes a raw-encoded string that owns b.
func rawString(b []byte) Object { return Object{Type: TypeString, Enc: EncRaw, Str: b} }

func cmdAppend(c *Ctx) {
	key, add := c.Args[1], c.Args[2]
	o := c.LookupWrite(key)
	var total int
	if o == nil {
		c.AddKey(key, NewString(add))
		total = len(add)
	} else {
		if o.Type != TypeString {
			c.Error(ErrWrongType)
			return
		}
		if !checkStringLength(c, int64(o.StrLen()), int64(len(add))) {
			return
		}
		makeRaw(o)
		o.Str = append(o.Str, add...)
		total = len(o.Str)
		c.Changed(key)
	}
	c.Notify(EventString, "append", key)
	c.W.Int(int64(total))
}

func cmdStrlen(c *Ctx) {
	o := c.LookupRead(c.Args[1])
	if o == nil {
		c.W.Int(0)
		return
	}
	if o.Type != TypeString {
		c.Error(ErrWrongType)
		return
	}
	c.W.Int(int64(o.StrLen()))
}

// cmdGetRange serves GETRANGE and its old name SUBSTR. The indexes are parsed before
// the key is looked at, as in Redis, so bad indexes are an error even on a missing key.
func cmdGetRange(c *Ctx) {
	start, ok := ParseInt(c.Args[2])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	end, ok := ParseInt(c.Args[3])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	o := c.LookupRead(c.Args[1])
	if o == nil {
		c.W.Bulk(nil)
		return
	}
	if o.Type != TypeString {
		c.Error(ErrWrongType)
		return
	}
	var tmp [20]byte
	s := o.Str
	if o.Enc == EncInt {
		s = strconv.AppendInt(tmp[:0], o.Int, 10)
	}
	n := int64(len(s))
	if start < 0 && end < 0 && start > end {
		c.W.Bulk(nil)
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start = max(start, 0)
	end = max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		c.W.Bulk(nil)
		return
	}
	c.W.Bulk(s[start : end+1])
}

func cmdSetRange(c *Ctx) {
	key, val := c.Args[1], c.Args[3]
	offset, ok := ParseInt(c.Args[2])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	if offset < 0 {
		c.Error("ERR offset is out of range")
		return
	}
	o := c.LookupWrite(key)
	if o == nil {
		// Writing nothing to a missing key creates nothing.
		if len(val) == 0 {
			c.W.Int(0)
			return
		}
		if !checkStringLength(c, offset, int64(len(val))) {
			return
		}
		c.AddKey(key, rawString(make([]byte, offset+int64(len(val)))))
		o = c.DB.Peek(key)
	} else {
		if o.Type != TypeString {
			c.Error(ErrWrongType)
			return
		}
		if len(val) == 0 {
			c.W.Int(int64(o.StrLen()))
			return
		}
		if !checkStringLength(c, offset, int64(len(val))) {
			return
		}
		makeRaw(o)
		o.Str = growZero(o.Str, int(offset)+len(val))
		c.Changed(key)
	}
	copy(o.Str[offset:], val)
	c.Notify(EventString, "setrange", key)
	c.W.Int(int64(len(o.Str)))
}

// growZero extends b with zero bytes to at least n bytes.
func growZero(b []byte, n int) []byte {
	if n <= len(b) {
		return b
	}
	old := len(b)
	if n <= cap(b) {
		b = b[:n]
		clear(b[old:])
		return b
	}
	return append(b, make([]byte, n-old)...)
}

func cmdIncr(c *Ctx) { incrDecr(c, 1) }
func cmdDecr(c *Ctx) { incrDecr(c, -1) }

func cmdIncrBy(c *Ctx) {
	n, ok := ParseInt(c.Args[2])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	incrDecr(c, n)
}

func cmdDecrBy(c *Ctx) {
	n, ok := ParseInt(c.Args[2])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	if n == -maxInt64-1 {
		c.Error("ERR decrement would overflow")
		return
	}
	incrDecr(c, -n)
}

// incrDecr adds incr to the integer at key. The TTL stays, as Redis's dbOverwrite
// keeps it.
func incrDecr(c *Ctx, incr int64) {
	key := c.Args[1]
	o := c.LookupWrite(key)
	var value int64
	if o != nil {
		if o.Type != TypeString {
			c.Error(ErrWrongType)
			return
		}
		if o.Enc == EncInt {
			value = o.Int
		} else {
			v, ok := ParseInt(o.Str)
			if !ok {
				c.Error(ErrNotInt)
				return
			}
			value = v
		}
	}
	if (incr < 0 && value < 0 && incr < -maxInt64-1-value) ||
		(incr > 0 && value > 0 && incr > maxInt64-value) {
		c.Error(ErrOverflow)
		return
	}
	value += incr
	if o != nil {
		o.Enc, o.Int, o.Str = EncInt, value, nil
		c.Changed(key)
	} else {
		c.AddKey(key, NewInt(value))
	}
	c.Notify(EventString, "incrby", key)
	c.W.Int(value)
}

// cmdIncrByFloat adds in x87 long double precision as Redis does, stores the result
// formatted with %.17Lf (trailing zeros trimmed), and always propagates SET key value
// KEEPTTL so replicas and the AOF never redo float arithmetic.
func cmdIncrByFloat(c *Ctx) {
	key := c.Args[1]
	o := c.LookupWrite(key)
	cur := ldZero()
	if o != nil {
		if o.Type != TypeString {
			c.Error(ErrWrongType)
			return
		}
		var ok bool
		if o.Enc == EncInt {
			cur = ld{newLD().SetInt64(o.Int)}
		} else if cur, ok = ldParse(o.Str); !ok {
			c.Error(ErrNotFloat)
			return
		}
	}
	incr, ok := ldParse(c.Args[2])
	if !ok {
		c.Error(ErrNotFloat)
		return
	}
	if cur.IsInf() || incr.IsInf() {
		// inf+x is inf and inf-inf is NaN: either way Redis refuses it.
		c.Error(ErrNaN)
		return
	}
	sum, ok := ldAdd(cur, incr)
	if !ok {
		c.Error(ErrNaN)
		return
	}
	out := ldFormatHuman(sum)
	if o != nil {
		// Replaced in place: the access time and the snapshot stamp stay, or a running
		// snapshot would emit the key a second time.
		lru, gen := o.LRU, o.Gen
		*o = NewRawString(out)
		o.LRU, o.Gen = lru, gen
		c.Changed(key)
	} else {
		c.AddKey(key, NewRawString(out))
	}
	c.Notify(EventString, "incrbyfloat", key)
	c.W.Bulk(out)
	c.Propagate(cmdSetName, key, out, argKeepTTL)
}

// cmdLCS finds the longest common subsequence of two strings with the classic
// dynamic-programming table, replying with the string, its length (LEN) or the
// matching ranges (IDX), walking the table back from the end as Redis does so the
// ranges come out in the same order.
func cmdLCS(c *Ctx) {
	oa := c.LookupRead(c.Args[1])
	ob := c.LookupRead(c.Args[2])
	if (oa != nil && oa.Type != TypeString) || (ob != nil && ob.Type != TypeString) {
		c.Error("ERR The specified keys must contain string values")
		return
	}
	var a, b []byte
	if oa != nil {
		a = oa.Bytes()
	}
	if ob != nil {
		b = ob.Bytes()
	}
	var getLen, getIdx, withMatchLen bool
	var minMatchLen int64
	for j := 3; j < len(c.Args); j++ {
		more := len(c.Args) - 1 - j
		switch {
		case c.Is(j, "idx"):
			getIdx = true
		case c.Is(j, "len"):
			getLen = true
		case c.Is(j, "withmatchlen"):
			withMatchLen = true
		case c.Is(j, "minmatchlen") && more > 0:
			n, ok := ParseInt(c.Args[j+1])
			if !ok {
				c.Error(ErrNotInt)
				return
			}
			minMatchLen = max(n, 0)
			j++
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	if getLen && getIdx {
		c.Error("ERR If you want both the length and indexes, please just use IDX.")
		return
	}
	if uint64(len(a)) >= 1<<32-2 || uint64(len(b)) >= 1<<32-2 {
		c.Error("ERR String too long for LCS")
		return
	}
	alen, blen := len(a), len(b)
	cells := uint64(alen+1) * uint64(blen+1)
	if cells*4 > uint64(c.E.Settings.ProtoMaxBulkLen) {
		c.Error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
		return
	}
	w := blen + 1
	lcs := make([]uint32, cells)
	for i := 1; i <= alen; i++ {
		row, prev := lcs[i*w:(i+1)*w], lcs[(i-1)*w:i*w]
		for j := 1; j <= blen; j++ {
			switch {
			case a[i-1] == b[j-1]:
				row[j] = prev[j-1] + 1
			case prev[j] > row[j-1]:
				row[j] = prev[j]
			default:
				row[j] = row[j-1]
			}
		}
	}
	total := lcs[alen*w+blen]
	idx := total
	computeLCS := getIdx || !getLen
	var result []byte
	if computeLCS {
		result = make([]byte, idx)
	}
	var arrayLen int
	var deferred resp.Deferred
	if getIdx {
		c.W.Map(2)
		c.W.BulkString("matches")
		deferred = c.W.DeferLen()
	}
	// aStart == alen means no range is open.
	aStart, aEnd, bStart, bEnd := alen, 0, 0, 0
	i, j := alen, blen
	for computeLCS && i > 0 && j > 0 {
		emit := false
		if a[i-1] == b[j-1] {
			result[idx-1] = a[i-1]
			if aStart == alen {
				aStart, aEnd, bStart, bEnd = i-1, i-1, j-1, j-1
			} else if aStart == i && bStart == j {
				// Contiguous with the open range: extend it backwards.
				aStart--
				bStart--
			} else {
				emit = true
			}
			if aStart == 0 || bStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if lcs[(i-1)*w+j] > lcs[i*w+j-1] {
				i--
			} else {
				j--
			}
			if aStart != alen {
				emit = true
			}
		}
		if emit {
			matchLen := int64(aEnd - aStart + 1)
			if getIdx && (minMatchLen == 0 || matchLen >= minMatchLen) {
				if withMatchLen {
					c.W.Array(3)
				} else {
					c.W.Array(2)
				}
				c.W.Array(2)
				c.W.Int(int64(aStart))
				c.W.Int(int64(aEnd))
				c.W.Array(2)
				c.W.Int(int64(bStart))
				c.W.Int(int64(bEnd))
				if withMatchLen {
					c.W.Int(matchLen)
				}
				arrayLen++
			}
			aStart = alen
		}
	}
	switch {
	case getIdx:
		c.W.SetArray(deferred, arrayLen)
		c.W.BulkString("len")
		c.W.Int(int64(total))
	case getLen:
		c.W.Int(int64(total))
	default:
		c.W.Bulk(result)
	}
}
