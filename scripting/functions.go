package scripting

import (
	"kv/engine"
)

// libraries is the function registry: libraries by name and their functions by name
// (function names are global across libraries, as in Redis).
type libraries struct {
	byName map[string]*library
	funcs  map[string]*function
}

type library struct {
	name  string
	code  string
	funcs map[string]*function
}

type function struct {
	name  string
	desc  string
	flags scriptFlags
	lib   *library
}

func newLibraries() *libraries {
	return &libraries{byName: map[string]*library{}, funcs: map[string]*function{}}
}

func (s *Scripting) functionCommand() *engine.Command {
	sub := func(name string, arity int, flags engine.Flag, summary, syntax string, h engine.Handler) *engine.Command {
		return &engine.Command{Name: "function|" + name, Arity: arity, Flags: flags, ACL: []string{"slow", "scripting"},
			Group: "scripting", Since: "7.0.0", Summary: summary, Syntax: syntax, Handler: h}
	}
	return container(&engine.Command{Name: "function", Arity: -2, Group: "scripting", Since: "7.0.0",
		Summary: "A container for function commands"},
		sub("flush", -2, engine.FlagNoscript|engine.FlagWrite, "Deleting all functions", "[ASYNC|SYNC]", s.cmdFunctionFlush),
	)
}

// cmdFunctionFlush is FUNCTION FLUSH [ASYNC|SYNC]. Freeing is the garbage collector's
// job either way, so both modes drop the registry at once.
func (s *Scripting) cmdFunctionFlush(c *engine.Ctx) {
	if len(c.Args) > 3 {
		subcommandSyntaxError(c)
		return
	}
	if len(c.Args) == 3 && !c.Is(2, "sync") && !c.Is(2, "async") {
		c.Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
		return
	}
	s.FlushLibraries()
	c.AddDirty(1)
	c.W.OK()
}

// FlushLibraries removes every library.
func (s *Scripting) FlushLibraries() {
	s.libs = newLibraries()
}
