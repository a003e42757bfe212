package server

import (
	"kv/engine"
	"kv/scripting"
)

// connOf returns the connection a command runs for.
func connOf(c *engine.Ctx) *conn { return c.Client.(*conn) }

// registerCommands adds the commands implemented by the server to the engine's table.
func (s *Server) registerCommands() {
	t := s.e.Commands()
	t.Add(s.connectionCommands()...)
	t.Add(s.transactionCommands()...)
	t.Add(s.handshakeCommands()...)
	t.Add(s.clientCommands()...)
	s.registerClientUnblock()
	t.Add(s.infoCommands()...)
	t.Add(s.serverCommands()...)
	t.Add(s.slowlogCommands()...)
	t.Add(s.latencyCommands()...)
	t.Add(s.commandCommands()...)
	t.Add(s.configCommands()...)
	t.Add(s.aclCommands()...)
	t.Add(scripting.New(s.e, s.log).Commands()...)
	t.Add(s.memoryCommands()...)
	t.Add(s.persistCommands()...)
	t.Add(s.aofCommands()...)
	t.Add(s.syncCommands()...)
	t.Add(s.pubsubCommands()...)
	s.e.SetNotifier(keyspaceNotifier{s})
}

func (s *Server) connectionCommands() []*engine.Command {
	return []*engine.Command{
		{Name: "ping", Arity: -1, Flags: engine.FlagFast | engine.FlagSentinel, ACL: []string{"fast", "connection"},
			Group: "connection", Since: "1.0.0", Summary: "Ping the server", Syntax: "[message]",
			Handler: s.cmdPing},
		{Name: "echo", Arity: 2, Flags: engine.FlagLoading | engine.FlagStale | engine.FlagFast, ACL: []string{"fast", "connection"},
			Group: "connection", Since: "1.0.0", Summary: "Echo the given string", Syntax: "message",
			Handler: func(c *engine.Ctx) { c.W.Bulk(c.Args[1]) }},
		{Name: "select", Arity: 2, Flags: engine.FlagLoading | engine.FlagStale | engine.FlagFast, ACL: []string{"fast", "connection"},
			Group: "connection", Since: "1.0.0", Summary: "Change the selected database for the current connection", Syntax: "index",
			Handler: s.cmdSelect},
		{Name: "quit", Arity: -1, Flags: engine.FlagNoscript | engine.FlagLoading | engine.FlagStale | engine.FlagFast | engine.FlagNoAuth | engine.FlagAllowBusy,
			ACL: []string{"fast", "connection"}, Group: "connection", Since: "1.0.0", Summary: "Close the connection",
			Handler: func(c *engine.Ctx) {
				c.W.OK()
				connOf(c).closeAfter = true
			}},
	}
}

func (s *Server) cmdPing(c *engine.Ctx) {
	if len(c.Args) > 2 {
		c.WrongArgs()
		return
	}
	cn := connOf(c)
	if cn.flags&flagPubsub != 0 && c.W.Proto() == 2 {
		// In RESP2's subscribed context PING answers in the pub/sub reply shape.
		c.W.Array(2)
		c.W.BulkString("pong")
		if len(c.Args) == 2 {
			c.W.Bulk(c.Args[1])
		} else {
			c.W.BulkString("")
		}
		return
	}
	if len(c.Args) == 2 {
		c.W.Bulk(c.Args[1])
		return
	}
	c.W.Simple("PONG")
}

func (s *Server) cmdSelect(c *engine.Ctx) {
	n, ok := engine.ParseInt(c.Args[1])
	if !ok {
		c.Error("ERR value is not an integer or out of range")
		return
	}
	db := s.e.DB(int(n))
	if db == nil || n < 0 {
		c.Error(engine.ErrDBIndex)
		return
	}
	c.DB = db
	c.W.OK()
}

// connClosedLocked forgets a closed connection's server-side state. Engine lock held.
func (s *Server) connClosedLocked(cn *conn) {
	cn.multi = nil
	s.removeMonitor(cn)
	s.pubsubResetLocked(cn)
}
