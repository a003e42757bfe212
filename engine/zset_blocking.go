package engine

import "strconv"

// BZPOPMIN, BZPOPMAX and BZMPOP: the pops of zset_cmds.go that wait, on the blocking
// framework of blocking.go, when every key is empty.

func cmdBzpopmin(c *Ctx) { blockingZpop(c, c.Args[1:len(c.Args)-1], zsetMin, len(c.Args)-1, -1, false) }
func cmdBzpopmax(c *Ctx) { blockingZpop(c, c.Args[1:len(c.Args)-1], zsetMax, len(c.Args)-1, -1, false) }

// cmdBzmpop is BZMPOP timeout numkeys key... MIN|MAX [COUNT count]: the pop arguments
// are checked before the timeout, as Redis does.
func cmdBzmpop(c *Ctx) {
	keys, where, count, ok := parseZmpop(c, 2)
	if !ok {
		return
	}
	blockingZpop(c, keys, where, 1, count, true)
}

// blockingZpop pops from the first non-empty key, or blocks until one of keys gets
// members. count is -1 for BZPOPMIN/BZPOPMAX, whose reply is [key, member, score];
// BZMPOP (nested) answers [key, [[member, score]...]].
func blockingZpop(c *Ctx, keys [][]byte, where, timeoutIdx int, count int64, nested bool) {
	deadline, msg := ParseTimeout(c.Args[timeoutIdx], c.Now)
	if msg != "" {
		c.Error(msg)
		return
	}
	for _, k := range keys {
		o, ok := zsetLookupWrite(c, k)
		if !ok {
			return
		}
		if o != nil {
			zpopForBlocked(c, k, where, count, nested)
			return
		}
	}
	// Inside MULTI or a script an empty pop times out at once.
	if !c.CanBlock() {
		c.W.NullArray()
		return
	}
	c.BlockOn(keys, deadline, TypeZSet, func(c *Ctx, key []byte) bool {
		zpopForBlocked(c, key, where, count, nested)
		return true
	})
}

// zpopForBlocked pops from key, which holds members, and propagates the pop as the
// ZPOPMIN/ZPOPMAX it was, with the count actually popped for the COUNT forms.
func zpopForBlocked(c *Ctx, key []byte, where int, count int64, nested bool) {
	_, n := genericZpop(c, [][]byte{key}, zpopOpts{where: where, emitKey: true, count: count, nested: nested, nilIfEmpty: nested})
	if n == 0 {
		return
	}
	name := []byte(zpopCommandName(where))
	if count == -1 {
		c.Propagate(name, key)
	} else {
		c.Propagate(name, key, strconv.AppendInt(nil, int64(n), 10))
	}
}
