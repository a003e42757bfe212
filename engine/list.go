package engine

import (
	"strconv"

	"kv/resp"
)

// List commands (Redis's t_list.c). A list is always a Quicklist (OBJECT ENCODING
// "quicklist", as Redis 7.0 reports for every list). An empty list never stays in the
// keyspace: the command that empties it deletes the key.

func listCommands() []*Command {
	w := FlagWrite
	wd := FlagWrite | FlagDenyOOM
	ro := FlagReadonly
	oneKey := KeySpec{FirstKey: 1, LastKey: 1, Step: 1}
	twoKeys := KeySpec{FirstKey: 1, LastKey: 2, Step: 1}
	blockKeys := KeySpec{FirstKey: 1, LastKey: -2, Step: 1}
	wFast := []string{"write", "list", "fast"}
	wSlow := []string{"write", "list", "slow"}
	rSlow := []string{"read", "list", "slow"}
	rFast := []string{"read", "list", "fast"}
	wBlock := []string{"write", "list", "slow", "blocking"}
	pushCx := "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."
	mpopCx := "O(N+M) where N is the number of provided keys and M is the number of elements returned."
	return []*Command{
		{Name: "lpush", Arity: -3, Flags: wd | FlagFast, ACL: wFast, Keys: oneKey, Group: "list", Since: "1.0.0",
			Summary: "Prepend one or multiple elements to a list", Syntax: "key element [element ...]", Complexity: pushCx,
			Handler: func(c *Ctx) { pushCommand(c, true, false) }},
		{Name: "rpush", Arity: -3, Flags: wd | FlagFast, ACL: wFast, Keys: oneKey, Group: "list", Since: "1.0.0",
			Summary: "Append one or multiple elements to a list", Syntax: "key element [element ...]", Complexity: pushCx,
			Handler: func(c *Ctx) { pushCommand(c, false, false) }},
		{Name: "lpushx", Arity: -3, Flags: wd | FlagFast, ACL: wFast, Keys: oneKey, Group: "list", Since: "2.2.0",
			Summary: "Prepend an element to a list, only if the list exists", Syntax: "key element [element ...]", Complexity: pushCx,
			Handler: func(c *Ctx) { pushCommand(c, true, true) }},
		{Name: "rpushx", Arity: -3, Flags: wd | FlagFast, ACL: wFast, Keys: oneKey, Group: "list", Since: "2.2.0",
			Summary: "Append an element to a list, only if the list exists", Syntax: "key element [element ...]", Complexity: pushCx,
			Handler: func(c *Ctx) { pushCommand(c, false, true) }},
		{Name: "lpop", Arity: -2, Flags: w | FlagFast, ACL: wFast, Keys: oneKey, Group: "list", Since: "1.0.0",
			Summary: "Remove and get the first elements in a list", Syntax: "key [count]",
			Complexity: "O(N) where N is the number of elements returned",
			Handler:    func(c *Ctx) { popCommand(c, true) }},
		{Name: "rpop", Arity: -2, Flags: w | FlagFast, ACL: wFast, Keys: oneKey, Group: "list", Since: "1.0.0",
			Summary: "Remove and get the last elements in a list", Syntax: "key [count]",
			Complexity: "O(N) where N is the number of elements returned",
			Handler:    func(c *Ctx) { popCommand(c, false) }},
		{Name: "llen", Arity: 2, Flags: ro | FlagFast, ACL: rFast, Keys: oneKey, Group: "list", Since: "1.0.0",
			Summary: "Get the length of a list", Syntax: "key", Complexity: "O(1)", Handler: llenCommand},
		{Name: "lrange", Arity: 4, Flags: ro, ACL: rSlow, Keys: oneKey, Group: "list", Since: "1.0.0",
			Summary: "Get a range of elements from a list", Syntax: "key start stop",
			Complexity: "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
			Handler:    lrangeCommand},
		{Name: "lindex", Arity: 3, Flags: ro, ACL: rSlow, Keys: oneKey, Group: "list", Since: "1.0.0",
			Summary: "Get an element from a list by its index", Syntax: "key index",
			Complexity: "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).",
			Handler:    lindexCommand},
		{Name: "lset", Arity: 4, Flags: wd, ACL: wSlow, Keys: oneKey, Group: "list", Since: "1.0.0",
			Summary: "Set the value of an element in a list by its index", Syntax: "key index element",
			Complexity: "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).",
			Handler:    lsetCommand},
		{Name: "linsert", Arity: 5, Flags: wd, ACL: wSlow, Keys: oneKey, Group: "list", Since: "2.2.0",
			Summary: "Insert an element before or after another element in a list", Syntax: "key <BEFORE|AFTER> pivot element",
			Complexity: "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).",
			Handler:    linsertCommand},
		{Name: "lrem", Arity: 4, Flags: w, ACL: wSlow, Keys: oneKey, Group: "list", Since: "1.0.0",
			Summary: "Remove elements from a list", Syntax: "key count element",
			Complexity: "O(N+M) where N is the length of the list and M is the number of elements removed.",
			Handler:    lremCommand},
		{Name: "ltrim", Arity: 4, Flags: w, ACL: wSlow, Keys: oneKey, Group: "list", Since: "1.0.0",
			Summary: "Trim a list to the specified range", Syntax: "key start stop",
			Complexity: "O(N) where N is the number of elements to be removed by the operation.",
			Handler:    ltrimCommand},
		{Name: "lpos", Arity: -3, Flags: ro, ACL: rSlow, Keys: oneKey, Group: "list", Since: "6.0.6",
			Summary: "Return the index of matching elements on a list", Syntax: "key element [RANK rank] [COUNT num-matches] [MAXLEN len]",
			Complexity: "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.",
			Handler:    lposCommand},
		{Name: "lmove", Arity: 5, Flags: wd, ACL: wSlow, Keys: twoKeys, Group: "list", Since: "6.2.0",
			Summary: "Pop an element from a list, push it to another list and return it", Syntax: "source destination <LEFT|RIGHT> <LEFT|RIGHT>",
			Complexity: "O(1)", Handler: lmoveCommand},
		{Name: "rpoplpush", Arity: 3, Flags: wd, ACL: wSlow, Keys: twoKeys, Group: "list", Since: "1.2.0",
			Summary: "Remove the last element in a list, prepend it to another list and return it", Syntax: "source destination",
			Complexity: "O(1)", Handler: rpoplpushCommand},
		{Name: "lmpop", Arity: -4, Flags: w | FlagMovableKeys, ACL: wSlow, Group: "list", Since: "7.0.0",
			Summary: "Pop elements from a list", Syntax: "numkeys key [key ...] <LEFT|RIGHT> [COUNT count]",
			Complexity: mpopCx, GetKeys: numkeysKeys(1), Handler: func(c *Ctx) { lmpopCommand(c, 1, false) }},
		{Name: "blpop", Arity: -3, Flags: w | FlagNoscript | FlagBlocking, ACL: wBlock, Keys: blockKeys, Group: "list", Since: "2.0.0",
			Summary: "Remove and get the first element in a list, or block until one is available", Syntax: "key [key ...] timeout",
			Complexity: "O(N) where N is the number of provided keys.",
			Handler:    func(c *Ctx) { blockingPopCommand(c, true) }},
		{Name: "brpop", Arity: -3, Flags: w | FlagNoscript | FlagBlocking, ACL: wBlock, Keys: blockKeys, Group: "list", Since: "2.0.0",
			Summary: "Remove and get the last element in a list, or block until one is available", Syntax: "key [key ...] timeout",
			Complexity: "O(N) where N is the number of provided keys.",
			Handler:    func(c *Ctx) { blockingPopCommand(c, false) }},
		{Name: "blmove", Arity: 6, Flags: wd | FlagNoscript | FlagBlocking, ACL: wBlock, Keys: twoKeys, Group: "list", Since: "6.2.0",
			Summary: "Pop an element from a list, push it to another list and return it; or block until one is available",
			Syntax:  "source destination <LEFT|RIGHT> <LEFT|RIGHT> timeout", Complexity: "O(1)", Handler: blmoveCommand},
		{Name: "brpoplpush", Arity: 4, Flags: wd | FlagNoscript | FlagBlocking, ACL: wBlock, Keys: twoKeys, Group: "list", Since: "2.2.0",
			Summary: "Pop an element from a list, push it to another list and return it; or block until one is available",
			Syntax:  "source destination timeout", Complexity: "O(1)", Handler: brpoplpushCommand},
		{Name: "blmpop", Arity: -5, Flags: w | FlagBlocking | FlagMovableKeys, ACL: wBlock, Group: "list", Since: "7.0.0",
			Summary: "Pop elements from a list, or block until one is available", Syntax: "timeout numkeys key [key ...] <LEFT|RIGHT> [COUNT count]",
			Complexity: mpopCx, GetKeys: numkeysKeys(2), Handler: func(c *Ctx) { lmpopCommand(c, 2, true) }},
	}
}

// numkeysKeys finds the keys of a command whose argument at idx counts the keys that
// follow it (LMPOP, BLMPOP, ZMPOP ...).
func numkeysKeys(idx int) func(args [][]byte) []int {
	return func(args [][]byte) []int {
		if idx >= len(args) {
			return nil
		}
		n, ok := ParseInt(args[idx])
		if !ok || n <= 0 || n > int64(len(args)-idx-1) {
			return nil
		}
		out := make([]int, n)
		for i := range out {
			out[i] = idx + 1 + i
		}
		return out
	}
}

// NewList makes an empty list value bounded by the current list-max-listpack-size.
func (c *Ctx) newList() Object {
	return Object{Type: TypeList, Enc: EncQuicklist, Val: NewQuicklist(c.E.Settings.ListMaxListpackSize)}
}

func listOf(o *Object) *Quicklist { return o.Val.(*Quicklist) }

// lookupList finds key for writing and checks its type, replying WRONGTYPE when it is
// not a list. ok is false when the command must stop.
func (c *Ctx) lookupListWrite(key []byte) (ql *Quicklist, ok bool) {
	o := c.LookupWrite(key)
	if o == nil {
		return nil, true
	}
	if o.Type != TypeList {
		c.Error(ErrWrongType)
		return nil, false
	}
	return listOf(o), true
}

func (c *Ctx) lookupListRead(key []byte) (ql *Quicklist, ok bool) {
	o := c.LookupRead(key)
	if o == nil {
		return nil, true
	}
	if o.Type != TypeList {
		c.Error(ErrWrongType)
		return nil, false
	}
	return listOf(o), true
}

// parseLong parses an integer argument, replying with Redis's error when it is not one.
func (c *Ctx) parseLong(b []byte) (int64, bool) {
	n, ok := ParseInt(b)
	if !ok {
		c.Error(ErrNotInt)
	}
	return n, ok
}

// listPush adds v to ql at one end.
func listPush(ql *Quicklist, v []byte, head bool) {
	if head {
		ql.PushHead(v)
	} else {
		ql.PushTail(v)
	}
}

func listPop(ql *Quicklist, head bool) []byte {
	var v []byte
	if head {
		v, _ = ql.PopHead()
	} else {
		v, _ = ql.PopTail()
	}
	return v
}

func popEvent(head bool) string {
	if head {
		return "lpop"
	}
	return "rpop"
}

func pushEvent(head bool) string {
	if head {
		return "lpush"
	}
	return "rpush"
}

// LPUSH/RPUSH/LPUSHX/RPUSHX key element [element ...]
func pushCommand(c *Ctx, head, onlyExisting bool) {
	key := c.Args[1]
	ql, ok := c.lookupListWrite(key)
	if !ok {
		return
	}
	if ql == nil {
		if onlyExisting {
			c.W.Int(0)
			return
		}
		o := c.newList()
		ql = listOf(&o)
		c.AddKey(key, o)
		c.dirty-- // AddKey counted a change; Redis counts one per element below
	}
	ql.PushAll(c.Args[2:], head)
	c.dirty += len(c.Args) - 2
	c.W.Int(int64(ql.Len()))
	c.E.watches.touch(c.DB.ID, key)
	c.Notify(EventList, pushEvent(head), key)
}

// LINSERT key <BEFORE|AFTER> pivot element
func linsertCommand(c *Ctx) {
	var after bool
	switch {
	case c.Is(2, "after"):
		after = true
	case c.Is(2, "before"):
	default:
		c.Error(ErrSyntax)
		return
	}
	key := c.Args[1]
	ql, ok := c.lookupListWrite(key)
	if !ok {
		return
	}
	if ql == nil {
		c.W.Int(0)
		return
	}
	it := ql.Iter(0, true)
	for {
		v, more := it.Next()
		if !more {
			c.W.Int(-1)
			return
		}
		if entryEqual(v, c.Args[3]) {
			it.Insert(c.Args[4], after)
			break
		}
	}
	c.Changed(key)
	c.Notify(EventList, "linsert", key)
	c.W.Int(int64(ql.Len()))
}

// LLEN key
func llenCommand(c *Ctx) {
	ql, ok := c.lookupListRead(c.Args[1])
	if !ok {
		return
	}
	if ql == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(ql.Len()))
}

// LINDEX key index
func lindexCommand(c *Ctx) {
	ql, ok := c.lookupListRead(c.Args[1])
	if !ok {
		return
	}
	if ql == nil {
		c.W.Null()
		return
	}
	i, ok := c.parseLong(c.Args[2])
	if !ok {
		return
	}
	if v, ok := ql.Index(clampIndex(i)); ok {
		c.W.Bulk(v)
	} else {
		c.W.Null()
	}
}

// clampIndex keeps an int64 index within int without changing whether it is in range.
func clampIndex(i int64) int {
	const lim = 1 << 62
	if i > lim {
		return lim
	}
	if i < -lim {
		return -lim
	}
	return int(i)
}

// LSET key index element
func lsetCommand(c *Ctx) {
	key := c.Args[1]
	o := c.LookupWrite(key)
	if o == nil {
		c.Error(ErrNoSuchKey)
		return
	}
	if o.Type != TypeList {
		c.Error(ErrWrongType)
		return
	}
	i, ok := c.parseLong(c.Args[2])
	if !ok {
		return
	}
	if !listOf(o).Replace(clampIndex(i), c.Args[3]) {
		c.Error(ErrIndexRange)
		return
	}
	c.W.OK()
	c.Changed(key)
	c.Notify(EventList, "lset", key)
}

// listElementsRemoved does what follows every pop: the event, deleting an emptied
// key, and signalling the change (Redis's listElementsRemoved). It reports whether the
// key was deleted.
func (c *Ctx) listElementsRemoved(key []byte, ql *Quicklist, head bool, n int) bool {
	c.Notify(EventList, popEvent(head), key)
	deleted := false
	if ql.Len() == 0 {
		c.DB.remove(key)
		c.Notify(EventGeneric, "del", key)
		deleted = true
	}
	c.E.watches.touch(c.DB.ID, key)
	c.dirty += n
	return deleted
}

// writeRange replies with n entries from index start (normalized, in range), toward
// the tail or, when reverse, toward the head.
func writeRange(c *Ctx, ql *Quicklist, start, n int, reverse bool) {
	c.W.Array(n)
	ql.Range(start, n, !reverse, func(v []byte) bool {
		c.W.Bulk(v)
		return true
	})
}

// popRange pops up to count entries from one end, replying with them in pop order.
// It returns how many it popped.
func popRange(c *Ctx, ql *Quicklist, head bool, count int64) int {
	n := int(min(count, int64(ql.Len())))
	if head {
		writeRange(c, ql, 0, n, false)
		ql.DelRange(0, n)
	} else {
		writeRange(c, ql, ql.Len()-1, n, true)
		ql.DelRange(-n, n)
	}
	return n
}

// LPOP/RPOP key [count]
func popCommand(c *Ctx, head bool) {
	if len(c.Args) > 3 {
		c.WrongArgs()
		return
	}
	hasCount := len(c.Args) == 3
	var count int64
	if hasCount {
		n, ok := ParseInt(c.Args[2])
		if !ok || n < 0 {
			c.Error(ErrNotPositive)
			return
		}
		count = n
	}
	key := c.Args[1]
	ql, ok := c.lookupListWrite(key)
	if !ok {
		return
	}
	if ql == nil {
		if hasCount {
			c.W.NullArray()
		} else {
			c.W.Null()
		}
		return
	}
	if hasCount && count == 0 {
		c.W.Array(0)
		return
	}
	if !hasCount {
		ql.PopInto(head, c.W.Bulk)
		c.listElementsRemoved(key, ql, head, 1)
		return
	}
	n := popRange(c, ql, head, count)
	c.listElementsRemoved(key, ql, head, n)
}

// listRange normalizes a Redis start/stop pair against length n, returning the first
// index and how many entries the range holds (0 for an empty range).
func listRange(start, end int64, n int) (int, int) {
	ln := int64(n)
	if start < 0 {
		start += ln
	}
	if end < 0 {
		end += ln
	}
	if start < 0 {
		start = 0
	}
	if start > end || start >= ln {
		return 0, 0
	}
	if end >= ln {
		end = ln - 1
	}
	return int(start), int(end-start) + 1
}

// LRANGE key start stop
func lrangeCommand(c *Ctx) {
	start, ok := c.parseLong(c.Args[2])
	if !ok {
		return
	}
	end, ok := c.parseLong(c.Args[3])
	if !ok {
		return
	}
	ql, ok := c.lookupListRead(c.Args[1])
	if !ok {
		return
	}
	if ql == nil {
		c.W.Array(0)
		return
	}
	s, n := listRange(start, end, ql.Len())
	writeRange(c, ql, s, n, false)
}

// LTRIM key start stop
func ltrimCommand(c *Ctx) {
	start, ok := c.parseLong(c.Args[2])
	if !ok {
		return
	}
	end, ok := c.parseLong(c.Args[3])
	if !ok {
		return
	}
	key := c.Args[1]
	ql, ok := c.lookupListWrite(key)
	if !ok {
		return
	}
	if ql == nil {
		c.W.OK()
		return
	}
	llen := ql.Len()
	s, n := listRange(start, end, llen)
	ltrim, rtrim := llen, 0
	if n > 0 {
		ltrim, rtrim = s, llen-s-n
	}
	ql.DelRange(0, ltrim)
	ql.DelRange(-rtrim, rtrim)
	c.Notify(EventList, "ltrim", key)
	if ql.Len() == 0 {
		c.DB.remove(key)
		c.Notify(EventGeneric, "del", key)
	}
	c.E.watches.touch(c.DB.ID, key)
	c.dirty += ltrim + rtrim
	c.W.OK()
}

// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
func lposCommand(c *Ctx) {
	rank, count, maxlen := int64(1), int64(-1), int64(0)
	for j := 3; j < len(c.Args); j++ {
		more := j < len(c.Args)-1
		switch {
		case c.Is(j, "rank") && more:
			j++
			n, ok := c.parseLong(c.Args[j])
			if !ok {
				return
			}
			if n == 0 {
				c.Error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
				return
			}
			rank = n
		case c.Is(j, "count") && more:
			j++
			// An unparsable value gets the range message too (getPositiveLong...).
			n, ok := ParseInt(c.Args[j])
			if !ok || n < 0 {
				c.Error("ERR COUNT can't be negative")
				return
			}
			count = n
		case c.Is(j, "maxlen") && more:
			j++
			n, ok := ParseInt(c.Args[j])
			if !ok || n < 0 {
				c.Error("ERR MAXLEN can't be negative")
				return
			}
			maxlen = n
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	forward := true
	if rank < 0 {
		if rank == -1<<63 {
			// -LLONG_MIN overflows in C to itself; no list is that long, so it never matches.
			rank = 1<<63 - 1
		} else {
			rank = -rank
		}
		forward = false
	}
	ql, ok := c.lookupListRead(c.Args[1])
	if !ok {
		return
	}
	if ql == nil {
		if count != -1 {
			c.W.Array(0)
		} else {
			c.W.Null()
		}
		return
	}
	var d resp.Deferred
	if count != -1 {
		d = c.W.DeferLen()
	}
	start := 0
	if !forward {
		start = -1
	}
	llen := int64(ql.Len())
	it := ql.Iter(start, forward)
	var index, matches, found int64
	matchIndex := int64(-1)
	for maxlen == 0 || index < maxlen {
		v, more := it.Next()
		if !more {
			break
		}
		if entryEqual(v, c.Args[2]) {
			matches++
			if matches >= rank {
				matchIndex = index
				if !forward {
					matchIndex = llen - index - 1
				}
				if count == -1 {
					break
				}
				found++
				c.W.Int(matchIndex)
				if count != 0 && matches-rank+1 >= count {
					break
				}
			}
		}
		index++
		matchIndex = -1
	}
	if count != -1 {
		c.W.SetArray(d, int(found))
		return
	}
	if matchIndex != -1 {
		c.W.Int(matchIndex)
	} else {
		c.W.Null()
	}
}

// LREM key count element
func lremCommand(c *Ctx) {
	toRemove, ok := c.parseLong(c.Args[2])
	if !ok {
		return
	}
	key := c.Args[1]
	ql, ok := c.lookupListWrite(key)
	if !ok {
		return
	}
	if ql == nil {
		c.W.Int(0)
		return
	}
	var it *Iterator
	if toRemove < 0 {
		if toRemove == -1<<63 {
			toRemove = 1<<63 - 1
		} else {
			toRemove = -toRemove
		}
		it = ql.Iter(-1, false)
	} else {
		it = ql.Iter(0, true)
	}
	var removed int64
	for {
		v, more := it.Next()
		if !more {
			break
		}
		if entryEqual(v, c.Args[3]) {
			it.Delete()
			removed++
			if toRemove != 0 && removed == toRemove {
				break
			}
		}
	}
	c.dirty += int(removed)
	if removed > 0 {
		c.E.watches.touch(c.DB.ID, key)
		c.Notify(EventList, "lrem", key)
	}
	if ql.Len() == 0 {
		c.DB.remove(key)
		c.Notify(EventGeneric, "del", key)
	}
	c.W.Int(removed)
}

// parseWhere parses LEFT/RIGHT; true is LEFT (the head).
func (c *Ctx) parseWhere(i int) (head, ok bool) {
	switch {
	case c.Is(i, "left"):
		return true, true
	case c.Is(i, "right"):
		return false, true
	}
	c.Error(ErrSyntax)
	return false, false
}

// whereName is how Redis spells a direction when it propagates LMOVE.
func whereName(head bool) string {
	if head {
		return "left"
	}
	return "right"
}

// popName is the command a pop propagates as.
func popName(head bool) []byte {
	if head {
		return []byte("LPOP")
	}
	return []byte("RPOP")
}

// lmove pops from src and pushes to dst, replying with the element (Redis's
// lmoveGenericCommand). srcList is src's list, known to be non-empty. It reports
// whether it moved an element (false after a WRONGTYPE reply for dst).
func lmove(c *Ctx, src, dst []byte, srcList *Quicklist, fromHead, toHead bool) bool {
	dstObj := c.LookupWrite(dst)
	if dstObj != nil && dstObj.Type != TypeList {
		c.Error(ErrWrongType)
		return false
	}
	v := listPop(srcList, fromHead)
	if dstObj == nil {
		// A push back onto a source this pop emptied still finds it: the key goes only
		// after the push, as in Redis.
		o := c.newList()
		c.AddKey(dst, o)
		c.dirty--
		dstObj = c.DB.keys.Ref(dst)
	} else {
		c.E.watches.touch(c.DB.ID, dst)
	}
	listPush(listOf(dstObj), v, toHead)
	c.Notify(EventList, pushEvent(toHead), dst)
	c.W.Bulk(v)
	c.Notify(EventList, popEvent(fromHead), src)
	if srcList.Len() == 0 {
		c.DB.remove(src)
		c.Notify(EventGeneric, "del", src)
	}
	c.Changed(src)
	return true
}

// lmoveGeneric is LMOVE/RPOPLPUSH once the directions are parsed.
func lmoveGeneric(c *Ctx, fromHead, toHead bool) bool {
	src := c.Args[1]
	ql, ok := c.lookupListWrite(src)
	if !ok {
		return false
	}
	if ql == nil || ql.Len() == 0 {
		c.W.Null()
		return false
	}
	return lmove(c, src, c.Args[2], ql, fromHead, toHead)
}

// LMOVE source destination <LEFT|RIGHT> <LEFT|RIGHT>
func lmoveCommand(c *Ctx) {
	from, ok := c.parseWhere(3)
	if !ok {
		return
	}
	to, ok := c.parseWhere(4)
	if !ok {
		return
	}
	lmoveGeneric(c, from, to)
}

// RPOPLPUSH source destination
func rpoplpushCommand(c *Ctx) { lmoveGeneric(c, false, true) }

// mpopArgs are LMPOP/BLMPOP's parsed arguments.
type mpopArgs struct {
	keys  [][]byte
	head  bool
	count int64
}

// parseMpop parses "numkeys key [key ...] <LEFT|RIGHT> [COUNT count]" starting at
// numkeysIdx, replying with Redis's errors.
func parseMpop(c *Ctx, numkeysIdx int) (mpopArgs, bool) {
	var a mpopArgs
	n, ok := ParseInt(c.Args[numkeysIdx])
	if !ok || n < 1 {
		c.Error("ERR numkeys should be greater than 0")
		return a, false
	}
	whereIdx := int64(numkeysIdx) + n + 1
	if whereIdx >= int64(len(c.Args)) {
		c.Error(ErrSyntax)
		return a, false
	}
	a.keys = c.Args[numkeysIdx+1 : whereIdx]
	if a.head, ok = c.parseWhere(int(whereIdx)); !ok {
		return a, false
	}
	a.count = -1
	for j := int(whereIdx) + 1; j < len(c.Args); j++ {
		if a.count == -1 && c.Is(j, "count") && j < len(c.Args)-1 {
			j++
			v, ok := ParseInt(c.Args[j])
			if !ok || v < 1 {
				c.Error("ERR count should be greater than 0")
				return a, false
			}
			a.count = v
			continue
		}
		c.Error(ErrSyntax)
		return a, false
	}
	if a.count == -1 {
		a.count = 1
	}
	return a, true
}

// mpopFrom pops up to count entries from key's non-empty list and replies with
// [key, [elements...]], propagating it as [LR]POP key n.
func mpopFrom(c *Ctx, key []byte, ql *Quicklist, head bool, count int64) {
	c.W.Array(2)
	c.W.Bulk(key)
	n := popRange(c, ql, head, count)
	c.listElementsRemoved(key, ql, head, n)
	c.Propagate(popName(head), key, strconv.AppendInt(nil, int64(n), 10))
}

// LMPOP numkeys key [key ...] <LEFT|RIGHT> [COUNT count]
// BLMPOP timeout numkeys key [key ...] <LEFT|RIGHT> [COUNT count]
func lmpopCommand(c *Ctx, numkeysIdx int, blocking bool) {
	a, ok := parseMpop(c, numkeysIdx)
	if !ok {
		return
	}
	if blocking {
		blockingPop(c, a.keys, a.head, 1, a.count)
		return
	}
	for _, key := range a.keys {
		ql, ok := c.lookupListWrite(key)
		if !ok {
			return
		}
		if ql == nil || ql.Len() == 0 {
			continue
		}
		mpopFrom(c, key, ql, a.head, a.count)
		return
	}
	c.W.NullArray()
}

// BLPOP/BRPOP key [key ...] timeout
func blockingPopCommand(c *Ctx, head bool) {
	blockingPop(c, c.Args[1:len(c.Args)-1], head, len(c.Args)-1, -1)
}

// blockingPop serves the first non-empty list among keys or blocks on all of them.
// count is -1 for BLPOP/BRPOP (reply [key, element]) or BLMPOP's count (reply [key,
// [elements]]).
func blockingPop(c *Ctx, keys [][]byte, head bool, timeoutIdx int, count int64) {
	deadline, msg := ParseTimeout(c.Args[timeoutIdx], c.Now)
	if msg != "" {
		c.Error(msg)
		return
	}
	for _, key := range keys {
		ql, ok := c.lookupListWrite(key)
		if !ok {
			return
		}
		if ql == nil || ql.Len() == 0 {
			continue
		}
		if count != -1 {
			mpopFrom(c, key, ql, head, count)
			return
		}
		popOne(c, key, ql, head)
		c.listElementsRemoved(key, ql, head, 1)
		return
	}
	if !c.CanBlock() {
		c.W.NullArray()
		return
	}
	c.BlockOn(keys, deadline, TypeList, func(c *Ctx, key []byte) bool {
		return serveBlockedPop(c, key, head, count)
	})
}

// popOne pops one element and replies [key, element], propagated as [LR]POP key.
func popOne(c *Ctx, key []byte, ql *Quicklist, head bool) {
	v := listPop(ql, head)
	c.W.Array(2)
	c.W.Bulk(key)
	c.W.Bulk(v)
	c.Propagate(popName(head), key)
}

// serveBlockedPop serves a blocked BLPOP/BRPOP/BLMPOP from key, which holds a list.
// Redis does not signal the source as modified here: the push that made it ready
// already did.
func serveBlockedPop(c *Ctx, key []byte, head bool, count int64) bool {
	ql := listOf(c.DB.keys.Ref(key))
	if count != -1 {
		mpopFrom(c, key, ql, head, count)
		return true
	}
	popOne(c, key, ql, head)
	c.Notify(EventList, popEvent(head), key)
	if ql.Len() == 0 {
		c.DB.remove(key)
		c.Notify(EventGeneric, "del", key)
	}
	c.dirty++
	return true
}

// BLMOVE source destination <LEFT|RIGHT> <LEFT|RIGHT> timeout
func blmoveCommand(c *Ctx) {
	from, ok := c.parseWhere(3)
	if !ok {
		return
	}
	to, ok := c.parseWhere(4)
	if !ok {
		return
	}
	blmove(c, from, to, 5)
}

// BRPOPLPUSH source destination timeout
func brpoplpushCommand(c *Ctx) { blmove(c, false, true, 3) }

func blmove(c *Ctx, fromHead, toHead bool, timeoutIdx int) {
	deadline, msg := ParseTimeout(c.Args[timeoutIdx], c.Now)
	if msg != "" {
		c.Error(msg)
		return
	}
	src := c.Args[1]
	ql, ok := c.lookupListWrite(src)
	if !ok {
		return
	}
	if ql != nil && ql.Len() > 0 {
		if lmoveGeneric(c, fromHead, toHead) {
			propagateMove(c, fromHead, toHead)
		}
		return
	}
	if !c.CanBlock() {
		c.W.Null()
		return
	}
	c.BlockOn([][]byte{src}, deadline, TypeList, func(c *Ctx, key []byte) bool {
		ql := listOf(c.DB.keys.Ref(key))
		if lmove(c, key, c.Args[2], ql, fromHead, toHead) {
			propagateMove(c, fromHead, toHead)
		}
		return true
	})
}

// propagateMove sends a served BLMOVE as LMOVE and BRPOPLPUSH as RPOPLPUSH.
func propagateMove(c *Ctx, fromHead, toHead bool) {
	if c.Cmd.Name == "brpoplpush" {
		c.Propagate([]byte("RPOPLPUSH"), c.Args[1], c.Args[2])
		return
	}
	c.Propagate([]byte("LMOVE"), c.Args[1], c.Args[2], []byte(whereName(fromHead)), []byte(whereName(toHead)))
}

// Hooks for commands that handle values of every type (SORT, COPY, persistence).

// ListElements returns a list's entries head to tail (copies).
func ListElements(o *Object) [][]byte { return listOf(o).All() }

// NewListFrom builds a list value holding elems in order (SORT ... STORE, RDB load),
// with nodes bounded by s.ListMaxListpackSize.
func NewListFrom(s *Settings, elems [][]byte) Object {
	ql := NewQuicklist(s.ListMaxListpackSize)
	ql.PushAll(elems, false)
	return Object{Type: TypeList, Enc: EncQuicklist, Val: ql}
}

// DupList deep-copies a list value (COPY), keeping its node bound.
func DupList(o *Object) Object {
	src := listOf(o)
	ql := NewQuicklist(src.fill)
	for n := src.head; n != nil; n = n.next {
		cp := &qlNode{buf: append([]byte(nil), n.entries()...), count: n.count}
		ql.linkAfter(ql.tail, cp)
		ql.count += n.count
	}
	return Object{Type: TypeList, Enc: EncQuicklist, Val: ql, LRU: o.LRU}
}
