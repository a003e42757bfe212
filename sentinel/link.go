package sentinel

import (
	"context"
	"strings"
	"sync"
	"time"

	"kv/client"
	"kv/resp"
)

// request is one command sent on a command link. cb runs with Sentinel.mu held
// when the reply arrives; it is dropped if the connection goes away first, as
// hiredis calls Redis's callbacks with a NULL reply that they ignore.
type request struct {
	args []any
	cb   func(v resp.Value)
}

// link is the pair of connections to one instance (Redis's instanceLink): the
// command connection and, for masters and replicas, the pub/sub connection that
// listens to the hello channel. Guarded by Sentinel.mu, except what the
// connection goroutines own (their client.Conn).
type link struct {
	cc           *cmdConn
	pc           *pubConn
	disconnected bool
	pending      int

	ccConnTime     int64
	pcConnTime     int64
	pcLastActivity int64
	actPingTime    int64 // when the oldest unanswered PING was sent; 0 if none
	lastPingTime   int64
	lastPongTime   int64
	lastAvailTime  int64 // last valid PING reply
	lastReconnTime int64
	downSince      int64 // kv: when the link last went down; 0 while up
}

func newLink(now int64) *link {
	return &link{disconnected: true, actPingTime: now, lastAvailTime: now, lastPongTime: now}
}

// cmdConn is a command connection. Its goroutine dials, then sends queued
// requests in pipelined batches and hands each reply to its callback in order.
type cmdConn struct {
	q      chan request
	done   chan struct{}
	once   sync.Once
	mu     sync.Mutex
	conn   *client.Conn
	cancel context.CancelFunc
}

// pubConn is a pub/sub connection subscribed to the hello channel.
type pubConn struct {
	done   chan struct{}
	once   sync.Once
	mu     sync.Mutex
	conn   *client.Conn
	cancel context.CancelFunc
}

func (c *cmdConn) close() {
	c.once.Do(func() {
		close(c.done)
		c.cancel()
		c.mu.Lock()
		if c.conn != nil {
			c.conn.Close()
		}
		c.mu.Unlock()
	})
}

func (c *pubConn) close() {
	c.once.Do(func() {
		close(c.done)
		c.cancel()
		c.mu.Lock()
		if c.conn != nil {
			c.conn.Close()
		}
		c.mu.Unlock()
	})
}

// dialOptions are the connection options for an instance: the master's auth-user
// and auth-pass for monitored servers, sentinel-user and sentinel-pass for peers.
func (s *Sentinel) dialOptions(ri *instance, role string) client.Options {
	o := client.Options{Addr: ri.addr.String(), DialTimeout: 5 * time.Second, WriteTimeout: 10 * time.Second, Dial: s.dial}
	if ri.kind == kindSentinel {
		o.Username, o.Password = s.sentinelUser, s.sentinelPass
	} else {
		m := ri.owner()
		o.Username, o.Password = m.authUser, m.authPass
	}
	// Redis names its links so an operator can spot them in CLIENT LIST.
	o.ClientName = "sentinel-" + s.myid[:8] + "-" + role
	return o
}

// send queues a command on the instance's command link. It returns false if the
// link is down or its queue is full (a stalled server), as hiredis refuses to
// queue on a dead context.
func (s *Sentinel) send(ri *instance, cb func(resp.Value), args ...any) bool {
	l := ri.link
	if l.cc == nil {
		return false
	}
	select {
	case l.cc.q <- request{args: args, cb: cb}:
		l.pending++
		return true
	default:
		return false
	}
}

// closeCmd drops the command connection (Redis's instanceLinkCloseConnection).
func (s *Sentinel) closeCmd(ri *instance) {
	l := ri.link
	if l.cc == nil {
		return
	}
	l.cc.close()
	l.cc = nil
	l.pending = 0
	s.markDown(ri)
}

func (s *Sentinel) closePub(ri *instance) {
	l := ri.link
	if l.pc == nil {
		return
	}
	l.pc.close()
	l.pc = nil
	s.markDown(ri)
}

func (s *Sentinel) markDown(ri *instance) {
	l := ri.link
	if !l.disconnected {
		l.disconnected = true
		l.downSince = s.now()
	}
	// kv: the instance has not answered since its last valid reply. Without
	// this, a link lost with no PING pending (actPingTime 0) was timed from
	// lastAvailTime while down, but from the PING the next re-dial queues once
	// re-dialled (every 250 ms), so a dead master went SDOWN, back up 100 ms
	// later, and SDOWN again a second after: ODOWN was lost in between and the
	// failover came a second late.
	if l.actPingTime == 0 {
		l.actPingTime = l.lastAvailTime
	}
}

func (s *Sentinel) closeLink(ri *instance) {
	s.closeCmd(ri)
	s.closePub(ri)
}

// reconnect opens whatever connection of the link is missing (Redis's
// sentinelReconnectInstance). Connections are established asynchronously: the
// link counts as connected at once, commands queue, and a failed dial drops it.
func (s *Sentinel) reconnect(ri *instance) {
	l := ri.link
	if !l.disconnected || ri.addr.port == 0 {
		return
	}
	now := s.now()
	// kv: retry every reconnectPeriod (250 ms) instead of Redis's ping period, so a
	// restarted instance is seen (and a returning old master demoted) sooner; a
	// refused dial costs next to nothing.
	if now-l.lastReconnTime < s.t.reconnectPeriod {
		return
	}
	l.lastReconnTime = now
	if l.cc == nil {
		ctx, cancel := context.WithCancel(context.Background())
		c := &cmdConn{q: make(chan request, 2*s.t.maxPendingCommands), done: make(chan struct{}), cancel: cancel}
		l.cc = c
		l.pending = 0
		l.ccConnTime = now
		go s.runCmd(ctx, ri, c, s.dialOptions(ri, "cmd"))
		// Send a PING as soon as the link is up.
		s.sendPing(ri)
	}
	if ri.kind != kindSentinel && l.pc == nil {
		ctx, cancel := context.WithCancel(context.Background())
		p := &pubConn{done: make(chan struct{}), cancel: cancel}
		l.pc = p
		l.pcConnTime = now
		l.pcLastActivity = now
		go s.runPub(ctx, ri, p, s.dialOptions(ri, "pubsub"))
	}
	if l.cc != nil && (ri.kind == kindSentinel || l.pc != nil) {
		l.disconnected = false
		if l.downSince != 0 {
			ri.lastDisconnectedUntil = now
		}
		l.downSince = 0
	}
}

func (s *Sentinel) runCmd(ctx context.Context, ri *instance, c *cmdConn, opts client.Options) {
	conn, err := client.Dial(ctx, opts)
	if err != nil {
		s.cmdFailed(ri, c)
		return
	}
	c.mu.Lock()
	select {
	case <-c.done:
		c.mu.Unlock()
		conn.Close()
		return
	default:
	}
	c.conn = conn
	c.mu.Unlock()
	defer conn.Close()
	batch := make([]request, 0, 16)
	for {
		batch = batch[:0]
		select {
		case r := <-c.q:
			batch = append(batch, r)
		case <-c.done:
			return
		}
	drain:
		for len(batch) < cap(batch) {
			select {
			case r := <-c.q:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		for _, r := range batch {
			if err := conn.Send(r.args...); err != nil {
				s.cmdFailed(ri, c)
				return
			}
		}
		if err := conn.Flush(); err != nil {
			s.cmdFailed(ri, c)
			return
		}
		for _, r := range batch {
			v, err := conn.Receive()
			if err != nil {
				s.cmdFailed(ri, c)
				return
			}
			s.mu.Lock()
			if ri.link.cc == c {
				ri.link.pending--
				if r.cb != nil {
					r.cb(v)
				}
			}
			s.mu.Unlock()
		}
	}
}

func (s *Sentinel) cmdFailed(ri *instance, c *cmdConn) {
	c.close()
	s.mu.Lock()
	defer s.mu.Unlock()
	if ri.link.cc == c {
		ri.link.cc = nil
		ri.link.pending = 0
		s.markDown(ri)
	}
}

func (s *Sentinel) pubFailed(ri *instance, p *pubConn) {
	p.close()
	s.mu.Lock()
	defer s.mu.Unlock()
	if ri.link.pc == p {
		ri.link.pc = nil
		s.markDown(ri)
	}
}

func (s *Sentinel) runPub(ctx context.Context, ri *instance, p *pubConn, opts client.Options) {
	conn, err := client.Dial(ctx, opts)
	if err != nil {
		s.pubFailed(ri, p)
		return
	}
	p.mu.Lock()
	select {
	case <-p.done:
		p.mu.Unlock()
		conn.Close()
		return
	default:
	}
	p.conn = conn
	p.mu.Unlock()
	defer conn.Close()
	s.mu.Lock()
	sub := ri.mapCommand("SUBSCRIBE")
	s.mu.Unlock()
	if err := conn.Send(sub, HelloChannel); err != nil {
		s.pubFailed(ri, p)
		return
	}
	if err := conn.Flush(); err != nil {
		s.pubFailed(ri, p)
		return
	}
	for {
		v, err := conn.ReceiveAny()
		if err != nil {
			s.pubFailed(ri, p)
			return
		}
		s.mu.Lock()
		if ri.link.pc != p {
			s.mu.Unlock()
			return
		}
		ri.link.pcLastActivity = s.now()
		if len(v.Elems) == 3 && strings.EqualFold(string(v.Elems[0].Str), "message") {
			msg := string(v.Elems[2].Str)
			// We hear our own hellos too; they only prove the link works.
			if !strings.Contains(msg, s.myid) {
				s.processHello(msg)
			}
		}
		s.mu.Unlock()
	}
}
