package engine

import (
	"math/rand/v2"
	"sync"
	"time"

	"kv/resp"
)

// Propagator receives the effects of writes, in execution order, with the engine lock
// held (DESIGN.md "Propagation"). The AOF and the replication backlog implement it; it
// must not block, and args are its own to keep.
//
// Effects arrive per execution unit: a top-level command together with everything it
// runs inside (EXEC's queued commands, a script's calls, keys it expires lazily on the
// way). A unit with one effect is delivered as that command. A unit with more is
// wrapped: MULTI first, then the effects, then EXEC, so a replica or an AOF load
// applies it atomically (Redis 7.0's propagatePendingCommands). MULTI carries the
// first effect's database and EXEC the last one's, so a consumer that emits SELECT on
// a database change puts it before MULTI and never needs one for EXEC.
type Propagator interface {
	Propagate(db int, args [][]byte)
}

// ReplicaPropagator is a Propagator that also takes effects meant for replicas only
// (PUBLISH; Ctx.PropagateToReplicas). They come in the same units, in order with the
// rest; a Propagator without this method does not receive them.
type ReplicaPropagator interface {
	PropagateReplicas(db int, args [][]byte)
}

// PropagationGate is a Propagator that can tell when nothing reads the stream (no
// AOF, no replication backlog, no replicas). A write's arguments are then not copied
// for it: that copy was a garbage allocation per write, and in a bulk load its
// objects share size classes with the keys' own and leave the spans fragmented.
type PropagationGate interface {
	Propagating() bool
}

// KeyspaceNotifier receives keyspace events (notify-keyspace-events) with the lock held.
type KeyspaceNotifier interface {
	NotifyKeyspaceEvent(class EventClass, event string, key []byte, db int)
}

// Options are what an engine needs from the configuration at construction.
type Options struct {
	Databases int
	// Clock returns the current time; tests inject a fake one.
	Clock func() time.Time
}

// Stats are the keyspace counters INFO stats reports.
type Stats struct {
	KeyspaceHits, KeyspaceMisses int64
	ExpiredKeys                  int64
	ExpiredStalePerc             float64
	ExpiredTimeCapReachedCount   int64
	EvictedKeys                  int64
	TotalCommands                int64
	// Errors counts error replies by their code ("ERR", "WRONGTYPE"...), INFO errorstats.
	Errors      map[string]int64
	TotalErrors int64
	// ExpireCycleTime is the time spent in active expiry (expire_cycle_cpu_milliseconds).
	ExpireCycleTime time.Duration
}

// Engine is the keyspace and the command table. See the package doc for its lock.
type Engine struct {
	// mu is the engine lock (see busy.go for how a busy script lends it out).
	mu   sync.Mutex
	busy busyState

	dbs      []*DB
	commands *Table
	clock    func() time.Time
	// realClock is set when clock is time.Now, so Exec can derive the command's
	// time from execClock's readings instead of reading the clock again.
	realClock bool
	// execClock times commands with monotonic readings only (see execClock).
	execClock execClock
	Rand      *rand.Rand

	propagator Propagator
	notifier   KeyspaceNotifier
	unit       propagationUnit

	// Settings are the tunables commands consult; change them with the lock held.
	Settings Settings

	// Dirty counts changes since the last save (rdb_changes_since_last_save).
	Dirty int64
	Stats Stats

	// Replica is true while this server follows a master: expired keys are hidden from
	// clients but only deleted when the master says so.
	Replica bool

	watches  watchRegistry
	expiry   expireCycleState
	blocking blockRegistry
	hooks    typeHooks
	snapState

	// Memory accounting and eviction (memory.go, evict.go); lruclock and lfuclock
	// are the access clocks, cached per command.
	mem      memMeter
	evict    evictState
	lruclock uint32
	lfuclock uint32

	execHook    ExecHook
	monitorHook MonitorHook

	functions FunctionStore
}

// ExecHook runs after every command Exec runs, including the commands inside EXEC and
// scripts, with the engine lock held. The server uses it for the slow log, the latency
// monitor and MONITOR, which Redis also feeds per executed command, not per request.
type ExecHook func(c *Ctx, dur time.Duration)

// SetExecHook installs the hook (nil for none).
func (e *Engine) SetExecHook(h ExecHook) { e.execHook = h }

// New returns an engine with opts.Databases empty databases and no commands; the
// caller adds command groups with Commands().Add or RegisterAll.
func New(opts Options) *Engine {
	if opts.Databases <= 0 {
		opts.Databases = 16
	}
	realClock := opts.Clock == nil
	if realClock {
		opts.Clock = time.Now
	}
	e := &Engine{
		commands:  NewTable(),
		clock:     opts.Clock,
		realClock: realClock,
		Rand:      rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x6b76)),
		Stats:     Stats{Errors: map[string]int64{}},
		Settings:  DefaultSettings(),
		hooks:     defaultTypeHooks(),
	}
	e.dbs = make([]*DB, opts.Databases)
	for i := range e.dbs {
		e.dbs[i] = newDB(i)
		e.dbs[i].e = e
	}
	e.watches.init()
	e.execClock.init()
	e.busy.init()
	e.blocking.init()
	e.mem.init()
	e.setClock(e.NowMs())
	e.watches.e = e
	return e
}

// Lock takes the engine lock, waiting out a busy script.
func (e *Engine) Lock() {
	e.mu.Lock()
	for e.busy.kind.Load() != int32(NotBusy) {
		// The mutex was lent out by SetBusy: the script still owns the engine.
		done := e.busy.done
		e.mu.Unlock()
		<-done
		e.mu.Lock()
	}
}

// Unlock releases the engine lock.
func (e *Engine) Unlock() {
	// The next command may start long after this: it reads the clock afresh.
	e.execClock.chained = 0
	e.mu.Unlock()
}

// Commands is the command table.
func (e *Engine) Commands() *Table { return e.commands }

// DB returns database i, or nil when out of range.
func (e *Engine) DB(i int) *DB {
	if i < 0 || i >= len(e.dbs) {
		return nil
	}
	return e.dbs[i]
}

// NumDBs is the number of databases.
func (e *Engine) NumDBs() int { return len(e.dbs) }

// NowMs is the engine clock in Unix milliseconds.
func (e *Engine) NowMs() int64 { return e.clock().UnixMilli() }

// SetPropagator installs the consumer of write effects (nil for none). Effects reach
// it through the engine's execution-unit buffer; see Propagator.
func (e *Engine) SetPropagator(p Propagator) {
	e.unit.out = p
	if p == nil {
		e.propagator = nil
		return
	}
	e.propagator = &e.unit
}

// propagationUnit sits between the engine and the installed Propagator: while a
// command runs (depth > 0) it collects effects, and when the outermost command ends it
// delivers them, wrapped in MULTI/EXEC if there are several. Outside any command (the
// active expiry cycle) effects pass straight through. Engine lock held throughout.
type propagationUnit struct {
	out     Propagator
	depth   int
	pending []pendingEffect
	// noWrap is set for a unit whose top-level command may expire arbitrary keys
	// (SCAN, RANDOMKEY): their DELs are independent, so Redis does not wrap them.
	noWrap bool
}

type pendingEffect struct {
	db           int
	args         [][]byte
	replicasOnly bool
}

// propagating reports whether the installed Propagator wants write effects now.
func (u *propagationUnit) propagating() bool {
	g, ok := u.out.(PropagationGate)
	return !ok || g.Propagating()
}

func (u *propagationUnit) Propagate(db int, args [][]byte) {
	if u.depth == 0 {
		u.out.Propagate(db, args)
		return
	}
	u.pending = append(u.pending, pendingEffect{db: db, args: args})
}

// propagateReplicas is Propagate for an effect meant for replicas only.
func (u *propagationUnit) propagateReplicas(db int, args [][]byte) {
	if u.depth == 0 {
		u.deliver(pendingEffect{db: db, args: args, replicasOnly: true})
		return
	}
	u.pending = append(u.pending, pendingEffect{db: db, args: args, replicasOnly: true})
}

func (u *propagationUnit) deliver(ef pendingEffect) {
	if !ef.replicasOnly {
		u.out.Propagate(ef.db, ef.args)
	} else if rp, ok := u.out.(ReplicaPropagator); ok {
		rp.PropagateReplicas(ef.db, ef.args)
	}
}

// enter starts a command; leave ends it and, for the outermost, delivers the unit.
func (u *propagationUnit) enter(cmd *Command) {
	if u.depth == 0 {
		u.noWrap = cmd.Name == "scan" || cmd.Name == "randomkey"
	}
	u.depth++
}

func (u *propagationUnit) leave() {
	u.depth--
	if u.depth > 0 || len(u.pending) == 0 {
		return
	}
	p := u.pending
	u.pending = u.pending[:0]
	if u.out == nil {
		return
	}
	if len(p) == 1 || u.noWrap {
		for _, ef := range p {
			u.deliver(ef)
		}
	} else {
		// As Redis 7.0's propagatePendingCommands: a unit counts its replica-only
		// effects too, and MULTI/EXEC go to every consumer.
		u.out.Propagate(p[0].db, [][]byte{[]byte("MULTI")})
		for _, ef := range p {
			u.deliver(ef)
		}
		u.out.Propagate(p[len(p)-1].db, [][]byte{[]byte("EXEC")})
	}
	clear(p)
}

// SetNotifier installs the consumer of keyspace events (nil for none).
func (e *Engine) SetNotifier(n KeyspaceNotifier) { e.notifier = n }

// CountError records an error reply in INFO errorstats.
func (e *Engine) CountError(msg string) {
	code := msg
	for i := 0; i < len(msg); i++ {
		if msg[i] == ' ' {
			code = msg[:i]
			break
		}
	}
	e.Stats.Errors[code]++
	e.Stats.TotalErrors++
}

// NewCtx prepares a context for running commands on db for one client.
func (e *Engine) NewCtx(w *resp.Writer, client any) *Ctx {
	return &Ctx{E: e, DB: e.dbs[0], W: w, Client: client}
}

// Exec runs the command already resolved in c.Cmd with c.Args, counting it in
// commandstats. Callers have checked arity, authentication and the like.
func (e *Engine) Exec(c *Ctx) {
	cmd := c.Cmd
	// A top-level command starts where the previous one ended if the lock was held in
	// between (a pipelined batch): one clock read per command instead of two.
	topLevel := e.blocking.depth == 0
	start := e.execClock.chained
	if !topLevel || start == 0 {
		start = e.execClock.mono()
	}
	e.execClock.chained = 0
	// Deferred calls run last-first: the command's propagation unit is delivered
	// before clients blocked on keys it made ready are served, and each served client
	// is a unit of its own, as Redis propagates after call() and then per client in
	// handleClientsBlockedOnKeys.
	e.enterExec()
	defer e.leaveExec()
	e.unit.enter(cmd)
	defer e.unit.leave()
	switch {
	case c.fixedNow != 0:
		c.Now = c.fixedNow
	case e.realClock:
		c.Now = e.execClock.wallMs(start)
	default:
		c.Now = e.NowMs()
	}
	e.setClock(c.Now)
	// EXEC and scripts run commands inside a command: each inner command accounts for
	// its own changes, so the outer one starts and ends with its own counters.
	outerDirty, outerRewritten, outerForce, outerRedacted := c.dirty, c.rewritten, c.forcePropagate, c.redacted
	outerReplicasOnly := c.replicasOnly
	defer func() {
		c.dirty, c.rewritten, c.forcePropagate, c.redacted = outerDirty, outerRewritten, outerForce, outerRedacted
		c.replicasOnly = outerReplicasOnly
	}()
	c.dirty = 0
	c.rewritten = nil
	c.forcePropagate = false
	c.replicasOnly = false
	c.redacted = nil
	c.Blocked = false
	before := c.W.Len()
	cmd.Handler(c)
	end := e.execClock.mono()
	if topLevel {
		e.execClock.chained = end
	}
	dur := end - start
	st := &cmd.Stats
	st.Calls++
	st.Usec += dur.Microseconds()
	e.Stats.TotalCommands++
	if b := c.W.Bytes(); len(b) > before && b[before] == '-' {
		st.FailedCalls++
		e.CountError(string(b[before+1 : before+indexCR(b[before:])]))
	}
	if c.dirty > 0 || c.forcePropagate {
		e.Dirty += int64(c.dirty)
		if e.Settings.Maxmemory > 0 {
			e.noteWrite(c.Args)
		}
		if e.propagator != nil && cmd.Flags&FlagWrite != 0 && e.unit.propagating() {
			if c.rewritten != nil {
				for _, args := range c.rewritten {
					e.propagator.Propagate(c.DB.ID, args)
				}
			} else {
				e.propagator.Propagate(c.DB.ID, copyArgs(c.Args))
			}
		}
	} else if c.replicasOnly && e.propagator != nil && e.unit.propagating() {
		e.unit.propagateReplicas(c.DB.ID, copyArgs(c.Args))
	}
	if e.execHook != nil {
		e.execHook(c, dur)
	}
}

// execClock reads the time for Exec: a command's start and end from one monotonic
// clock read each (time.Since on a monotonic reading), where time.Now reads the wall
// clock as well. A command's Unix milliseconds are derived from the start reading and
// a time.Now taken at most rebaseAfter earlier, so a step of the system clock reaches
// commands within that. Engine lock held.
type execClock struct {
	origin time.Time // fixed: readings are durations since it
	// chained is the reading at the end of the last top-level command while the lock
	// has been held since, else 0. A batch's next command starts there, so the time
	// between two commands of a batch (parsing, checks) counts toward the second.
	chained time.Duration
	wallNs  int64         // Unix nanoseconds at monotonic reading wallAt
	wallAt  time.Duration // 0 before the first rebase
}

const rebaseAfter = 100 * time.Millisecond

func (k *execClock) init() { k.origin = time.Now() }

// mono is a monotonic reading; differences of two are durations.
func (k *execClock) mono() time.Duration { return time.Since(k.origin) }

// wallMs converts a reading to Unix milliseconds.
func (k *execClock) wallMs(d time.Duration) int64 {
	if k.wallAt == 0 || d-k.wallAt >= rebaseAfter || d < k.wallAt {
		now := time.Now()
		k.wallNs, k.wallAt = now.UnixNano(), now.Sub(k.origin)
		if d < k.wallAt {
			// d was read before now: take it as now rather than go back in time.
			return k.wallNs / 1e6
		}
	}
	return (k.wallNs + int64(d-k.wallAt)) / 1e6
}

// copyArgs detaches a command's arguments from the connection's read buffer, which
// the next request reuses, before they are kept past the command. The bytes go into
// one block, not one allocation per argument: a bulk load would otherwise scatter
// millions of tiny short-lived objects among the keys' own small allocations, and
// the spans they pin stay in RSS after the collector frees them. Each argument's
// capacity ends at its length, so appending to one cannot overwrite the next.
func copyArgs(args [][]byte) [][]byte {
	n := 0
	for _, a := range args {
		n += len(a)
	}
	cp := make([][]byte, len(args))
	buf := make([]byte, 0, n)
	for i, a := range args {
		buf = append(buf, a...)
		cp[i] = buf[len(buf)-len(a) : len(buf) : len(buf)]
	}
	return cp
}

func indexCR(b []byte) int {
	for i, ch := range b {
		if ch == '\r' {
			return i
		}
	}
	return len(b)
}

// CommandStats are commandstats counters, guarded by the engine lock.
type CommandStats struct {
	Calls, Usec, RejectedCalls, FailedCalls int64
}
