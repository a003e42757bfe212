package rdb

import (
	"context"
	"errors"
	"io"
	"runtime"
	"time"

	"kv/engine"
)

// SaveOptions say how to write a snapshot.
type SaveOptions struct {
	Compress bool // rdbcompression
	Checksum bool // rdbchecksum
	// Aux are extra AUX fields written after redis-ver, redis-bits, ctime and used-mem
	// (repl-stream-db, repl-id, repl-offset...).
	Aux [][2]string
	// SliceKeys is how many keys a background snapshot walks per turn of the engine
	// lock; 0 means 128.
	SliceKeys int
	// Progress, when set, is called outside the lock after each slice with the bytes
	// written so far and the keys emitted.
	Progress func(written, keys int64)
	// Version is what redis-ver says; empty means 7.0.15.
	Version string
	// AtStart, when set, runs with the engine lock held at the instant the snapshot is
	// taken: the place to record the replication offset the file is consistent with.
	AtStart func()
	// AOFBase marks the file as the RDB preamble of an AOF base (AUX aof-base 1).
	AOFBase bool
}

// SaveStats describe a finished save.
type SaveStats struct {
	Keys  int64
	Bytes int64
	// Start is the engine time (Unix ms) the snapshot is consistent with.
	Start int64
}

// snapWriter turns the engine's emissions into RDB records. It is used with the engine
// lock held (emit runs under it), except where Snapshot hands a finished chunk to its
// output outside the lock.
type snapWriter struct {
	w     *Writer
	sizes [][2]int
	db    int
	err   error
}

func newSnapWriter(out io.Writer, o SaveOptions, now time.Time) *snapWriter {
	w := NewWriter(out, o.Compress)
	w.NoChecksum = !o.Checksum
	ver := o.Version
	if ver == "" {
		ver = "7.0.15"
	}
	w.Aux("redis-ver", ver)
	w.AuxInt("redis-bits", 64)
	w.AuxInt("ctime", now.Unix())
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.AuxInt("used-mem", int64(ms.HeapAlloc))
	for _, kv := range o.Aux {
		w.Aux(kv[0], kv[1])
	}
	aofBase := int64(0)
	if o.AOFBase {
		aofBase = 1
	}
	w.AuxInt("aof-base", aofBase)
	return &snapWriter{w: w, db: -1}
}

// functions writes the function libraries, as Redis does between the AUX fields and
// the first database. Lock held.
func (s *snapWriter) functions(e *engine.Engine) {
	if fs := e.Functions(); fs != nil {
		for _, lib := range fs.Libraries() {
			s.w.Function([]byte(lib.Code))
		}
	}
}

func (s *snapWriter) emit(db int, key []byte, o *engine.Object, expireAt int64) {
	v, err := ToValue(o)
	if err != nil {
		if s.err == nil {
			s.err = err
		}
		return
	}
	if db != s.db {
		s.db = db
		var sz [2]int
		if db < len(s.sizes) {
			sz = s.sizes[db]
		}
		s.w.SelectDB(db, uint64(sz[0]), uint64(sz[1]))
	}
	m := NoMeta
	m.ExpireMs = expireAt
	s.w.Key(key, &v, m)
}

// SaveLocked writes a whole RDB file of e's keyspace to out with the engine lock held
// throughout, as SAVE does. It fails if a background snapshot is running.
func SaveLocked(e *engine.Engine, out io.Writer, o SaveOptions) (SaveStats, error) {
	sw := newSnapWriter(out, o, time.UnixMilli(e.NowMs()))
	snap, err := e.StartSnapshot(sw.emit)
	if err != nil {
		return SaveStats{}, err
	}
	sw.sizes = snap.Sizes
	sw.functions(e)
	if o.AtStart != nil {
		o.AtStart()
	}
	snap.Finish()
	if sw.err != nil {
		return SaveStats{}, sw.err
	}
	if err := sw.w.Close(); err != nil {
		return SaveStats{}, err
	}
	return SaveStats{Keys: snap.Emitted, Bytes: sw.w.Written(), Start: snap.Start}, nil
}

// Stream is a background snapshot in progress: started at one instant with the engine
// lock held (StartStream), then written out by WriteTo, which takes the lock one slice
// of keys at a time and writes each slice's bytes with the lock released. Writes that
// reach a key before the walk does copy its old value into the stream first
// (engine/snapshot.go), so the file is the keyspace as it was at StartStream.
type Stream struct {
	e       *engine.Engine
	o       SaveOptions
	sw      *snapWriter
	snap    *engine.Snapshot
	pending writeBuffer
}

// StartStream takes a snapshot of e now. Lock held. Exactly one of WriteTo or Abort
// must follow.
func StartStream(e *engine.Engine, o SaveOptions) (*Stream, error) {
	if o.SliceKeys <= 0 {
		o.SliceKeys = 128
	}
	s := &Stream{e: e, o: o}
	s.sw = newSnapWriter(&s.pending, o, time.UnixMilli(e.NowMs()))
	snap, err := e.StartSnapshot(s.sw.emit)
	if err != nil {
		return nil, err
	}
	s.snap = snap
	s.sw.sizes = snap.Sizes
	s.sw.functions(e)
	if o.AtStart != nil {
		o.AtStart()
	}
	return s, nil
}

// Progress is how many keys have been emitted and how many there were at the start.
// Lock held.
func (s *Stream) Progress() (done, total int64) {
	for _, sz := range s.snap.Sizes {
		total += int64(sz[0])
	}
	return s.snap.Emitted, total
}

// AbortUnlocked is Abort for a caller that does not hold the lock.
func (s *Stream) AbortUnlocked() {
	s.e.Lock()
	s.snap.Abort()
	s.e.Unlock()
}

// Abort drops a stream that will not be written. Lock held.
func (s *Stream) Abort() { s.snap.Abort() }

// WriteTo writes the snapshot to out. The caller must not hold the lock. Cancelling
// ctx aborts the walk.
func (s *Stream) WriteTo(ctx context.Context, out io.Writer) (SaveStats, error) {
	e, sw, snap := s.e, s.sw, s.snap
	var written int64
	var spare []byte
	for {
		e.Lock()
		done := snap.Step(s.o.SliceKeys)
		cancelled := ctx.Err() != nil
		if cancelled || sw.err != nil {
			snap.Abort()
		}
		_ = sw.w.Flush()
		chunk := s.pending.b
		s.pending.b = spare[:0]
		keys := snap.Emitted
		e.Unlock()
		// Let clients waiting for the lock in before the next slice: Go's mutex would
		// otherwise often hand it straight back to this goroutine.
		runtime.Gosched()
		if cancelled {
			return SaveStats{}, ctx.Err()
		}
		if sw.err != nil {
			return SaveStats{}, sw.err
		}
		if len(chunk) > 0 {
			if _, err := out.Write(chunk); err != nil {
				e.Lock()
				snap.Abort()
				e.Unlock()
				return SaveStats{}, err
			}
			written += int64(len(chunk))
		}
		spare = chunk
		if s.o.Progress != nil {
			s.o.Progress(written, keys)
		}
		if done {
			break
		}
	}
	// The walk is over: nothing emits any more, so the writer is ours alone.
	if err := sw.w.Close(); err != nil {
		return SaveStats{}, err
	}
	if _, err := out.Write(s.pending.b); err != nil {
		return SaveStats{}, err
	}
	written += int64(len(s.pending.b))
	return SaveStats{Keys: snap.Emitted, Bytes: written, Start: snap.Start}, nil
}

// Snapshot streams a point-in-time RDB file of e's keyspace to out while clients keep
// running (StartStream then WriteTo). The caller must not hold the lock.
func Snapshot(ctx context.Context, e *engine.Engine, out io.Writer, o SaveOptions) (SaveStats, error) {
	e.Lock()
	s, err := StartStream(e, o)
	e.Unlock()
	if err != nil {
		return SaveStats{}, err
	}
	return s.WriteTo(ctx, out)
}

// ErrSnapshotRunning is engine.ErrSnapshotRunning, for callers that only import rdb.
var ErrSnapshotRunning = engine.ErrSnapshotRunning

// IsSnapshotRunning reports whether err says another snapshot is in progress.
func IsSnapshotRunning(err error) bool { return errors.Is(err, engine.ErrSnapshotRunning) }
