package server

import (
	"slices"
	"strings"

	"kv/engine"
	"kv/glob"
)

// COMMAND answers from the engine's command table. The table holds one key range
// per command (plus GetKeys for movable keys), no argument lists, history or tips,
// so COMMAND INFO shows at most one range key spec and COMMAND DOCS no arguments.
func (s *Server) commandCommands() []*engine.Command {
	cmd := container(
		&engine.Command{Name: "command", Arity: -1, Flags: engine.FlagLoading | engine.FlagStale | engine.FlagSentinel,
			ACL: []string{"slow", "connection"}, Group: "server", Since: "2.8.13",
			Summary:    "Get array of Redis command details",
			Complexity: "O(N) where N is the total number of Redis commands",
			Syntax:     "", Handler: s.commandAll},
		&engine.Command{Name: "command|count", Arity: 2, Flags: engine.FlagLoading | engine.FlagStale | engine.FlagSentinel,
			ACL: []string{"slow", "connection"}, Group: "server", Since: "2.8.13",
			Summary:    "Get total number of Redis commands",
			Complexity: "O(1)",
			Syntax:     "", Handler: s.commandCount},
		&engine.Command{Name: "command|docs", Arity: -2, Flags: engine.FlagLoading | engine.FlagStale | engine.FlagSentinel,
			ACL: []string{"slow", "connection"}, Group: "server", Since: "7.0.0",
			Summary:    "Get array of specific Redis command documentation",
			Complexity: "O(N) where N is the number of commands to look up",
			Syntax:     "[command-name [command-name ...]]", Handler: s.commandDocs},
		&engine.Command{Name: "command|getkeys", Arity: -4, Flags: engine.FlagLoading | engine.FlagStale | engine.FlagSentinel,
			ACL: []string{"slow", "connection"}, Group: "server", Since: "2.8.13",
			Summary:    "Extract keys given a full Redis command",
			Complexity: "O(N) where N is the number of arguments to the command",
			Syntax:     "", Handler: s.commandGetkeys},
		&engine.Command{Name: "command|getkeysandflags", Arity: -4, Flags: engine.FlagLoading | engine.FlagStale | engine.FlagSentinel,
			ACL: []string{"slow", "connection"}, Group: "server", Since: "7.0.0",
			Summary:    "Extract keys and access flags given a full Redis command",
			Complexity: "O(N) where N is the number of arguments to the command",
			Syntax:     "", Handler: s.commandGetkeysandflags},
		&engine.Command{Name: "command|help", Arity: 2, Flags: engine.FlagLoading | engine.FlagStale | engine.FlagSentinel,
			ACL: []string{"slow", "connection"}, Group: "server", Since: "5.0.0",
			Summary:    "Show helpful text about the different subcommands",
			Complexity: "O(1)",
			Syntax:     "", Handler: s.commandHelp},
		&engine.Command{Name: "command|info", Arity: -2, Flags: engine.FlagLoading | engine.FlagStale | engine.FlagSentinel,
			ACL: []string{"slow", "connection"}, Group: "server", Since: "2.8.13",
			Summary:    "Get array of specific Redis command details, or all when no argument is given.",
			Complexity: "O(N) where N is the number of commands to look up",
			Syntax:     "[command-name [command-name ...]]", Handler: s.commandInfo},
		&engine.Command{Name: "command|list", Arity: -2, Flags: engine.FlagLoading | engine.FlagStale | engine.FlagSentinel,
			ACL: []string{"slow", "connection"}, Group: "server", Since: "7.0.0",
			Summary:    "Get an array of Redis command names",
			Complexity: "O(N) where N is the total number of Redis commands",
			Syntax:     "[MODULE module-name|ACLCAT category|PATTERN pattern]", Handler: s.commandList},
	)
	dispatch := cmd.Handler
	cmd.Handler = func(c *engine.Ctx) {
		if len(c.Args) == 1 {
			s.commandAll(c)
			return
		}
		dispatch(c)
	}
	return []*engine.Command{cmd}
}

func (s *Server) commandAll(c *engine.Ctx) {
	all := s.e.Commands().All()
	c.W.Array(len(all))
	for _, cmd := range all {
		writeCommandInfo(c, cmd)
	}
}

func (s *Server) commandCount(c *engine.Ctx) { c.W.Int(int64(s.e.Commands().Len())) }

func (s *Server) commandHelp(c *engine.Ctx) {
	writeHelp(c, []string{
		"(no subcommand)",
		"    Return details about all Redis commands.",
		"COUNT",
		"    Return the total number of commands in this Redis server.",
		"LIST",
		"    Return a list of all commands in this Redis server.",
		"INFO [<command-name> ...]",
		"    Return details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"DOCS [<command-name> ...]",
		"    Return documentation details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"GETKEYS <full-command>",
		"    Return the keys from a full Redis command.",
		"GETKEYSANDFLAGS <full-command>",
		"    Return the keys and the access flags from a full Redis command.",
	})
}

func (s *Server) commandInfo(c *engine.Ctx) {
	if len(c.Args) == 2 {
		s.commandAll(c)
		return
	}
	c.W.Array(len(c.Args) - 2)
	for _, a := range c.Args[2:] {
		if cmd := s.lookupFullName(string(a)); cmd != nil {
			writeCommandInfo(c, cmd)
		} else {
			c.W.NullArray()
		}
	}
}

// commandFlags are the flags COMMAND INFO shows, with movablekeys derived from the
// key locator as Redis derives it from the key specs.
func commandFlags(cmd *engine.Command) []string {
	f := cmd.Flags
	if cmd.GetKeys != nil {
		f |= engine.FlagMovableKeys
	}
	return f.Names()
}

// legacyRange is COMMAND INFO's first key, last key and step.
func legacyRange(cmd *engine.Command) (first, last, step int) {
	k := cmd.Keys
	if k.FirstKey <= 0 {
		return 0, 0, 0
	}
	return k.FirstKey, k.LastKey, max(k.Step, 1)
}

func writeCommandInfo(c *engine.Ctx, cmd *engine.Command) {
	w := c.W
	w.Array(10)
	w.BulkString(cmd.Name)
	w.Int(int64(cmd.Arity))
	flags := commandFlags(cmd)
	w.Set(len(flags))
	for _, f := range flags {
		w.Simple(f)
	}
	first, last, step := legacyRange(cmd)
	w.Int(int64(first))
	w.Int(int64(last))
	w.Int(int64(step))
	w.Set(len(cmd.ACL))
	for _, a := range cmd.ACL {
		w.Simple("@" + a)
	}
	w.Set(0) // tips: the table holds none
	if first > 0 {
		w.Set(1)
		writeKeySpec(c, cmd.Keys, cmd.KeyFlags)
	} else {
		w.Set(0)
	}
	subs := sortedSubs(cmd)
	w.Array(len(subs))
	for _, sc := range subs {
		writeCommandInfo(c, sc)
	}
}

// writeKeySpec writes a range key spec in COMMAND INFO's 7.0 shape: the last key is
// relative to the first (or negative, counting from the end).
func writeKeySpec(c *engine.Ctx, k engine.KeySpec, flags []string) {
	w := c.W
	w.Map(3)
	w.BulkString("flags")
	w.Set(len(flags))
	for _, f := range flags {
		w.Simple(f)
	}
	w.BulkString("begin_search")
	w.Map(2)
	w.BulkString("type")
	w.BulkString("index")
	w.BulkString("spec")
	w.Map(1)
	w.BulkString("index")
	w.Int(int64(k.FirstKey))
	w.BulkString("find_keys")
	w.Map(2)
	w.BulkString("type")
	w.BulkString("range")
	w.BulkString("spec")
	w.Map(3)
	last := k.LastKey
	if last >= 0 {
		last -= k.FirstKey
	}
	w.BulkString("lastkey")
	w.Int(int64(last))
	w.BulkString("keystep")
	w.Int(int64(max(k.Step, 1)))
	w.BulkString("limit")
	w.Int(0)
}

func (s *Server) commandDocs(c *engine.Ctx) {
	if len(c.Args) == 2 {
		all := s.e.Commands().All()
		c.W.Map(len(all))
		for _, cmd := range all {
			c.W.BulkString(cmd.Name)
			writeCommandDocs(c, cmd)
		}
		return
	}
	d := c.W.DeferLen()
	n := 0
	for _, a := range c.Args[2:] {
		if cmd := s.lookupFullName(string(a)); cmd != nil {
			c.W.BulkString(cmd.Name)
			writeCommandDocs(c, cmd)
			n++
		}
	}
	c.W.SetMap(d, n)
}

func writeCommandDocs(c *engine.Ctx, cmd *engine.Command) {
	w := c.W
	subs := sortedSubs(cmd)
	n := 3
	if cmd.Complexity != "" {
		n++
	}
	if len(subs) > 0 {
		n++
	}
	w.Map(n)
	w.BulkString("summary")
	w.BulkString(cmd.Summary)
	w.BulkString("since")
	w.BulkString(cmd.Since)
	w.BulkString("group")
	w.BulkString(cmd.Group)
	if cmd.Complexity != "" {
		w.BulkString("complexity")
		w.BulkString(cmd.Complexity)
	}
	if len(subs) > 0 {
		w.BulkString("subcommands")
		w.Map(len(subs))
		for _, sc := range subs {
			w.BulkString(sc.Name)
			writeCommandDocs(c, sc)
		}
	}
}

func (s *Server) commandList(c *engine.Ctx) {
	var kind, arg string
	for i := 2; i < len(c.Args); i++ {
		if !c.Is(i, "filterby") || len(c.Args)-1-i != 2 {
			c.Error(engine.ErrSyntax)
			return
		}
		switch k := c.Arg(i + 1); k {
		case "module", "aclcat", "pattern":
			kind = k
		default:
			c.Error(engine.ErrSyntax)
			return
		}
		arg = string(c.Args[i+2])
		i += 2
	}
	var names []string
	for _, cmd := range s.allCommands() {
		switch kind {
		case "module":
			continue // no modules
		case "aclcat":
			if !slices.Contains(cmd.ACL, strings.ToLower(arg)) {
				continue
			}
		case "pattern":
			if !glob.MatchString(arg, cmd.Name, true) {
				continue
			}
		}
		names = append(names, cmd.Name)
	}
	c.W.Array(len(names))
	for _, n := range names {
		c.W.BulkString(n)
	}
}

// commandKeys resolves the command in c.Args[2:] and its key positions for GETKEYS;
// it writes the error and returns ok=false when Redis would refuse.
func (s *Server) commandKeys(c *engine.Ctx) (args [][]byte, cmd *engine.Command, keys []int, ok bool) {
	args = c.Args[2:]
	cmd = s.e.Commands().Lookup(args[0])
	if cmd != nil && len(cmd.Subcommands) > 0 && len(args) >= 2 {
		cmd = cmd.LookupSub(args[1])
	}
	switch {
	case cmd == nil:
		c.Error("ERR Invalid command specified")
		return
	case cmd.Keys.FirstKey <= 0 && cmd.GetKeys == nil:
		c.Error("ERR The command has no key arguments")
		return
	case !cmd.ArityOK(len(args)):
		c.Error("ERR Invalid number of arguments specified for command")
		return
	}
	keys = cmd.KeyIndexes(args)
	if len(keys) == 0 && cmd.Flags&engine.FlagNoMandatoryKeys == 0 {
		c.Error("ERR Invalid arguments specified for command")
		return
	}
	return args, cmd, keys, true
}

func (s *Server) commandGetkeys(c *engine.Ctx) {
	args, _, keys, ok := s.commandKeys(c)
	if !ok {
		return
	}
	c.W.Array(len(keys))
	for _, k := range keys {
		c.W.Bulk(args[k])
	}
}

func (s *Server) commandGetkeysandflags(c *engine.Ctx) {
	args, cmd, keys, ok := s.commandKeys(c)
	if !ok {
		return
	}
	c.W.Array(len(keys))
	for _, k := range keys {
		c.W.Array(2)
		c.W.Bulk(args[k])
		c.W.Set(len(cmd.KeyFlags))
		for _, f := range cmd.KeyFlags {
			c.W.Simple(f)
		}
	}
}
