package server

import (
	"kv/engine"
)

// Connection handshake commands: AUTH, HELLO, RESET.
func (s *Server) handshakeCommands() []*engine.Command {
	return []*engine.Command{
		{Name: "auth", Arity: -2, Flags: engine.FlagNoscript | engine.FlagLoading | engine.FlagStale | engine.FlagFast | engine.FlagNoAuth | engine.FlagSentinel | engine.FlagAllowBusy,
			ACL: []string{"fast", "connection"}, Group: "connection", Since: "1.0.0",
			Summary:    "Authenticate to the server",
			Complexity: "O(N) where N is the number of passwords defined for the user",
			Syntax:     "[username] password", Handler: s.cmdAuth},
		{Name: "hello", Arity: -1, Flags: engine.FlagNoscript | engine.FlagLoading | engine.FlagStale | engine.FlagFast | engine.FlagNoAuth | engine.FlagSentinel | engine.FlagAllowBusy,
			ACL: []string{"fast", "connection"}, Group: "connection", Since: "6.0.0",
			Summary:    "Handshake with Redis",
			Complexity: "O(1)",
			Syntax:     "[protover [username password] [SETNAME clientname]]", Handler: s.cmdHello},
		{Name: "reset", Arity: 1, Flags: engine.FlagNoscript | engine.FlagLoading | engine.FlagStale | engine.FlagFast | engine.FlagNoAuth | engine.FlagAllowBusy,
			ACL: []string{"fast", "connection"}, Group: "connection", Since: "6.2.0",
			Summary:    "Reset the connection",
			Complexity: "O(1)",
			Syntax:     "", Handler: s.cmdReset},
	}
}

const (
	errWrongPass  = "WRONGPASS invalid username-password pair or user is disabled."
	errAuthNoPass = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
)

// authenticate logs cn in as user if pass is right and the user is on; a failure is
// recorded in the ACL LOG under the command's name as the client typed it.
func (s *Server) authenticate(cn *conn, cmdName, user, pass []byte) bool {
	u := s.acl.Authenticate(user, pass)
	if u == nil {
		s.logAuthFailure(cn, cmdName, user)
		return false
	}
	cn.authenticated = true
	cn.user = u
	return true
}

func (s *Server) cmdAuth(c *engine.Ctx) {
	if len(c.Args) > 3 {
		c.Error(engine.ErrSyntax)
		return
	}
	c.Redact(1)
	cn := connOf(c)
	user, pass := []byte("default"), c.Args[1]
	if len(c.Args) == 2 {
		if s.acl.Default.NoPass() {
			c.Error(errAuthNoPass)
			return
		}
	} else {
		c.Redact(2)
		user, pass = c.Args[1], c.Args[2]
	}
	if !s.authenticate(cn, c.Args[0], user, pass) {
		c.Error(errWrongPass)
		return
	}
	c.W.OK()
}

func (s *Server) cmdHello(c *engine.Ctx) {
	cn := connOf(c)
	var ver int64
	next := 1
	if len(c.Args) >= 2 {
		v, ok := engine.ParseInt(c.Args[1])
		if !ok {
			c.Error("ERR Protocol version is not an integer or out of range")
			return
		}
		if v < 2 || v > 3 {
			c.Error("NOPROTO unsupported protocol version")
			return
		}
		ver = v
		next = 2
	}
	for j := next; j < len(c.Args); j++ {
		more := len(c.Args) - 1 - j
		switch {
		case c.Is(j, "auth") && more >= 2:
			c.Redact(j + 1)
			c.Redact(j + 2)
			if !s.authenticate(cn, c.Args[0], c.Args[j+1], c.Args[j+2]) {
				c.Error(errWrongPass)
				return
			}
			j += 2
		case c.Is(j, "setname") && more >= 1:
			if !validClientName(c.Args[j+1]) {
				c.Error(errClientName)
				return
			}
			cn.name = string(c.Args[j+1])
			j++
		default:
			c.Error("ERR Syntax error in HELLO option '" + string(c.Args[j]) + "'")
			return
		}
	}
	if cn.authRequired() {
		c.Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	if ver != 0 {
		c.W.SetProto(int(ver))
	}
	c.W.Map(7)
	c.W.BulkString("server")
	c.W.BulkString("redis")
	c.W.BulkString("version")
	c.W.BulkString(s.version())
	c.W.BulkString("proto")
	c.W.Int(int64(c.W.Proto()))
	c.W.BulkString("id")
	c.W.Int(cn.id)
	c.W.BulkString("mode")
	c.W.BulkString("standalone")
	c.W.BulkString("role")
	if s.e.Replica {
		c.W.BulkString("replica")
	} else {
		c.W.BulkString("master")
	}
	c.W.BulkString("modules")
	c.W.Array(0)
}

// version is the Redis version this server reports.
func (s *Server) version() string {
	if s.opts.Version != "" {
		return s.opts.Version
	}
	return "7.0.15"
}

// cmdReset puts the connection back in the state of a new one, as Redis's
// clearClientConnectionState does.
func (s *Server) cmdReset(c *engine.Ctx) {
	cn := connOf(c)
	if cn.flags&(flagReplica|flagMaster) != 0 {
		c.Error("ERR can only reset normal client connections")
		return
	}
	s.removeMonitor(cn)
	c.DB = s.e.DB(0)
	c.W.SetProto(2)
	cn.user = s.acl.Default
	cn.authenticated = !s.acl.DefaultNeedsAuth()
	cn.multi = nil
	s.e.Unwatch(&cn.watch)
	cn.name = ""
	s.pubsubResetLocked(cn)
	cn.flags &^= flagReadonly | flagPubsub
	cn.replyMode = replyOn
	c.W.Simple("RESET")
}
