package sentinel

import (
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"kv/resp"
)

// clientConn is one client of the sentinel's RESP server. Its goroutine reads and
// runs commands; replies and pushed messages go, in order, through out to a
// writer goroutine, so an event published under Sentinel.mu never waits on a
// socket. A client that lets out fill up is disconnected, as Redis does when a
// pub/sub client exceeds its output buffer limit.
type clientConn struct {
	s       *Sentinel
	nc      net.Conn
	id      int64
	created time.Time
	w       *resp.Writer

	mu       sync.Mutex // guards out against close, and the fields below
	out      chan []byte
	closed   bool
	name     string
	lastCmd  string
	lastSeen time.Time

	proto    atomic.Int32
	authed   atomic.Bool
	subCount atomic.Int32
	channels map[string]bool // owned by the reader goroutine
	patterns map[string]bool
}

const clientOutQueue = 4096

func (s *Sentinel) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		c := &clientConn{s: s, nc: nc, created: time.Now(), lastSeen: time.Now(), w: resp.NewWriter(),
			out: make(chan []byte, clientOutQueue), channels: map[string]bool{}, patterns: map[string]bool{}}
		c.proto.Store(2)
		s.clientMu.Lock()
		s.nextID++
		c.id = s.nextID
		s.clients[c] = struct{}{}
		s.clientMu.Unlock()
		s.mu.Lock()
		c.authed.Store(s.requirePass == "")
		s.mu.Unlock()
		s.wg.Add(2)
		go c.writeLoop()
		go c.readLoop()
	}
}

func (c *clientConn) enqueue(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	select {
	case c.out <- b:
	default:
		c.closeLocked()
	}
}

func (c *clientConn) closeLocked() {
	if !c.closed {
		c.closed = true
		close(c.out)
		c.nc.Close()
	}
}

func (c *clientConn) close() {
	c.mu.Lock()
	c.closeLocked()
	c.mu.Unlock()
}

func (c *clientConn) writeLoop() {
	defer c.s.wg.Done()
	for b := range c.out {
		_ = c.nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := c.nc.Write(b); err != nil {
			c.close()
			for range c.out {
			}
			return
		}
	}
	c.nc.Close()
}

func (c *clientConn) readLoop() {
	defer c.s.wg.Done()
	defer func() {
		for ch := range c.channels {
			c.s.hub.unsubscribe(c, ch, false)
		}
		for p := range c.patterns {
			c.s.hub.unsubscribe(c, p, true)
		}
		c.s.clientMu.Lock()
		delete(c.s.clients, c)
		c.s.clientMu.Unlock()
		c.close()
	}()
	rd := resp.NewReader(c.nc, resp.Limits{Unauthenticated: func() bool { return !c.authed.Load() }})
	for {
		args, err := rd.ReadCommand()
		if err != nil {
			var pe *resp.ProtocolError
			if errors.As(err, &pe) {
				c.w.Reset()
				c.w.Error("ERR " + pe.Error())
				c.enqueue(append([]byte(nil), c.w.Bytes()...))
			} else if err != io.EOF {
				_ = err
			}
			return
		}
		c.w.Reset()
		c.w.SetProto(int(c.proto.Load()))
		quit := c.exec(args)
		if c.w.Len() > 0 {
			c.enqueue(append([]byte(nil), c.w.Bytes()...))
		}
		if quit {
			// Let the writer flush the last reply before the socket closes.
			c.mu.Lock()
			if !c.closed {
				c.closed = true
				close(c.out)
			}
			c.mu.Unlock()
			return
		}
	}
}

// pushMessage delivers a pub/sub message (called by the hub, under its lock).
func (c *clientConn) pushMessage(channel, msg string) {
	c.enqueue(encodePush(int(c.proto.Load()), "message", channel, msg))
}

func (c *clientConn) pushPMessage(pattern, channel, msg string) {
	c.enqueue(encodePush(int(c.proto.Load()), "pmessage", pattern, channel, msg))
}

func encodePush(proto int, parts ...string) []byte {
	b := resp.AppendCommandStrings(nil, parts...)
	if proto >= 3 {
		b[0] = '>'
	}
	return b
}

// exec runs one command; it reports whether the connection should close.
func (c *clientConn) exec(args [][]byte) bool {
	name := strings.ToLower(string(args[0]))
	c.mu.Lock()
	c.lastCmd = name
	c.lastSeen = time.Now()
	c.mu.Unlock()
	w := c.w
	cmd, ok := commandTable[name]
	if !ok {
		var b strings.Builder
		for i, a := range args[1:] {
			if i >= 128 || b.Len() >= 128 {
				break
			}
			b.WriteString("'")
			b.WriteString(truncate(string(a), 128))
			b.WriteString("' ")
		}
		w.Error("ERR unknown command '" + truncate(string(args[0]), 128) + "', with args beginning with: " + b.String())
		return false
	}
	if (cmd.arity > 0 && len(args) != cmd.arity) || (cmd.arity < 0 && len(args) < -cmd.arity) {
		w.Error("ERR wrong number of arguments for '" + name + "' command")
		return false
	}
	if !c.authed.Load() && !cmd.noAuth {
		w.Error("NOAUTH Authentication required.")
		return false
	}
	if c.subCount.Load() > 0 && c.proto.Load() < 3 && !cmd.subscribedOK {
		w.Error("ERR Can't execute '" + name + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
		return false
	}
	return cmd.fn(c, args)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

type command struct {
	arity        int
	noAuth       bool
	subscribedOK bool
	fn           func(c *clientConn, args [][]byte) bool
}

var commandTable map[string]*command

func init() {
	commandTable = map[string]*command{
		"ping":         {arity: -1, subscribedOK: true, fn: cmdPing},
		"sentinel":     {arity: -2, fn: cmdSentinel},
		"info":         {arity: -1, fn: cmdInfo},
		"role":         {arity: 1, fn: cmdRole},
		"client":       {arity: -2, fn: cmdClient},
		"subscribe":    {arity: -2, subscribedOK: true, fn: cmdSubscribe},
		"psubscribe":   {arity: -2, subscribedOK: true, fn: cmdSubscribe},
		"unsubscribe":  {arity: -1, subscribedOK: true, fn: cmdUnsubscribe},
		"punsubscribe": {arity: -1, subscribedOK: true, fn: cmdUnsubscribe},
		"publish":      {arity: 3, fn: cmdPublish},
		"hello":        {arity: -1, noAuth: true, fn: cmdHello},
		"auth":         {arity: -2, noAuth: true, fn: cmdAuth},
		"quit":         {arity: -1, noAuth: true, subscribedOK: true, fn: func(c *clientConn, _ [][]byte) bool { c.w.OK(); return true }},
		"reset":        {arity: 1, noAuth: true, subscribedOK: true, fn: cmdReset},
		"shutdown":     {arity: -1, fn: cmdShutdown},
		"command":      {arity: -1, fn: cmdCommand},
	}
}

func cmdPing(c *clientConn, args [][]byte) bool {
	if len(args) > 2 {
		c.w.Error("ERR wrong number of arguments for 'ping' command")
		return false
	}
	if c.subCount.Load() > 0 && c.proto.Load() < 3 {
		c.w.Array(2)
		c.w.BulkString("pong")
		if len(args) == 2 {
			c.w.Bulk(args[1])
		} else {
			c.w.BulkString("")
		}
		return false
	}
	if len(args) == 2 {
		c.w.Bulk(args[1])
	} else {
		c.w.Simple("PONG")
	}
	return false
}

func cmdSubscribe(c *clientConn, args [][]byte) bool {
	pattern := strings.EqualFold(string(args[0]), "psubscribe")
	kind, set := "subscribe", c.channels
	if pattern {
		kind, set = "psubscribe", c.patterns
	}
	for _, a := range args[1:] {
		ch := string(a)
		if !set[ch] {
			set[ch] = true
			c.s.hub.subscribe(c, ch, pattern)
		}
		c.subCount.Store(int32(len(c.channels) + len(c.patterns)))
		c.w.Push(3)
		c.w.BulkString(kind)
		c.w.BulkString(ch)
		c.w.Int(int64(len(c.channels) + len(c.patterns)))
	}
	return false
}

func cmdUnsubscribe(c *clientConn, args [][]byte) bool {
	pattern := strings.EqualFold(string(args[0]), "punsubscribe")
	kind, set := "unsubscribe", c.channels
	if pattern {
		kind, set = "punsubscribe", c.patterns
	}
	targets := make([]string, 0, len(args))
	for _, a := range args[1:] {
		targets = append(targets, string(a))
	}
	if len(args) == 1 {
		for ch := range set {
			targets = append(targets, ch)
		}
		sortStrings(targets)
		if len(targets) == 0 {
			c.w.Push(3)
			c.w.BulkString(kind)
			c.w.Null()
			c.w.Int(int64(len(c.channels) + len(c.patterns)))
			return false
		}
	}
	for _, ch := range targets {
		if set[ch] {
			delete(set, ch)
			c.s.hub.unsubscribe(c, ch, pattern)
		}
		c.subCount.Store(int32(len(c.channels) + len(c.patterns)))
		c.w.Push(3)
		c.w.BulkString(kind)
		c.w.BulkString(ch)
		c.w.Int(int64(len(c.channels) + len(c.patterns)))
	}
	return false
}

// cmdPublish is Sentinel's PUBLISH: it only takes hello messages, which is how
// peers send us their hello directly.
func cmdPublish(c *clientConn, args [][]byte) bool {
	if string(args[1]) != HelloChannel {
		c.w.Error("ERR Only HELLO messages are accepted by Sentinel instances.")
		return false
	}
	s := c.s
	s.mu.Lock()
	s.processHello(string(args[2]))
	s.mu.Unlock()
	c.w.Int(1)
	return false
}

func cmdHello(c *clientConn, args [][]byte) bool {
	ver := int64(0)
	i := 1
	if len(args) >= 2 {
		v, err := strconv.ParseInt(string(args[1]), 10, 64)
		if err != nil {
			c.w.Error("ERR Protocol version is not an integer or out of range")
			return false
		}
		ver = v
		i = 2
	}
	if ver != 0 && (ver < 2 || ver > 3) {
		c.w.Error("NOPROTO unsupported protocol version")
		return false
	}
	name := ""
	setName := false
	for ; i < len(args); i++ {
		opt := strings.ToLower(string(args[i]))
		switch {
		case opt == "auth" && i+2 < len(args):
			if !c.checkAuth(string(args[i+1]), string(args[i+2])) {
				return false
			}
			i += 2
		case opt == "setname" && i+1 < len(args):
			name, setName = string(args[i+1]), true
			if strings.ContainsAny(name, " \n") {
				c.w.Error("ERR Client names cannot contain spaces, newlines or special characters.")
				return false
			}
			i++
		default:
			c.w.Error("ERR Syntax error in HELLO option '" + string(args[i]) + "'")
			return false
		}
	}
	if !c.authed.Load() {
		c.w.Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return false
	}
	if setName {
		c.mu.Lock()
		c.name = name
		c.mu.Unlock()
	}
	if ver != 0 {
		c.proto.Store(int32(ver))
		c.w.SetProto(int(ver))
	}
	w := c.w
	w.Map(7)
	w.BulkString("server")
	w.BulkString("redis")
	w.BulkString("version")
	w.BulkString(RedisVersion)
	w.BulkString("proto")
	w.Int(int64(c.proto.Load()))
	w.BulkString("id")
	w.Int(c.id)
	w.BulkString("mode")
	w.BulkString("sentinel")
	w.BulkString("role")
	w.BulkString("master")
	w.BulkString("modules")
	w.Array(0)
	return false
}

// RedisVersion is the Redis version the sentinel reports.
const RedisVersion = "7.0.15"

func (c *clientConn) checkAuth(user, pass string) bool {
	c.s.mu.Lock()
	req := c.s.requirePass
	c.s.mu.Unlock()
	if req == "" {
		c.w.Error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
		return false
	}
	if user != "default" || pass != req {
		c.w.Error("WRONGPASS invalid username-password pair or user is disabled.")
		return false
	}
	c.authed.Store(true)
	return true
}

func cmdAuth(c *clientConn, args [][]byte) bool {
	if len(args) > 3 {
		c.w.Error("ERR syntax error")
		return false
	}
	user, pass := "default", string(args[1])
	if len(args) == 3 {
		user, pass = string(args[1]), string(args[2])
	}
	if c.checkAuth(user, pass) {
		c.w.OK()
	}
	return false
}

func cmdReset(c *clientConn, _ [][]byte) bool {
	for ch := range c.channels {
		c.s.hub.unsubscribe(c, ch, false)
	}
	for p := range c.patterns {
		c.s.hub.unsubscribe(c, p, true)
	}
	c.channels, c.patterns = map[string]bool{}, map[string]bool{}
	c.subCount.Store(0)
	c.proto.Store(2)
	c.w.SetProto(2)
	c.mu.Lock()
	c.name = ""
	c.mu.Unlock()
	c.s.mu.Lock()
	c.authed.Store(c.s.requirePass == "")
	c.s.mu.Unlock()
	c.w.Simple("RESET")
	return false
}

// cmdShutdown stops the sentinel after writing its state, as SHUTDOWN does.
func cmdShutdown(c *clientConn, _ [][]byte) bool {
	s := c.s
	s.mu.Lock()
	err := s.flushConfig()
	s.mu.Unlock()
	if err != nil {
		c.w.Error("ERR Errors trying to SHUTDOWN. Check logs.")
		return false
	}
	go func() {
		s.Close()
		select {
		case s.crashed <- 0:
		default:
		}
	}()
	return true
}

// cmdCommand answers COMMAND COUNT and a bare COMMAND with the sentinel's table
// in its short form; enough for clients that probe it.
func cmdCommand(c *clientConn, args [][]byte) bool {
	if len(args) >= 2 && strings.EqualFold(string(args[1]), "count") {
		c.w.Int(int64(len(commandTable)))
		return false
	}
	if len(args) >= 2 {
		c.w.Error("ERR unknown subcommand '" + truncate(string(args[1]), 128) + "'. Try COMMAND HELP.")
		return false
	}
	names := make([]string, 0, len(commandTable))
	for n := range commandTable {
		names = append(names, n)
	}
	sortStrings(names)
	c.w.Array(len(names))
	for _, n := range names {
		cmd := commandTable[n]
		c.w.Array(6)
		c.w.BulkString(n)
		c.w.Int(int64(cmd.arity))
		c.w.Set(0)
		c.w.Int(0)
		c.w.Int(0)
		c.w.Int(0)
	}
	return false
}
