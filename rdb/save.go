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
	// BusyPercent is the share of its time a background snapshot spends working
	// while clients are running commands: it sleeps the rest (see pacer). 0 means
	// 50; 100 never pauses. With no command run since its last slice it works at
	// full speed.
	BusyPercent int
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
	// q, when set, receives emissions instead of w (a background snapshot): see
	// emitQueue.
	q *emitQueue
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
	if s.q != nil {
		if err := s.q.add(db, key, o, expireAt); err != nil && s.err == nil {
			s.err = err
		}
		return
	}
	v, err := ToValue(o)
	if err != nil {
		if s.err == nil {
			s.err = err
		}
		return
	}
	s.selectDB(db)
	m := NoMeta
	m.ExpireMs = expireAt
	s.w.Key(key, &v, m)
}

func (s *snapWriter) selectDB(db int) {
	if db == s.db {
		return
	}
	s.db = db
	var sz [2]int
	if db < len(s.sizes) {
		sz = s.sizes[db]
	}
	s.w.SelectDB(db, uint64(sz[0]), uint64(sz[1]))
}

// emitQueue holds a background snapshot's emissions from the moment they are made,
// with the engine lock held, until the writer encodes them with the lock released.
// A string, most keys, is queued as a copy of its name and bytes: copying is all that
// is left under the lock, and the LZF attempt, the checksum and the length encodings
// run while clients do. The copy is needed as a value already emitted is no longer
// protected by copy-on-write, so it may change in place right after the lock is
// released. Other types, whose structures cannot be copied as cheaply, are encoded
// under the lock into the queue as finished records.
type emitQueue struct {
	arena []byte // the queued names, string values and finished records
	items []queued
	enc   *Writer // encodes finished records into arena
	buf   writeBuffer
}

type queued struct {
	db       int
	expireAt int64
	// arena[start:mid] is the name and arena[mid:end] the value of a string, or
	// arena[start:end] is a finished record when record is set.
	start, mid, end int
	record          bool
}

func newEmitQueue(o SaveOptions) *emitQueue {
	q := &emitQueue{}
	q.enc = &Writer{e: NewEncoder(&q.buf, o.Compress), ListNodeBytes: 8 << 10}
	q.enc.e.noCRC = true
	return q
}

// add queues one emission. Lock held.
func (q *emitQueue) add(db int, key []byte, o *engine.Object, expireAt int64) error {
	it := queued{db: db, expireAt: expireAt, start: len(q.arena)}
	if o.Type == engine.TypeString {
		q.arena = append(q.arena, key...)
		it.mid = len(q.arena)
		q.arena = o.AppendBytes(q.arena)
	} else {
		v, err := ToValue(o)
		if err != nil {
			return err
		}
		m := NoMeta
		m.ExpireMs = expireAt
		q.buf.b = q.arena
		q.enc.Key(key, &v, m)
		_ = q.enc.Flush()
		q.arena = q.buf.b
		q.buf.b = nil
		it.record = true
	}
	it.end = len(q.arena)
	q.items = append(q.items, it)
	return nil
}

// drainTo encodes the queued emissions into s's writer, in the order they were made,
// and empties the queue. Lock not needed: the queue has been taken from the snapshot.
func (q *emitQueue) drainTo(s *snapWriter) {
	for _, it := range q.items {
		s.selectDB(it.db)
		if it.record {
			s.w.e.Raw(q.arena[it.start:it.end])
			continue
		}
		m := NoMeta
		m.ExpireMs = it.expireAt
		s.w.stringKey(q.arena[it.start:it.mid], q.arena[it.mid:it.end], m)
	}
	q.arena, q.items = q.arena[:0], q.items[:0]
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
	// spare is the queue WriteTo drains while the snapshot fills sw.q.
	spare *emitQueue
}

// StartStream takes a snapshot of e now. Lock held. Exactly one of WriteTo or Abort
// must follow.
func StartStream(e *engine.Engine, o SaveOptions) (*Stream, error) {
	if o.SliceKeys <= 0 {
		o.SliceKeys = 128
	}
	if o.BusyPercent <= 0 {
		o.BusyPercent = 50
	}
	s := &Stream{e: e, o: o}
	s.sw = newSnapWriter(&s.pending, o, time.UnixMilli(e.NowMs()))
	s.sw.q, s.spare = newEmitQueue(o), newEmitQueue(o)
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
	pace := pacer{percent: s.o.BusyPercent, sleep: time.Sleep}
	for {
		start := time.Now()
		e.Lock()
		cmds := e.Stats.TotalCommands
		done := snap.Step(s.o.SliceKeys)
		cancelled := ctx.Err() != nil
		if cancelled || sw.err != nil {
			snap.Abort()
		}
		err := sw.err
		// Take what this slice and any copy-on-write since the last one queued.
		q := sw.q
		sw.q, s.spare = s.spare, q
		keys := snap.Emitted
		e.Unlock()
		// Let clients waiting for the lock in before the next slice: Go's mutex would
		// otherwise often hand it straight back to this goroutine.
		runtime.Gosched()
		if cancelled {
			return SaveStats{}, ctx.Err()
		}
		if err != nil {
			return SaveStats{}, err
		}
		q.drainTo(sw)
		if done {
			break
		}
		if len(s.pending.b) >= 64<<10 {
			_ = sw.w.Flush()
			if err := s.writeOut(out, &written); err != nil {
				return SaveStats{}, err
			}
		}
		if s.o.Progress != nil {
			s.o.Progress(written+int64(len(s.pending.b)), keys)
		}
		pace.slice(time.Since(start), cmds)
	}
	// The walk is over: nothing emits any more.
	if err := sw.w.Close(); err != nil {
		return SaveStats{}, err
	}
	if err := s.writeOut(out, &written); err != nil {
		return SaveStats{}, err
	}
	if s.o.Progress != nil {
		s.o.Progress(written, snap.Emitted)
	}
	return SaveStats{Keys: snap.Emitted, Bytes: written, Start: snap.Start}, nil
}

// pacer keeps a background snapshot to a share of one processor while clients are
// running commands. Redis saves in a forked child, on a processor of its own; kv's
// snapshot shares the Go scheduler's processors with the connections, so at full
// speed it takes one of the two processors a small machine has from them, and under
// a client load (kvcompare's SET load during BGSAVE) their p99 suffers. Sleeping
// between slices gives the processor back. The pacer adds up the slices' work and
// decides once a millisecond of it has built up, a sleep long enough for the timer
// to honour: it sleeps if any command ran meanwhile, and goes on at full speed if
// none did (an idle server, or one whose clients wait for the save).
type pacer struct {
	percent int
	busy    time.Duration
	// cmds is the engine's command count when the current millisecond began.
	cmds    int64
	started bool
	sleep   func(time.Duration)
}

// slice records one slice that took d, with the engine's command count cmds read
// at its start, and sleeps when the work since the last decision calls for it.
func (p *pacer) slice(d time.Duration, cmds int64) {
	if p.percent >= 100 {
		return
	}
	if !p.started {
		p.started, p.cmds = true, cmds
	}
	p.busy += d
	if p.busy < time.Millisecond {
		return
	}
	if cmds != p.cmds {
		p.sleep(p.busy * time.Duration(100-p.percent) / time.Duration(p.percent))
	}
	p.busy, p.cmds = 0, cmds
}

// writeOut hands the encoded bytes to out, aborting the snapshot if out fails.
func (s *Stream) writeOut(out io.Writer, written *int64) error {
	if len(s.pending.b) == 0 {
		return nil
	}
	if _, err := out.Write(s.pending.b); err != nil {
		s.e.Lock()
		s.snap.Abort()
		s.e.Unlock()
		return err
	}
	*written += int64(len(s.pending.b))
	s.pending.b = s.pending.b[:0]
	return nil
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
