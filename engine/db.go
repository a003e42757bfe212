package engine

import (
	"kv/engine/dict"
)

// DB is one numbered database: the keys and, for keys with a TTL, their expiry time in
// Unix milliseconds.
type DB struct {
	ID      int
	e       *Engine
	keys    *dict.Dict[Object]
	expires *dict.Dict[int64]

	// AvgTTL is the running estimate INFO keyspace reports, kept by the expiry cycle.
	AvgTTL int64
	// expireCursor is where the active expiry cycle continues next time.
	expireCursor uint64
}

func newDB(id int) *DB {
	return &DB{ID: id, keys: dict.New[Object](), expires: dict.New[int64]()}
}

// Len is the number of keys, including expired ones not yet reclaimed (DBSIZE).
func (db *DB) Len() int { return db.keys.Len() }

// ExpiresLen is the number of keys with a TTL.
func (db *DB) ExpiresLen() int { return db.expires.Len() }

// Keys exposes the key dictionary to code in this package family (SCAN, persistence).
func (db *DB) Keys() *dict.Dict[Object] { return db.keys }

// Expires exposes the expiry dictionary.
func (db *DB) Expires() *dict.Dict[int64] { return db.expires }

// ExpireAt returns key's expiry time in Unix ms, or -1 when it has none.
func (db *DB) ExpireAt(key []byte) int64 {
	if db.expires.Len() == 0 {
		return -1
	}
	if t, ok := db.expires.Get(key); ok {
		return t
	}
	return -1
}

// SetExpire sets key's expiry time; the key must exist.
func (db *DB) SetExpire(key []byte, at int64) {
	db.e.beforeChange(db, key)
	db.expires.Set(key, at)
}

// Persist removes key's TTL and reports whether it had one.
func (db *DB) Persist(key []byte) bool {
	if db.expires.Len() == 0 {
		return false
	}
	db.e.beforeChange(db, key)
	_, ok := db.expires.Delete(key)
	return ok
}

// Peek returns the value stored at key without expiry checks or stats (persistence,
// DEBUG); nil when absent.
func (db *DB) Peek(key []byte) *Object { return db.keys.Ref(key) }

// Put stores a value without signalling anything (loading a snapshot).
func (db *DB) Put(key []byte, o Object, expireAt int64) (added bool) {
	db.e.beforeChange(db, key)
	o.Gen = db.e.gen
	added = db.keys.Set(key, o)
	if expireAt >= 0 {
		db.expires.Set(key, expireAt)
	} else if db.expires.Len() > 0 {
		db.expires.Delete(key)
	}
	return added
}

// Warm prepares the cache for a batch of Puts of keys (dict.Warm): a bulk load calls
// it before putting them.
func (db *DB) Warm(keys [][]byte) { db.keys.Warm(keys) }

// remove deletes key and its TTL without signalling.
func (db *DB) remove(key []byte) bool {
	db.e.beforeChange(db, key)
	if _, ok := db.keys.Delete(key); !ok {
		return false
	}
	if db.expires.Len() > 0 {
		db.expires.Delete(key)
	}
	return true
}

// Clear empties the database and returns how many keys it had. It replaces the
// dictionaries rather than emptying them: a running snapshot keeps walking the old
// ones (snapshot.go).
func (db *DB) Clear() int {
	n := db.keys.Len()
	db.keys = dict.New[Object]()
	db.expires = dict.New[int64]()
	db.AvgTTL = 0
	db.expireCursor = 0
	return n
}

// swap exchanges the contents of two databases (SWAPDB).
func (db *DB) swap(other *DB) {
	db.keys, other.keys = other.keys, db.keys
	db.expires, other.expires = other.expires, db.expires
	db.AvgTTL, other.AvgTTL = other.AvgTTL, db.AvgTTL
	db.expireCursor, other.expireCursor = 0, 0
}

// expired reports whether key, which has TTL at, has logically expired at now.
func isExpired(at, now int64) bool { return at >= 0 && now > at }

// expireIfNeeded deletes key when its TTL has passed and reports whether it is gone
// (or hidden: on a replica the master decides, so the key is only hidden). The deletion
// is propagated as DEL, so replicas and the AOF never expire keys on their own.
func (c *Ctx) expireIfNeeded(key []byte) bool {
	db := c.DB
	if db.expires.Len() == 0 {
		return false
	}
	at, ok := db.expires.Get(key)
	if !ok || c.Now <= at {
		return false
	}
	if c.FromMaster {
		return false
	}
	if c.E.Replica {
		return true
	}
	c.E.deleteExpired(db, key)
	return true
}

// deleteExpired removes an expired key with everything Redis does for it: stats, the
// "expired" event, WATCH invalidation and a DEL (UNLINK under lazyfree-lazy-expire)
// to the AOF and replicas.
func (e *Engine) deleteExpired(db *DB, key []byte) {
	db.remove(key)
	e.Stats.ExpiredKeys++
	e.watches.touch(db.ID, key)
	if e.notifier != nil {
		e.notifier.NotifyKeyspaceEvent(EventExpired, "expired", key, db.ID)
	}
	if e.propagator != nil {
		del := "DEL"
		if e.Settings.LazyfreeLazyExpire {
			del = "UNLINK"
		}
		e.propagator.Propagate(db.ID, [][]byte{[]byte(del), append([]byte(nil), key...)})
	}
}

// LookupRead finds key for reading: expired keys are gone, and hits and misses are
// counted for INFO. Returns nil when absent.
func (c *Ctx) LookupRead(key []byte) *Object {
	if c.expireIfNeeded(key) {
		c.E.Stats.KeyspaceMisses++
		c.Notify(EventKeyMiss, "keymiss", key)
		return nil
	}
	o := c.DB.keys.Ref(key)
	if o == nil {
		c.E.Stats.KeyspaceMisses++
		c.Notify(EventKeyMiss, "keymiss", key)
		return nil
	}
	c.E.Stats.KeyspaceHits++
	c.E.touchLRU(o)
	return o
}

// LookupWrite finds key for modification (expired keys are deleted first). The pointer
// stays valid until the key is deleted.
func (c *Ctx) LookupWrite(key []byte) *Object {
	if c.expireIfNeeded(key) {
		return nil
	}
	o := c.DB.keys.Ref(key)
	if o != nil {
		c.E.preserve(c.DB, key, o)
		c.E.touchLRU(o)
	}
	return o
}

// Exists reports whether key exists, without touching its access time or stats.
func (c *Ctx) Exists(key []byte) bool {
	if c.expireIfNeeded(key) {
		return false
	}
	return c.DB.keys.Ref(key) != nil
}

// SetKey stores o at key, replacing any value and, unless keepTTL, its TTL
// (Redis's setKey). It signals the change.
func (c *Ctx) SetKey(key []byte, o Object, keepTTL bool) {
	c.E.beforeChange(c.DB, key)
	o.Gen = c.E.gen
	// Under LFU an overwrite keeps the key's access frequency (dbSetValue), so a
	// hot key rewritten often is not reset to a newcomer's count.
	if old := c.lfuOld(key); old != nil {
		o.LRU = old.LRU
	} else {
		c.E.touchLRU(&o)
	}
	if c.DB.keys.Set(key, o) {
		c.E.SignalKeyReady(c.DB, key, o.Type)
		c.Notify(EventNew, "new", key)
	}
	if !keepTTL && c.DB.expires.Len() > 0 {
		c.DB.expires.Delete(key)
	}
	c.Changed(key)
}

// AddKey stores o at a key known not to exist (dbAdd), signalling the change.
func (c *Ctx) AddKey(key []byte, o Object) {
	c.E.beforeChange(c.DB, key)
	o.Gen = c.E.gen
	c.E.touchLRU(&o)
	added := c.DB.keys.Set(key, o)
	c.E.SignalKeyReady(c.DB, key, o.Type)
	if added {
		c.Notify(EventNew, "new", key)
	}
	c.Changed(key)
}

// DeleteKey removes key and reports whether it existed, signalling the change.
func (c *Ctx) DeleteKey(key []byte) bool {
	if !c.DB.remove(key) {
		return false
	}
	c.Changed(key)
	return true
}

// touchLRU records an access for the eviction policies (robj.lru).
func (e *Engine) touchLRU(o *Object) {
	if e.Settings.lfuPolicy() {
		e.updateLFU(o)
		return
	}
	o.LRU = e.lruClock()
}

// lfuOld returns the value an overwrite replaces when an LFU policy is in force.
func (c *Ctx) lfuOld(key []byte) *Object {
	if !c.E.Settings.lfuPolicy() {
		return nil
	}
	return c.DB.keys.Ref(key)
}
