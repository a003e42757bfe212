package scripting

import (
	"log/slog"
	"strings"

	"kv/engine"
)

// Scripting is the Lua side of one engine: the EVAL script cache and the function
// libraries. All its state is guarded by the engine lock.
type Scripting struct {
	e   *engine.Engine
	log *slog.Logger

	libs *libraries
}

// New makes the scripting support for e and installs it as e's function store.
func New(e *engine.Engine, log *slog.Logger) *Scripting {
	if log == nil {
		log = slog.Default()
	}
	s := &Scripting{e: e, log: log, libs: newLibraries()}
	return s
}

// Commands are the scripting commands for the engine's table.
func (s *Scripting) Commands() []*engine.Command {
	return []*engine.Command{s.functionCommand()}
}

// container makes parent dispatch to its subcommands. A server that resolves
// subcommands itself calls the subcommand directly; this handler serves callers that
// hand over the unresolved form (scripts, older connection loops).
func container(parent *engine.Command, subs ...*engine.Command) *engine.Command {
	parent.Subcommands = make(map[string]*engine.Command, len(subs))
	for _, sc := range subs {
		parent.Subcommands[strings.TrimPrefix(sc.Name, parent.Name+"|")] = sc
	}
	parent.Handler = func(c *engine.Ctx) {
		if len(c.Args) < 2 {
			c.WrongArgs()
			return
		}
		sub := parent.LookupSub(c.Args[1])
		if sub == nil {
			c.Error(engine.ErrUnknownSubcommand(c.Args[1], strings.ToUpper(string(c.Args[0]))))
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
	return parent
}

// subcommandSyntaxError is Redis's addReplySubcommandSyntaxError.
func subcommandSyntaxError(c *engine.Ctx) {
	sub := c.Args[1]
	if len(sub) > 128 {
		sub = sub[:128]
	}
	c.Error("ERR unknown subcommand or wrong number of arguments for '" + string(sub) + "'. Try " +
		strings.ToUpper(string(c.Args[0])) + " HELP.")
}

// writeHelp writes a HELP reply as Redis's addReplyHelp does.
func writeHelp(c *engine.Ctx, lines []string) {
	c.W.Array(len(lines) + 3)
	c.W.Simple(strings.ToUpper(string(c.Args[0])) + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		c.W.Simple(l)
	}
	c.W.Simple("HELP")
	c.W.Simple("    Prints this help.")
}
