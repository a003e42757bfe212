package scripting

import (
	"log/slog"
	"strings"
	"sync/atomic"

	"kv/engine"
	"kv/resp"
)

// Scripting is the Lua side of one engine: the EVAL script cache and interpreter, and
// the function libraries with theirs. All its state is guarded by the engine lock,
// except current, libCount and funcCount, which connections read without it while a
// script keeps the engine busy.
type Scripting struct {
	e   *engine.Engine
	log *slog.Logger

	evalVM  *vm
	scripts map[string]*script // by lower-case SHA1

	fnVM *vm
	libs *libraries

	// sctx and sw are the script's client: the context redis.call runs commands in
	// and the writer their replies go to. One script runs at a time.
	sctx *engine.Ctx
	sw   *resp.Writer
	rand lrand48

	current   atomic.Pointer[run]
	libCount  atomic.Int64
	funcCount atomic.Int64
}

// New makes the scripting support for e, installs it as e's function store and as the
// handler of SCRIPT KILL / FUNCTION KILL / FUNCTION STATS while a script is busy.
func New(e *engine.Engine, log *slog.Logger) *Scripting {
	if log == nil {
		log = slog.Default()
	}
	s := &Scripting{e: e, log: log, libs: newLibraries(), scripts: map[string]*script{}}
	s.sw = resp.NewWriter()
	s.sctx = e.NewCtx(s.sw, nil)
	s.sctx.Script = true
	s.rand.seed(0)
	// Redis seeds its lrand48 with the C library's default state, not with 0.
	s.rand.x = 0x1234ABCD330E
	s.evalVM = newVM(s, true)
	s.fnVM = newVM(s, false)
	e.SetFunctionStore(s)
	e.SetBusyHandler(s.busyCommand)
	return s
}

// Commands are the scripting commands for the engine's table.
func (s *Scripting) Commands() []*engine.Command {
	return append(s.evalCommands(), s.scriptCommand(), s.functionCommand())
}

// resetEval empties the script cache and replaces the EVAL interpreter (SCRIPT FLUSH).
func (s *Scripting) resetEval() {
	s.evalVM.L.Close()
	s.evalVM = newVM(s, true)
	s.scripts = map[string]*script{}
}

// resetFunctionVM replaces the functions' interpreter once no library uses it.
func (s *Scripting) resetFunctionVM() {
	s.fnVM.L.Close()
	s.fnVM = newVM(s, false)
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
