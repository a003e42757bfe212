package engine

import (
	"strings"
)

// Generic key commands (Redis's db.c and object.c): DEL, UNLINK, EXISTS, TYPE,
// RANDOMKEY, RENAME, RENAMENX, COPY, MOVE, TOUCH, OBJECT, and the database-wide
// DBSIZE, SWAPDB, FLUSHDB and FLUSHALL. Expiry commands live in expire.go, KEYS and
// SCAN in scan.go, SORT in sort.go.

// ErrSameObject is Redis's shared.sameobjecterr (MOVE and COPY onto themselves).
const ErrSameObject = "ERR source and destination objects are the same"

var (
	aclKeyspaceWriteSlow = []string{"keyspace", "write", "slow"}
	aclKeyspaceWriteFast = []string{"keyspace", "write", "fast"}
	aclKeyspaceReadFast  = []string{"keyspace", "read", "fast"}
	aclKeyspaceReadSlow  = []string{"keyspace", "read", "slow"}
)

func keysCommands() []*Command {
	allKeys := KeySpec{FirstKey: 1, LastKey: -1, Step: 1}
	oneKey := KeySpec{FirstKey: 1, LastKey: 1, Step: 1}
	twoKeys := KeySpec{FirstKey: 1, LastKey: 2, Step: 1}
	objectSub := func(name string, since, summary string) *Command {
		return &Command{Name: "object|" + name, Arity: 3, Flags: FlagReadonly, ACL: aclKeyspaceReadSlow,
			Keys: KeySpec{FirstKey: 2, LastKey: 2, Step: 1}, Group: "generic", Since: since, Summary: summary,
			Syntax: "key", Complexity: "O(1)", Handler: objectCommand}
	}
	object := &Command{Name: "object", Arity: -2, Group: "generic", Since: "2.2.3",
		Summary: "A container for object introspection commands", Complexity: "Depends on subcommand.",
		Handler: containerHandler("OBJECT"),
		Subcommands: map[string]*Command{
			"encoding": objectSub("encoding", "2.2.3", "Inspect the internal encoding of a Redis object"),
			"freq":     objectSub("freq", "4.0.0", "Get the logarithmic access frequency counter of a Redis object"),
			"idletime": objectSub("idletime", "2.2.3", "Get the time since a Redis object was last accessed"),
			"refcount": objectSub("refcount", "2.2.3", "Get the number of references to the value of the key"),
			"help": {Name: "object|help", Arity: 2, Flags: FlagLoading | FlagStale, ACL: []string{"keyspace", "slow"},
				Group: "generic", Since: "6.2.0", Summary: "Show helpful text about the different subcommands",
				Complexity: "O(1)", Handler: objectCommand},
		},
	}
	return []*Command{
		{Name: "del", Arity: -2, Flags: FlagWrite, ACL: aclKeyspaceWriteSlow, Keys: allKeys,
			Group: "generic", Since: "1.0.0", Summary: "Delete a key", Syntax: "key [key ...]",
			Complexity: "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
			Handler:    delCommand},
		{Name: "unlink", Arity: -2, Flags: FlagWrite | FlagFast, ACL: aclKeyspaceWriteFast, Keys: allKeys,
			Group: "generic", Since: "4.0.0", Summary: "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
			Syntax: "key [key ...]", Complexity: "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
			Handler: delCommand},
		{Name: "exists", Arity: -2, Flags: FlagReadonly | FlagFast, ACL: aclKeyspaceReadFast, Keys: allKeys,
			Group: "generic", Since: "1.0.0", Summary: "Determine if a key exists", Syntax: "key [key ...]",
			Complexity: "O(N) where N is the number of keys to check.", Handler: existsCommand},
		{Name: "type", Arity: 2, Flags: FlagReadonly | FlagFast, ACL: aclKeyspaceReadFast, Keys: oneKey,
			Group: "generic", Since: "1.0.0", Summary: "Determine the type stored at key", Syntax: "key",
			Complexity: "O(1)", Handler: typeCommand},
		{Name: "randomkey", Arity: 1, Flags: FlagReadonly, ACL: aclKeyspaceReadSlow,
			Group: "generic", Since: "1.0.0", Summary: "Return a random key from the keyspace",
			Complexity: "O(1)", Handler: randomkeyCommand},
		{Name: "rename", Arity: 3, Flags: FlagWrite, ACL: aclKeyspaceWriteSlow, Keys: twoKeys,
			Group: "generic", Since: "1.0.0", Summary: "Rename a key", Syntax: "key newkey",
			Complexity: "O(1)", Handler: func(c *Ctx) { renameGeneric(c, false) }},
		{Name: "renamenx", Arity: 3, Flags: FlagWrite | FlagFast, ACL: aclKeyspaceWriteFast, Keys: twoKeys,
			Group: "generic", Since: "1.0.0", Summary: "Rename a key, only if the new key does not exist", Syntax: "key newkey",
			Complexity: "O(1)", Handler: func(c *Ctx) { renameGeneric(c, true) }},
		{Name: "copy", Arity: -3, Flags: FlagWrite | FlagDenyOOM, ACL: aclKeyspaceWriteSlow, Keys: twoKeys,
			Group: "generic", Since: "6.2.0", Summary: "Copy a key", Syntax: "source destination [DB destination-db] [REPLACE]",
			Complexity: "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
			Handler:    copyCommand},
		{Name: "move", Arity: 3, Flags: FlagWrite | FlagFast, ACL: aclKeyspaceWriteFast, Keys: oneKey,
			Group: "generic", Since: "1.0.0", Summary: "Move a key to another database", Syntax: "key db",
			Complexity: "O(1)", Handler: moveCommand},
		{Name: "touch", Arity: -2, Flags: FlagReadonly | FlagFast, ACL: aclKeyspaceReadFast, Keys: allKeys,
			Group: "generic", Since: "3.2.1", Summary: "Alters the last access time of a key(s). Returns the number of existing keys specified.",
			Syntax: "key [key ...]", Complexity: "O(N) where N is the number of keys that will be touched.", Handler: touchCommand},
		object,
		{Name: "dbsize", Arity: 1, Flags: FlagReadonly | FlagFast, ACL: aclKeyspaceReadFast,
			Group: "server", Since: "1.0.0", Summary: "Return the number of keys in the selected database",
			Complexity: "O(1)", Handler: func(c *Ctx) { c.W.Int(int64(c.DB.Len())) }},
		{Name: "swapdb", Arity: 3, Flags: FlagWrite | FlagFast, ACL: []string{"keyspace", "write", "fast", "dangerous"},
			Group: "server", Since: "4.0.0", Summary: "Swaps two Redis databases", Syntax: "index1 index2",
			Complexity: "O(N) where N is the count of clients watching or blocking on keys from both databases.",
			Handler:    swapdbCommand},
		{Name: "flushdb", Arity: -1, Flags: FlagWrite, ACL: []string{"keyspace", "write", "slow", "dangerous"},
			Group: "server", Since: "1.0.0", Summary: "Remove all keys from the current database", Syntax: "[ASYNC|SYNC]",
			Complexity: "O(N) where N is the number of keys in the selected database", Handler: flushdbCommand},
		{Name: "flushall", Arity: -1, Flags: FlagWrite, ACL: []string{"keyspace", "write", "slow", "dangerous"},
			Group: "server", Since: "1.0.0", Summary: "Remove all keys from all databases", Syntax: "[ASYNC|SYNC]",
			Complexity: "O(N) where N is the total number of keys in all databases", Handler: flushallCommand},
	}
}

// containerHandler runs a container command's subcommand with Redis's errors, for
// callers that dispatch on the container (the connection loop resolves only the
// top-level name).
func containerHandler(upper string) Handler {
	return func(c *Ctx) {
		sub := c.Cmd.LookupSub(c.Args[1])
		if sub == nil {
			c.Error(ErrUnknownSubcommand(c.Args[1], upper))
			return
		}
		if !sub.ArityOK(len(c.Args)) {
			c.Error(errWrongArgs(sub.Name))
			return
		}
		// The subcommand runs as itself, so the errors it writes name it.
		outer := c.Cmd
		c.Cmd = sub
		sub.Handler(c)
		c.Cmd = outer
	}
}

// lookupNoTouch is lookupKeyReadWithFlags(LOOKUP_NOTOUCH): expiry and hit/miss stats
// apply, but the access clock is left alone. notify controls the keymiss event.
func (c *Ctx) lookupNoTouch(key []byte, notify bool) *Object {
	var o *Object
	if !c.expireIfNeeded(key) {
		o = c.DB.keys.Ref(key)
	}
	if o == nil {
		c.E.Stats.KeyspaceMisses++
		if notify {
			c.Notify(EventKeyMiss, "keymiss", key)
		}
		return nil
	}
	c.E.Stats.KeyspaceHits++
	return o
}

// inDB runs fn with the context switched to db, so lookups there expire and signal in
// that database (MOVE, COPY ... DB).
func (c *Ctx) inDB(db *DB, fn func()) {
	saved := c.DB
	c.DB = db
	defer func() { c.DB = saved }()
	fn()
}

// notifyIn sends a keyspace event for key in db, which may not be the selected one.
func (c *Ctx) notifyIn(db *DB, class EventClass, event string, key []byte) {
	if c.E.notifier != nil {
		c.E.notifier.NotifyKeyspaceEvent(class, event, key, db.ID)
	}
}

func delCommand(c *Ctx) {
	var n int64
	for _, key := range c.Args[1:] {
		c.expireIfNeeded(key)
		if c.DeleteKey(key) {
			c.Notify(EventGeneric, "del", key)
			n++
		}
	}
	c.W.Int(n)
}

func existsCommand(c *Ctx) {
	var n int64
	for _, key := range c.Args[1:] {
		if c.lookupNoTouch(key, true) != nil {
			n++
		}
	}
	c.W.Int(n)
}

func typeCommand(c *Ctx) {
	o := c.lookupNoTouch(c.Args[1], true)
	if o == nil {
		c.W.Simple("none")
		return
	}
	c.W.Simple(o.Type.String())
}

func touchCommand(c *Ctx) {
	var n int64
	for _, key := range c.Args[1:] {
		if c.LookupRead(key) != nil {
			n++
		}
	}
	c.W.Int(n)
}

func randomkeyCommand(c *Ctx) {
	key, ok := c.randomKey()
	if !ok {
		c.W.Null()
		return
	}
	c.W.BulkString(key)
}

// randomKey is dbRandomKey: draw again when the drawn key turns out expired. A replica
// cannot delete, so when every key is volatile it gives up after 100 draws and returns
// a possibly expired name rather than loop forever.
func (c *Ctx) randomKey() (string, bool) {
	db := c.DB
	allVolatile := db.keys.Len() == db.expires.Len()
	for tries := 100; ; {
		key, _, ok := db.keys.RandomEntry(c.E.Rand)
		if !ok {
			return "", false
		}
		if _, volatile := db.expires.GetString(key); !volatile {
			return key, true
		}
		if allVolatile && c.E.Replica {
			if tries--; tries == 0 {
				return key, true
			}
		}
		if !c.expireIfNeeded([]byte(key)) {
			return key, true
		}
	}
}

func renameGeneric(c *Ctx, nx bool) {
	src, dst := c.Args[1], c.Args[2]
	o := c.LookupWrite(src)
	if o == nil {
		c.Error(ErrNoSuchKey)
		return
	}
	if string(src) == string(dst) {
		if nx {
			c.W.Int(0)
		} else {
			c.W.OK()
		}
		return
	}
	val := *o
	expire := c.DB.ExpireAt(src)
	if c.LookupWrite(dst) != nil {
		if nx {
			c.W.Int(0)
			return
		}
		c.DB.remove(dst)
	}
	c.DB.remove(src)
	c.DB.Put(dst, val, expire)
	c.E.SignalKeyReady(c.DB, dst, val.Type)
	c.E.watches.touch(c.DB.ID, src)
	c.E.watches.touch(c.DB.ID, dst)
	c.Notify(EventGeneric, "rename_from", src)
	c.Notify(EventGeneric, "rename_to", dst)
	c.AddDirty(1)
	if nx {
		c.W.Int(1)
	} else {
		c.W.OK()
	}
}

// parseDBIndex parses a database number the way getIntFromObjectOrReply and selectDb
// do; it writes the error and returns nil on failure.
func (c *Ctx) parseDBIndex(arg []byte) *DB {
	n, ok := ParseInt(arg)
	if !ok || n < -1<<31 || n > 1<<31-1 {
		c.Error(ErrNotInt)
		return nil
	}
	db := c.E.DB(int(n))
	if db == nil {
		c.Error(ErrDBIndex)
		return nil
	}
	return db
}

func moveCommand(c *Ctx) {
	key := c.Args[1]
	src := c.DB
	dst := c.parseDBIndex(c.Args[2])
	if dst == nil {
		return
	}
	if src == dst {
		c.Error(ErrSameObject)
		return
	}
	o := c.LookupWrite(key)
	if o == nil {
		c.W.Int(0)
		return
	}
	var exists bool
	c.inDB(dst, func() { exists = c.LookupWrite(key) != nil })
	if exists {
		c.W.Int(0)
		return
	}
	val, expire := *o, src.ExpireAt(key)
	src.remove(key)
	dst.Put(key, val, expire)
	c.E.SignalKeyReady(dst, key, val.Type)
	c.E.watches.touch(src.ID, key)
	c.E.watches.touch(dst.ID, key)
	c.notifyIn(src, EventGeneric, "move_from", key)
	c.notifyIn(dst, EventGeneric, "move_to", key)
	c.AddDirty(1)
	c.W.Int(1)
}

func copyCommand(c *Ctx) {
	src, dst := c.DB, c.DB
	replace := false
	for j := 3; j < len(c.Args); j++ {
		switch {
		case c.Is(j, "replace"):
			replace = true
		case c.Is(j, "db") && j+1 < len(c.Args):
			if dst = c.parseDBIndex(c.Args[j+1]); dst == nil {
				return
			}
			j++
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	key, newkey := c.Args[1], c.Args[2]
	if src == dst && string(key) == string(newkey) {
		c.Error(ErrSameObject)
		return
	}
	o := c.LookupRead(key)
	if o == nil {
		c.W.Int(0)
		return
	}
	expire := src.ExpireAt(key)
	var exists bool
	c.inDB(dst, func() { exists = c.LookupWrite(newkey) != nil })
	if exists && !replace {
		c.W.Int(0)
		return
	}
	cp, ok := c.E.hooks.dup(o)
	if !ok {
		c.Error("ERR unknown type object")
		return
	}
	c.E.touchLRU(&cp)
	dst.Put(newkey, cp, expire)
	c.E.SignalKeyReady(dst, newkey, cp.Type)
	c.E.watches.touch(dst.ID, newkey)
	c.notifyIn(dst, EventGeneric, "copy_to", newkey)
	c.AddDirty(1)
	c.W.Int(1)
}

var objectHelp = []string{
	"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"ENCODING <key>",
	"    Return the kind of internal representation used in order to store the value",
	"    associated with a <key>.",
	"FREQ <key>",
	"    Return the access frequency index of the <key>. The returned integer is",
	"    proportional to the logarithm of the recent access frequency of the key.",
	"IDLETIME <key>",
	"    Return the idle time of the <key>, that is the approximated number of",
	"    seconds elapsed since the last access to the key.",
	"REFCOUNT <key>",
	"    Return the number of references of the value associated with the specified",
	"    <key>.",
	"HELP",
	"    Prints this help.",
}

// sharedRefcount is what OBJECT REFCOUNT reports for Redis's shared integers
// (OBJ_SHARED_REFCOUNT, INT_MAX).
const sharedRefcount = 1<<31 - 1

func objectCommand(c *Ctx) {
	if len(c.Args) == 2 && c.Is(1, "help") {
		c.W.Array(len(objectHelp))
		for _, line := range objectHelp {
			c.W.Simple(line)
		}
		return
	}
	if len(c.Args) != 3 {
		c.Error(ErrUnknownSubcommand(c.Args[1], "OBJECT"))
		return
	}
	sub := c.Arg(1)
	if sub != "refcount" && sub != "encoding" && sub != "idletime" && sub != "freq" {
		c.Error(ErrUnknownSubcommand(c.Args[1], "OBJECT"))
		return
	}
	o := c.lookupNoTouch(c.Args[2], false)
	if o == nil {
		c.W.Null()
		return
	}
	s := &c.E.Settings
	switch sub {
	case "refcount":
		// Redis shares the objects for 0..9999 whenever maxmemory is off (and keeps
		// sharing values created then), so they report the shared refcount.
		// With maxmemory under an LRU or LFU policy every value needs its own access
		// clock, so Redis stops sharing them.
		if o.Type == TypeString && o.Enc == EncInt && o.Int >= 0 && o.Int < 10000 && !s.ownsAccessClock() {
			c.W.Int(sharedRefcount)
		} else {
			c.W.Int(1)
		}
	case "encoding":
		c.W.BulkString(o.Enc.String())
	case "idletime":
		if s.lfuPolicy() {
			c.Error("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
			return
		}
		c.W.Int(c.E.IdleSeconds(o))
	case "freq":
		if !s.lfuPolicy() {
			c.Error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
			return
		}
		c.W.Int(int64(c.E.lfuDecrAndReturn(o)))
	}
}

// lfuPolicy reports whether Object.LRU holds LFU data (MAXMEMORY_FLAG_LFU).
func (s *Settings) lfuPolicy() bool { return strings.HasSuffix(s.MaxmemoryPolicy, "-lfu") }

// ownsAccessClock reports whether values stop being shared because each needs its
// own LRU/LFU field (maxmemory set with an LRU or LFU policy).
func (s *Settings) ownsAccessClock() bool {
	return s.Maxmemory > 0 && policyFlags(s.MaxmemoryPolicy)&(policyLRU|policyLFU) != 0
}

// lfuInitVal is the counter a new value starts with, so it is not evicted at once.
const lfuInitVal = 5

// Under an LFU policy Object.LRU is Redis's layout: the last decrement time in minutes
// (16 bits) above an 8-bit logarithmic access counter.

func (e *Engine) lfuMinutes() uint32 { return e.lfuclock }

// lfuDecrAndReturn is the counter after the decay the idle minutes call for.
func (e *Engine) lfuDecrAndReturn(o *Object) uint32 {
	ldt, counter := o.LRU>>8, o.LRU&0xff
	now := e.lfuMinutes()
	elapsed := now - ldt
	if now < ldt {
		elapsed = 0xffff - ldt + now
	}
	if d := e.Settings.LfuDecayTime; d > 0 {
		periods := elapsed / uint32(d)
		if periods > counter {
			return 0
		}
		counter -= periods
	}
	return counter
}

// updateLFU records an access: decay, then a logarithmic increment. A value that was
// never accessed (LRU zero) starts at lfuInitVal as Redis's createObject does.
func (e *Engine) updateLFU(o *Object) {
	if o.LRU == 0 {
		o.LRU = e.lfuMinutes()<<8 | lfuInitVal
		return
	}
	counter := e.lfuDecrAndReturn(o)
	if counter < 255 {
		base := float64(counter) - lfuInitVal
		if base < 0 {
			base = 0
		}
		if e.Rand.Float64() < 1/(base*float64(e.Settings.LfuLogFactor)+1) {
			counter++
		}
	}
	o.LRU = e.lfuMinutes()<<8 | counter
}

func swapdbCommand(c *Ctx) {
	id1, ok1 := ParseInt(c.Args[1])
	if !ok1 || id1 < -1<<31 || id1 > 1<<31-1 {
		c.Error("ERR invalid first DB index")
		return
	}
	id2, ok2 := ParseInt(c.Args[2])
	if !ok2 || id2 < -1<<31 || id2 > 1<<31-1 {
		c.Error("ERR invalid second DB index")
		return
	}
	db1, db2 := c.E.DB(int(id1)), c.E.DB(int(id2))
	if db1 == nil || db2 == nil {
		c.Error(ErrDBIndex)
		return
	}
	if db1 != db2 {
		// A WATCHed key is invalidated if it exists on either side of the swap.
		c.E.watches.touchSwap(db1, db2, c.Now)
		c.E.watches.touchSwap(db2, db1, c.Now)
		db1.swap(db2)
		c.E.SignalReadyKeys(db1)
		c.E.SignalReadyKeys(db2)
	}
	c.AddDirty(1)
	c.W.OK()
}

// parseFlushMode reads FLUSHDB/FLUSHALL's optional ASYNC|SYNC. Freeing is left to the
// garbage collector either way, so the mode only has to parse.
func parseFlushMode(c *Ctx) bool {
	switch {
	case len(c.Args) == 1:
	case len(c.Args) == 2 && (c.Is(1, "sync") || c.Is(1, "async")):
	default:
		c.Error(ErrSyntax)
		return false
	}
	return true
}

// flushDB empties db, first invalidating WATCHes of keys it holds. A key that was
// already logically expired is no logical change, so its watchers keep going, as in
// Redis 7.0.
func (c *Ctx) flushDB(db *DB) int {
	if db.Len() > 0 {
		c.E.watches.touchDB(db.ID, func(key string) bool {
			if _, ok := db.keys.GetString(key); !ok {
				return false
			}
			at, ok := db.expires.GetString(key)
			return !ok || !isExpired(at, c.Now)
		})
	}
	return db.Clear()
}

func flushdbCommand(c *Ctx) {
	if !parseFlushMode(c) {
		return
	}
	c.AddDirty(c.flushDB(c.DB))
	c.ForcePropagation()
	c.W.OK()
}

func flushallCommand(c *Ctx) {
	if !parseFlushMode(c) {
		return
	}
	n := 0
	for i := 0; i < c.E.NumDBs(); i++ {
		n += c.flushDB(c.E.DB(i))
	}
	if c.E.flushAll != nil {
		c.E.flushAll()
	}
	c.AddDirty(n)
	c.ForcePropagation()
	c.W.OK()
}
