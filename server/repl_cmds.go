package server

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"kv/engine"
)

// REPLICAOF/SLAVEOF, ROLE, WAIT, FAILOVER and INFO replication.

func (s *Server) replCommands() []*engine.Command {
	roleFlags := engine.FlagNoAsyncLoading | engine.FlagAdmin | engine.FlagNoscript | engine.FlagStale
	return []*engine.Command{
		{Name: "replicaof", Arity: 3, Flags: roleFlags, ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "5.0.0",
			Complexity: "O(1)", Summary: "Make the server a replica of another instance, or promote it as master.",
			Syntax: "host port", Handler: s.cmdReplicaof},
		{Name: "slaveof", Arity: 3, Flags: roleFlags, ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "1.0.0",
			Complexity: "O(1)", Summary: "Make the server a replica of another instance, or promote it as master.",
			Syntax: "host port", Handler: s.cmdReplicaof},
		{Name: "role", Arity: 1, Flags: engine.FlagNoscript | engine.FlagLoading | engine.FlagStale | engine.FlagFast | engine.FlagSentinel,
			ACL: []string{"admin", "fast", "dangerous"}, Group: "server", Since: "2.8.12", Complexity: "O(1)",
			Summary: "Return the role of the instance in the context of replication", Handler: s.cmdRole},
		{Name: "wait", Arity: 3, Flags: engine.FlagNoscript, ACL: []string{"connection", "slow"}, Group: "generic", Since: "3.0.0",
			Complexity: "O(1)", Summary: "Wait for the synchronous replication of all the write commands sent in the context of the current connection",
			Syntax: "numreplicas timeout", Handler: s.cmdWait},
		{Name: "failover", Arity: -1, Flags: engine.FlagAdmin | engine.FlagNoscript | engine.FlagStale, ACL: []string{"admin", "slow", "dangerous"},
			Group: "server", Since: "6.2.0", Complexity: "O(1)",
			Summary: "Start a coordinated failover between this server and one of its replicas.",
			Syntax:  "[TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds]", Handler: s.cmdFailover},
	}
}

func (s *Server) cmdReplicaof(c *engine.Ctx) {
	r := &s.repl
	if r.failover.state != failoverNone {
		c.Error("ERR REPLICAOF not allowed while failing over.")
		return
	}
	if c.Is(1, "no") && c.Is(2, "one") {
		if r.masterHost != "" {
			s.unsetMaster()
			s.log.Info("MASTER MODE enabled (user request)", "client", connOf(c).addr)
		}
		c.W.OK()
		return
	}
	if connOf(c).flags&flagReplica != 0 {
		c.Error("ERR Command is not valid when client is a replica.")
		return
	}
	port, ok := engine.ParseInt(c.Args[2])
	if !ok || port < 0 || port > 65535 {
		c.Error("ERR Invalid master port")
		return
	}
	host := string(c.Args[1])
	if r.masterHost != "" && strings.EqualFold(r.masterHost, host) && r.masterPort == int(port) {
		c.W.Simple("OK Already connected to specified master")
		return
	}
	s.setMaster(host, int(port), false)
	s.log.Info("REPLICAOF enabled (user request)", "master", fmt.Sprintf("%s:%d", host, port), "client", connOf(c).addr)
	c.W.OK()
}

func (s *Server) cmdRole(c *engine.Ctx) {
	r := &s.repl
	if r.masterHost == "" {
		c.W.Array(3)
		c.W.BulkString("master")
		c.W.Int(r.offset)
		n := 0
		for _, rp := range r.replicas {
			if rp.state == replOnline {
				n++
			}
		}
		c.W.Array(n)
		for _, rp := range r.replicas {
			if rp.state != replOnline {
				continue
			}
			ip, port := s.replicaAddr(rp)
			c.W.Array(3)
			c.W.BulkString(ip)
			c.W.BulkString(strconv.Itoa(port))
			c.W.BulkString(strconv.FormatInt(rp.ackOff, 10))
		}
		return
	}
	c.W.Array(5)
	c.W.BulkString("slave")
	c.W.BulkString(r.masterHost)
	c.W.Int(int64(r.masterPort))
	state, off := "connect", int64(-1)
	if l := r.link; l != nil {
		switch l.state {
		case linkConnecting:
			state = "connecting"
		case linkHandshake:
			state = "handshake"
		case linkTransfer:
			state = "sync"
		case linkConnected:
			state = "connected"
			off = r.offset
		}
	}
	c.W.BulkString(state)
	c.W.Int(off)
}

// --- WAIT ---

type waitWaiter struct {
	c        *conn
	num      int
	off      int64
	deadline time.Time // zero: forever
}

func (s *Server) cmdWait(c *engine.Ctx) {
	if s.repl.masterHost != "" {
		c.Error("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.")
		return
	}
	num, ok := engine.ParseInt(c.Args[1])
	if !ok {
		c.Error("ERR value is not an integer or out of range")
		return
	}
	tms, ok := engine.ParseInt(c.Args[2])
	if !ok {
		c.Error("ERR timeout is not an integer or out of range")
		return
	}
	if tms < 0 {
		c.Error("ERR timeout is negative")
		return
	}
	cn := connOf(c)
	acked := s.ackedReplicas(cn.woff)
	if int64(acked) >= num || !c.CanBlock() {
		c.W.Int(int64(acked))
		return
	}
	w := &waitWaiter{c: cn, num: int(num), off: cn.woff}
	if tms > 0 {
		w.deadline = time.Now().Add(time.Duration(tms) * time.Millisecond)
	}
	s.repl.waiters = append(s.repl.waiters, w)
	// The engine's registry makes this an ordinary blocked client (INFO, CLIENT LIST,
	// the serve loop's wait); WAIT resolves it itself, never through keys.
	c.BlockOn(nil, 0, engine.TypeString, nil)
	// Ask for ACKs now rather than at the next periodic one, unless writes are paused:
	// the stream must not move then (FAILOVER waits for offsets to match).
	if !s.clientsPausedForWrites() {
		s.feed([]byte("*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n"))
	}
}

func (s *Server) ackedReplicas(off int64) int {
	n := 0
	for _, rp := range s.repl.replicas {
		if rp.state == replOnline && rp.ackOff >= off {
			n++
		}
	}
	return n
}

// serveWaiters answers the WAIT clients whose replicas caught up. Lock held.
func (s *Server) serveWaiters() {
	r := &s.repl
	for i := 0; i < len(r.waiters); i++ {
		w := r.waiters[i]
		if n := s.ackedReplicas(w.off); n >= w.num {
			s.endWait(w, fmt.Sprintf(":%d\r\n", n))
			i--
		}
	}
}

// waitersCron answers the WAIT clients whose timeout passed. Lock held.
func (s *Server) waitersCron(now time.Time) {
	r := &s.repl
	for i := 0; i < len(r.waiters); i++ {
		w := r.waiters[i]
		if !w.deadline.IsZero() && !now.Before(w.deadline) {
			s.endWait(w, fmt.Sprintf(":%d\r\n", s.ackedReplicas(w.off)))
			i--
		}
	}
}

func (s *Server) failWaiters(msg string) {
	for len(s.repl.waiters) > 0 {
		s.endWait(s.repl.waiters[0], "-"+msg+"\r\n")
	}
}

func (s *Server) endWait(w *waitWaiter, reply string) {
	s.removeWaiter(w.c)
	s.e.Unblock(w.c.ctx)
	w.c.Unblocked([]byte(reply))
}

func (s *Server) removeWaiter(c *conn) bool {
	r := &s.repl
	for i, w := range r.waiters {
		if w.c == c {
			r.waiters = append(r.waiters[:i], r.waiters[i+1:]...)
			return true
		}
	}
	return false
}

// dropWaiter forgets a WAIT client that disconnected. Lock held.
func (s *Server) dropWaiter(c *conn) { s.removeWaiter(c) }

// --- INFO ---

func (s *Server) infoReplication(b *infoBuilder) {
	r := &s.repl
	now := time.Now()
	if r.masterHost == "" {
		b.str("role", "master")
	} else {
		b.str("role", "slave")
		l := r.link
		up := s.linkUp()
		b.str("master_host", r.masterHost)
		b.int("master_port", int64(r.masterPort))
		b.str("master_link_status", map[bool]string{true: "up", false: "down"}[up])
		lastIO := int64(-1)
		if up {
			lastIO = int64(now.Sub(l.lastIO).Seconds())
		}
		b.int("master_last_io_seconds_ago", lastIO)
		transfer := l != nil && l.state == linkTransfer
		b.int("master_sync_in_progress", map[bool]int64{true: 1, false: 0}[transfer])
		off := int64(1)
		if up || r.cacheValid {
			off = r.offset
		}
		b.int("slave_read_repl_offset", off)
		b.int("slave_repl_offset", off)
		if transfer {
			size, read := l.transferSize.Load(), l.transferRead.Load()
			perc := 0.0
			if size > 0 {
				perc = float64(read) / float64(size) * 100
			}
			b.int("master_sync_total_bytes", size)
			b.int("master_sync_read_bytes", read)
			b.int("master_sync_left_bytes", size-read)
			b.f("master_sync_perc", "%.2f", perc)
			b.int("master_sync_last_io_seconds_ago", now.Unix()-l.transferLastIO.Load())
		}
		if !up {
			down := int64(-1)
			if !r.downSince.IsZero() {
				down = int64(now.Sub(r.downSince).Seconds())
			}
			b.int("master_link_down_since_seconds", down)
		}
		b.int("slave_priority", s.cfg.ReplicaPriority.Get())
		b.int("slave_read_only", boolInt(s.cfg.ReplicaReadOnly.Get()))
		b.int("replica_announced", boolInt(s.cfg.ReplicaAnnounced.Get()))
	}
	b.int("connected_slaves", int64(len(r.replicas)))
	if s.cfg.MinReplicasToWrite.Get() > 0 && s.cfg.MinReplicasMaxLag.Get() > 0 {
		b.int("min_slaves_good_slaves", int64(r.good))
	}
	for i, rp := range r.replicas {
		ip, port := s.replicaAddr(rp)
		lag := int64(0)
		if rp.state == replOnline {
			lag = int64(now.Sub(rp.ackTime).Seconds())
		}
		b.str(fmt.Sprintf("slave%d", i), fmt.Sprintf("ip=%s,port=%d,state=%s,offset=%d,lag=%d", ip, port, rp.state, rp.ackOff, lag))
	}
	b.str("master_failover_state", r.failover.state.String())
	b.str("master_replid", r.replid)
	b.str("master_replid2", r.replid2)
	b.int("master_repl_offset", r.offset)
	b.int("second_repl_offset", r.secondOffset)
	if bl := r.backlog; bl != nil {
		b.int("repl_backlog_active", 1)
		b.int("repl_backlog_size", int64(len(bl.buf)))
		b.int("repl_backlog_first_byte_offset", bl.first)
		b.int("repl_backlog_histlen", bl.histlen)
	} else {
		b.int("repl_backlog_active", 0)
		b.int("repl_backlog_size", s.cfg.ReplBacklogSize.Get())
		b.int("repl_backlog_first_byte_offset", 0)
		b.int("repl_backlog_histlen", 0)
	}
}
