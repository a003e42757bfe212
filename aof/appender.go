package aof

import (
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Fsync is the appendfsync policy.
type Fsync int32

const (
	FsyncAlways Fsync = iota
	FsyncEverysec
	FsyncNo
)

// ParseFsync maps appendfsync's value to a policy.
func ParseFsync(s string) Fsync {
	switch s {
	case "always":
		return FsyncAlways
	case "no":
		return FsyncNo
	}
	return FsyncEverysec
}

// Appender is the engine.Propagator that feeds the AOF. Propagate formats each effect
// as Redis's feedAppendOnlyFile does (SELECT when the database changes, then the
// command in multibulk form) into a memory buffer, with the engine lock held. The
// bytes reach the file outside the lock, in WaitDurable: the first connection that
// needs them written becomes the leader, writes everything buffered so far and, under
// appendfsync always, fsyncs it; the others find their bytes already covered. That is
// group commit: one write and one fsync per batch of clients, not per command.
//
// Offsets count every byte ever appended through this Appender (across incremental
// files); a connection asks for the offset it needs durable before its reply leaves.
//
// Locks: the engine lock may be held when taking ioMu (Rotate) or mu (Propagate);
// ioMu may be held when taking mu; never the other way round.
type Appender struct {
	mu       sync.Mutex // buf, selected
	buf      []byte
	spare    []byte
	selected int
	appended atomic.Int64 // end offset of everything buffered

	ioMu     sync.Mutex // the file: writes, fsync always, rotation
	f        *os.File
	incrSize atomic.Int64 // bytes in the current incremental file
	written  atomic.Int64 // end offset of what write(2) has accepted
	synced   atomic.Int64 // end offset of what fsync has covered

	policy     atomic.Int32
	noFsync    atomic.Bool // no-appendfsync-on-rewrite while a rewrite or save runs
	syncMu     sync.Mutex  // held by the background fsync of everysec
	fsyncing   atomic.Bool
	fsyncStart atomic.Int64 // Unix ms the background fsync began
	lastFsync  atomic.Int64 // Unix seconds of the last fsync
	postponed  atomic.Int64 // Unix ms a write was first postponed behind a slow fsync

	// DelayedFsync counts writes that could not wait any longer for a slow
	// background fsync (aof_delayed_fsync).
	DelayedFsync atomic.Int64
	writeErr     atomic.Pointer[error]
	// Fatal is called when a write or fsync fails under appendfsync always: the
	// reply of a write that may not be on disk must never leave, so Redis exits.
	Fatal func(error)
	// OnWrite, when set, is called with the bytes written (for aof_current_size).
	OnWrite func(n int64)
}

// NewAppender appends to f, an incremental file whose current size is size.
func NewAppender(f *os.File, size int64, policy Fsync) *Appender {
	a := &Appender{f: f, selected: -1}
	a.incrSize.Store(size)
	a.policy.Store(int32(policy))
	a.lastFsync.Store(time.Now().Unix())
	return a
}

// SetPolicy changes appendfsync.
func (a *Appender) SetPolicy(p Fsync) { a.policy.Store(int32(p)) }

// Policy is the current appendfsync.
func (a *Appender) Policy() Fsync { return Fsync(a.policy.Load()) }

// SetNoFsync suspends fsync (no-appendfsync-on-rewrite while a child-like job runs).
func (a *Appender) SetNoFsync(v bool) { a.noFsync.Store(v) }

// Propagate implements engine.Propagator. Engine lock held; never blocks on I/O.
func (a *Appender) Propagate(db int, args [][]byte) {
	a.mu.Lock()
	n := len(a.buf)
	if db != a.selected {
		a.buf = AppendSelect(a.buf, db)
		a.selected = db
	}
	a.buf = AppendCommand(a.buf, args)
	a.appended.Add(int64(len(a.buf) - n))
	a.mu.Unlock()
}

// End is the offset just past everything propagated so far. A connection reads it
// after its commands ran; WaitDurable(End()) then covers all of them.
func (a *Appender) End() int64 { return a.appended.Load() }

// Buffered is the number of bytes not yet written (aof_buffer_length).
func (a *Appender) Buffered() int64 { return a.appended.Load() - a.written.Load() }

// IncrSize is the size of the incremental file being appended to.
func (a *Appender) IncrSize() int64 { return a.incrSize.Load() }

// WriteErr is the last write error, nil once a write succeeds again.
func (a *Appender) WriteErr() error {
	if p := a.writeErr.Load(); p != nil {
		return *p
	}
	return nil
}

// WaitDurable returns once the bytes up to target are as safe as the policy
// promises before a reply: fsynced under always, written under everysec and no. Call
// it without the engine lock, before a reply leaves. Under everysec a write waits
// behind a background fsync for at most two seconds, as Redis postpones its flush.
func (a *Appender) WaitDurable(target int64) {
	if a.Policy() == FsyncAlways && !a.noFsync.Load() {
		for a.synced.Load() < target {
			a.ioMu.Lock()
			if a.synced.Load() < target {
				a.flushLocked(true)
			}
			a.ioMu.Unlock()
			if a.WriteErr() != nil {
				return
			}
		}
		return
	}
	if a.written.Load() >= target {
		return
	}
	if a.postpone() {
		return
	}
	a.ioMu.Lock()
	if a.written.Load() < target {
		a.flushLocked(false)
	}
	a.ioMu.Unlock()
}

// postpone is Redis's rule for everysec: while a background fsync runs, do not write
// (the write would block behind it) unless it has run for two seconds already.
func (a *Appender) postpone() bool {
	if a.Policy() != FsyncEverysec || !a.fsyncing.Load() {
		a.postponed.Store(0)
		return false
	}
	now := time.Now().UnixMilli()
	first := a.postponed.Load()
	if first == 0 {
		a.postponed.CompareAndSwap(0, now)
		return true
	}
	if now-first < 2000 {
		return true
	}
	a.DelayedFsync.Add(1)
	a.postponed.Store(0)
	return false
}

// flushLocked writes the buffer and, if sync, fsyncs. ioMu held.
func (a *Appender) flushLocked(sync bool) {
	a.mu.Lock()
	b := a.buf
	a.buf = a.spare[:0]
	end := a.appended.Load()
	a.mu.Unlock()
	if len(b) > 0 {
		n, err := a.f.Write(b)
		a.incrSize.Add(int64(n))
		if a.OnWrite != nil {
			a.OnWrite(int64(n))
		}
		if err != nil {
			a.writeErr.Store(&err)
			if a.Policy() == FsyncAlways && a.Fatal != nil {
				a.Fatal(err)
			}
			// Keep the unwritten bytes for the next attempt, ahead of newer ones.
			a.mu.Lock()
			a.buf = append(append([]byte(nil), b[n:]...), a.buf...)
			a.mu.Unlock()
			a.written.Store(end - int64(len(b)-n))
			return
		}
		a.writeErr.Store(nil)
	}
	a.written.Store(end)
	if cap(b) <= 1<<20 {
		a.spare = b[:0]
	}
	if sync {
		if err := a.f.Sync(); err != nil {
			a.writeErr.Store(&err)
			if a.Fatal != nil {
				a.Fatal(err)
			}
			return
		}
		a.synced.Store(end)
		a.lastFsync.Store(time.Now().Unix())
	}
}

// Tick is the AOF part of serverCron and beforeSleep: write what nobody waited for
// (active expiry, postponed writes) and, under everysec, start a background fsync
// once a second. Call it without the engine lock, about every 100 ms.
func (a *Appender) Tick() {
	pol := a.Policy()
	if a.written.Load() < a.appended.Load() && !a.postpone() {
		a.ioMu.Lock()
		a.flushLocked(pol == FsyncAlways && !a.noFsync.Load())
		a.ioMu.Unlock()
	}
	if pol == FsyncEverysec && !a.noFsync.Load() && a.synced.Load() < a.written.Load() &&
		time.Now().Unix() > a.lastFsync.Load() && !a.fsyncing.Load() {
		a.backgroundFsync()
	}
}

func (a *Appender) backgroundFsync() {
	a.fsyncing.Store(true)
	a.fsyncStart.Store(time.Now().UnixMilli())
	a.lastFsync.Store(time.Now().Unix())
	go func() {
		a.syncMu.Lock()
		defer a.syncMu.Unlock()
		defer a.fsyncing.Store(false)
		target := a.written.Load()
		a.ioMu.Lock()
		f := a.f
		a.ioMu.Unlock()
		if err := f.Sync(); err != nil {
			a.writeErr.Store(&err)
			return
		}
		if a.synced.Load() < target {
			a.synced.Store(target)
		}
	}()
}

// FsyncInProgress reports whether a background fsync runs (aof_pending_bio_fsync).
func (a *Appender) FsyncInProgress() bool { return a.fsyncing.Load() }

// Flush writes and fsyncs everything buffered, whatever the policy (shutdown,
// switching files, appendonly no). Without the engine lock, or with it when the
// caller accepts waiting for the disk under it, as Redis's flushAppendOnlyFile(1).
func (a *Appender) Flush() error {
	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	a.ioMu.Lock()
	defer a.ioMu.Unlock()
	a.flushLocked(true)
	return a.WriteErr()
}

// Rotate makes f the file to append to from now on: everything buffered goes to the
// old file first, which is fsynced and closed, and the next command starts with a
// SELECT, as a new incremental file must. Engine lock held, so nothing is propagated
// while the files change.
func (a *Appender) Rotate(f *os.File) error {
	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	a.ioMu.Lock()
	defer a.ioMu.Unlock()
	a.flushLocked(true)
	err := a.WriteErr()
	old := a.f
	a.f = f
	a.incrSize.Store(0)
	a.mu.Lock()
	a.selected = -1
	a.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return err
}

// Close flushes, fsyncs and closes the file. Engine lock held; the appender must be
// uninstalled from the engine first.
func (a *Appender) Close() error {
	err := a.Flush()
	a.ioMu.Lock()
	defer a.ioMu.Unlock()
	if a.f != nil {
		if cerr := a.f.Close(); err == nil {
			err = cerr
		}
		a.f = nil
	}
	return err
}
