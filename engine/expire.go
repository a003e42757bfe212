package engine

import (
	"math"
	"strconv"
	"time"
)

// Key expiry (Redis's expire.c): the EXPIRE family, TTL family, PERSIST, and the
// active expiry cycle that reclaims keys nobody reads.

func expireCommands() []*Command {
	oneKey := KeySpec{FirstKey: 1, LastKey: 1, Step: 1}
	expire := func(name, since, summary, syntax string, unit int64, relative bool) *Command {
		return &Command{Name: name, Arity: -3, Flags: FlagWrite | FlagFast, ACL: aclKeyspaceWriteFast, Keys: oneKey,
			Group: "generic", Since: since, Summary: summary, Syntax: syntax, Complexity: "O(1)",
			Handler: func(c *Ctx) { expireGeneric(c, unit, relative) }}
	}
	ttl := func(name, since, summary string, ms, abs bool) *Command {
		return &Command{Name: name, Arity: 2, Flags: FlagReadonly | FlagFast, ACL: aclKeyspaceReadFast, Keys: oneKey,
			Group: "generic", Since: since, Summary: summary, Syntax: "key", Complexity: "O(1)",
			Handler: func(c *Ctx) { ttlGeneric(c, ms, abs) }}
	}
	return []*Command{
		expire("expire", "1.0.0", "Set a key's time to live in seconds", "key seconds [NX|XX|GT|LT]", 1000, true),
		expire("pexpire", "2.6.0", "Set a key's time to live in milliseconds", "key milliseconds [NX|XX|GT|LT]", 1, true),
		expire("expireat", "1.2.0", "Set the expiration for a key as a UNIX timestamp", "key unix-time-seconds [NX|XX|GT|LT]", 1000, false),
		expire("pexpireat", "2.6.0", "Set the expiration for a key as a UNIX timestamp specified in milliseconds", "key unix-time-milliseconds [NX|XX|GT|LT]", 1, false),
		ttl("ttl", "1.0.0", "Get the time to live for a key in seconds", false, false),
		ttl("pttl", "2.6.0", "Get the time to live for a key in milliseconds", true, false),
		ttl("expiretime", "7.0.0", "Get the expiration Unix timestamp for a key", false, true),
		ttl("pexpiretime", "7.0.0", "Get the expiration Unix timestamp for a key in milliseconds", true, true),
		{Name: "persist", Arity: 2, Flags: FlagWrite | FlagFast, ACL: aclKeyspaceWriteFast, Keys: oneKey,
			Group: "generic", Since: "2.2.0", Summary: "Remove the expiration from a key", Syntax: "key",
			Complexity: "O(1)", Handler: persistCommand},
	}
}

const (
	expireNX = 1 << iota
	expireXX
	expireGT
	expireLT
)

// parseExpireFlags reads the NX|XX|GT|LT options after the time argument.
func parseExpireFlags(c *Ctx) (int, bool) {
	flags := 0
	for j := 3; j < len(c.Args); j++ {
		switch {
		case c.Is(j, "nx"):
			flags |= expireNX
		case c.Is(j, "xx"):
			flags |= expireXX
		case c.Is(j, "gt"):
			flags |= expireGT
		case c.Is(j, "lt"):
			flags |= expireLT
		default:
			c.Error("ERR Unsupported option " + string(c.Args[j]))
			return 0, false
		}
	}
	if flags&expireNX != 0 && flags&(expireXX|expireGT|expireLT) != 0 {
		c.Error("ERR NX and XX, GT or LT options at the same time are not compatible")
		return 0, false
	}
	if flags&expireGT != 0 && flags&expireLT != 0 {
		c.Error("ERR GT and LT options at the same time are not compatible")
		return 0, false
	}
	return flags, true
}

func (c *Ctx) errInvalidExpire() {
	c.Error("ERR invalid expire time in '" + c.Cmd.Name + "' command")
}

// expireGeneric is EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT: unit is 1000 when the
// argument is in seconds, relative when it counts from now.
func expireGeneric(c *Ctx, unit int64, relative bool) {
	key := c.Args[1]
	flags, ok := parseExpireFlags(c)
	if !ok {
		return
	}
	when, ok := ParseInt(c.Args[2])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	// Negative times are allowed (they delete the key); only overflow is an error.
	if unit == 1000 {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			c.errInvalidExpire()
			return
		}
		when *= 1000
	}
	var base int64
	if relative {
		base = c.E.NowMs()
	}
	if when > math.MaxInt64-base {
		c.errInvalidExpire()
		return
	}
	when += base

	if c.LookupWrite(key) == nil {
		c.W.Int(0)
		return
	}
	if flags != 0 {
		current := c.DB.ExpireAt(key)
		switch {
		case flags&expireNX != 0 && current != -1,
			flags&expireXX != 0 && current == -1,
			// No TTL counts as infinite: nothing is greater, anything is less.
			flags&expireGT != 0 && (current == -1 || when <= current),
			flags&expireLT != 0 && current != -1 && when >= current:
			c.W.Int(0)
			return
		}
	}

	// A time already past deletes the key, except where deletion is the master's
	// call (on a replica, or applying the master's stream).
	if when <= c.E.NowMs() && !c.FromMaster && !c.E.Replica {
		c.DB.remove(key)
		c.Changed(key)
		del := "DEL"
		if c.E.Settings.LazyfreeLazyExpire {
			del = "UNLINK"
		}
		c.Propagate([]byte(del), key)
		c.Notify(EventGeneric, "del", key)
		c.W.Int(1)
		return
	}
	c.DB.SetExpire(key, when)
	c.Changed(key)
	c.Notify(EventGeneric, "expire", key)
	if relative || unit != 1 {
		// Replicas and the AOF get the absolute time, so replaying later means the same.
		args := make([][]byte, len(c.Args))
		copy(args, c.Args)
		args[0] = []byte("PEXPIREAT")
		args[2] = strconv.AppendInt(nil, when, 10)
		c.Propagate(args...)
	}
	c.W.Int(1)
}

// ttlGeneric is TTL, PTTL, EXPIRETIME and PEXPIRETIME.
func ttlGeneric(c *Ctx, ms, abs bool) {
	key := c.Args[1]
	if c.lookupNoTouch(key, true) == nil {
		c.W.Int(-2)
		return
	}
	at := c.DB.ExpireAt(key)
	if at == -1 {
		c.W.Int(-1)
		return
	}
	ttl := at
	if !abs {
		ttl = at - c.E.NowMs()
	}
	ttl = max(ttl, 0)
	if !ms {
		ttl = (ttl + 500) / 1000
	}
	c.W.Int(ttl)
}

func persistCommand(c *Ctx) {
	key := c.Args[1]
	if c.LookupWrite(key) == nil || !c.DB.Persist(key) {
		c.W.Int(0)
		return
	}
	c.Changed(key)
	c.Notify(EventGeneric, "persist", key)
	c.W.Int(1)
}

// The active expiry cycle's parameters, Redis's ACTIVE_EXPIRE_CYCLE_* at effort 1;
// each point of active-expire-effort above 1 raises them as Redis does.
const (
	expireKeysPerLoop      = 20 // keys sampled per database per loop
	expireSlowTimePerc     = 25 // percent of the cron period one cycle may use
	expireAcceptableStale  = 10 // percent of expired samples that makes a database loop again
	expireDBsPerCall       = 16 // CRON_DBS_PER_CALL
	expireDictInitialSlots = 4  // DICT_HT_INITIAL_SIZE
)

// expireCycleState carries the cycle's progress from one call to the next.
type expireCycleState struct {
	currentDB     int
	timelimitExit bool     // the last call ran out of time: visit every database now
	scratch       [][]byte // keys found expired in one bucket, deleted after the scan step
	ttls          []int64  // their expiry times, parallel to scratch
}

// ActiveExpireCycle reclaims keys whose TTL has passed although nobody read them, as
// Redis's activeExpireCycle (slow cycle) does. The server calls it with the engine
// lock held every period (1/hz); the call spends at most 25% of period (plus 2% per
// point of active-expire-effort above 1).
//
// Per database it walks the buckets of the TTL table from where the last call left
// off, looking at about 20 keys (more with higher effort) per loop, deleting the
// expired ones (propagated as DEL, or UNLINK under lazyfree-lazy-expire), and loops
// again while more than 10% of those it looked at had expired. It keeps INFO's
// expired_keys, expired_stale_perc, expired_time_cap_reached_count and each
// database's avg_ttl. A replica never runs it: its master sends the DELs. Nor does
// it run while DEBUG SET-ACTIVE-EXPIRE 0 has switched it off.
func (e *Engine) ActiveExpireCycle(period time.Duration) {
	if e.Replica || e.Settings.ActiveExpireDisabled {
		return
	}
	effort := max(e.Settings.ActiveExpireEffort, 1) - 1
	keysPerLoop := expireKeysPerLoop + expireKeysPerLoop/4*effort
	acceptableStale := expireAcceptableStale - effort
	timelimit := period * time.Duration(expireSlowTimePerc+2*effort) / 100
	if timelimit <= 0 {
		timelimit = time.Microsecond
	}

	st := &e.expiry
	start := time.Now()
	dbsPerCall := expireDBsPerCall
	if dbsPerCall > len(e.dbs) || st.timelimitExit {
		dbsPerCall = len(e.dbs)
	}
	st.timelimitExit = false
	var totalSampled, totalExpired int
	iteration := 0

	for j := 0; j < dbsPerCall && !st.timelimitExit; j++ {
		db := e.dbs[st.currentDB%len(e.dbs)]
		// Move on now, so running out of time here starts the next call elsewhere.
		st.currentDB = (st.currentDB + 1) % len(e.dbs)
		for {
			iteration++
			num := db.expires.Len()
			if num == 0 {
				db.AvgTTL = 0
				break
			}
			// A nearly empty table is costly to sample; wait for it to shrink.
			if slots := expireSlots(db); slots > expireDictInitialSlots && num*100/slots < 1 {
				break
			}
			num = min(num, keysPerLoop)
			now := e.NowMs()
			sampled, expired, ttlSamples := 0, 0, 0
			var ttlSum int64
			maxBuckets, checked := num*20, 0
			for sampled < num && checked < maxBuckets {
				st.scratch, st.ttls = st.scratch[:0], st.ttls[:0]
				db.expireCursor = db.expires.Scan(db.expireCursor, func(key string, at *int64) {
					st.scratch = append(st.scratch, []byte(key))
					st.ttls = append(st.ttls, *at)
				})
				checked++
				for i, key := range st.scratch {
					at := st.ttls[i]
					sampled++
					if now > at {
						e.deleteExpired(db, key)
						expired++
					} else if ttl := at - now; ttl > 0 {
						ttlSum += ttl
						ttlSamples++
					}
				}
				if db.expires.Len() == 0 {
					break
				}
			}
			totalSampled += sampled
			totalExpired += expired
			if ttlSamples > 0 {
				avg := ttlSum / int64(ttlSamples)
				// A running average that weighs the new sample at 2%.
				if db.AvgTTL == 0 {
					db.AvgTTL = avg
				}
				db.AvgTTL = db.AvgTTL/50*49 + avg/50
			}
			if iteration&0xf == 0 && time.Since(start) > timelimit {
				st.timelimitExit = true
				e.Stats.ExpiredTimeCapReachedCount++
				break
			}
			if sampled != 0 && expired*100/sampled <= acceptableStale {
				break
			}
		}
	}
	clear(st.scratch)
	e.Stats.ExpireCycleTime += time.Since(start)
	perc := 0.0
	if totalSampled > 0 {
		perc = float64(totalExpired) / float64(totalSampled)
	}
	e.Stats.ExpiredStalePerc = perc*0.05 + e.Stats.ExpiredStalePerc*0.95
}

// expireSlots is the bucket count of db's TTL table, the larger one while rehashing
// (Redis's dictSlots).
func expireSlots(db *DB) int {
	main, target := db.expires.Buckets()
	return main + target
}

// ActiveRehash moves buckets of hash tables that are being resized, for about budget
// (Redis's incrementallyRehash under activerehashing, 1 ms per cron tick). A table
// otherwise only rehashes a step per access, so one that shrank after mass expiry
// would stay sparse, and the expiry cycle skips sparse tables. Like Redis it works
// on the first table that needs it and stops. The server calls it with the lock held.
func (e *Engine) ActiveRehash(budget time.Duration) {
	for _, db := range e.dbs {
		if db.keys.IsRehashing() {
			db.keys.RehashFor(budget)
			return
		}
		if db.expires.IsRehashing() {
			db.expires.RehashFor(budget)
			return
		}
	}
}
