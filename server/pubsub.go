package server

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"kv/config"
	"kv/engine"
	"kv/glob"
	"kv/resp"
)

// Pub/sub as Redis 7.0 has it without cluster: global channels and patterns, and
// shard channels, which on a single node behave like global channels that ignore
// patterns. Every structure here is guarded by the engine lock, so a message reaches
// its subscribers in the same total order as the commands around it.

// pubsubState is the server-wide registry: who listens to what.
type pubsubState struct {
	channels map[string]*subscribers
	shard    map[string]*subscribers
	patterns map[string]*subscribers
	// patternList keeps the patterns in subscription order, so a message that matches
	// several reaches them in a stable order.
	patternList []string
}

// subscribers are the connections on one channel or pattern, oldest first: Redis
// delivers in subscription order.
type subscribers struct {
	conns []*conn
}

func (l *subscribers) remove(c *conn) {
	if i := slices.Index(l.conns, c); i >= 0 {
		l.conns = slices.Delete(l.conns, i, i+1)
	}
}

// connSubs is one connection's subscriptions, guarded by the engine lock.
type connSubs struct {
	channels, shard, patterns nameSet
	// softSince is the Unix second at which pending output first went over the
	// pubsub soft limit; 0 while under it.
	softSince int64
}

// count is what (P)SUBSCRIBE and (P)UNSUBSCRIBE report: channels plus patterns.
func (s *connSubs) count() int { return s.channels.len() + s.patterns.len() }

func (s *connSubs) total() int { return s.count() + s.shard.len() }

// nameSet is a set of names that remembers insertion order (UNSUBSCRIBE without
// arguments answers in that order).
type nameSet struct {
	has  map[string]struct{}
	list []string
}

func (n *nameSet) len() int { return len(n.list) }

func (n *nameSet) contains(name string) bool {
	_, ok := n.has[name]
	return ok
}

func (n *nameSet) add(name string) bool {
	if n.contains(name) {
		return false
	}
	if n.has == nil {
		n.has = map[string]struct{}{}
	}
	n.has[name] = struct{}{}
	n.list = append(n.list, name)
	return true
}

func (n *nameSet) remove(name string) bool {
	if !n.contains(name) {
		return false
	}
	delete(n.has, name)
	if i := slices.Index(n.list, name); i >= 0 {
		n.list = slices.Delete(n.list, i, i+1)
	}
	return true
}

// PubsubChannels is INFO's pubsub_channels: channels with at least one subscriber.
// Engine lock held.
func (s *Server) PubsubChannels() int { return len(s.ps.channels) }

// PubsubPatterns is INFO's pubsub_patterns: distinct patterns with a subscriber.
// Engine lock held.
func (s *Server) PubsubPatterns() int { return len(s.ps.patterns) }

// PubsubShardChannels is INFO's pubsubshard_channels. Engine lock held.
func (s *Server) PubsubShardChannels() int { return len(s.ps.shard) }

func (s *Server) pubsubCommands() []*engine.Command {
	sub := engine.FlagPubsub | engine.FlagNoscript | engine.FlagLoading | engine.FlagStale
	pub := engine.FlagPubsub | engine.FlagLoading | engine.FlagStale | engine.FlagFast | engine.FlagMayReplicate
	slow := []string{"pubsub", "slow"}
	info := engine.FlagPubsub | engine.FlagLoading | engine.FlagStale
	subs := []*engine.Command{
		{Name: "pubsub|channels", Arity: -2, Flags: info, ACL: slow, Group: "pubsub", Since: "2.8.0",
			Summary:    "List active channels",
			Complexity: "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
			Syntax:     "[pattern]", Handler: s.pubsubChannels},
		{Name: "pubsub|numsub", Arity: -2, Flags: info, ACL: slow, Group: "pubsub", Since: "2.8.0",
			Summary:    "Get the count of subscribers for channels",
			Complexity: "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
			Syntax:     "[channel [channel ...]]", Handler: s.pubsubNumsub},
		{Name: "pubsub|numpat", Arity: 2, Flags: info, ACL: slow, Group: "pubsub", Since: "2.8.0",
			Summary: "Get the count of unique patterns pattern subscriptions", Complexity: "O(1)",
			Handler: func(c *engine.Ctx) { c.W.Int(int64(len(s.ps.patterns))) }},
		{Name: "pubsub|shardchannels", Arity: -2, Flags: info, ACL: slow, Group: "pubsub", Since: "7.0.0",
			Summary:    "List active shard channels",
			Complexity: "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
			Syntax:     "[pattern]", Handler: s.pubsubChannels},
		{Name: "pubsub|shardnumsub", Arity: -2, Flags: info, ACL: slow, Group: "pubsub", Since: "7.0.0",
			Summary:    "Get the count of subscribers for shard channels",
			Complexity: "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
			Syntax:     "[shardchannel [shardchannel ...]]", Handler: s.pubsubNumsub},
		{Name: "pubsub|help", Arity: 2, Flags: engine.FlagLoading | engine.FlagStale, ACL: []string{"slow"},
			Group: "pubsub", Since: "6.2.0", Summary: "Show helpful text about the different subcommands",
			Complexity: "O(1)", Handler: pubsubHelp},
	}
	container := &engine.Command{Name: "pubsub", Arity: -2, ACL: []string{"slow"}, Group: "pubsub", Since: "2.8.0",
		Summary: "A container for Pub/Sub commands", Complexity: "Depends on subcommand.",
		Subcommands: map[string]*engine.Command{}}
	for _, sc := range subs {
		container.Subcommands[strings.TrimPrefix(sc.Name, "pubsub|")] = sc
	}
	container.Handler = func(c *engine.Ctx) { dispatchSub(container, c) }
	return []*engine.Command{
		{Name: "subscribe", Arity: -2, Flags: sub | engine.FlagSentinel, ACL: slow, Group: "pubsub", Since: "2.0.0",
			Summary:    "Listen for messages published to the given channels",
			Complexity: "O(N) where N is the number of channels to subscribe to.",
			Syntax:     "channel [channel ...]", Handler: s.cmdSubscribe},
		{Name: "unsubscribe", Arity: -1, Flags: sub | engine.FlagSentinel, ACL: slow, Group: "pubsub", Since: "2.0.0",
			Summary:    "Stop listening for messages posted to the given channels",
			Complexity: "O(N) where N is the number of clients already subscribed to a channel.",
			Syntax:     "[channel [channel ...]]", Handler: s.cmdUnsubscribe},
		{Name: "psubscribe", Arity: -2, Flags: sub | engine.FlagSentinel, ACL: slow, Group: "pubsub", Since: "2.0.0",
			Summary:    "Listen for messages published to channels matching the given patterns",
			Complexity: "O(N) where N is the number of patterns the client is already subscribed to.",
			Syntax:     "pattern [pattern ...]", Handler: s.cmdPsubscribe},
		{Name: "punsubscribe", Arity: -1, Flags: sub | engine.FlagSentinel, ACL: slow, Group: "pubsub", Since: "2.0.0",
			Summary:    "Stop listening for messages posted to channels matching the given patterns",
			Complexity: "O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).",
			Syntax:     "[pattern [pattern ...]]", Handler: s.cmdPunsubscribe},
		{Name: "publish", Arity: 3, Flags: pub | engine.FlagSentinel, ACL: []string{"pubsub", "fast"}, Group: "pubsub", Since: "2.0.0",
			Summary:    "Post a message to a channel",
			Complexity: "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
			Syntax:     "channel message", Handler: s.cmdPublish},
		{Name: "ssubscribe", Arity: -2, Flags: sub, ACL: slow, Keys: engine.KeySpec{FirstKey: 1, LastKey: -1, Step: 1},
			Group: "pubsub", Since: "7.0.0", Summary: "Listen for messages published to the given shard channels",
			Complexity: "O(N) where N is the number of shard channels to subscribe to.",
			Syntax:     "shardchannel [shardchannel ...]", Handler: s.cmdSsubscribe},
		{Name: "sunsubscribe", Arity: -1, Flags: sub, ACL: slow, Keys: engine.KeySpec{FirstKey: 1, LastKey: -1, Step: 1},
			Group: "pubsub", Since: "7.0.0", Summary: "Stop listening for messages posted to the given shard channels",
			Complexity: "O(N) where N is the number of clients already subscribed to a shard channel.",
			Syntax:     "[shardchannel [shardchannel ...]]", Handler: s.cmdSunsubscribe},
		{Name: "spublish", Arity: 3, Flags: pub, ACL: []string{"pubsub", "fast"}, Keys: engine.KeySpec{FirstKey: 1, LastKey: 1, Step: 1},
			Group: "pubsub", Since: "7.0.0", Summary: "Post a message to a shard channel",
			Complexity: "O(N) where N is the number of clients subscribed to the receiving shard channel.",
			Syntax:     "shardchannel message", Handler: s.cmdSpublish},
		container,
	}
}

// dispatchSub runs the subcommand of parent named by c.Args[1], for callers that hand
// the engine the unresolved container (the connection may resolve it before).
func dispatchSub(parent *engine.Command, c *engine.Ctx) {
	sub := parent.LookupSub(c.Args[1])
	if sub == nil {
		c.Error(engine.ErrUnknownSubcommand(c.Args[1], strings.ToUpper(parent.Name)))
		return
	}
	if !sub.ArityOK(len(c.Args)) {
		c.Error(engine.ErrWrongArgs(sub.Name))
		return
	}
	outer := c.Cmd
	c.Cmd = sub
	sub.Handler(c)
	c.Cmd = outer
}

func pubsubHelp(c *engine.Ctx) {
	lines := []string{
		"CHANNELS [<pattern>]",
		"    Return the currently active channels matching a <pattern> (default: '*').",
		"NUMPAT",
		"    Return number of subscriptions to patterns.",
		"NUMSUB [<channel> ...]",
		"    Return the number of subscribers for the specified channels, excluding",
		"    pattern subscriptions(default: no channels).",
		"SHARDCHANNELS [<pattern>]",
		"    Return the currently active shard level channels matching a <pattern> (default: '*').",
		"SHARDNUMSUB [<shardchannel> ...]",
		"    Return the number of subscribers for the specified shard level channel(s)",
		"HELP",
		"    Prints this help.",
	}
	c.W.Array(len(lines) + 1)
	c.W.Simple(strings.ToUpper(string(c.Args[0])) + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		c.W.Simple(l)
	}
}

// pubsubChannels is PUBSUB CHANNELS and SHARDCHANNELS.
func (s *Server) pubsubChannels(c *engine.Ctx) {
	if len(c.Args) > 3 {
		pubsubSyntaxError(c)
		return
	}
	reg := s.ps.channels
	if c.Cmd.Name == "pubsub|shardchannels" {
		reg = s.ps.shard
	}
	d := c.W.DeferLen()
	n := 0
	for name := range reg {
		if len(c.Args) == 3 && !glob.MatchString(string(c.Args[2]), name, false) {
			continue
		}
		c.W.BulkString(name)
		n++
	}
	c.W.SetArray(d, n)
}

// pubsubNumsub is PUBSUB NUMSUB and SHARDNUMSUB: a flat array even in RESP3, as Redis.
func (s *Server) pubsubNumsub(c *engine.Ctx) {
	reg := s.ps.channels
	if c.Cmd.Name == "pubsub|shardnumsub" {
		reg = s.ps.shard
	}
	c.W.Array(2 * (len(c.Args) - 2))
	for _, ch := range c.Args[2:] {
		c.W.Bulk(ch)
		n := 0
		if l := reg[string(ch)]; l != nil {
			n = len(l.conns)
		}
		c.W.Int(int64(n))
	}
}

// pubsubSyntaxError is Redis's addReplySubcommandSyntaxError.
func pubsubSyntaxError(c *engine.Ctx) {
	sub := c.Args[1]
	if len(sub) > 128 {
		sub = sub[:128]
	}
	c.Error("ERR unknown subcommand or wrong number of arguments for '" + string(sub) + "'. Try " +
		strings.ToUpper(string(c.Args[0])) + " HELP.")
}

// Subscription kinds: the reply words and the registries differ, the mechanics not.
type subKind uint8

const (
	kindChannel subKind = iota
	kindShard
	kindPattern
)

var (
	subscribeWord   = [...]string{"subscribe", "ssubscribe", "psubscribe"}
	unsubscribeWord = [...]string{"unsubscribe", "sunsubscribe", "punsubscribe"}
)

func (s *Server) registry(k subKind) *map[string]*subscribers {
	switch k {
	case kindShard:
		return &s.ps.shard
	case kindPattern:
		return &s.ps.patterns
	}
	return &s.ps.channels
}

func (cs *connSubs) set(k subKind) *nameSet {
	switch k {
	case kindShard:
		return &cs.shard
	case kindPattern:
		return &cs.patterns
	}
	return &cs.channels
}

// countFor is the count a (un)subscribe reply of kind k carries: shard channels are
// counted apart from channels and patterns.
func (cs *connSubs) countFor(k subKind) int {
	if k == kindShard {
		return cs.shard.len()
	}
	return cs.count()
}

func (s *Server) cmdSubscribe(c *engine.Ctx)  { s.subscribe(c, kindChannel) }
func (s *Server) cmdPsubscribe(c *engine.Ctx) { s.subscribe(c, kindPattern) }
func (s *Server) cmdSsubscribe(c *engine.Ctx) { s.subscribe(c, kindShard) }

func (s *Server) cmdUnsubscribe(c *engine.Ctx)  { s.unsubscribe(c, kindChannel) }
func (s *Server) cmdPunsubscribe(c *engine.Ctx) { s.unsubscribe(c, kindPattern) }
func (s *Server) cmdSunsubscribe(c *engine.Ctx) { s.unsubscribe(c, kindShard) }

func (s *Server) subscribe(c *engine.Ctx, k subKind) {
	cn := connOf(c)
	// Inside EXEC a client must get one reply per command. Redis lets (P)SUBSCRIBE
	// through there for backward compatibility, but not the 7.0 SSUBSCRIBE.
	if c.DenyBlocking && k == kindShard {
		c.Error("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client")
		return
	}
	for _, a := range c.Args[1:] {
		name := string(a)
		if cn.subs.set(k).add(name) {
			reg := s.registry(k)
			if *reg == nil {
				*reg = map[string]*subscribers{}
			}
			l := (*reg)[name]
			if l == nil {
				l = &subscribers{}
				(*reg)[name] = l
				if k == kindPattern {
					s.ps.patternList = append(s.ps.patternList, name)
				}
			}
			l.conns = append(l.conns, cn)
		}
		writeSubReply(cn.pushWriter(), subscribeWord[k], a, cn.subs.countFor(k))
	}
	cn.flags |= flagPubsub
}

func (s *Server) unsubscribe(c *engine.Ctx, k subKind) {
	cn := connOf(c)
	// Confirmations are pushes: CLIENT REPLY OFF does not silence them.
	w := cn.pushWriter()
	if len(c.Args) == 1 {
		s.unsubscribeAll(cn, k, w)
	} else {
		for _, a := range c.Args[1:] {
			s.unsubscribeOne(cn, k, string(a))
			writeSubReply(w, unsubscribeWord[k], a, cn.subs.countFor(k))
		}
	}
	if cn.subs.total() == 0 {
		cn.flags &^= flagPubsub
	}
}

// unsubscribeAll drops every subscription of kind k. With w set it answers as
// Redis does, one reply per name, or a single reply with a null name if there were
// none.
func (s *Server) unsubscribeAll(cn *conn, k subKind, w *resp.Writer) {
	set := cn.subs.set(k)
	if set.len() == 0 {
		if w != nil {
			writeSubReply(w, unsubscribeWord[k], nil, cn.subs.countFor(k))
		}
		return
	}
	for _, name := range append([]string(nil), set.list...) {
		s.unsubscribeOne(cn, k, name)
		if w != nil {
			writeSubReply(w, unsubscribeWord[k], []byte(name), cn.subs.countFor(k))
		}
	}
}

func (s *Server) unsubscribeOne(cn *conn, k subKind, name string) {
	if !cn.subs.set(k).remove(name) {
		return
	}
	reg := *s.registry(k)
	l := reg[name]
	if l == nil {
		return
	}
	l.remove(cn)
	if len(l.conns) > 0 {
		return
	}
	// Forget channels nobody listens to, so creating millions of them and leaving
	// does not keep memory.
	delete(reg, name)
	if k == kindPattern {
		if i := slices.Index(s.ps.patternList, name); i >= 0 {
			s.ps.patternList = slices.Delete(s.ps.patternList, i, i+1)
		}
	}
}

// pubsubResetLocked drops every subscription of cn without replies: the connection
// closed, or RESET. Engine lock held.
func (s *Server) pubsubResetLocked(cn *conn) {
	for _, k := range []subKind{kindChannel, kindShard, kindPattern} {
		s.unsubscribeAll(cn, k, nil)
	}
	cn.flags &^= flagPubsub
	cn.subs.softSince = 0
}

// writeSubReply writes a (un)subscribe confirmation: an array in RESP2, a push in
// RESP3. A nil name is written as a null (UNSUBSCRIBE with nothing to leave).
func writeSubReply(w *resp.Writer, word string, name []byte, count int) {
	if w.Proto() >= 3 {
		w.Push(3)
	} else {
		w.Array(3)
	}
	w.BulkString(word)
	if name == nil {
		w.Null()
	} else {
		w.Bulk(name)
	}
	w.Int(int64(count))
}

func (s *Server) cmdPublish(c *engine.Ctx) {
	c.W.Int(int64(s.publish(c.Args[1], c.Args[2], false)))
}

func (s *Server) cmdSpublish(c *engine.Ctx) {
	c.W.Int(int64(s.publish(c.Args[1], c.Args[2], true)))
}

// publish delivers message to channel's subscribers, then (unless shard) to the
// subscribers of every matching pattern, and returns how many deliveries it made.
// Engine lock held.
func (s *Server) publish(channel, message []byte, shard bool) int {
	reg := s.ps.channels
	word := "message"
	if shard {
		reg = s.ps.shard
		word = "smessage"
	}
	receivers := 0
	lim := s.cfg.ClientOutputBufferLimit.Get().PubSub
	if l := reg[string(channel)]; l != nil && len(l.conns) > 0 {
		// Encode once per protocol, not once per subscriber.
		var enc [2][]byte
		for _, cn := range l.conns {
			p := protoIndex(cn)
			if enc[p] == nil {
				enc[p] = appendMessage(nil, p, word, nil, channel, message)
			}
			s.deliver(cn, lim, enc[p])
			receivers++
		}
	}
	if shard || len(s.ps.patternList) == 0 {
		return receivers
	}
	ch := string(channel)
	for _, pat := range s.ps.patternList {
		if !glob.MatchString(pat, ch, false) {
			continue
		}
		var enc [2][]byte
		for _, cn := range s.ps.patterns[pat].conns {
			p := protoIndex(cn)
			if enc[p] == nil {
				enc[p] = appendMessage(nil, p, "pmessage", []byte(pat), channel, message)
			}
			s.deliver(cn, lim, enc[p])
			receivers++
		}
	}
	return receivers
}

// protoIndex is 0 for a RESP2 connection and 1 for RESP3.
func protoIndex(cn *conn) int {
	if cn.w.Proto() >= 3 {
		return 1
	}
	return 0
}

// appendMessage encodes a message (pattern nil) or pmessage.
func appendMessage(b []byte, proto int, word string, pattern, channel, message []byte) []byte {
	n := 3
	if pattern != nil {
		n = 4
	}
	if proto == 1 {
		b = append(b, '>')
	} else {
		b = append(b, '*')
	}
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, '\r', '\n')
	b = appendBulk(b, []byte(word))
	if pattern != nil {
		b = appendBulk(b, pattern)
	}
	b = appendBulk(b, channel)
	return appendBulk(b, message)
}

func appendBulk(b, s []byte) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, '\r', '\n')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// deliver queues msg for cn and applies the pubsub output buffer limits: past the
// hard limit the subscriber is dropped at once; past the soft limit it is dropped
// once it has stayed there for more than the soft seconds, as Redis's
// checkClientOutputBufferLimits. Engine lock held.
func (s *Server) deliver(cn *conn, lim config.OutputBufferLimit, msg []byte) {
	if cn.closed.Load() {
		return
	}
	if !cn.push(0, func(w *resp.Writer) { w.Raw(msg) }) {
		return
	}
	if lim.Hard == 0 && lim.Soft == 0 {
		return
	}
	pending := uint64(cn.pendingOutput())
	over := lim.Hard > 0 && pending >= lim.Hard
	if lim.Soft > 0 && pending >= lim.Soft {
		now := time.Now().Unix()
		if cn.subs.softSince == 0 {
			cn.subs.softSince = now
		} else if now-cn.subs.softSince > lim.SoftSeconds {
			over = true
		}
	} else {
		cn.subs.softSince = 0
	}
	if !over {
		return
	}
	s.log.Warn("client scheduled to be closed ASAP for overcoming of output buffer limits",
		"id", cn.id, "addr", cn.nc.RemoteAddr().String(), "class", "pubsub", "pending", pending)
	cn.close()
	cn.dropOutput()
}

// pubsubContextDenied answers a RESP2 client in subscribed mode that sent a command
// other than the few allowed there, as Redis's processCommand does, and reports
// whether it did. Engine lock held.
func (c *conn) pubsubContextDenied(cmd *engine.Command, args [][]byte) bool {
	if c.flags&flagPubsub == 0 || c.w.Proto() != 2 {
		return false
	}
	switch cmd.Name {
	case "ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe", "punsubscribe", "quit", "reset":
		return false
	}
	name := cmd.Name
	if len(cmd.Subcommands) > 0 && len(args) > 1 {
		if sub := cmd.LookupSub(args[1]); sub != nil {
			name = sub.Name
		}
	}
	c.reject("ERR Can't execute '" + name + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
	cmd.Stats.RejectedCalls++
	return true
}

// keyspaceNotifier publishes keyspace events (notify-keyspace-events) for the engine.
type keyspaceNotifier struct{ s *Server }

// NotifyKeyspaceEvent is Redis's notifyKeyspaceEvent: if the event's class is enabled,
// publish the event on __keyspace@<db>__:<key> and the key on
// __keyevent@<db>__:<event>, as K and E ask. Engine lock held.
func (n keyspaceNotifier) NotifyKeyspaceEvent(class engine.EventClass, event string, key []byte, db int) {
	s := n.s
	flags := s.cfg.NotifyKeyspaceEvents.Get()
	if flags&int(class) == 0 {
		return
	}
	var buf []byte
	if flags&config.NotifyKeyspace != 0 {
		buf = append(buf, "__keyspace@"...)
		buf = strconv.AppendInt(buf, int64(db), 10)
		buf = append(buf, "__:"...)
		buf = append(buf, key...)
		s.publish(buf, []byte(event), false)
	}
	if flags&config.NotifyKeyevent != 0 {
		buf = append(buf[:0], "__keyevent@"...)
		buf = strconv.AppendInt(buf, int64(db), 10)
		buf = append(buf, "__:"...)
		buf = append(buf, event...)
		s.publish(buf, key, false)
	}
}
