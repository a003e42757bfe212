package engine

import (
	"sync/atomic"

	"kv/resp"
)

// A script that runs longer than busy-reply-threshold (lua-time-limit) makes the engine
// "busy": it still holds the engine lock, and other clients are answered without it.
//
//   - The script's timer goroutine calls SetBusy once the threshold passes: the kind is
//     stored atomically and the current busy channel is closed, waking every connection
//     that is waiting for the lock in LockUnlessBusy.
//   - A connection calls LockUnlessBusy before each batch. It returns false while the
//     engine is busy; the connection then answers the command itself, without the lock:
//     BusyHandler (installed by the scripting package) takes SCRIPT KILL, FUNCTION KILL
//     and FUNCTION STATS; anything else gets a BUSY error.
//   - The script's own goroutine calls ClearBusy, lock still held, before it releases
//     the lock: a new busy channel is installed before the kind goes back to zero, so a
//     waiter never misses the next busy period.
//
// The engine lock is a one-slot channel rather than a sync.Mutex so that a waiter can
// stop waiting when the engine turns busy (select on the lock and the busy channel).

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
	kind    atomic.Int32
	ch      atomic.Pointer[chan struct{}] // closed when the engine turns busy
	handler BusyHandler
}

func (b *busyState) init() {
	ch := make(chan struct{})
	b.ch.Store(&ch)
}

// Busy reports what keeps the engine busy; safe without the lock.
func (e *Engine) Busy() BusyKind { return BusyKind(e.busy.kind.Load()) }

// SetBusy marks the engine busy. It is called without the lock, by the goroutine that
// times the running script; the caller guarantees ClearBusy has not run yet for it.
func (e *Engine) SetBusy(kind BusyKind) {
	if e.busy.kind.Swap(int32(kind)) == int32(NotBusy) {
		close(*e.busy.ch.Load())
	}
}

// ClearBusy ends a busy period. Called with the engine lock held by the script's
// goroutine after its timer can no longer call SetBusy.
func (e *Engine) ClearBusy() {
	if e.busy.kind.Load() == int32(NotBusy) {
		return
	}
	ch := make(chan struct{})
	e.busy.ch.Store(&ch)
	e.busy.kind.Store(int32(NotBusy))
}

// SetBusyHandler installs the lock-free handler for commands that a busy script allows.
// Call it before serving clients.
func (e *Engine) SetBusyHandler(h BusyHandler) { e.busy.handler = h }

// BusyHandler returns the installed handler, or nil.
func (e *Engine) BusyHandler() BusyHandler { return e.busy.handler }

// LockUnlessBusy takes the engine lock and returns true, or returns false without it
// as soon as the engine is busy (also while waiting for the lock).
func (e *Engine) LockUnlessBusy() bool {
	for {
		if e.busy.kind.Load() != int32(NotBusy) {
			return false
		}
		select {
		case e.sem <- struct{}{}:
			return true
		default:
		}
		ch := *e.busy.ch.Load()
		if e.busy.kind.Load() != int32(NotBusy) {
			return false
		}
		select {
		case e.sem <- struct{}{}:
			return true
		case <-ch:
		}
	}
}
