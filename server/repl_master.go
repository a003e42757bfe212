package server

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"kv/engine"
	"kv/rdb"
)

// The master side: replicas attach with SYNC/PSYNC, get either the backlog from their
// offset (+CONTINUE) or a point-in-time snapshot (+FULLRESYNC) followed by the stream
// buffered since the snapshot began, then the live stream.

type replicaState uint8

const (
	replWaitStart replicaState = iota // waiting for a snapshot to start
	replWaitEnd                       // snapshot started; payload being produced
	replSendBulk                      // payload being written to the socket
	replOnline
)

func (st replicaState) String() string {
	switch st {
	case replWaitStart, replWaitEnd:
		return "wait_bgsave"
	case replSendBulk:
		return "send_bulk"
	default:
		return "online"
	}
}

// replica is a connection that became a replica with SYNC or PSYNC.
type replica struct {
	c       *conn
	state   replicaState
	since   time.Time // when it entered waitStart (repl-diskless-sync-delay)
	oldSync bool      // SYNC: no +FULLRESYNC line, no ACKs
	// pending is the stream since its snapshot began, held until the payload is sent.
	pending []byte
	ackOff  int64
	ackTime time.Time
	// softSince is when the output first went over the soft limit (zero: not over).
	softSince time.Time
	// waitAck holds the stream in pending after a diskless payload until the
	// replica's first ACK: it reads the payload up to the EOF mark with no length to
	// go by, so nothing may follow the mark until it has loaded (as Redis 7.0's
	// repl_start_cmd_stream_on_ack).
	waitAck bool
}

// replica returns the replica record of a connection, or nil.
func (s *Server) replicaOf(c *conn) *replica {
	for _, rp := range s.repl.replicas {
		if rp.c == c {
			return rp
		}
	}
	return nil
}

func (s *Server) syncCommands() []*engine.Command {
	flags := engine.FlagNoAsyncLoading | engine.FlagAdmin | engine.FlagNoMulti | engine.FlagNoscript
	return []*engine.Command{
		{Name: "sync", Arity: 1, Flags: flags, ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "1.0.0",
			Summary: "Internal command used for replication", Handler: s.cmdSync},
		{Name: "psync", Arity: -3, Flags: flags, ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "2.8.0",
			Summary: "Internal command used for replication", Syntax: "replicationid offset", Handler: s.cmdSync},
		{Name: "replconf", Arity: -1, Flags: engine.FlagAdmin | engine.FlagNoscript | engine.FlagLoading | engine.FlagStale | engine.FlagAllowBusy,
			ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "3.0.0", Complexity: "O(1)",
			Summary: "An internal command for configuring the replication stream", Syntax: "", Handler: s.cmdReplconf},
	}
}

func (s *Server) cmdReplconf(c *engine.Ctx) {
	if len(c.Args)%2 == 0 {
		c.Error(engine.ErrSyntax)
		return
	}
	cn := connOf(c)
	for i := 1; i < len(c.Args); i += 2 {
		switch {
		case c.Is(i, "listening-port"):
			n, ok := engine.ParseInt(c.Args[i+1])
			if !ok {
				c.Error("ERR value is not an integer or out of range")
				return
			}
			cn.replPort = int(n)
		case c.Is(i, "ip-address"):
			if len(c.Args[i+1]) >= 46 {
				c.Error(fmt.Sprintf("ERR REPLCONF ip-address provided by replica instance is too long: %d bytes", len(c.Args[i+1])))
				return
			}
			cn.replIP = string(c.Args[i+1])
		case c.Is(i, "capa"):
			if c.Is(i+1, "eof") {
				cn.replCapaEOF = true
			} else if c.Is(i+1, "psync2") {
				cn.replCapaPsync2 = true
			}
		case c.Is(i, "ack"):
			// Only replicas ACK; the reply is nothing at all, as in Redis.
			rp := s.replicaOf(cn)
			if rp == nil {
				return
			}
			off, ok := engine.ParseInt(c.Args[i+1])
			if !ok {
				return
			}
			if off > rp.ackOff {
				rp.ackOff = off
			}
			rp.ackTime = time.Now()
			if rp.waitAck {
				rp.waitAck = false
				cn.pushRaw(rp.pending)
				rp.pending = nil
			}
			s.serveWaiters()
			s.updateFailover()
			return
		case c.Is(i, "getack"):
			if cn.flags&flagMaster != 0 {
				s.sendAckLocked()
			}
			return
		case c.Is(i, "rdb-only"), c.Is(i, "rdb-filter-only"):
		default:
			c.Error(fmt.Sprintf("ERR Unrecognized REPLCONF option: %s", c.Args[i]))
			return
		}
	}
	c.W.OK()
}

// cmdSync is SYNC and PSYNC replid offset [FAILOVER].
func (s *Server) cmdSync(c *engine.Ctx) {
	cn := connOf(c)
	r := &s.repl
	if cn.flags&flagReplica != 0 {
		return // already a replica: ignore, as Redis does
	}
	isPsync := c.Is(0, "psync")
	// A failover request promotes us before the link checks, as in Redis's
	// syncCommand: the old master dropped its replicas (our link among them) just
	// before sending it, so our link is usually already down.
	if isPsync && len(c.Args) > 3 && c.Is(3, "failover") {
		if string(c.Args[1]) != r.replid {
			c.Error("ERR PSYNC FAILOVER replid must match my replid.")
			return
		}
		s.log.Info("failover request received: promoting", "replid", r.replid)
		s.unsetMaster()
	}
	if r.failover.state != failoverNone {
		c.Error("NOMASTERLINK Can't SYNC while failing over")
		return
	}
	if r.masterHost != "" && !s.linkUp() {
		c.Error("NOMASTERLINK Can't SYNC while not connected with my master")
		return
	}
	if cn.pendingOutput() > 0 || c.W.Len() > 0 {
		c.Error("ERR SYNC and PSYNC are invalid with pending output")
		return
	}
	if isPsync {
		if s.tryPartialResync(cn, c) {
			r.syncPartialOK++
			return
		}
		if string(c.Args[1]) != "?" {
			r.syncPartialErr++
		}
	}
	r.syncFull++
	cn.flags |= flagReplica
	rp := &replica{c: cn, state: replWaitStart, since: time.Now(), oldSync: !isPsync, ackTime: time.Now()}
	r.replicas = append(r.replicas, rp)
	if len(r.replicas) == 1 && r.backlog == nil {
		// A backlog from scratch has no past to continue: a new history begins.
		r.changeReplid()
		r.clearReplid2()
		s.createBacklog()
	}
	s.startFullSync()
}

// tryPartialResync answers +CONTINUE with the backlog from the requested offset, if
// the replica's history is ours and the backlog still holds that offset.
func (s *Server) tryPartialResync(cn *conn, c *engine.Ctx) bool {
	r := &s.repl
	replid := string(c.Args[1])
	off, ok := engine.ParseInt(c.Args[2])
	if !ok {
		return false
	}
	if replid != r.replid && (replid != r.replid2 || off > r.secondOffset) {
		return false
	}
	b := r.backlog
	if b == nil || off < b.first || off > b.first+b.histlen {
		return false
	}
	cn.flags |= flagReplica
	rp := &replica{c: cn, state: replOnline, ackTime: time.Now()}
	r.replicas = append(r.replicas, rp)
	if cn.replCapaPsync2 {
		c.W.Raw([]byte("+CONTINUE " + r.replid + "\r\n"))
	} else {
		c.W.Raw([]byte("+CONTINUE\r\n"))
	}
	c.W.Raw(b.from(nil, off))
	s.log.Info("partial resynchronization accepted", "replica", cn.addr, "offset", off)
	s.refreshGoodReplicas()
	return true
}

// syncJob is one snapshot serving one or more replicas.
type syncJob struct {
	diskless bool
	off      int64
	replicas []*replica
	// attachable: a disk job still producing its file accepts replicas that arrive
	// meanwhile; buf is the stream since the snapshot began, which they start with.
	attachable bool
	buf        []byte
	cancel     context.CancelFunc
}

// startFullSync starts a snapshot for the replicas waiting for one, or attaches them
// to the disk sync in progress. Engine lock held; called on PSYNC and from the cron.
func (s *Server) startFullSync() {
	r := &s.repl
	var waiting []*replica
	for _, rp := range r.replicas {
		if rp.state == replWaitStart {
			waiting = append(waiting, rp)
		}
	}
	if len(waiting) == 0 {
		return
	}
	diskless := s.cfg.ReplDisklessSync.Get()
	for _, rp := range waiting {
		if !rp.c.replCapaEOF {
			diskless = false // someone needs the length up front
		}
	}
	if j := r.job; j != nil {
		if j.attachable && !diskless {
			for _, rp := range waiting {
				rp.state = replWaitEnd
				rp.pending = append([]byte(nil), j.buf...)
				s.sendFullResyncLine(rp, j.off)
				j.replicas = append(j.replicas, rp)
			}
			s.log.Info("replica attached to the full sync in progress", "count", len(waiting))
		}
		return
	}
	if diskless {
		delay := time.Duration(s.cfg.ReplDisklessSyncDelay.Get()) * time.Second
		max := int(s.cfg.ReplDisklessSyncMaxReplicas.Get())
		oldest := waiting[0].since
		if time.Since(oldest) < delay && (max == 0 || len(waiting) < max) {
			return // wait for more replicas to share the transfer
		}
	}
	stream, err := rdb.StartStream(s.e, s.saveOptions())
	if err != nil {
		return // a BGSAVE holds the snapshot: the cron tries again
	}
	ctx, cancel := context.WithCancel(context.Background())
	j := &syncJob{diskless: diskless, off: r.offset, replicas: waiting, attachable: !diskless, cancel: cancel}
	r.job = j
	s.fitProcs()
	// The next command starts with a SELECT: the replica starts with no database.
	r.seldb = -1
	for _, rp := range waiting {
		rp.state = replWaitEnd
		rp.pending = nil
		s.sendFullResyncLine(rp, j.off)
	}
	s.log.Info("starting full sync", "replicas", len(waiting), "diskless", diskless, "offset", j.off)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		if diskless {
			s.runDisklessSync(ctx, j, stream)
		} else {
			s.runDiskSync(ctx, j, stream)
		}
	}()
}

func (s *Server) sendFullResyncLine(rp *replica, off int64) {
	if !rp.oldSync {
		rp.c.pushRaw([]byte(fmt.Sprintf("+FULLRESYNC %s %d\r\n", s.repl.replid, off)))
	}
}

// runDisklessSync streams the snapshot to every replica of the job at once, between
// "$EOF:<mark>" and the mark.
func (s *Server) runDisklessSync(ctx context.Context, j *syncJob, stream *rdb.Stream) {
	var m [20]byte
	_, _ = rand.Read(m[:])
	mark := hex.EncodeToString(m[:])
	timeout := time.Duration(s.cfg.ReplTimeout.Get()) * time.Second
	var outs []*syncOut
	for _, rp := range j.replicas {
		if rp.c.flush() != nil {
			continue
		}
		rp.c.writeMu.Lock()
		o := &syncOut{rp: rp, locked: true, w: bufio.NewWriterSize(deadlineWriter{rp.c.nc, timeout}, 64<<10)}
		fmt.Fprintf(o.w, "$EOF:%s\r\n", mark)
		outs = append(outs, o)
	}
	fan := &fanout{outs: outs}
	_, err := stream.WriteTo(ctx, fan)
	for _, o := range outs {
		if err == nil && o.err == nil {
			_, _ = o.w.WriteString(mark)
			o.err = o.w.Flush()
		}
	}
	s.finishSync(j, outs, err)
}

// runDiskSync writes the snapshot to a temporary file, then sends it to each replica
// with its length first.
func (s *Server) runDiskSync(ctx context.Context, j *syncJob, stream *rdb.Stream) {
	f, err := os.CreateTemp(s.cfg.Dir.Get(), "temp-sync-*.rdb")
	if err != nil {
		stream.AbortUnlocked()
		s.finishSync(j, nil, err)
		return
	}
	defer os.Remove(f.Name())
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	_, err = stream.WriteTo(ctx, bw)
	if err == nil {
		err = bw.Flush()
	}
	var size int64
	if err == nil {
		size, err = f.Seek(0, io.SeekCurrent)
	}
	s.e.Lock()
	j.attachable = false
	j.buf = nil
	for _, rp := range j.replicas {
		if rp.state == replWaitEnd {
			rp.state = replSendBulk
		}
	}
	reps := append([]*replica(nil), j.replicas...)
	s.e.Unlock()
	if err != nil {
		s.finishSync(j, nil, err)
		return
	}
	timeout := time.Duration(s.cfg.ReplTimeout.Get()) * time.Second
	outs := make([]*syncOut, len(reps))
	var wg sync.WaitGroup
	for i, rp := range reps {
		o := &syncOut{rp: rp}
		outs[i] = o
		wg.Add(1)
		go func() {
			defer wg.Done()
			if o.err = rp.c.flush(); o.err != nil {
				return
			}
			rp.c.writeMu.Lock()
			o.locked = true
			w := deadlineWriter{rp.c.nc, timeout}
			if _, o.err = fmt.Fprintf(w, "$%d\r\n", size); o.err != nil {
				return
			}
			_, o.err = io.Copy(w, io.NewSectionReader(f, 0, size))
		}()
	}
	wg.Wait()
	s.finishSync(j, outs, nil)
}

// syncOut is one replica's socket during a transfer; it holds the connection's
// writeMu from the start of the payload until finishSync.
type syncOut struct {
	rp     *replica
	w      *bufio.Writer
	err    error
	locked bool // holds rp.c.writeMu
}

// fanout writes the diskless payload to every replica still healthy; it fails only
// when none is left.
type fanout struct{ outs []*syncOut }

func (f *fanout) Write(p []byte) (int, error) {
	alive := 0
	for _, o := range f.outs {
		if o.err != nil {
			continue
		}
		if _, o.err = o.w.Write(p); o.err == nil {
			alive++
		}
	}
	if alive == 0 {
		return 0, errors.New("no replica left to sync")
	}
	return len(p), nil
}

// deadlineWriter bounds each write by repl-timeout, so a replica that stops reading
// cannot hold a transfer forever.
type deadlineWriter struct {
	nc net.Conn
	d  time.Duration
}

func (w deadlineWriter) Write(p []byte) (int, error) {
	_ = w.nc.SetWriteDeadline(time.Now().Add(w.d))
	n, err := w.nc.Write(p)
	_ = w.nc.SetWriteDeadline(time.Time{})
	return n, err
}

// finishSync puts the replicas whose payload went through online, with the stream
// buffered since the snapshot, and drops the others.
func (s *Server) finishSync(j *syncJob, outs []*syncOut, err error) {
	s.e.Lock()
	if s.repl.job == j {
		s.repl.job = nil
		s.fitProcs()
	}
	var online []*conn
	ok := map[*replica]bool{}
	for _, o := range outs {
		if err == nil && o.err == nil {
			ok[o.rp] = true
		}
	}
	for _, rp := range j.replicas {
		if s.replicaOf(rp.c) != rp {
			continue // gone meanwhile
		}
		if !ok[rp] {
			s.log.Warn("full sync to a replica failed", "replica", rp.c.addr, "err", errors.Join(err, outErr(outs, rp)))
			rp.c.close()
			continue
		}
		rp.state = replOnline
		rp.ackTime = time.Now()
		if j.diskless && !rp.oldSync {
			rp.waitAck = true
		} else {
			rp.c.outMu.Lock()
			rp.c.out = append(rp.c.out, rp.pending...)
			rp.c.outMu.Unlock()
			rp.pending = nil
			online = append(online, rp.c)
		}
		s.log.Info("synchronization with replica succeeded", "replica", rp.c.addr)
	}
	s.refreshGoodReplicas()
	// Replicas that arrived during a diskless transfer get the next snapshot.
	s.startFullSync()
	s.e.Unlock()
	for _, o := range outs {
		if o.locked {
			o.rp.c.writeMu.Unlock()
		}
	}
	for _, c := range online {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

func outErr(outs []*syncOut, rp *replica) error {
	for _, o := range outs {
		if o.rp == rp {
			return o.err
		}
	}
	return nil
}

// checkReplicaLimit applies client-output-buffer-limit replica to a replica with n
// bytes pending, dropping it when over. It reports whether the replica is kept.
func (s *Server) checkReplicaLimit(rp *replica, n int) bool {
	l := s.cfg.ClientOutputBufferLimit.Get().Replica
	over := l.Hard > 0 && uint64(n) > l.Hard
	if !over && l.Soft > 0 && uint64(n) > l.Soft {
		if rp.softSince.IsZero() {
			rp.softSince = time.Now()
		} else if time.Since(rp.softSince) > time.Duration(l.SoftSeconds)*time.Second {
			over = true
		}
	} else if !over {
		rp.softSince = time.Time{}
	}
	if !over {
		return true
	}
	s.log.Warn("replica dropped: output buffer limit reached", "replica", rp.c.addr, "bytes", n)
	s.dropReplica(rp)
	rp.c.close()
	return false
}

// dropReplica forgets a replica. Lock held.
func (s *Server) dropReplica(rp *replica) {
	r := &s.repl
	for i, x := range r.replicas {
		if x == rp {
			r.replicas = append(r.replicas[:i], r.replicas[i+1:]...)
			break
		}
	}
	if len(r.replicas) == 0 {
		r.noReplicasSince = time.Now()
	}
	s.refreshGoodReplicas()
}

// replConnClosed is called when any connection closes. Lock held.
func (s *Server) replConnClosed(c *conn) {
	if c.flags&flagReplica != 0 {
		if rp := s.replicaOf(c); rp != nil {
			s.dropReplica(rp)
			s.log.Info("connection with replica lost", "replica", c.addr)
		}
	}
	s.dropWaiter(c)
}

// disconnectReplicas drops every replica (role or history change). Lock held.
func (s *Server) disconnectReplicas() {
	for _, rp := range append([]*replica(nil), s.repl.replicas...) {
		s.dropReplica(rp)
		rp.c.close()
	}
	if j := s.repl.job; j != nil {
		j.cancel()
	}
}

// refreshGoodReplicas counts replicas good for min-replicas-to-write. Lock held.
func (s *Server) refreshGoodReplicas() {
	maxLag := time.Duration(s.cfg.MinReplicasMaxLag.Get()) * time.Second
	good := 0
	for _, rp := range s.repl.replicas {
		if rp.state == replOnline && time.Since(rp.ackTime) <= maxLag {
			good++
		}
	}
	s.repl.good = good
}

// replCron is the replication part of serverCron: every tick it starts waiting full
// syncs, times out WAITs and moves a failover on; once a second it pings replicas,
// drops timed-out ones and expires the backlog. Lock held.
func (s *Server) replCron(now time.Time, tick int) {
	r := &s.repl
	s.startFullSync()
	s.waitersCron(now)
	s.updateFailover()
	if tick%hz != 0 {
		return
	}
	if r.masterHost == "" && len(r.replicas) > 0 {
		period := s.cfg.ReplPingReplicaPeriod.Get()
		if period > 0 && (tick/hz)%int(period) == 0 && !s.clientsPausedForWrites() {
			// Pings keep replicas' timeouts off during idle times; they are part of
			// the stream, offset included, but need no SELECT.
			s.feed([]byte("*1\r\n$4\r\nPING\r\n"))
		}
	}
	timeout := time.Duration(s.cfg.ReplTimeout.Get()) * time.Second
	for _, rp := range append([]*replica(nil), r.replicas...) {
		switch {
		case rp.state == replWaitEnd && r.job != nil && !r.job.diskless:
			// Keep the replica's read timeout off while the file is produced.
			rp.c.pushRaw([]byte("\n"))
		case rp.state == replOnline && !rp.oldSync && now.Sub(rp.ackTime) > timeout:
			s.log.Warn("disconnecting timedout replica", "replica", rp.c.addr)
			s.dropReplica(rp)
			rp.c.close()
		}
	}
	if r.masterHost == "" && len(r.replicas) == 0 && r.backlog != nil {
		ttl := s.cfg.ReplBacklogTTL.Get()
		if ttl > 0 && now.Sub(r.noReplicasSince) > time.Duration(ttl)*time.Second {
			// Replicas that return must do a full sync anyway after so long: a new id
			// makes that certain.
			r.changeReplid()
			r.clearReplid2()
			r.backlog = nil
			s.log.Info("replication backlog freed after repl-backlog-ttl", "seconds", ttl)
		}
	}
	if r.backlog != nil {
		r.backlog.resize(s.cfg.ReplBacklogSize.Get())
	}
	s.refreshGoodReplicas()
}

// writeRefused returns the error a write must get from replication's point of view
// (READONLY, NOREPLICAS, MASTERDOWN), or "". Lock held.
func (s *Server) replRefuses(c *conn, cmd *engine.Command) string {
	if c.flags&flagMaster != 0 {
		return ""
	}
	r := &s.repl
	isWrite := cmd.Flags&engine.FlagWrite != 0
	denyStale := cmd.Flags&engine.FlagStale == 0
	if cmd.Name == "exec" && c.multi != nil {
		// EXEC answers for what it queued: a write or a command a stale replica
		// refuses makes the whole transaction so (Redis's mstate.cmd_flags and
		// cmd_inv_flags), since the state may have changed after queuing.
		for _, q := range c.multi.queued {
			if q.cmd.Flags&engine.FlagWrite != 0 {
				isWrite = true
			}
			if q.cmd.Flags&engine.FlagStale == 0 {
				denyStale = true
			}
		}
	}
	if r.masterHost != "" {
		if !s.linkUp() && !s.cfg.ReplicaServeStaleData.Get() && denyStale {
			return "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
		}
		if isWrite && s.cfg.ReplicaReadOnly.Get() {
			return "READONLY You can't write against a read only replica."
		}
		return ""
	}
	if isWrite && s.cfg.MinReplicasToWrite.Get() > 0 && s.cfg.MinReplicasMaxLag.Get() > 0 &&
		int64(r.good) < s.cfg.MinReplicasToWrite.Get() {
		return "NOREPLICAS Not enough good replicas to write."
	}
	return ""
}

// clientsPausedForWrites reports a CLIENT PAUSE (or FAILOVER) that holds writes: the
// master then sends no PINGs, so replicas' offsets can match it exactly.
func (s *Server) clientsPausedForWrites() bool {
	return !s.pause.end.IsZero() || s.repl.failover.state != failoverNone
}

// replicaSummary lists the replicas for INFO and ROLE.
func (s *Server) replicaAddr(rp *replica) (string, int) {
	ip := rp.c.replIP
	if ip == "" {
		ip = rp.c.addr
		if i := strings.LastIndexByte(ip, ':'); i >= 0 {
			ip = ip[:i]
		}
		ip = strings.Trim(ip, "[]")
	}
	return ip, rp.c.replPort
}
