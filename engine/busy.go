package engine

import (
	"sync/atomic"

	"kv/resp"
)

// A script that runs longer than busy-reply-threshold (lua-time-limit) makes the engine
// "busy": it still owns the engine, and other clients are answered without it.
//
// The engine lock is a sync.Mutex: waiters that arrive while it is held park in the
// mutex, and the running goroutine can take it again without a hand-off through the
// scheduler, which a channel-based lock forces on every release under contention.
// A busy script lends the mutex out so those waiters wake up:
//
//   - The script's timer goroutine calls SetBusy once the threshold passes: the kind is
//     stored atomically, then the mutex is unlocked on the script's behalf (a Go mutex
//     is not tied to a goroutine). The script keeps running and keeps owning the
//     engine's state; the mutex now only tells waiters to look at the kind.
//   - A connection calls LockUnlessBusy before each batch. Whoever gets the mutex while
//     the kind is set releases it at once: LockUnlessBusy returns false and the
//     connection answers the command itself (BusyHandler, installed by the scripting
//     package, takes SCRIPT KILL, FUNCTION KILL and FUNCTION STATS; anything else gets
//     a BUSY error); Lock waits for the done channel and tries again.
//   - The script's own goroutine calls ClearBusy before it releases the lock: it takes
//     the mutex back (waiting only for a connection looking at the kind), clears the
//     kind and closes done, and then owns the lock as if it had never been lent.
//
// SetBusy cannot come after ClearBusy for the same script (the scripting package stops
// the timer under its own mutex first), so the mutex is unlocked exactly once per lend.

// BusyKind says what keeps the engine busy.
type BusyKind int32

const (
	NotBusy      BusyKind = iota
	BusyEval              // an EVAL/EVALSHA script
	BusyFunction          // an FCALL function
)

// The BUSY replies, Redis 7.0's slowevalerr and slowscripterr.
const (
	ErrBusyEval     = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
	ErrBusyFunction = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
)

// BusyHandler answers a command while the engine is busy, without the engine lock. It
// returns false for commands it does not handle. It runs on the calling connection's
// goroutine concurrently with the busy script, so it may only touch state made for
// that (atomics, channels).
type BusyHandler func(args [][]byte, w *resp.Writer) bool

type busyState struct {
	kind atomic.Int32
	// done is closed when the busy period ends. It is replaced by ClearBusy and read
	// by Lock, both with the mutex held while the kind is set.
	done    chan struct{}
	handler BusyHandler
}

func (b *busyState) init() { b.done = make(chan struct{}) }

// Busy reports what keeps the engine busy; safe without the lock.
func (e *Engine) Busy() BusyKind { return BusyKind(e.busy.kind.Load()) }

// SetBusy marks the engine busy. It is called without the lock, by the goroutine that
// times the running script, while the script holds the lock; the caller guarantees
// ClearBusy has not run yet for it.
func (e *Engine) SetBusy(kind BusyKind) {
	if e.busy.kind.Swap(int32(kind)) == int32(NotBusy) {
		e.mu.Unlock()
	}
}

// ClearBusy ends a busy period. Called by the script's goroutine, which owns the
// engine lock, after its timer can no longer call SetBusy.
func (e *Engine) ClearBusy() {
	if e.busy.kind.Load() == int32(NotBusy) {
		return
	}
	e.mu.Lock()
	done := e.busy.done
	e.busy.done = make(chan struct{})
	e.busy.kind.Store(int32(NotBusy))
	close(done)
}

// SetBusyHandler installs the lock-free handler for commands that a busy script allows.
// Call it before serving clients.
func (e *Engine) SetBusyHandler(h BusyHandler) { e.busy.handler = h }

// BusyHandler returns the installed handler, or nil.
func (e *Engine) BusyHandler() BusyHandler { return e.busy.handler }

// LockUnlessBusy takes the engine lock and returns true, or returns false without it
// as soon as the engine is busy (also while waiting for the lock).
func (e *Engine) LockUnlessBusy() bool {
	if e.busy.kind.Load() != int32(NotBusy) {
		return false
	}
	e.mu.Lock()
	if e.busy.kind.Load() != int32(NotBusy) {
		e.mu.Unlock()
		return false
	}
	return true
}
