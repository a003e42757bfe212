package engine

// WatchSet is one client's WATCHed keys. Dirty becomes true when any of them is
// modified (or a FLUSHDB/SWAPDB touches its database), which fails the client's EXEC.
type WatchSet struct {
	Dirty bool
	keys  []watchKey
	// expireAt remembers which watched keys were already logically expired when watched,
	// so their lazy deletion does not count as a change (Redis 7.0).
	expired map[watchKey]bool
}

type watchKey struct {
	db  int
	key string
}

type watchRegistry struct {
	byKey map[watchKey]map[*WatchSet]struct{}
	e     *Engine
}

func (r *watchRegistry) init() { r.byKey = map[watchKey]map[*WatchSet]struct{}{} }

// touch marks every WatchSet watching key in db as dirty.
func (r *watchRegistry) touch(db int, key []byte) {
	if len(r.byKey) == 0 {
		return
	}
	set, ok := r.byKey[watchKey{db, string(key)}]
	if !ok {
		return
	}
	wk := watchKey{db, string(key)}
	for ws := range set {
		if ws.expired[wk] {
			// The key was already logically gone when watched. Reclaiming it (lazy or
			// active expiry, DEL) changes nothing a client could have seen; once it is
			// reclaimed, a later write is a real change again.
			if _, ok := r.e.dbs[db].keys.GetString(wk.key); !ok {
				delete(ws.expired, wk)
			}
			continue
		}
		ws.Dirty = true
	}
}

// touchDB marks dirty every WatchSet watching a key of db for which exists returns
// true (FLUSHDB, SWAPDB: Redis invalidates only watches of keys that existed).
func (r *watchRegistry) touchDB(db int, exists func(key string) bool) {
	for wk, set := range r.byKey {
		if wk.db != db {
			continue
		}
		if exists != nil && !exists(wk.key) {
			continue
		}
		for ws := range set {
			if ws.expired[wk] {
				// Emptying a database only reclaims a key that was already stale
				// when watched: no logical change (Redis 7.0 touchAllWatchedKeysInDb).
				delete(ws.expired, wk)
				continue
			}
			ws.Dirty = true
		}
	}
}

// touchSwap is Redis 7.0's touchAllWatchedKeysInDb(emptied, with) for SWAPDB, called
// before the contents of the two databases trade places: a watched key of emptied is
// touched if it exists on either side, except that stale keys (logically expired) are
// no change, and a missing key replaced by a stale one becomes a watched stale key.
func (r *watchRegistry) touchSwap(emptied, with *DB, now int64) {
	stale := func(db *DB, key string) bool {
		at, ok := db.expires.GetString(key)
		return ok && isExpired(at, now)
	}
	for wk, set := range r.byKey {
		if wk.db != emptied.ID {
			continue
		}
		_, inEmptied := emptied.keys.GetString(wk.key)
		_, inWith := with.keys.GetString(wk.key)
		if !inEmptied && !inWith {
			continue
		}
		for ws := range set {
			switch {
			case ws.expired[wk] && !inWith:
				// The stale key goes away: no logical change.
				delete(ws.expired, wk)
				continue
			case ws.expired[wk] && stale(with, wk.key):
				continue
			case !ws.expired[wk] && !inEmptied && stale(with, wk.key):
				if ws.expired == nil {
					ws.expired = map[watchKey]bool{}
				}
				ws.expired[wk] = true
				continue
			}
			ws.Dirty = true
		}
	}
}

// Watch adds key in the context's database to ws.
func (c *Ctx) Watch(ws *WatchSet, key []byte) {
	wk := watchKey{c.DB.ID, string(key)}
	for _, k := range ws.keys {
		if k == wk {
			return
		}
	}
	ws.keys = append(ws.keys, wk)
	set := c.E.watches.byKey[wk]
	if set == nil {
		set = map[*WatchSet]struct{}{}
		c.E.watches.byKey[wk] = set
	}
	set[ws] = struct{}{}
	if at := c.DB.ExpireAt(key); at >= 0 && c.Now > at {
		if ws.expired == nil {
			ws.expired = map[watchKey]bool{}
		}
		ws.expired[wk] = true
	}
}

// Unwatch forgets all of ws's keys.
func (e *Engine) Unwatch(ws *WatchSet) {
	for _, wk := range ws.keys {
		if set := e.watches.byKey[wk]; set != nil {
			delete(set, ws)
			if len(set) == 0 {
				delete(e.watches.byKey, wk)
			}
		}
	}
	ws.keys = ws.keys[:0]
	ws.expired = nil
	ws.Dirty = false
}

// WatchedKeyExpired reports whether a watched key has logically expired since it was
// watched, which fails EXEC in Redis 7.0 even before the key is reclaimed.
func (e *Engine) WatchedKeyExpired(ws *WatchSet, now int64) bool {
	for _, wk := range ws.keys {
		if ws.expired[wk] {
			continue
		}
		db := e.dbs[wk.db]
		if at, ok := db.expires.GetString(wk.key); ok && now > at {
			return true
		}
	}
	return false
}

// Watching is the number of keys ws watches.
func (ws *WatchSet) Watching() int { return len(ws.keys) }

// TotalWatchedKeys is INFO's watching_clients-style count of distinct watched keys.
func (e *Engine) TotalWatchedKeys() int { return len(e.watches.byKey) }
