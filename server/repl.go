package server

import (
	"strconv"
	"time"

	"kv/resp"
)

// Replication: the shared state of both sides, the backlog and the stream.
//
// The replication stream is a sequence of RESP commands; its offset counts bytes. A
// master builds it from the engine's propagated effects (Propagate, with SELECT put in
// front when the database changes); a replica builds it from the bytes its master
// sends, unchanged, so that its own replicas (chained replication) see exactly the
// master's stream at the same offsets and can fail over to one another. Whatever the
// source, feed appends the bytes to the backlog and to every replica.
//
// Everything here is guarded by the engine lock, except where a field says otherwise.

// replState is the replication state of the server, embedded as Server.repl.
type replState struct {
	replid  string // master_replid: the history this server's stream belongs to
	replid2 string // master_replid2: the history it continued from (PSYNC2 failover)
	// secondOffset is second_repl_offset: the first offset of the replid history that
	// replid2 does not cover; -1 without a replid2.
	secondOffset int64
	offset       int64 // master_repl_offset
	backlog      *backlog
	// seldb is the database the stream last selected; -1 forces a SELECT before the
	// next command (after a full sync starts, or a role change).
	seldb int
	// noReplicasSince is when the last replica left, for repl-backlog-ttl.
	noReplicasSince time.Time

	replicas []*replica
	job      *syncJob // the full sync in progress, if any
	good     int      // replicas online with an ACK no older than min-replicas-max-lag

	syncFull, syncPartialOK, syncPartialErr int64

	waiters []*waitWaiter // clients blocked in WAIT

	// The replica side: masterHost is set while this server follows a master.
	masterHost string
	masterPort int
	link       *masterLink
	// cacheValid says replid/offset describe data this server holds, so a PSYNC to
	// the master can ask to continue from them (Redis's cached master).
	cacheValid bool
	downSince  time.Time // when the link last went down (zero: never up)
	// masterDB is the database the master's stream had selected when the link went
	// down: a continued stream carries on in it without a SELECT.
	masterDB int

	failover failoverState

	scratch []byte
}

func (r *replState) init() {
	r.replid = newRunID()
	r.replid2 = zeroReplid
	r.secondOffset = -1
	r.seldb = -1
	r.noReplicasSince = time.Now()
}

const zeroReplid = "0000000000000000000000000000000000000000"

// backlog is the ring buffer of the latest stream bytes that partial resyncs are
// served from.
type backlog struct {
	buf     []byte
	idx     int   // where the next byte goes
	histlen int64 // how many bytes are valid
	first   int64 // the offset of the oldest valid byte (repl_backlog_first_byte_offset)
}

func newBacklog(size int64, nextOffset int64) *backlog {
	if size < 16*1024 {
		size = 16 * 1024 // Redis's minimum
	}
	return &backlog{buf: make([]byte, size), first: nextOffset}
}

func (b *backlog) write(p []byte) {
	size := int64(len(b.buf))
	if int64(len(p)) > size {
		// Only the tail can be kept.
		skip := int64(len(p)) - size
		b.first += b.histlen + skip
		b.histlen = 0
		p = p[skip:]
	}
	for len(p) > 0 {
		n := copy(b.buf[b.idx:], p)
		b.idx = (b.idx + n) % len(b.buf)
		p = p[n:]
		b.histlen += int64(n)
	}
	if b.histlen > size {
		b.first += b.histlen - size
		b.histlen = size
	}
}

// from appends to dst the bytes from offset off to the end; off must be within
// [first, first+histlen].
func (b *backlog) from(dst []byte, off int64) []byte {
	skip := off - b.first
	n := b.histlen - skip
	if n <= 0 {
		return dst
	}
	size := int64(len(b.buf))
	start := (int64(b.idx) - n + size) % size
	if start+n <= size {
		return append(dst, b.buf[start:start+n]...)
	}
	dst = append(dst, b.buf[start:]...)
	return append(dst, b.buf[:n-(size-start)]...)
}

// resize keeps the newest bytes that fit in size.
func (b *backlog) resize(size int64) {
	if size < 16*1024 {
		size = 16 * 1024
	}
	if size == int64(len(b.buf)) {
		return
	}
	keep := b.histlen
	if keep > size {
		keep = size
	}
	data := b.from(nil, b.first+b.histlen-keep)
	nb := &backlog{buf: make([]byte, size), first: b.first + b.histlen - keep}
	nb.write(data)
	*b = *nb
}

// Propagate implements engine.Propagator. It is the server's one fan-out point for the
// engine's propagated stream (DESIGN.md "Propagation"): installed once, it hands every
// effect, in the same order and with the same MULTI/EXEC units, to the AOF appender
// (which puts in its own SELECTs, as Redis's feedAppendOnlyFile does) and to the
// replication stream, so the two can never disagree. Engine lock held.
func (s *Server) Propagate(db int, args [][]byte) {
	if s.aof != nil {
		if ap := s.aof.Appender(); ap != nil {
			ap.Propagate(db, args)
		}
	}
	s.propagateRepl(db, args)
}

// Propagating implements engine.PropagationGate: whether Propagate would hand effects
// to anything (the AOF appender, or on a master the backlog or replicas; the checks
// Propagate and propagateRepl make). Engine lock held.
func (s *Server) Propagating() bool {
	if s.aof != nil && s.aof.Appender() != nil {
		return true
	}
	r := &s.repl
	return r.masterHost == "" && (r.backlog != nil || len(r.replicas) > 0)
}

// PropagateReplicas implements engine.ReplicaPropagator: PUBLISH reaches replicas,
// never the AOF, as in Redis. Engine lock held.
func (s *Server) PropagateReplicas(db int, args [][]byte) { s.propagateRepl(db, args) }

// propagateRepl is the master side's part of Propagate: the backlog and replicas,
// with SELECT put in front when the database changes. Engine lock held.
func (s *Server) propagateRepl(db int, args [][]byte) {
	r := &s.repl
	if r.masterHost != "" {
		// A replica's stream is its master's; its own clients' writes (replica-read-only
		// no) stay local, as in Redis.
		return
	}
	if r.backlog == nil && len(r.replicas) == 0 {
		return
	}
	b := r.scratch[:0]
	if db != r.seldb {
		b = resp.AppendCommandStrings(b, "SELECT", strconv.Itoa(db))
		r.seldb = db
	}
	b = resp.AppendCommand(b, args...)
	s.feed(b)
	r.scratch = b[:0]
}

// feed appends stream bytes to the backlog and to every replica. Engine lock held.
func (s *Server) feed(b []byte) {
	r := &s.repl
	r.offset += int64(len(b))
	if r.backlog != nil {
		r.backlog.write(b)
	}
	if r.job != nil && r.job.attachable {
		r.job.buf = append(r.job.buf, b...)
	}
	for i := 0; i < len(r.replicas); i++ {
		rp := r.replicas[i]
		switch rp.state {
		case replOnline:
			if rp.waitAck {
				rp.pending = append(rp.pending, b...)
				if !s.checkReplicaLimit(rp, len(rp.pending)) {
					i--
				}
				continue
			}
			rp.c.pushRaw(b)
			if !s.checkReplicaLimit(rp, rp.c.pendingOutput()) {
				i--
			}
		case replWaitEnd, replSendBulk:
			rp.pending = append(rp.pending, b...)
			if !s.checkReplicaLimit(rp, len(rp.pending)) {
				i--
			}
		}
	}
}

// pushRaw appends stream bytes to the connection's output and wakes its flusher.
// Engine lock held.
func (c *conn) pushRaw(b []byte) {
	if c.closed.Load() {
		return
	}
	c.outMu.Lock()
	c.out = append(c.out, b...)
	c.noteOut(len(c.out))
	c.outMu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// createBacklog starts a backlog after the current offset. Lock held.
func (s *Server) createBacklog() {
	s.repl.backlog = newBacklog(s.cfg.ReplBacklogSize.Get(), s.repl.offset+1)
}

// changeReplid starts a new history (a master's first replica, a new master).
func (r *replState) changeReplid() { r.replid = newRunID() }

func (r *replState) clearReplid2() {
	r.replid2 = zeroReplid
	r.secondOffset = -1
}

// shiftReplid makes the current history the secondary one and starts a new one
// continuing from the current offset: a promoted replica's former siblings can still
// PSYNC with the old id up to here.
func (r *replState) shiftReplid() {
	r.replid2 = r.replid
	r.secondOffset = r.offset + 1
	r.changeReplid()
}

// replAux is the replication information an RDB file records (repl-stream-db,
// repl-id, repl-offset), so a restarted server can continue its history with a
// partial resync. Lock held.
func (s *Server) replAux() [][2]string {
	r := &s.repl
	if (r.masterHost == "" && r.backlog == nil) || (r.masterHost != "" && !r.cacheValid) {
		return nil
	}
	db := r.seldb
	if r.masterHost != "" {
		db = r.masterDB
		if r.link != nil && r.link.conn != nil {
			db = r.link.conn.ctx.DB.ID
		}
	}
	if db < 0 {
		db = 0
	}
	return [][2]string{{"repl-stream-db", strconv.Itoa(db)}, {"repl-id", r.replid},
		{"repl-offset", strconv.FormatInt(r.offset, 10)}}
}

// replLoaded takes the history an RDB file recorded, as Redis's rdbPopulateSaveInfo
// counterpart at start: a replica then asks its master to continue from it, and a
// master keeps serving its replicas' partial resyncs. Lock held.
func (s *Server) replLoaded(aux map[string]string) {
	id, offStr := aux["repl-id"], aux["repl-offset"]
	off, err := strconv.ParseInt(offStr, 10, 64)
	if len(id) != 40 || err != nil {
		return
	}
	r := &s.repl
	r.replid, r.offset = id, off
	r.clearReplid2()
	r.cacheValid = true
	db, err := strconv.Atoi(aux["repl-stream-db"])
	if err != nil || s.e.DB(db) == nil {
		db = 0
	}
	if s.cfg.Replicaof.Get().Host != "" {
		r.masterDB = db
		return
	}
	// A master's next write continues the recorded stream, database included.
	r.seldb = db
	s.createBacklog()
}
