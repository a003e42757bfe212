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
}

const freshEvery = 1 << 16

// reusesEntries: Key keeps only the value's slices (FromValue takes them over) and
// the dictionary copies the key.
func (l *loader) reusesEntries() {}

func (l *loader) Header(int) error      { return nil }
func (l *loader) SelectDB(db int) error { l.db = db; return nil }

// ResizeDB sizes an empty database's tables for what follows, so loading does not
// rehash step by step (Redis's dictExpand on RESIZEDB).
func (l *loader) ResizeDB(keys, expires uint64) error {
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
	if !db.Put(en.Key, o, en.Meta.ExpireMs) && !l.o.Merge {
		return &CorruptError{Offset: en.Offset, What: fmt.Sprintf("duplicated key %q in database %d", en.Key, en.DB)}
	}
	l.stats.Keys++
	return nil
}

// Load reads an RDB stream into e, adding to what it holds. Lock held. On error the
// keys read before the error stay loaded; the caller decides whether to flush them.
func Load(r io.Reader, e *engine.Engine, o LoadOptions) (LoadStats, error) {
	l := &loader{e: e, o: o, now: e.NowMs(), stats: LoadStats{Aux: map[string]string{}}}
	err := Read(r, l)
	return l.stats, err
}
