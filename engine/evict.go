package engine

import (
	"math"
	"time"
)

// Eviction under maxmemory (Redis's evict.c). Exact LRU or LFU would need a list or a
// heap threaded through every key; like Redis, kv approximates them by sampling:
// each round draws maxmemory-samples keys from every database into a pool of the 16
// best candidates seen so far, and evicts the best one still present. The pool
// survives between rounds, so good candidates found earlier are not forgotten, which
// is what makes 5 samples close to true LRU in practice.

// Policy flags, as Redis's MAXMEMORY_FLAG_*: a policy is a score (LRU, LFU, TTL or
// random) applied to all keys or only to keys with a TTL.
const (
	policyLRU = 1 << iota
	policyLFU
	policyTTL
	policyRandom
	policyAllKeys
	policyNoEviction
)

// policyFlags parses maxmemory-policy; the configuration only admits the eight names.
func policyFlags(name string) int {
	switch name {
	case "volatile-lru":
		return policyLRU
	case "volatile-lfu":
		return policyLFU
	case "volatile-random":
		return policyRandom
	case "volatile-ttl":
		return policyTTL
	case "allkeys-lru":
		return policyLRU | policyAllKeys
	case "allkeys-lfu":
		return policyLFU | policyAllKeys
	case "allkeys-random":
		return policyRandom | policyAllKeys
	}
	return policyNoEviction
}

// EvictResult is what PerformEvictions achieved (Redis's EVICT_OK/RUNNING/FAIL).
type EvictResult int

const (
	// EvictOK: memory is within the limit (or eviction is not allowed right now).
	EvictOK EvictResult = iota
	// EvictRunning: still over the limit after this call's time budget; the caller
	// should keep calling (the server runs a background loop) until it is not.
	EvictRunning
	// EvictFail: over the limit and nothing can be evicted (noeviction, or no key
	// the policy may touch). Commands that grow memory must be refused.
	EvictFail
)

// evpoolSize is the number of candidates the eviction pool keeps (EVPOOL_SIZE).
const evpoolSize = 16

type poolEntry struct {
	key  string // shares the dictionary's key; "" for a free slot
	idle uint64 // higher is a better candidate: idle ms, 255-freq, or inverted expiry
	db   int
}

// evictState is the eviction bookkeeping, guarded by the engine lock.
type evictState struct {
	pool   [evpoolSize]poolEntry
	nextDB int
	// running is set while an eviction pass stopped on its time budget with memory
	// still over the limit, so the server keeps evicting in the background.
	running bool
	// preCommandOOM is the verdict of the check made before the running top-level
	// command (server.pre_command_oom_state): scripts consult it for their writes.
	preCommandOOM bool
	// exceededSince is when memory last went over the limit and stayed (zero when
	// under); exceededTotal accumulates the finished spells, for INFO stats.
	exceededSince time.Time
	exceededTotal time.Duration
}

// lruClockMax is the LRU clock's range: 24 bits of seconds, as Redis's robj.lru.
const lruClockMax = 1<<24 - 1

// lruClock is the current LRU clock, cached per command by Exec so that touching a
// key does not read the system clock (Redis caches it in serverCron the same way).
func (e *Engine) lruClock() uint32 { return e.lruclock }

// setClock refreshes the cached LRU and LFU clocks from a time in Unix ms.
func (e *Engine) setClock(ms int64) {
	e.lruclock = uint32(ms/1000) & lruClockMax
	e.lfuclock = uint32(ms/60000) & 0xffff
}

// idleMs is estimateObjectIdleTime: milliseconds since o was last touched, allowing
// for one wrap of the 24-bit clock (every 194 days).
func (e *Engine) idleMs(o *Object) uint64 {
	now, lru := e.lruClock(), o.LRU&lruClockMax
	if now >= lru {
		return uint64(now-lru) * 1000
	}
	return uint64(lruClockMax-lru+now) * 1000
}

// IdleSeconds is OBJECT IDLETIME's figure for o.
func (e *Engine) IdleSeconds(o *Object) int64 { return int64(e.idleMs(o) / 1000) }

// evictionTimeLimit turns maxmemory-eviction-tenacity into a time budget per call,
// as evictionTimeLimitUs: linear up to 500us at 10, then 15% more per step, and no
// limit at 100.
func evictionTimeLimit(tenacity int) time.Duration {
	switch {
	case tenacity <= 10:
		return time.Duration(50*max(tenacity, 0)) * time.Microsecond
	case tenacity < 100:
		return time.Duration(500*math.Pow(1.15, float64(tenacity-10))) * time.Microsecond
	}
	return time.Duration(math.MaxInt64)
}

// MaxmemoryState reports whether memory is over maxmemory and by how much, counting
// memory as Redis's getMaxmemoryState: used memory minus what is not counted for
// eviction (replica output buffers beyond the backlog, the AOF buffer).
func (e *Engine) MaxmemoryState() (used, toFree int64, over bool) {
	limit := e.Settings.Maxmemory
	used = e.UsedMemory()
	if limit <= 0 || used <= limit {
		return used, 0, false
	}
	// The uncounted part is only worth computing once the cheap check says "over".
	used -= e.MemNotCountedForEvict()
	if used <= limit {
		return used, 0, false
	}
	return used, used - limit, true
}

// canEvict is isSafeToPerformEvictions for what the engine knows: a replica follows
// its master's keyspace unless replica-ignore-maxmemory is off.
func (e *Engine) canEvict() bool {
	return !(e.Replica && e.Settings.ReplicaIgnoreMaxmemory) && !e.Settings.EvictionPaused
}

// PerformEvictions frees memory by evicting keys until used memory is back under
// maxmemory or this call's time budget (maxmemory-eviction-tenacity) runs out. It is
// called before each command while maxmemory is set, with the engine lock held.
func (e *Engine) PerformEvictions() EvictResult {
	if e.Settings.Maxmemory <= 0 || !e.canEvict() {
		return EvictOK
	}
	res := e.performEvictions()
	ev := &e.evict
	ev.running = res == EvictRunning
	if res == EvictOK {
		if !ev.exceededSince.IsZero() {
			ev.exceededTotal += time.Since(ev.exceededSince)
			ev.exceededSince = time.Time{}
		}
	} else if ev.exceededSince.IsZero() {
		ev.exceededSince = time.Now()
	}
	return res
}

func (e *Engine) performEvictions() EvictResult {
	_, toFree, over := e.MaxmemoryState()
	if !over {
		return EvictOK
	}
	policy := policyFlags(e.Settings.MaxmemoryPolicy)
	if policy&policyNoEviction != 0 {
		return EvictFail
	}
	limit := evictionTimeLimit(e.Settings.MaxmemoryEvictionTenacity)
	start := time.Now()
	var freed int64
	keysFreed := 0
	// A gauge sees deletions at once, so it is measured instead of estimated.
	for freed < toFree || e.mem.gauge != nil {
		db, key, ok := e.pickEvictionVictim(policy)
		if !ok {
			return EvictFail
		}
		freed += e.evictKey(db, key)
		keysFreed++
		if e.mem.gauge != nil {
			if _, _, still := e.MaxmemoryState(); !still {
				break
			}
		}
		if keysFreed%16 == 0 && time.Since(start) > limit {
			return EvictRunning
		}
	}
	return EvictOK
}

// pickEvictionVictim chooses the next key to evict under policy, or reports that no
// key qualifies.
func (e *Engine) pickEvictionVictim(policy int) (*DB, string, bool) {
	allKeys := policy&policyAllKeys != 0
	if policy&policyRandom != 0 {
		// One key per database in turn, so no database is singled out.
		for range e.dbs {
			e.evict.nextDB = (e.evict.nextDB + 1) % len(e.dbs)
			db := e.dbs[e.evict.nextDB]
			var key string
			var ok bool
			if allKeys {
				key, _, ok = db.keys.RandomEntry(e.Rand)
			} else {
				key, _, ok = db.expires.RandomEntry(e.Rand)
			}
			if ok {
				return db, key, true
			}
		}
		return nil, "", false
	}
	pool := &e.evict.pool
	// Sampling can keep finding ghosts (a volatile key whose value went missing);
	// bounded rounds keep a broken keyspace from hanging the server.
	for round := 0; round < 1000; round++ {
		total := 0
		for _, db := range e.dbs {
			n := db.expires.Len()
			if allKeys {
				n = db.keys.Len()
			}
			if n > 0 {
				e.populatePool(db, policy)
				total += n
			}
		}
		if total == 0 {
			return nil, "", false
		}
		// Best candidates are at the right end; entries whose key has gone since
		// they were sampled ("ghosts") are dropped and the next one is tried.
		for k := evpoolSize - 1; k >= 0; k-- {
			ent := pool[k]
			if ent.key == "" {
				continue
			}
			pool[k] = poolEntry{}
			db := e.dbs[ent.db]
			var found bool
			if allKeys {
				_, found = db.keys.GetString(ent.key)
			} else {
				_, found = db.expires.GetString(ent.key)
			}
			if found {
				return db, ent.key, true
			}
		}
	}
	return nil, "", false
}

// populatePool samples keys of db and inserts those that beat the pool's worst
// entry, keeping the pool sorted by ascending score (evictionPoolPopulate).
func (e *Engine) populatePool(db *DB, policy int) {
	n := max(e.Settings.MaxmemorySamples, 1)
	score := func(key string, o *Object, at int64) uint64 {
		switch {
		case policy&policyLRU != 0:
			return e.idleMs(o)
		case policy&policyLFU != 0:
			return 255 - uint64(e.lfuDecrAndReturn(o))
		default: // volatile-ttl: the sooner the expiry, the better
			return math.MaxUint64 - uint64(at)
		}
	}
	if policy&policyAllKeys != 0 {
		db.keys.Sample(e.Rand, n, func(key string, o *Object) {
			e.poolInsert(db.ID, key, score(key, o, 0))
		})
		return
	}
	db.expires.Sample(e.Rand, n, func(key string, at *int64) {
		var o *Object
		if policy&policyTTL == 0 {
			if o = db.keys.Ref(bytesOf(key)); o == nil {
				return
			}
		}
		e.poolInsert(db.ID, key, score(key, o, *at))
	})
}

func (e *Engine) poolInsert(dbid int, key string, idle uint64) {
	pool := &e.evict.pool
	k := 0
	for k < evpoolSize && pool[k].key != "" && pool[k].idle < idle {
		k++
	}
	switch {
	case k == 0 && pool[evpoolSize-1].key != "":
		// Worse than everything in a full pool.
		return
	case k < evpoolSize && pool[k].key == "":
		// A free slot at the insertion point.
	case pool[evpoolSize-1].key == "":
		// Room on the right: shift right from k.
		copy(pool[k+1:], pool[k:evpoolSize-1])
	default:
		// Full: drop the worst (leftmost) and insert just before k.
		k--
		copy(pool[:k], pool[1:k+1])
	}
	// A key already pooled (sampled again) would be evicted twice as a ghost; the
	// lookup when popping makes that harmless, as in Redis.
	pool[k] = poolEntry{key: key, idle: idle, db: dbid}
}

// evictKey deletes key with everything Redis does for an eviction: evicted_keys, the
// "evicted" keyspace event, WATCH invalidation and a DEL to the AOF and replicas. It
// returns the estimate of memory freed, which the memory meter subtracts until the
// garbage collector has actually reclaimed it.
func (e *Engine) evictKey(db *DB, key string) int64 {
	kb := bytesOf(key)
	o := db.keys.Ref(kb)
	var freed int64
	if o != nil {
		freed = heapCost(key, o, db.expires.Len() > 0 && db.ExpireAt(kb) >= 0)
	}
	db.remove(kb)
	e.mem.evictedSinceGC += freed
	e.Stats.EvictedKeys++
	e.watches.touch(db.ID, kb)
	if e.notifier != nil {
		e.notifier.NotifyKeyspaceEvent(EventEvicted, "evicted", kb, db.ID)
	}
	if e.propagator != nil {
		e.propagator.Propagate(db.ID, [][]byte{[]byte("DEL"), []byte(key)})
	}
	return freed
}

// EvictionRunning reports whether the last eviction pass ran out of time with memory
// still over the limit (the server then keeps evicting in the background).
func (e *Engine) EvictionRunning() bool { return e.evict.running }

// CheckOOM runs eviction before a command, as processCommand does, and records the
// verdict for scripts (OOMAtCommandStart). It returns true when memory is over the
// limit and could not be freed: deny-oom commands must then be refused with ErrOOM.
// Commands from the master are never refused.
func (e *Engine) CheckOOM(fromMaster bool) bool {
	oom := e.PerformEvictions() == EvictFail
	if fromMaster {
		oom = false
	}
	e.evict.preCommandOOM = oom
	return oom
}

// OOMAtCommandStart is the verdict of the memory check made before the running
// top-level command (EVAL, FCALL, EXEC...). Scripting refuses a deny-oom command
// called from a script when this is true and the script has not written yet, as
// Redis's scriptVerifyOOM does; a script that already wrote must be allowed to finish.
func (e *Engine) OOMAtCommandStart() bool {
	return e.Settings.Maxmemory > 0 && e.evict.preCommandOOM
}

// EvictionExceededTime is total_eviction_exceeded_time and
// current_eviction_exceeded_time: how long memory has been over the limit, in all
// and in the current spell.
func (e *Engine) EvictionExceededTime() (total, current time.Duration) {
	ev := &e.evict
	if !ev.exceededSince.IsZero() {
		current = time.Since(ev.exceededSince)
	}
	return ev.exceededTotal + current, current
}

// LFUPolicy reports whether an LFU policy is in force (Object.LRU holds a counter).
func (e *Engine) LFUPolicy() bool { return e.Settings.lfuPolicy() }
