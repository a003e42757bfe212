package rdb

import (
	"fmt"
	"io"

	"kv/engine"
)

// LoadOptions say how to load a snapshot into an engine.
type LoadOptions struct {
	// Master drops keys whose TTL has already passed, as a master does on load; a
	// replica keeps them for its master to expire.
	Master bool
	// Merge lets a key in the file replace one already loaded (DEBUG RELOAD MERGE);
	// otherwise a duplicated key is an error, as in Redis.
	Merge bool
}

// LoadStats describe a finished load.
type LoadStats struct {
	Keys, Expired int64
	Functions     int
	// SkippedFunctions were in the file but the engine has no function registry.
	SkippedFunctions int
	Aux              map[string]string
}

type loader struct {
	e     *engine.Engine
	o     LoadOptions
	now   int64
	stats LoadStats
	db    int
	// fresh carries the eviction hint of a value with none in the file (it looks just
	// created), worked out once per freshEvery keys rather than with a clock read per
	// key.
	fresh     engine.Object
	freshKeys int
	// pending are keys read but not yet put, so the dictionary can be warmed for a
	// whole batch at once (engine.DB.Warm); keyBuf holds their names, because the
	// decoder reuses an entry's key.
	pending []pendingKey
	keyBuf  []byte
	keys    [][]byte
}

// pendingKey is a decoded key waiting for its batch to be put.
type pendingKey struct {
	db       *engine.DB
	dbIndex  int
	start    int // the key's name is keyBuf[start:end]
	end      int
	o        engine.Object
	expireMs int64
	offset   int64
}

// loadBatch is how many keys are put together: enough for warming to overlap the
// cache misses of many keys, few enough for them to stay cached until their Put.
const loadBatch = 32

const freshEvery = 1 << 16

// reusesEntries: Key keeps only the value's slices (FromValue takes them over) and
// the dictionary copies the key.
func (l *loader) reusesEntries() {}

func (l *loader) Header(int) error { return nil }
func (l *loader) SelectDB(db int) error {
	l.db = db
	return l.flush()
}

// ResizeDB sizes an empty database's tables for what follows, so loading does not
// rehash step by step (Redis's dictExpand on RESIZEDB).
func (l *loader) ResizeDB(keys, expires uint64) error {
	if err := l.flush(); err != nil {
		return err
	}
	db := l.e.DB(l.db)
	if db == nil || db.Len() > 0 {
		return nil
	}
	const max = 1 << 28 // a hint, not a promise: never reserve absurd sizes
	db.Keys().Reserve(int(min(keys, max)))
	db.Expires().Reserve(int(min(expires, max)))
	return nil
}
func (l *loader) Aux(k, v []byte) error {
	l.stats.Aux[string(k)] = string(v)
	return nil
}

// Function loads a function library; without a function engine it is counted so the
// caller can say it was skipped.
func (l *loader) Function(code []byte) error {
	l.stats.Functions++
	fs := l.e.Functions()
	if fs == nil {
		l.stats.SkippedFunctions++
		return nil
	}
	if err := fs.LoadLibrary(string(code), l.o.Merge); err != nil {
		return fmt.Errorf("failed loading a function library: %w", err)
	}
	return nil
}

func (l *loader) Key(en *Entry) error {
	db := l.e.DB(en.DB)
	if db == nil {
		return &CorruptError{Offset: en.Offset, What: fmt.Sprintf("database %d out of range (databases is %d)", en.DB, l.e.NumDBs())}
	}
	if l.o.Master && en.Meta.ExpireMs >= 0 && en.Meta.ExpireMs < l.now {
		l.stats.Expired++
		return nil
	}
	o, err := FromValue(&en.Value, &l.e.Settings)
	if err != nil {
		return &CorruptError{Offset: en.Offset, What: fmt.Sprintf("key %q: %v", en.Key, err)}
	}
	// Without hints a loaded value looks just created: idle 0, LFU's initial count.
	idle, freq := en.Meta.IdleSecs, en.Meta.Freq
	if idle < 0 && freq < 0 {
		if l.freshKeys%freshEvery == 0 {
			l.e.SetEvictionHint(&l.fresh, 0, 5)
		}
		l.freshKeys++
		o.LRU = l.fresh.LRU
	} else {
		if idle < 0 {
			idle = 0
		}
		if freq < 0 {
			freq = 5
		}
		l.e.SetEvictionHint(&o, idle, freq)
	}
	start := len(l.keyBuf)
	l.keyBuf = append(l.keyBuf, en.Key...)
	l.pending = append(l.pending, pendingKey{
		db: db, dbIndex: en.DB, start: start, end: len(l.keyBuf),
		o: o, expireMs: en.Meta.ExpireMs, offset: en.Offset,
	})
	if len(l.pending) >= loadBatch {
		return l.flush()
	}
	return nil
}

// flush puts the pending keys, warming each database's dictionary for them first.
func (l *loader) flush() error {
	if len(l.pending) == 0 {
		return nil
	}
	defer func() { l.pending, l.keyBuf, l.keys = l.pending[:0], l.keyBuf[:0], l.keys[:0] }()
	for i := 0; i < len(l.pending); {
		db := l.pending[i].db
		j := i
		for j < len(l.pending) && l.pending[j].db == db {
			l.keys = append(l.keys, l.keyBuf[l.pending[j].start:l.pending[j].end])
			j++
		}
		db.Warm(l.keys[len(l.keys)-(j-i):])
		i = j
	}
	for i := range l.pending {
		p := &l.pending[i]
		key := l.keys[i]
		if !p.db.Put(key, p.o, p.expireMs) && !l.o.Merge {
			return &CorruptError{Offset: p.offset, What: fmt.Sprintf("duplicated key %q in database %d", key, p.dbIndex)}
		}
		l.stats.Keys++
	}
	return nil
}

// Load reads an RDB stream into e, adding to what it holds. Lock held. On error the
// keys read before the error stay loaded; the caller decides whether to flush them.
func Load(r io.Reader, e *engine.Engine, o LoadOptions) (LoadStats, error) {
	l := &loader{e: e, o: o, now: e.NowMs(), stats: LoadStats{Aux: map[string]string{}}}
	err := Read(r, l)
	// Keys read before an error stay loaded, as if put one by one.
	if ferr := l.flush(); err == nil {
		err = ferr
	}
	return l.stats, err
}
