package server

import (
	"kv/acl"
	"kv/engine"
)

func (s *Server) transactionCommands() []*engine.Command {
	flags := engine.FlagNoscript | engine.FlagLoading | engine.FlagStale | engine.FlagFast | engine.FlagAllowBusy
	return []*engine.Command{
		{Name: "multi", Arity: 1, Flags: flags, ACL: []string{"fast", "transaction"},
			Group: "transactions", Since: "1.2.0", Summary: "Mark the start of a transaction block", Handler: s.cmdMulti},
		{Name: "exec", Arity: 1, Flags: engine.FlagNoscript | engine.FlagLoading | engine.FlagStale | engine.FlagSkipSlowlog,
			ACL: []string{"slow", "transaction"}, Group: "transactions", Since: "1.2.0",
			Summary: "Execute all commands issued after MULTI", Handler: s.cmdExec},
		{Name: "discard", Arity: 1, Flags: flags, ACL: []string{"fast", "transaction"},
			Group: "transactions", Since: "2.0.0", Summary: "Discard all commands issued after MULTI", Handler: s.cmdDiscard},
		{Name: "watch", Arity: -2, Flags: flags, ACL: []string{"fast", "transaction"}, Keys: engine.KeySpec{FirstKey: 1, LastKey: -1, Step: 1},
			Group: "transactions", Since: "2.2.0", Summary: "Watch the given keys to determine execution of the MULTI/EXEC block",
			Syntax: "key [key ...]", Handler: s.cmdWatch},
		{Name: "unwatch", Arity: 1, Flags: flags, ACL: []string{"fast", "transaction"},
			Group: "transactions", Since: "2.2.0", Summary: "Forget about all watched keys", Handler: s.cmdUnwatch},
	}
}

// runsInsideMulti reports whether cmd executes immediately inside MULTI instead of
// being queued.
func runsInsideMulti(cmd *engine.Command) bool {
	switch cmd.Name {
	case "exec", "discard", "multi", "watch", "quit", "reset":
		return true
	}
	return false
}

func (c *conn) queue(cmd *engine.Command, args [][]byte) {
	if cmd.Flags&engine.FlagNoMulti != 0 {
		c.reject("ERR Command not allowed inside a transaction")
		return
	}
	c.w.Simple("QUEUED")
	if c.multi.aborted || c.watch.Dirty {
		// EXEC can only fail now: keeping what a pipelining client sends after the
		// failure would only cost memory (Redis's queueMultiCommand does the same).
		return
	}
	cp := make([][]byte, len(args))
	for i, a := range args {
		cp[i] = append([]byte(nil), a...)
	}
	c.multi.queued = append(c.multi.queued, queuedCmd{cmd: cmd, args: cp})
}

func (s *Server) cmdMulti(c *engine.Ctx) {
	cn := connOf(c)
	if cn.multi != nil {
		c.Error("ERR MULTI calls can not be nested")
		return
	}
	cn.multi = &multiState{}
	c.W.OK()
}

func (s *Server) cmdDiscard(c *engine.Ctx) {
	cn := connOf(c)
	if cn.multi == nil {
		c.Error("ERR DISCARD without MULTI")
		return
	}
	cn.multi = nil
	s.e.Unwatch(&cn.watch)
	c.W.OK()
}

func (s *Server) cmdWatch(c *engine.Ctx) {
	cn := connOf(c)
	if cn.multi != nil {
		c.Error("ERR WATCH inside MULTI is not allowed")
		return
	}
	for _, k := range c.Args[1:] {
		c.Watch(&cn.watch, k)
	}
	c.W.OK()
}

func (s *Server) cmdUnwatch(c *engine.Ctx) {
	s.e.Unwatch(&connOf(c).watch)
	c.W.OK()
}

// cmdExec runs the queued commands as one step: the engine lock is already held for the
// whole batch, and the clock is fixed so every command sees the same time.
func (s *Server) cmdExec(c *engine.Ctx) {
	cn := connOf(c)
	m := cn.multi
	if m == nil {
		c.Error("ERR EXEC without MULTI")
		return
	}
	cn.multi = nil
	if m.aborted {
		s.e.Unwatch(&cn.watch)
		c.Error("EXECABORT Transaction discarded because of previous errors.")
		return
	}
	if cn.watch.Dirty || s.e.WatchedKeyExpired(&cn.watch, c.Now) {
		s.e.Unwatch(&cn.watch)
		c.W.NullArray()
		return
	}
	s.e.Unwatch(&cn.watch)
	execCmd, execArgs := c.Cmd, c.Args
	c.FixTime(c.Now)
	// The queued commands must each answer now: blocking ones behave as timed out.
	// The engine propagates their effects as one unit, wrapped in MULTI/EXEC when
	// there are several, because they all run inside this EXEC's Exec.
	denied := c.DenyBlocking
	c.DenyBlocking = true
	c.W.Array(len(m.queued))
	for _, q := range m.queued {
		c.Cmd, c.Args = q.cmd, q.args
		// Rules may have changed since the command was queued.
		if err := acl.CheckCommand(cn.user, q.cmd, q.args); err != nil {
			d := err.(*acl.Denied)
			s.logDenied(cn, d, acl.CtxMulti, q.args)
			c.Error("NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. " +
				"This command is no longer allowed for the following reason: " + d.ExecReason())
			continue
		}
		s.e.Exec(c)
	}
	c.DenyBlocking = denied
	c.UnfixTime()
	c.Cmd, c.Args = execCmd, execArgs
}
