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
	case cmd.Flags&engine.FlagAllowBusy != 0 && !(c.multi != nil && !runsInsideMulti(cmd)):
		return false
	default:
		if kind == engine.BusyEval {
			c.w.Error(engine.ErrBusyEval)
		} else {
			c.w.Error(engine.ErrBusyFunction)
		}
		if c.multi != nil {
			c.multi.aborted = true
		}
	}
	c.commit()
	return true
}
