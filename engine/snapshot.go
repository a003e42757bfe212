package engine

import (
	"errors"

	"kv/engine/dict"
)

// Point-in-time snapshots without fork (DESIGN.md "Snapshots without fork").
//
// Every Object carries a generation stamp, Gen. The engine has a current generation;
// whatever is stored gets it. Starting a snapshot increments the generation, so every
// value that exists at that instant has an older stamp, and records the dictionaries of
// each database. A walker then visits those dictionaries in slices (Step, with the lock
// held, a slice at a time) and hands each value whose stamp is older than the snapshot's
// to the emit callback, stamping it. Between slices clients run; before any change to a
// key, the engine calls beforeChange, which emits the key's old value and TTL right
// there if it is still unstamped, and stamps it. Values created after the start carry
// the new stamp and are skipped. So each key present at the start is emitted exactly
// once, with the value and TTL it had at the start.
//
// FLUSHDB, FLUSHALL and SWAPDB replace or exchange dictionary pointers and never empty
// a dictionary in place: the walker goes on walking the detached originals, which no
// one modifies any more. The map from dictionary to the database it belonged to at the
// start tags copy-on-write emissions with the original database, even after SWAPDB.

// Emit receives one key of a snapshot: its database at the start of the snapshot, the
// key, the value and its expiry (Unix ms, -1 for none). It runs with the engine lock
// held, and must neither keep o nor key past the call nor touch the keyspace.
type Emit func(db int, key []byte, o *Object, expireAt int64)

// ErrSnapshotRunning is returned when a snapshot is requested while one runs: as
// Redis has at most one child saving, kv has at most one snapshot walking.
var ErrSnapshotRunning = errors.New("a snapshot is already in progress")

// snapState is the engine's part of the mechanism, embedded in Engine.
type snapState struct {
	// gen is the current generation, stamped on everything stored.
	gen uint16
	// floor is the generation of the last snapshot that finished its walk: every
	// value has a stamp between floor and gen (modulo 2^16), which is what makes
	// wrapping around safe (see StartSnapshot).
	floor uint16
	snap  *Snapshot
	// flushAll runs after FLUSHALL empties the keyspace (the server stops a BGSAVE and
	// saves, as Redis 7.0's flushAllDataAndResetRDB does).
	flushAll func()
}

// SetFlushAllHook installs what FLUSHALL calls after emptying every database, with the
// lock held (nil for nothing).
func (e *Engine) SetFlushAllHook(f func()) { e.flushAll = f }

// Snapshot is a point-in-time view of the keyspace being emitted.
type Snapshot struct {
	e    *Engine
	gen  uint16
	emit Emit
	// keys and expires are the dictionaries of each database at the start.
	keys    []*dict.Dict[Object]
	expires []*dict.Dict[int64]
	// origin maps a dictionary to its database at the start.
	origin map[*dict.Dict[Object]]int
	// Sizes are the key and TTL counts of each database at the start (RESIZEDB).
	Sizes [][2]int
	// Start is the engine clock in Unix ms when the snapshot began.
	Start int64

	db int
	// walk goes through the dictionary of db; collectFn is collect, made into a
	// func value once rather than at every Step.
	walk      *dict.Walker[Object]
	collectFn func(key string, o *Object)
	done      bool
	batch     emitBatch
	// Emitted counts keys emitted so far, by the walk or by copy-on-write.
	Emitted int64
}

// StartSnapshot begins a point-in-time snapshot that calls emit once per key that
// exists now. Lock held. Drive it with Step until it reports done, or Abort it.
func (e *Engine) StartSnapshot(emit Emit) (*Snapshot, error) {
	if e.snap != nil {
		return nil, ErrSnapshotRunning
	}
	if e.gen+1 == e.floor {
		// 65535 snapshots in a row were aborted before finishing their walk, so some
		// value may still carry the stamp the next generation would reuse. Restamp
		// everything once; it only ever happens after that many aborts.
		for _, db := range e.dbs {
			db.keys.Range(func(_ string, o *Object) bool { o.Gen = e.gen; return true })
		}
		e.floor = e.gen
	}
	e.gen++
	s := &Snapshot{
		e:      e,
		gen:    e.gen,
		emit:   emit,
		origin: make(map[*dict.Dict[Object]]int, len(e.dbs)),
		Start:  e.NowMs(),
	}
	s.collectFn = s.collect
	for i, db := range e.dbs {
		s.keys = append(s.keys, db.keys)
		s.expires = append(s.expires, db.expires)
		s.origin[db.keys] = i
		s.Sizes = append(s.Sizes, [2]int{db.keys.Len(), db.expires.Len()})
	}
	e.snap = s
	return s, nil
}

// SnapshotRunning reports whether a snapshot is walking. Lock held.
func (e *Engine) SnapshotRunning() bool { return e.snap != nil }

// Generation is the current snapshot generation (for tests). Lock held.
func (e *Engine) Generation() uint16 { return e.gen }

// Step walks about n more keys, emitting those not emitted yet, and reports whether
// the snapshot is complete: after that no more keys are emitted. Lock held.
//
// The walk goes through each table in bucket order while the table keeps its size
// between steps, and in Scan's resize-proof order from the first resize on
// (dict.Walker); keys it meets again after such a restart carry the snapshot's
// stamp and are skipped.
func (s *Snapshot) Step(n int) (done bool) {
	if s.done {
		return true
	}
	visited := 0
	for visited < n && s.db < len(s.keys) {
		if s.walk == nil {
			s.walk = s.keys[s.db].Walk()
		}
		k, end := s.walk.Next(n-visited, s.collectFn)
		visited += k
		if end {
			s.flushBatch()
			s.db++
			s.walk = nil
		}
	}
	s.flushBatch()
	if s.db >= len(s.keys) {
		s.finish(true)
	}
	return s.done
}

// Finish walks every key not emitted yet and completes the snapshot, for a caller
// that holds the lock from StartSnapshot to the end (SAVE). With no client running in
// between, the walk need not survive resizes, so it goes through each table in bucket
// order rather than Scan's reverse-binary order, whose jumps across the bucket array
// miss the cache on nearly every bucket of a large table. Lock held.
func (s *Snapshot) Finish() {
	if s.done {
		return
	}
	for ; s.db < len(s.keys); s.db++ {
		s.keys[s.db].Range(func(key string, o *Object) bool {
			s.collect(key, o)
			return true
		})
		s.flushBatch()
	}
	s.finish(true)
}

// emitBatch is a run of keys of one database the walk emits together. A key's entry,
// its name and its value are separate allocations, each a likely cache miss in a
// large keyspace; handled one key at a time the misses queue up behind each other,
// while a tight loop over a batch lets the processor have many in flight at once.
// Nothing changes between collecting a key and emitting it: both happen within one
// turn of the lock.
type emitBatch struct {
	n     int
	keys  [32]string
	objs  [32]*Object
	touch byte // keeps flushBatch's loads from being optimized away
}

// collect stamps o, stored at key in the database being walked, and queues it for
// emission unless it was emitted already.
func (s *Snapshot) collect(key string, o *Object) {
	if o.Gen == s.gen {
		return
	}
	o.Gen = s.gen
	b := &s.batch
	b.keys[b.n], b.objs[b.n] = key, o
	if b.n++; b.n == len(b.keys) {
		s.flushBatch()
	}
}

// flushBatch emits the queued keys: first a pass that only loads the first byte of
// each name and string value, then the emissions, which find them cached.
func (s *Snapshot) flushBatch() {
	b := &s.batch
	if b.n == 0 {
		return
	}
	t := b.touch
	for i := 0; i < b.n; i++ {
		if k := b.keys[i]; len(k) > 0 {
			t += k[0]
		}
		if v := b.objs[i].Str; len(v) > 0 {
			t += v[0]
		}
	}
	b.touch = t
	exp := s.expires[s.db]
	for i := 0; i < b.n; i++ {
		key, o := b.keys[i], b.objs[i]
		b.keys[i], b.objs[i] = "", nil
		at := int64(-1)
		if exp.Len() > 0 {
			if t, ok := exp.GetString(key); ok {
				at = t
			}
		}
		s.Emitted++
		s.emit(s.db, bytesOf(key), o, at)
	}
	b.n = 0
}

// Abort stops the snapshot; nothing more is emitted. Lock held. Values the walk did
// not reach keep their older stamps; that is safe because the next snapshot takes a
// new generation, and StartSnapshot restamps everything before a generation could be
// reused by a value that old.
func (s *Snapshot) Abort() { s.finish(false) }

// Done reports whether the snapshot has finished or been aborted. Lock held.
func (s *Snapshot) Done() bool { return s.done }

func (s *Snapshot) finish(complete bool) {
	if s.done {
		return
	}
	s.done = true
	if s.e.snap == s {
		s.e.snap = nil
		if complete {
			s.e.floor = s.gen
		}
	}
}

// preserve hands o, stored at key in db, to the running snapshot if the snapshot has
// not emitted it yet. Every change to an existing key goes through here first (via
// beforeChange, or LookupWrite for in-place changes).
func (e *Engine) preserve(db *DB, key []byte, o *Object) {
	s := e.snap
	if s == nil || o.Gen == s.gen {
		return
	}
	o.Gen = s.gen
	orig, ok := s.origin[db.keys]
	if !ok {
		// A dictionary made after the start holds only values stamped with the new
		// generation; nothing in it can be unstamped.
		return
	}
	at := int64(-1)
	if db.expires.Len() > 0 {
		if t, ok := db.expires.Get(key); ok {
			at = t
		}
	}
	s.Emitted++
	s.emit(orig, key, o, at)
}

// beforeChange is preserve for a key that may not exist: the one function every
// store, delete and TTL change in db.go calls first.
func (e *Engine) beforeChange(db *DB, key []byte) {
	if e.snap == nil {
		return
	}
	if o := db.keys.Ref(key); o != nil {
		e.preserve(db, key, o)
	}
}

// SwapDB exchanges databases a and b (SWAPDB): their dictionaries trade places, which a
// running snapshot tolerates by design. Lock held. Reports false for a bad index.
func (e *Engine) SwapDB(a, b int) bool {
	if a < 0 || b < 0 || a >= len(e.dbs) || b >= len(e.dbs) {
		return false
	}
	if a != b {
		e.dbs[a].swap(e.dbs[b])
	}
	return true
}
