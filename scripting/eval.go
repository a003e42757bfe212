package scripting

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"kv/engine"
	"kv/resp"
)

// script is one entry of the EVAL script cache.
type script struct {
	sha   string
	body  string
	flags scriptFlags
	fn    *lua.LFunction
}

const errNoScript = "NOSCRIPT No matching script. Please use EVAL."

func evalKeys(args [][]byte) []int {
	if len(args) < 3 {
		return nil
	}
	n, ok := engine.ParseInt(args[2])
	if !ok || n <= 0 || int(n) > len(args)-3 {
		return nil
	}
	out := make([]int, n)
	for i := range out {
		out[i] = 3 + i
	}
	return out
}

func (s *Scripting) evalCommands() []*engine.Command {
	rw := engine.FlagNoscript | engine.FlagSkipMonitor | engine.FlagMayReplicate | engine.FlagNoMandatoryKeys | engine.FlagStale
	ro := engine.FlagNoscript | engine.FlagSkipMonitor | engine.FlagNoMandatoryKeys | engine.FlagStale | engine.FlagReadonly
	cmd := func(name string, flags engine.Flag, since, summary string, h engine.Handler) *engine.Command {
		syntax := "script numkeys [key [key ...]] [arg [arg ...]]"
		if strings.HasPrefix(name, "evalsha") {
			syntax = "sha1 numkeys [key [key ...]] [arg [arg ...]]"
		} else if strings.HasPrefix(name, "fcall") {
			syntax = "function numkeys [key [key ...]] [arg [arg ...]]"
		}
		return &engine.Command{Name: name, Arity: -3, Flags: flags, ACL: []string{"slow", "scripting"},
			Keys: engine.KeySpec{}, GetKeys: evalKeys, Group: "scripting", Since: since, Summary: summary,
			Syntax: syntax, Handler: h}
	}
	return []*engine.Command{
		cmd("eval", rw, "2.6.0", "Execute a Lua script server side", func(c *engine.Ctx) { s.eval(c, false, false) }),
		cmd("evalsha", rw, "2.6.0", "Execute a Lua script server side", func(c *engine.Ctx) { s.eval(c, true, false) }),
		cmd("eval_ro", ro, "7.0.0", "Execute a read-only Lua script server side", func(c *engine.Ctx) { s.eval(c, false, true) }),
		cmd("evalsha_ro", ro, "7.0.0", "Execute a read-only Lua script server side", func(c *engine.Ctx) { s.eval(c, true, true) }),
		cmd("fcall", rw, "7.0.0", "Invoke a function", func(c *engine.Ctx) { s.fcall(c, false) }),
		cmd("fcall_ro", ro, "7.0.0", "Invoke a read-only function", func(c *engine.Ctx) { s.fcall(c, true) }),
	}
}

func (s *Scripting) scriptCommand() *engine.Command {
	sub := func(name string, arity int, flags engine.Flag, since, summary, syntax string, h engine.Handler) *engine.Command {
		return &engine.Command{Name: "script|" + name, Arity: arity, Flags: flags, ACL: []string{"slow", "scripting"},
			Group: "scripting", Since: since, Summary: summary, Syntax: syntax, Handler: h}
	}
	return container(&engine.Command{Name: "script", Arity: -2, Group: "scripting", Since: "2.6.0",
		Summary: "A container for Lua scripts management commands"},
		sub("load", 3, engine.FlagNoscript|engine.FlagStale, "2.6.0", "Load the specified Lua script into the script cache.", "script", s.cmdScriptLoad),
		sub("exists", -3, engine.FlagNoscript, "2.6.0", "Check existence of scripts in the script cache.", "sha1 [sha1 ...]", s.cmdScriptExists),
		sub("flush", -2, engine.FlagNoscript, "2.6.0", "Remove all the scripts from the script cache.", "[ASYNC|SYNC]", s.cmdScriptFlush),
		sub("kill", 2, engine.FlagNoscript|engine.FlagAllowBusy, "2.6.0", "Kill the script currently in execution.", "", s.cmdScriptKill),
		sub("help", 2, engine.FlagLoading|engine.FlagStale, "5.0.0", "Show helpful text about the different subcommands", "", s.cmdScriptHelp),
	)
}

// parseNumKeys reads EVAL's and FCALL's numkeys argument.
func parseNumKeys(c *engine.Ctx, badMsg string) (int, bool) {
	n, ok := engine.ParseInt(c.Args[2])
	if !ok {
		c.Error(badMsg)
		return 0, false
	}
	if n > int64(len(c.Args)-3) {
		c.Error("ERR Number of keys can't be greater than number of args")
		return 0, false
	}
	if n < 0 {
		c.Error("ERR Number of keys can't be negative")
		return 0, false
	}
	return int(n), true
}

func (s *Scripting) eval(c *engine.Ctx, bySha, ro bool) {
	c.FeedMonitors()
	if bySha && len(c.Args[1]) != 40 {
		c.Error(errNoScript)
		return
	}
	nkeys, ok := parseNumKeys(c, engine.ErrNotInt)
	if !ok {
		return
	}
	var sc *script
	if bySha {
		sc = s.scripts[strings.ToLower(string(c.Args[1]))]
		if sc == nil {
			c.Error(errNoScript)
			return
		}
	} else {
		var errMsg string
		sc, errMsg = s.createScript(c.Args[1])
		if sc == nil {
			c.Error(errMsg)
			return
		}
	}
	keys := c.Args[3 : 3+nkeys]
	s.call(c, s.evalVM, sc.fn, sc.sha, sc.flags, ro, keys, c.Args[3+nkeys:])
}

func sha1hex(b []byte) string {
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:])
}

// createScript compiles body into the cache (or finds it there). On failure it returns
// nil and the error reply.
func (s *Scripting) createScript(body []byte) (*script, string) {
	sha := sha1hex(body)
	if sc := s.scripts[sha]; sc != nil {
		return sc, ""
	}
	flags, shebangLen, errMsg := evalShebangFlags(body)
	if errMsg != "" {
		return nil, errMsg
	}
	// The shebang is dropped but its line feed kept, so line numbers stay right.
	fn, err := s.evalVM.L.Load(bytes.NewReader(body[shebangLen:]), "user_script")
	if err != nil {
		return nil, "ERR Error compiling script (new function): " + compileError(err)
	}
	sc := &script{sha: sha, body: string(body), flags: flags, fn: fn}
	s.scripts[sha] = sc
	return sc, ""
}

// compileError renders a gopher-lua syntax error on one line, as Lua's own are.
func compileError(err error) string {
	msg := err.Error()
	if apiErr, ok := err.(*lua.ApiError); ok && apiErr.Object != nil {
		msg = apiErr.Object.String()
	}
	return strings.Join(strings.Fields(msg), " ")
}

// evalShebangFlags reads an EVAL script's "#!lua flags=..." line. Without a shebang the
// script runs in compatibility mode.
func evalShebangFlags(body []byte) (scriptFlags, int, string) {
	if !bytes.HasPrefix(body, []byte("#!")) {
		return flagEvalCompat, 0, ""
	}
	end := bytes.IndexByte(body, '\n')
	if end < 0 {
		return 0, 0, "ERR Invalid script shebang"
	}
	parts, err := resp.SplitArgs(body[:end])
	if err != nil || len(parts) == 0 {
		return 0, 0, "ERR Invalid engine in script shebang"
	}
	if string(parts[0]) != "#!lua" {
		return 0, 0, "ERR Unexpected engine in script shebang: " + string(parts[0])
	}
	var flags scriptFlags
	for _, p := range parts[1:] {
		if !bytes.HasPrefix(p, []byte("flags=")) {
			return 0, 0, "ERR Unknown lua shebang option: " + string(p)
		}
		for _, f := range strings.Split(string(p[6:]), ",") {
			found := false
			for _, fn := range flagNames {
				if fn.name == f {
					flags |= fn.f
					found = true
					break
				}
			}
			if !found {
				return 0, 0, "ERR Unexpected flag in script shebang: " + f
			}
		}
	}
	return flags, end, ""
}

func (s *Scripting) cmdScriptLoad(c *engine.Ctx) {
	sc, errMsg := s.createScript(c.Args[2])
	if sc == nil {
		c.Error(errMsg)
		return
	}
	c.W.BulkString(sc.sha)
}

func (s *Scripting) cmdScriptExists(c *engine.Ctx) {
	c.W.Array(len(c.Args) - 2)
	for _, a := range c.Args[2:] {
		if s.scripts[strings.ToLower(string(a))] != nil {
			c.W.Int(1)
		} else {
			c.W.Int(0)
		}
	}
}

// cmdScriptFlush drops the cache and starts a fresh interpreter, as Redis does, so
// nothing a script left behind survives. ASYNC and SYNC both leave the freeing to the
// garbage collector.
func (s *Scripting) cmdScriptFlush(c *engine.Ctx) {
	if len(c.Args) > 3 || (len(c.Args) == 3 && !c.Is(2, "sync") && !c.Is(2, "async")) {
		c.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
		return
	}
	s.resetEval()
	c.W.OK()
}

// cmdScriptKill runs only when no script is busy (a busy one is killed by
// Scripting.busyCommand without the lock).
func (s *Scripting) cmdScriptKill(c *engine.Ctx) {
	c.Error("NOTBUSY No scripts in execution right now.")
}

func (s *Scripting) cmdScriptHelp(c *engine.Ctx) {
	writeHelp(c, []string{
		"EXISTS <sha1> [<sha1> ...]",
		"    Return information about the existence of the scripts in the script cache.",
		"FLUSH [ASYNC|SYNC]",
		"    Flush the Lua scripts cache. Very dangerous on replicas.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the scripts cache.",
		"    * SYNC: Synchronously flush the scripts cache.",
		"KILL",
		"    Kill the currently executing Lua script.",
		"LOAD <script>",
		"    Load a script into the scripts cache without executing it.",
	})
}

// busyCommand answers SCRIPT KILL, FUNCTION KILL and FUNCTION STATS while a script
// keeps the engine busy; it runs without the engine lock (engine.BusyHandler).
func (s *Scripting) busyCommand(args [][]byte, w *resp.Writer) bool {
	if len(args) != 2 {
		return false
	}
	isScript := engine.EqualFold(args[0], "script")
	isFunction := engine.EqualFold(args[0], "function")
	if !isScript && !isFunction {
		return false
	}
	r := s.current.Load()
	switch {
	case engine.EqualFold(args[1], "kill"):
		if r == nil {
			w.Error("NOTBUSY No scripts in execution right now.")
		} else if msg := r.kill(isScript); msg != "" {
			w.Error(msg)
		} else {
			w.OK()
		}
		return true
	case isFunction && engine.EqualFold(args[1], "stats"):
		if r != nil && r.eval {
			w.Error(engine.ErrBusyEval)
			return true
		}
		s.writeFunctionStats(w, r)
		return true
	}
	return false
}
