package scripting

import (
	"math"
	"strconv"

	lua "github.com/yuin/gopher-lua"

	"kv/engine"
)

func (v *vm) redisCall(L *lua.LState) int  { return v.redisGenericCommand(L, true) }
func (v *vm) redisPcall(L *lua.LState) int { return v.redisGenericCommand(L, false) }

// luaArgs converts redis.call's arguments into a command: strings as they are, numbers
// as %.17g. It returns a Redis error message when they cannot be converted.
func luaArgs(L *lua.LState) ([][]byte, string) {
	n := L.GetTop()
	if n == 0 {
		return nil, "ERR Please specify at least one argument for this redis lib call"
	}
	args := make([][]byte, n)
	for i := 1; i <= n; i++ {
		switch a := L.Get(i).(type) {
		case lua.LString:
			args[i-1] = []byte(a)
		case lua.LNumber:
			args[i-1] = strconv.AppendFloat(nil, float64(a), 'g', 17, 64)
		default:
			return nil, "ERR Lua redis lib command arguments must be strings or integers"
		}
	}
	return args, ""
}

// redisGenericCommand is redis.call (raise true) and redis.pcall: run the command
// through the engine as the script's client and convert its reply to Lua.
func (v *vm) redisGenericCommand(L *lua.LState, raise bool) int {
	r := v.run
	if r == nil {
		L.Error(errorTable(L, "ERR redis.call/pcall can only be called inside a script invocation"), 0)
	}
	fail := func(msg string) int {
		t := errorTable(L, msg)
		if raise {
			L.Error(t, 0)
		}
		L.Push(t)
		return 1
	}
	args, errMsg := luaArgs(L)
	if errMsg != "" {
		return fail(errMsg)
	}
	L.SetTop(0)
	e := v.s.e
	cmd := e.Commands().Lookup(args[0])
	if cmd != nil && len(cmd.Subcommands) > 0 && len(args) >= 2 {
		if sub := cmd.LookupSub(args[1]); sub != nil && sub.Handler != nil {
			cmd = sub
		}
	}
	switch {
	case cmd == nil:
		return fail("ERR Unknown Redis command called from script")
	case !cmd.ArityOK(len(args)):
		return fail("ERR Wrong number of args calling Redis command from script")
	case cmd.Flags&engine.FlagNoscript != 0:
		return fail("ERR This Redis command is not allowed from script")
	case r.ro && cmd.Flags&(engine.FlagWrite|engine.FlagMayReplicate) != 0:
		return fail("ERR Write commands are not allowed from read-only scripts.")
	case cmd.Flags&engine.FlagWrite != 0 && !r.wrote.Load() && e.Replica && !r.caller.FromMaster:
		return fail("READONLY You can't write against a read only replica.")
	case cmd.Flags&engine.FlagDenyOOM != 0 && !r.allowOOM && !r.wrote.Load() && !r.caller.FromMaster && e.OOMAtCommandStart():
		// Over maxmemory when the script started and nothing written yet: refuse, as
		// Redis's scriptVerifyOOM does; once a script wrote it must be let finish.
		return fail(engine.ErrOOM)
	}
	if cmd.Flags&engine.FlagWrite != 0 {
		r.wrote.Store(true)
	}
	sc := r.ctx
	sc.Cmd = cmd
	sc.Args = args
	r.w.Reset()
	e.Exec(sc)
	reply := r.w.Bytes()
	if len(reply) == 0 {
		// A command that blocked or wrote nothing: scripts cannot block, so this is a
		// bug in the command, not something to hand to Lua.
		return fail("ERR command produced no reply inside a script")
	}
	p := replyParser{L: L, b: reply}
	val := p.parse()
	r.w.Reset()
	if raise && reply[0] == '-' {
		L.Error(val, 0)
	}
	L.Push(val)
	return 1
}

// replyParser converts a reply the engine wrote (trusted RESP2 or RESP3) into Lua
// values by Redis's rules.
type replyParser struct {
	L   *lua.LState
	b   []byte
	pos int
}

func (p *replyParser) line() string {
	start := p.pos
	for p.pos < len(p.b) && p.b[p.pos] != '\r' {
		p.pos++
	}
	s := string(p.b[start:p.pos])
	p.pos += 2
	return s
}

func (p *replyParser) count() int {
	n, _ := strconv.Atoi(p.line())
	return n
}

func (p *replyParser) parse() lua.LValue {
	if p.pos >= len(p.b) {
		return lua.LNil
	}
	L := p.L
	t := p.b[p.pos]
	p.pos++
	switch t {
	case '+':
		tb := L.CreateTable(0, 1)
		tb.RawSetString("ok", lua.LString(p.line()))
		return tb
	case '-':
		msg := redisErrorMessage("-"+p.line(), true)
		tb := errorTable(L, msg)
		tb.RawSetString("ignore_error_stats_update", lua.LTrue)
		return tb
	case ':':
		n, _ := strconv.ParseInt(p.line(), 10, 64)
		return lua.LNumber(n)
	case '$':
		n := p.count()
		if n < 0 {
			return lua.LFalse
		}
		s := string(p.b[p.pos : p.pos+n])
		p.pos += n + 2
		return lua.LString(s)
	case '*':
		n := p.count()
		if n < 0 {
			return lua.LFalse
		}
		tb := L.CreateTable(n, 0)
		for i := 0; i < n; i++ {
			// RawSetInt keeps nil (RESP3 null) elements as holes, as lua_settable does.
			tb.RawSetInt(i+1, p.parse())
		}
		return tb
	case '%':
		n := p.count()
		m := L.CreateTable(0, n)
		for i := 0; i < n; i++ {
			k := p.parse()
			val := p.parse()
			if k != lua.LNil {
				m.RawSet(k, val)
			}
		}
		tb := L.CreateTable(0, 1)
		tb.RawSetString("map", m)
		return tb
	case '~':
		n := p.count()
		set := L.CreateTable(0, n)
		for i := 0; i < n; i++ {
			if k := p.parse(); k != lua.LNil {
				set.RawSet(k, lua.LTrue)
			}
		}
		tb := L.CreateTable(0, 1)
		tb.RawSetString("set", set)
		return tb
	case '_':
		p.line()
		return lua.LNil
	case '#':
		return lua.LBool(p.line() == "t")
	case ',':
		s := p.line()
		var f float64
		switch s {
		case "inf":
			f = math.Inf(1)
		case "-inf":
			f = math.Inf(-1)
		case "nan":
			f = math.NaN()
		default:
			f, _ = strconv.ParseFloat(s, 64)
		}
		tb := L.CreateTable(0, 1)
		tb.RawSetString("double", lua.LNumber(f))
		return tb
	case '(':
		tb := L.CreateTable(0, 1)
		tb.RawSetString("big_number", lua.LString(p.line()))
		return tb
	case '=':
		n := p.count()
		s := string(p.b[p.pos : p.pos+n])
		p.pos += n + 2
		v := L.CreateTable(0, 2)
		if len(s) >= 4 {
			v.RawSetString("format", lua.LString(s[:3]))
			v.RawSetString("string", lua.LString(s[4:]))
		}
		tb := L.CreateTable(0, 1)
		tb.RawSetString("verbatim_string", v)
		return tb
	case '|':
		n := p.count()
		for i := 0; i < 2*n; i++ {
			p.parse()
		}
		return p.parse()
	}
	return lua.LNil
}
