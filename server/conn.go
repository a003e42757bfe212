package server

import (
	"errors"
	"net"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"kv/acl"
	"kv/engine"
	"kv/resp"
)

// maxBatch bounds how many pipelined commands one connection runs per turn of the
// engine lock, so a deep pipeline cannot starve other clients.
const maxBatch = 128

// conn is one client connection. Fields below "engine lock" are read and written only
// with the engine lock held; the output fields follow locks.txt.
type conn struct {
	s    *Server
	nc   net.Conn
	id   int64
	rd   *resp.Reader
	in   *blockReader // what rd reads: the socket, plus what arrived while blocked
	w    *resp.Writer // this connection's own replies, written during its batch
	ctx  *engine.Ctx
	born time.Time

	// engine lock
	name          string
	libName       string
	libVer        string
	authenticated bool
	user          *acl.User
	lastCmd       string
	lastActive    time.Time
	closeAfter    bool // QUIT, protocol error: close once the replies are written
	// handoff, set with closeAfter, takes over the socket once the replies are written
	// (SYNC streams a snapshot on it), outside the engine lock.
	handoff     func(nc net.Conn, err error)
	replCapaEOF bool // REPLCONF capa eof: the peer reads EOF-marker payloads
	// REPLCONF capa psync2, listening-port, ip-address: what a replica told us.
	replCapaPsync2 bool
	replPort       int
	replIP         string
	// woff is the replication offset after this client's last command (WAIT).
	woff      int64
	replyMode replyMode
	flags     connFlags
	watch     engine.WatchSet
	// unwatchPending: a transaction ended while a busy script held the lock; its
	// watched keys are released at this connection's next turn with the lock.
	unwatchPending bool
	multi          *multiState
	subs           connSubs     // pub/sub subscriptions (pubsub.go)
	pushW          *resp.Writer // pushes written by other goroutines, moved to out at once
	ownPushW       *resp.Writer // pushes to this connection while its replies are off (pushWriter)
	// idleExempt is set at the end of each batch: pub/sub and MONITOR clients are not
	// closed by the idle timeout. Read only by the connection's own goroutine.
	idleExempt bool
	// readDeadline is whether the idle timeout's read deadline is set on nc (blocking.go
	// only ever leaves it cleared). The connection's own goroutine only.
	readDeadline bool
	// What CLIENT LIST reports, captured under the engine lock because the reader and
	// the socket belong to the connection's goroutine.
	addr, laddr string
	fd          int
	qbuf        int // bytes of the request being run plus unparsed input
	qbufCap     int
	argvMem     int   // bytes of the running command's arguments
	limitsGen   int64 // the server limits generation rd was last configured with

	// output
	writeMu sync.Mutex
	outMu   sync.Mutex
	out     []byte
	spare   []byte
	wake    chan struct{}
	quit    chan struct{}
	closed  atomic.Bool
	outPeak atomic.Int64

	// unblocked is signalled when the engine ends this connection's block.
	unblocked chan struct{}
}

type replyMode uint8

const (
	replyOn replyMode = iota
	replyOff
	replySkip
	replySkipNext
)

type connFlags uint32

const (
	flagMonitor connFlags = 1 << iota
	flagReplica
	flagMaster
	flagPubsub
	flagNoEvict
	flagReadonly
)

// multiState is a client inside MULTI: the queued commands and whether a queuing error
// already doomed the transaction.
type multiState struct {
	queued  []queuedCmd
	aborted bool
}

type queuedCmd struct {
	cmd  *engine.Command
	args [][]byte
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{
		s:          s,
		nc:         nc,
		id:         s.nextID.Add(1),
		w:          resp.NewWriter(),
		pushW:      resp.NewWriter(),
		born:       time.Now(),
		lastActive: time.Now(),
		wake:       make(chan struct{}, 1),
		unblocked:  make(chan struct{}, 1),
		quit:       make(chan struct{}),
	}
	c.user = s.acl.Default
	c.authenticated = !s.acl.DefaultNeedsAuth()
	c.lastCmd = "NULL"
	c.addr, c.laddr, c.fd = connAddrs(nc)
	c.in = &blockReader{nc: nc, src: countingReader{nc, &s.stats}}
	c.rd = resp.NewReader(c.in, c.readLimits())
	c.limitsGen = s.limitsGen.Load()
	c.ctx = s.e.NewCtx(c.w, c)
	return c
}

func sortConns(cs []*conn) { sort.Slice(cs, func(i, j int) bool { return cs[i].id < cs[j].id }) }

// serve runs the connection until the peer leaves, it is killed or the server stops.
func (c *conn) serve() {
	defer c.cleanup()
	go c.flushLoop()
	e := c.s.e
	for {
		if g := c.s.limitsGen.Load(); g != c.limitsGen {
			c.limitsGen = g
			c.rd.SetLimits(c.readLimits())
		}
		if t := c.s.idleTimeout.Load(); t > 0 && !c.idleExempt {
			_ = c.nc.SetReadDeadline(time.Now().Add(time.Duration(t) * time.Second))
			c.readDeadline = true
		} else if c.readDeadline {
			// Clearing a deadline that is not set still costs a trip through the
			// poller's lock, once per batch.
			_ = c.nc.SetReadDeadline(time.Time{})
			c.readDeadline = false
		}
		args, err := c.rd.ReadCommand()
		if err != nil {
			c.readFailed(err)
			return
		}
		// Activity is noted per read, as Redis's lastinteraction is: reading the clock
		// per command would cost a pipelined batch a clock read for each command.
		c.lastActive = time.Now()
		if !e.LockUnlessBusy() {
			if c.serveBusy(args) {
				if err := c.flush(); err != nil || c.closeAfter {
					return
				}
				continue
			}
			e.Lock()
		}
		c.s.current = c
		if c.unwatchPending {
			c.unwatchPending = false
			e.Unwatch(&c.watch)
		}
		if e.Settings.Maxmemory > 0 {
			e.RefreshMemory()
		}
		c.process(args)
		for n := 1; !c.closeAfter && !c.ctx.Blocked; n++ {
			if n%maxBatch == 0 {
				// Let other clients in, then carry on with this pipeline. The engine
				// lock is a mutex, which this goroutine would take straight back:
				// yielding lets the waiter it just woke run first.
				c.commit()
				c.s.current = nil
				e.Unlock()
				runtime.Gosched()
				e.Lock()
				c.s.current = c
			}
			args, ok, err := c.rd.Next()
			if err != nil {
				c.protocolError(err)
				break
			}
			if !ok {
				break
			}
			c.process(args)
		}
		c.commit()
		c.idleExempt = c.flags&(flagPubsub|flagMonitor|flagReplica|flagMaster) != 0
		c.qbuf, c.qbufCap, c.argvMem = c.rd.Buffered(), c.rd.QueryBufferSize(), 0
		c.s.current = nil
		// Read under the lock: once it is released another client may serve this one.
		blocked := c.ctx.Blocked
		e.Unlock()
		if err := c.flush(); err != nil || c.closeAfter {
			if c.handoff != nil {
				c.handoff(c.nc, err) // err: the peer is gone, the taker must clean up
			}
			return
		}
		if blocked {
			if !c.waitUnblocked() {
				return
			}
		}
	}
}

func (c *conn) readFailed(err error) {
	var perr *resp.ProtocolError
	if errors.As(err, &perr) {
		c.s.e.Lock()
		c.protocolError(err)
		c.commit()
		c.s.e.Unlock()
		_ = c.flush()
	}
}

// protocolError answers a malformed request and marks the connection to close, as
// Redis does. Called with the engine lock held.
func (c *conn) protocolError(err error) {
	var perr *resp.ProtocolError
	if errors.As(err, &perr) {
		c.w.Error("ERR " + perr.Error())
		c.s.e.CountError("ERR")
	}
	c.closeAfter = true
}

// process runs one request. Called with the engine lock held.
func (c *conn) process(args [][]byte) {
	c.noteRequest(args)
	e := c.s.e
	cmd := e.Commands().Lookup(args[0])
	if cmd == nil {
		c.lastCmd = "NULL"
		c.reject(engine.ErrUnknownCommand(args[0], args[1:]))
		return
	}
	// Containers resolve to their subcommand before any check, so arity errors,
	// commandstats and CLIENT LIST's cmd= name the subcommand ("client|kill").
	if len(cmd.Subcommands) > 0 && len(args) >= 2 {
		sub := cmd.LookupSub(args[1])
		if sub == nil {
			c.lastCmd = "NULL"
			c.reject(engine.ErrUnknownSubcommand(args[1], strings.ToUpper(string(args[0]))))
			return
		}
		if sub.Handler != nil {
			cmd = sub
		}
	}
	c.lastCmd = cmd.Name
	if !cmd.ArityOK(len(args)) {
		c.reject(engine.ErrWrongArgs(cmd.Name))
		cmd.Stats.RejectedCalls++
		return
	}
	if cmd.Flags&engine.FlagProtected != 0 && cmd.Name == "debug" && !c.s.debugAllowed(c) {
		c.reject("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", " +
			"you can run it from a local connection, otherwise you need to set this option in the configuration file, " +
			"and then restart the server.")
		return
	}
	if c.authRequired() && cmd.Flags&engine.FlagNoAuth == 0 {
		c.reject(engine.ErrNoAuth)
		cmd.Stats.RejectedCalls++
		return
	}
	if err := acl.CheckCommand(c.user, cmd, args); err != nil {
		ctx := acl.CtxToplevel
		if c.multi != nil {
			ctx = acl.CtxMulti
		}
		c.s.logDenied(c, err.(*acl.Denied), ctx, args)
		c.reject(err.Error())
		cmd.Stats.RejectedCalls++
		return
	}
	if c.pubsubContextDenied(cmd, args) {
		return
	}
	if c.s.pausedFor(c, cmd) && !c.waitPause(cmd) {
		return
	}
	// Redis's order: the memory check before min-replicas and the read-only replica.
	if e.Settings.Maxmemory > 0 && c.oomReject(cmd) {
		return
	}
	if msg := c.s.replRefuses(c, cmd); msg != "" {
		c.reject(msg)
		cmd.Stats.RejectedCalls++
		return
	}
	if c.multi != nil && !runsInsideMulti(cmd) {
		c.queue(cmd, args)
		return
	}
	c.ctx.Cmd = cmd
	c.ctx.Args = args
	before := c.w.Len()
	e.Exec(c.ctx)
	c.woff = c.s.repl.offset
	c.applyReplyMode(before)
}

// applyReplyMode drops the reply just written when CLIENT REPLY OFF or SKIP says so.
func (c *conn) applyReplyMode(before int) {
	defer c.flushOwnPushes()
	switch c.replyMode {
	case replyOn:
		return
	case replyOff:
		c.w.Truncate(before)
	case replySkipNext:
		// CLIENT REPLY SKIP itself is silent; the command after it is skipped.
		c.w.Truncate(before)
		c.replyMode = replySkip
	case replySkip:
		c.w.Truncate(before)
		c.replyMode = replyOn
	}
}

// authRequired reports whether the client must authenticate before running commands
// other than AUTH/HELLO: the default user has a password or is off, and this client
// has not authenticated (Redis's authRequired). Safe from the connection's own
// goroutine without the engine lock.
func (c *conn) authRequired() bool {
	return !c.authenticated && c.s.acl.DefaultNeedsAuth()
}

// readLimits are the request limits for this connection under the server's settings.
func (c *conn) readLimits() resp.Limits {
	l := *c.s.limits.Load()
	l.Unauthenticated = c.authRequired
	return l
}

// waitPause holds a client whose command CLIENT PAUSE affects until the pause ends,
// letting everyone else run meanwhile. It returns false if the connection closed while
// waiting. Called and returns with the engine lock held.
func (c *conn) waitPause(cmd *engine.Command) bool {
	e := c.s.e
	for {
		ch := c.s.pause.changed
		c.commit()
		c.s.current = nil
		e.Unlock()
		_ = c.flush()
		select {
		case <-ch:
		case <-c.quit:
			e.Lock()
			c.s.current = c
			return false
		}
		e.Lock()
		c.s.current = c
		if !c.s.pausedFor(c, cmd) {
			return true
		}
	}
}

// reject answers with an error before the command runs. Inside MULTI it also dooms the
// transaction, as Redis's flagTransaction does; a rejected EXEC ends it at once, with
// the reason inside EXECABORT (Redis's execCommandAbort).
func (c *conn) reject(msg string) {
	if c.multi != nil && c.lastCmd == "exec" {
		c.multi = nil
		c.s.e.Unwatch(&c.watch)
		msg = "EXECABORT Transaction discarded because of: " + strings.TrimPrefix(msg, "ERR ")
	}
	c.w.Error(msg)
	c.s.e.CountError(msg)
	if c.multi != nil {
		c.multi.aborted = true
	}
}

// commit hands this batch's replies to the output buffer. Called with the engine lock
// held, so pushes from other clients that happen after this batch come after its replies.
func (c *conn) commit() {
	if c.w.Len() == 0 {
		return
	}
	c.outMu.Lock()
	if len(c.out) == 0 {
		c.out = c.w.Swap(c.out)
	} else {
		c.out = append(c.out, c.w.Bytes()...)
		c.w.Reset()
	}
	c.noteOut(len(c.out))
	c.outMu.Unlock()
}

func (c *conn) noteOut(n int) {
	if int64(n) > c.outPeak.Load() {
		c.outPeak.Store(int64(n))
	}
}

// push writes an out-of-band message to this connection from any goroutine holding the
// engine lock (pub/sub, MONITOR, the reply to a blocked command). It keeps order with
// the connection's own replies. It returns false if the connection was dropped for
// exceeding limit bytes of pending output (0 means no limit).
func (c *conn) push(limit int, fn func(w *resp.Writer)) bool {
	if c.closed.Load() {
		return false
	}
	if c == c.s.current {
		fn(c.pushWriter())
		return true
	}
	c.pushW.SetProto(c.w.Proto())
	fn(c.pushW)
	c.outMu.Lock()
	c.out = append(c.out, c.pushW.Bytes()...)
	pending := len(c.out)
	c.noteOut(pending)
	c.outMu.Unlock()
	c.pushW.Reset()
	if limit > 0 && pending > limit {
		c.close()
		return false
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return true
}

// pushWriter is where out-of-band data for this connection goes while it runs its
// own command: pushes reach the client even under CLIENT REPLY OFF/SKIP, which only
// silence replies (Redis's CLIENT_PUSHING), so then they wait apart from the reply
// and applyReplyMode puts them back after dropping it. Engine lock held.
func (c *conn) pushWriter() *resp.Writer {
	if c.replyMode == replyOn {
		return c.w
	}
	if c.ownPushW == nil {
		c.ownPushW = resp.NewWriter()
	}
	c.ownPushW.SetProto(c.w.Proto())
	return c.ownPushW
}

// flushOwnPushes moves pushes kept apart by pushWriter into the reply stream.
func (c *conn) flushOwnPushes() {
	if c.ownPushW != nil && c.ownPushW.Len() > 0 {
		c.w.Raw(c.ownPushW.Bytes())
		c.ownPushW.Reset()
	}
}

// dropOutput discards output that will never be written (the connection was dropped
// for its output buffer limit), so the memory goes now rather than at cleanup.
func (c *conn) dropOutput() {
	c.outMu.Lock()
	c.out, c.spare = nil, nil
	c.outMu.Unlock()
}

// pendingOutput is the number of reply bytes not yet written to the socket.
func (c *conn) pendingOutput() int {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	return len(c.out)
}

// flush writes pending output to the socket. Only one flusher writes at a time, and
// each takes everything pending, so bytes leave in the order they were committed.
func (c *conn) flush() error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	for {
		c.outMu.Lock()
		if len(c.out) == 0 {
			c.outMu.Unlock()
			return nil
		}
		b := c.out
		c.out = c.spare[:0]
		c.spare = nil
		c.outMu.Unlock()
		// Every write committed before these bytes is in the AOF buffer by now; the
		// reply leaves only once appendfsync's promise covers it (group commit).
		c.s.waitDurable()
		n, err := c.nc.Write(b)
		c.s.stats.netOutput.Add(int64(n))
		c.s.stats.writes.Add(1)
		if cap(b) <= 1<<20 {
			c.outMu.Lock()
			c.spare = b[:0]
			c.outMu.Unlock()
		}
		if err != nil {
			c.close()
			return err
		}
	}
}

// flushLoop writes pushes that arrive while the connection's own goroutine is waiting
// for input.
func (c *conn) flushLoop() {
	for {
		select {
		case <-c.wake:
			if c.flush() != nil {
				return
			}
		case <-c.quit:
			return
		}
	}
}

// close drops the connection; its goroutine notices and cleans up.
func (c *conn) close() {
	if c.closed.CompareAndSwap(false, true) {
		c.nc.Close()
		close(c.quit)
	}
}

// cleanup releases everything the connection holds in the engine and the server.
func (c *conn) cleanup() {
	c.close()
	c.s.e.Lock()
	c.s.e.Unwatch(&c.watch)
	c.s.e.Unblock(c.ctx)
	c.s.connClosedLocked(c)
	c.s.e.Unlock()
	c.s.removeConn(c)
}
