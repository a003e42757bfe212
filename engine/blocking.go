package engine

import (
	"container/list"
	"math"
	"strconv"
	"time"

	"kv/resp"
)

// Blocking operations (BLPOP, BLMOVE, BZPOPMIN, ...): the engine side.
//
// A blocking command that finds nothing to serve calls c.BlockOn: the client becomes a
// waiter on its keys (FIFO per key), c.Blocked is set and no reply is written. The
// server then stops running that client's commands and waits, outside the engine lock,
// until the engine unblocks it or its timeout passes.
//
// A write that creates a key of a type someone waits for (AddKey, SetKey of a new key,
// or SignalKeyReady for other ways) marks the key ready. When the outermost command
// finishes (a plain command, a whole EXEC, a whole script), still under the lock, the
// engine serves the ready keys: for each key, waiters blocked for that value's type are
// offered the key in the order they blocked, by calling their ServeFunc with their own
// context and that key. A waiter that is served leaves every key it waited on; its reply
// goes to its connection through BlockedClient.Unblocked. Serving may push to other
// keys (BLMOVE), which become ready in turn and are served in the same pass.
//
// To add a blocking command for another type (sorted sets: BZPOPMIN, BZPOPMAX, BZMPOP):
//
//  1. Parse the timeout with ParseTimeout and try the non-blocking path first.
//  2. If nothing was found and c.CanBlock(), call
//     c.BlockOn(keys, deadline, TypeZSet, serve); otherwise reply as a timeout would
//     (c.W.NullArray()), as Redis does inside MULTI and scripts.
//  3. serve(c, key) runs later with the engine lock held, c.Args being the blocked
//     command's own arguments and key one of its keys now holding a TypeZSet value. It
//     pops, writes the complete reply to c.W, calls c.Notify/c.Changed as a normal
//     command would, calls c.Propagate with what it did (ZPOPMIN key ...), and returns
//     true; or returns false to keep waiting.
//
// Nothing else is needed: new sorted-set keys are created with AddKey/SetKey, which
// signal readiness by themselves.

// ServeFunc tries to serve a blocked client from key. See the package comment above.
type ServeFunc func(c *Ctx, key []byte) bool

// BlockedClient is implemented by the Ctx.Client of connections that can block. The
// engine calls Unblocked, with the engine lock held, when it ends the client's block
// (served, or CLIENT UNBLOCK); reply is the client's complete reply and is valid only
// during the call. It must not block or take the engine lock. A timeout is not reported
// here: the client's own goroutine ends it with BlockTimedOut.
type BlockedClient interface {
	Unblocked(reply []byte)
}

type blockKey struct {
	db  int
	key string
}

// waiter is one blocked client.
type waiter struct {
	ctx      *Ctx
	db       *DB
	cmd      *Command
	args     [][]byte
	typ      Type
	serve    ServeFunc
	deadline int64 // Unix ms, 0 for never
	keys     []blockKey
	elems    []*list.Element
}

type blockRegistry struct {
	byKey    map[blockKey]*list.List // of *waiter, oldest first
	byCtx    map[*Ctx]*waiter
	byType   [TypeStream + 1]int
	ready    []blockKey
	readySet map[blockKey]struct{}
	scratch  *resp.Writer
	depth    int // nesting of Exec: ready keys are served when the outermost returns
}

func (r *blockRegistry) init() {
	r.byKey = map[blockKey]*list.List{}
	r.byCtx = map[*Ctx]*waiter{}
	r.readySet = map[blockKey]struct{}{}
	r.scratch = resp.NewWriter()
}

// ParseTimeout parses a blocking command's timeout in seconds (sub-second precision,
// rounded up to whole milliseconds as Redis does) into a deadline in Unix ms relative
// to now, 0 meaning forever. On error it returns the reply to send.
func ParseTimeout(b []byte, now int64) (deadline int64, errMsg string) {
	f, ok := parseLongDouble(b)
	if !ok {
		return 0, "ERR timeout is not a float or out of range"
	}
	ms := math.Ceil(f * 1000)
	// Redis converts with a C cast, which turns values beyond long long into LLONG_MIN
	// on the platforms it runs on: such timeouts are "negative".
	if ms >= 1<<63 || ms < -(1<<63) {
		return 0, "ERR timeout is negative"
	}
	t := int64(ms)
	if t < 0 {
		return 0, "ERR timeout is negative"
	}
	if t == 0 {
		return 0, ""
	}
	if t > math.MaxInt64-now {
		return math.MaxInt64, ""
	}
	return now + t, ""
}

// parseLongDouble accepts what Redis's string2ld does: a float without surrounding
// spaces, not NaN, at most 5 KB.
func parseLongDouble(b []byte) (float64, bool) {
	if len(b) == 0 || len(b) > 5*1024 {
		return 0, false
	}
	if isSpace(b[0]) || isSpace(b[len(b)-1]) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, false
		}
		// Out of double range but a valid long double for small exponents: Redis keeps
		// going with inf or 0, and so do we.
	}
	if math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// CanBlock reports whether the running command may block: not inside MULTI/EXEC or a
// script, and not while applying the replication stream. Redis then answers a blocking
// command that finds nothing as if it had timed out at once.
func (c *Ctx) CanBlock() bool {
	if c.FromMaster || c.E.blocking.depth > 1 {
		return false
	}
	_, ok := c.Client.(BlockedClient)
	return ok
}

// BlockOn makes the client wait on keys (in the current database) for a value of type
// typ, until serve accepts one of them or deadline (Unix ms, 0 = never) passes. The
// command writes no reply. The arguments are copied, so the caller's buffers may be
// reused.
func (c *Ctx) BlockOn(keys [][]byte, deadline int64, typ Type, serve ServeFunc) {
	r := &c.E.blocking
	args := make([][]byte, len(c.Args))
	for i, a := range c.Args {
		args[i] = append([]byte(nil), a...)
	}
	w := &waiter{ctx: c, db: c.DB, cmd: c.Cmd, args: args, typ: typ, serve: serve, deadline: deadline}
	for _, k := range keys {
		bk := blockKey{c.DB.ID, string(k)}
		dup := false
		for _, have := range w.keys {
			if have == bk {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		q := r.byKey[bk]
		if q == nil {
			q = list.New()
			r.byKey[bk] = q
		}
		w.keys = append(w.keys, bk)
		w.elems = append(w.elems, q.PushBack(w))
	}
	r.byCtx[c] = w
	r.byType[typ]++
	c.Blocked = true
}

// BlockDeadline returns the deadline (Unix ms, 0 = never) of c's block and whether c is
// blocked at all.
func (e *Engine) BlockDeadline(c *Ctx) (int64, bool) {
	w, ok := e.blocking.byCtx[c]
	if !ok {
		return 0, false
	}
	return w.deadline, true
}

// IsBlocked reports whether c is waiting in a blocking command.
func (e *Engine) IsBlocked(c *Ctx) bool {
	_, ok := e.blocking.byCtx[c]
	return ok
}

// BlockedClients is INFO's blocked_clients.
func (e *Engine) BlockedClients() int { return len(e.blocking.byCtx) }

// BlockedWithTimeout is INFO's clients_in_timeout_table: blocked clients with a deadline.
func (e *Engine) BlockedWithTimeout() int {
	n := 0
	for _, w := range e.blocking.byCtx {
		if w.deadline > 0 {
			n++
		}
	}
	return n
}

// BlockedKeys is the number of keys with at least one waiter.
func (e *Engine) BlockedKeys() int { return len(e.blocking.byKey) }

// BlockTimedOut ends c's block because its timeout passed, writing the timeout reply
// (a null array) to c.W. It reports false if c was not blocked any more (served or
// unblocked just before).
func (e *Engine) BlockTimedOut(c *Ctx) bool {
	w, ok := e.blocking.byCtx[c]
	if !ok {
		return false
	}
	e.removeWaiter(w)
	c.W.NullArray()
	return true
}

// Unblock forgets c's block without a reply (the client disconnected).
func (e *Engine) Unblock(c *Ctx) {
	if w, ok := e.blocking.byCtx[c]; ok {
		e.removeWaiter(w)
	}
}

// UnblockClient ends c's block as CLIENT UNBLOCK does: with the timeout reply, or with
// an UNBLOCKED error when withError. It reports whether c was blocked.
func (e *Engine) UnblockClient(c *Ctx, withError bool) bool {
	w, ok := e.blocking.byCtx[c]
	if !ok {
		return false
	}
	e.removeWaiter(w)
	sw := e.blocking.scratch
	sw.Reset()
	sw.SetProto(c.W.Proto())
	if withError {
		sw.Error("UNBLOCKED client unblocked via CLIENT UNBLOCK")
		e.CountError("UNBLOCKED")
	} else {
		sw.NullArray()
	}
	// Redis counts an unblocked command as failed either way.
	w.cmd.Stats.FailedCalls++
	if bc, ok := c.Client.(BlockedClient); ok {
		bc.Unblocked(sw.Bytes())
	}
	sw.Reset()
	return true
}

func (e *Engine) removeWaiter(w *waiter) {
	r := &e.blocking
	for i, bk := range w.keys {
		if q := r.byKey[bk]; q != nil {
			q.Remove(w.elems[i])
			if q.Len() == 0 {
				delete(r.byKey, bk)
			}
		}
	}
	delete(r.byCtx, w.ctx)
	r.byType[w.typ]--
	w.ctx.Blocked = false
}

// SignalKeyReady marks key in db as ready for clients waiting for a value of type t,
// if there are any. AddKey and SetKey call it; code that creates keys another way
// (SWAPDB, MOVE into a database) calls it or SignalReadyKeys.
func (e *Engine) SignalKeyReady(db *DB, key []byte, t Type) {
	r := &e.blocking
	if int(t) >= len(r.byType) || r.byType[t] == 0 {
		return
	}
	bk := blockKey{db.ID, string(key)}
	if _, ok := r.byKey[bk]; !ok {
		return
	}
	if _, ok := r.readySet[bk]; ok {
		return
	}
	r.readySet[bk] = struct{}{}
	r.ready = append(r.ready, bk)
}

// SignalReadyKeys marks ready every key of db that has waiters and now holds a value
// (SWAPDB brings a whole keyspace under waiting clients, as Redis's
// scanDatabaseForReadyKeys).
func (e *Engine) SignalReadyKeys(db *DB) {
	for bk := range e.blocking.byKey {
		if bk.db != db.ID {
			continue
		}
		if o := db.keys.Ref([]byte(bk.key)); o != nil {
			e.SignalKeyReady(db, []byte(bk.key), o.Type)
		}
	}
}

// enterExec and leaveExec bracket every Exec; when the outermost one ends, ready keys
// are served.
func (e *Engine) enterExec() { e.blocking.depth++ }

func (e *Engine) leaveExec() {
	r := &e.blocking
	r.depth--
	if r.depth == 0 && len(r.ready) > 0 {
		e.execClock.chained = 0 // serving takes time the next command must not count
		r.depth++               // serving runs handlers that must not block or re-enter this loop
		e.serveReady()
		r.depth--
	}
}

// serveReady serves waiters of ready keys until no key is ready, as Redis's
// handleClientsBlockedOnKeys.
func (e *Engine) serveReady() {
	r := &e.blocking
	for len(r.ready) > 0 {
		batch := r.ready
		r.ready = nil
		for _, bk := range batch {
			delete(r.readySet, bk)
			q := r.byKey[bk]
			if q == nil {
				continue
			}
			key := []byte(bk.key)
			for el := q.Front(); el != nil; {
				w := el.Value.(*waiter)
				next := el.Next()
				o := e.readyValue(w, key)
				if o == nil {
					break
				}
				if o.Type == w.typ {
					e.serveWaiter(w, key)
				}
				el = next
				if r.byKey[bk] != q {
					break // the last waiter left
				}
			}
		}
	}
}

// readyValue looks key up for serving w: expired keys are reclaimed, but no hit/miss
// statistics or keymiss events, as Redis's LOOKUP_NONOTIFY|LOOKUP_NOSTATS.
func (e *Engine) readyValue(w *waiter, key []byte) *Object {
	c := w.ctx
	c.DB = w.db
	c.Now = e.NowMs()
	if c.expireIfNeeded(key) {
		return nil
	}
	return w.db.keys.Ref(key)
}

// serveWaiter offers key to w and, if its ServeFunc takes it, unblocks w, accounts the
// command, propagates what it did and delivers its reply.
func (e *Engine) serveWaiter(w *waiter, key []byte) bool {
	r := &e.blocking
	c := w.ctx
	saved := c.W
	sw := r.scratch
	sw.Reset()
	sw.SetProto(saved.Proto())
	c.W = sw
	c.DB, c.Cmd, c.Args = w.db, w.cmd, w.args
	c.dirty, c.rewritten = 0, nil
	start := time.Now()
	e.unit.enter(w.cmd)
	defer e.unit.leave()
	served := w.serve(c, key)
	c.W = saved
	if !served {
		sw.Reset()
		return false
	}
	e.removeWaiter(w)
	st := &w.cmd.Stats
	st.Usec += time.Since(start).Microseconds()
	if b := sw.Bytes(); len(b) > 0 && b[0] == '-' {
		st.FailedCalls++
		e.CountError(string(b[1:indexCR(b)]))
	}
	if c.dirty > 0 {
		e.Dirty += int64(c.dirty)
		if e.propagator != nil {
			for _, args := range c.rewritten {
				e.propagator.Propagate(c.DB.ID, args)
			}
		}
	}
	c.dirty, c.rewritten = 0, nil
	if bc, ok := c.Client.(BlockedClient); ok {
		bc.Unblocked(sw.Bytes())
	}
	sw.Reset()
	return true
}
