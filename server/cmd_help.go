package server

import (
	"strings"

	"kv/engine"
)

// container makes parent a command with subcommands ("client", "config"...). The
// connection resolves subcommands before running anything; the parent's own handler
// only runs when a caller (a script, a replayed command) hands it the unresolved form.
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

// writeHelp writes a HELP reply the way Redis's addReplyHelp does: a header naming
// the command as typed, the lines, and the HELP entry itself.
func writeHelp(c *engine.Ctx, lines []string) {
	c.W.Array(len(lines) + 3)
	c.W.Simple(strings.ToUpper(string(c.Args[0])) + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		c.W.Simple(l)
	}
	c.W.Simple("HELP")
	c.W.Simple("    Prints this help.")
}

// subcommandSyntaxError is Redis's addReplySubcommandSyntaxError.
func subcommandSyntaxError(c *engine.Ctx) {
	c.Error("ERR unknown subcommand or wrong number of arguments for '" + truncate128(c.Args[1]) + "'. Try " +
		strings.ToUpper(string(c.Args[0])) + " HELP.")
}

func truncate128(b []byte) string {
	if len(b) > 128 {
		b = b[:128]
	}
	return string(b)
}
