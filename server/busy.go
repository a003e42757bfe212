package server

import (
	"kv/engine"
)

// serveBusy answers one command while a script keeps the engine busy, without the
// engine lock (see engine/busy.go and locks.txt). It returns false when the command
// must run normally: it is allowed while busy (MULTI, AUTH...) and then waits for
// the lock like any other. Only state owned by this connection's goroutine is used:
// its writer, its reader, its MULTI flag; the command table is read-only after start.
func (c *conn) serveBusy(args [][]byte) bool {
	e := c.s.e
	kind := e.Busy()
	if kind == engine.NotBusy {
		return false
	}
	cmd := e.Commands().Lookup(args[0])
	switch {
	case cmd == nil:
		c.w.Error(engine.ErrUnknownCommand(args[0], args[1:]))
	case c.authRequired() && cmd.Flags&engine.FlagNoAuth == 0:
		c.w.Error(engine.ErrNoAuth)
	case e.BusyHandler() != nil && e.BusyHandler()(args, c.w):
	case cmd.Name == "multi" && len(args) == 1:
		// MULTI only flags this connection, so it is answered at once, as Redis
		// does; waiting for the lock would leave the client hanging behind the
		// script, and every command it then queues gets BUSY and aborts the EXEC.
		if c.multi != nil {
			c.w.Error("ERR MULTI calls can not be nested")
		} else {
			c.multi = &multiState{}
			c.w.OK()
		}
	case cmd.Flags&engine.FlagAllowBusy != 0 && !(c.multi != nil && !runsInsideMulti(cmd)):
		return false
	default:
		msg := engine.ErrBusyFunction
		if kind == engine.BusyEval {
			msg = engine.ErrBusyEval
		}
		switch {
		case c.multi != nil && cmd.Name == "exec":
			// A refused EXEC ends the transaction with the reason inside EXECABORT,
			// as Redis's execCommandAbort. The watched keys live in the engine, so
			// they are released the next time this connection holds the lock.
			c.multi = nil
			c.unwatchPending = true
			msg = "EXECABORT Transaction discarded because of: " + msg
		case c.multi != nil:
			c.multi.aborted = true
		}
		c.w.Error(msg)
	}
	c.commit()
	return true
}
