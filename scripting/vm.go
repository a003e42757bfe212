package scripting

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// vm is one Lua interpreter: the EVAL one, or the one all function libraries share,
// as in Redis. Guarded by the engine lock.
type vm struct {
	s    *Scripting
	L    *lua.LState
	eval bool

	// globals is the real global table; scripts see it through env, a read-only proxy.
	globals *lua.LTable
	env     *lua.LTable
	// envMeta is env's metatable; for the function VM its __index is switched to the
	// library-loading API while FUNCTION LOAD runs the library's top-level code.
	envMeta *lua.LTable
	// loadAPI is what library code sees at load time (redis.register_function...).
	loadAPI *lua.LTable
	// protected holds every read-only proxy, so setmetatable and rawset refuse them.
	protected map[*lua.LTable]bool

	errHandler *lua.LFunction
	kill       killContext

	// run is the script running now (nil between runs); loading is the library whose
	// top-level code runs now (FUNCTION LOAD).
	run     *run
	loading *loadingLib
}

const errReadonly = "Attempt to modify a readonly table"

// Redis's log levels (redis.LOG_*) and replication flags (redis.REPL_*).
const (
	logDebug   = 0
	logVerbose = 1
	logNotice  = 2
	logWarning = 3

	replNone = 0
	replAOF  = 1
	replRepl = 2
	replAll  = 3
)

func newVM(s *Scripting, eval bool) *vm {
	L := lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: 1024, RegistrySize: 1024 * 20,
		RegistryMaxSize: 1024 * 1024, MinimizeStackMemory: true})
	v := &vm{s: s, L: L, eval: eval, globals: L.G.Global, protected: map[*lua.LTable]bool{}}
	v.kill.ch = make(chan struct{})
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath}, {lua.CoroutineLibName, lua.OpenCoroutine},
		{"cjson", openCjson}, {"struct", openStruct}, {"cmsgpack", openCmsgpack}, {"bit", openBit},
	} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	g := v.globals
	// Redis's deny list, plus gopher-lua's own additions that Lua 5.1 under Redis lacks.
	for _, name := range []string{"dofile", "loadfile", "print", "_printregs", "module", "require", "_GOPHER_LUA_VERSION"} {
		g.RawSetString(name, lua.LNil)
	}
	g.RawSetString("gcinfo", L.NewFunction(func(L *lua.LState) int { L.Push(lua.LNumber(0)); return 1 }))
	g.RawSetString("pcall", L.NewFunction(luaPcall))
	g.RawSetString("setmetatable", L.NewFunction(v.setmetatable))
	g.RawSetString("rawset", L.NewFunction(v.rawset))
	math := g.RawGetString("math").(*lua.LTable)
	math.RawSetString("random", L.NewFunction(v.mathRandom))
	math.RawSetString("randomseed", L.NewFunction(v.mathRandomseed))

	redis := L.NewTable()
	v.setFuncs(redis, map[string]lua.LGFunction{
		"call": v.redisCall, "pcall": v.redisPcall, "log": v.redisLog, "setresp": v.redisSetresp,
		"sha1hex": redisSha1hex, "error_reply": redisErrorReply, "status_reply": redisStatusReply,
		"set_repl": v.redisSetRepl, "acl_check_cmd": v.redisACLCheckCmd,
	})
	setConstants(redis)
	if eval {
		// LDB (SCRIPT DEBUG) is not implemented: outside a debugging session Redis's
		// breakpoint returns false and debug does nothing, which is what these do.
		v.setFuncs(redis, map[string]lua.LGFunction{
			"breakpoint":         func(L *lua.LState) int { L.Push(lua.LFalse); return 1 },
			"debug":              func(L *lua.LState) int { return 0 },
			"replicate_commands": func(L *lua.LState) int { L.Push(lua.LTrue); return 1 },
		})
	}
	g.RawSetString("redis", redis)

	v.errHandler = L.NewFunction(errorHandler)

	// Protect everything reachable from the globals, then make scripts see the
	// globals only through a proxy whose misses are errors.
	nonexistent := L.NewTable()
	nonexistent.RawSetString("__index", L.NewFunction(nonexistentGlobal))
	for _, name := range []string{"string", "table", "math", "coroutine", "cjson", "struct", "cmsgpack", "bit", "redis"} {
		if t, ok := g.RawGetString(name).(*lua.LTable); ok {
			p := v.readonly(t, nil)
			g.RawSetString(name, p)
			if name == "string" {
				// Methods on strings ("x"):upper() go through the string metatable; point
				// it at the proxy and hide it, so it cannot be used to reach the library.
				if mt, ok := L.GetMetatable(lua.LString("")).(*lua.LTable); ok {
					mt.RawSetString("__index", p)
					mt.RawSetString("__metatable", lua.LFalse)
				}
			}
		}
	}
	nonexistent.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError(errReadonly)
		return 0
	}))
	L.SetMetatable(g, nonexistent)
	v.envMeta = L.NewTable()
	v.envMeta.RawSetString("__index", g)
	v.env = v.readonly(nil, v.envMeta)
	g.RawSetString("_G", v.env)

	if !eval {
		api := L.NewTable()
		v.setFuncs(api, map[string]lua.LGFunction{"register_function": v.registerFunction, "log": v.redisLog})
		setConstants(api)
		api.RawSetString("REPL_NONE", lua.LNil)
		api.RawSetString("REPL_AOF", lua.LNil)
		api.RawSetString("REPL_SLAVE", lua.LNil)
		api.RawSetString("REPL_REPLICA", lua.LNil)
		api.RawSetString("REPL_ALL", lua.LNil)
		L.SetMetatable(api, nonexistent)
		loadGlobals := L.NewTable()
		loadGlobals.RawSetString("redis", v.readonly(api, nil))
		L.SetMetatable(loadGlobals, nonexistent)
		v.loadAPI = loadGlobals
	}
	L.Env = v.env
	return v
}

func (v *vm) setFuncs(t *lua.LTable, fns map[string]lua.LGFunction) {
	for name, fn := range fns {
		t.RawSetString(name, v.L.NewFunction(fn))
	}
}

func setConstants(t *lua.LTable) {
	for name, n := range map[string]int{
		"LOG_DEBUG": logDebug, "LOG_VERBOSE": logVerbose, "LOG_NOTICE": logNotice, "LOG_WARNING": logWarning,
		"REPL_NONE": replNone, "REPL_AOF": replAOF, "REPL_SLAVE": replRepl, "REPL_REPLICA": replRepl, "REPL_ALL": replAll,
		"REDIS_VERSION_NUM": 0x07000f,
	} {
		t.RawSetString(name, lua.LNumber(n))
	}
	t.RawSetString("REDIS_VERSION", lua.LString("7.0.15"))
}

// readonly returns a proxy of t that reads through to it and refuses writes, which is
// how kv gives scripts Redis's read-only tables (Redis patches its Lua for them;
// gopher-lua has none). With t nil, meta is used as the proxy's metatable as it is.
// getmetatable on the proxy yields a read-only view whose __index is the proxy itself,
// so the real table is never reachable from a script.
func (v *vm) readonly(t *lua.LTable, meta *lua.LTable) *lua.LTable {
	L := v.L
	deny := L.NewFunction(func(L *lua.LState) int {
		L.RaiseError(errReadonly)
		return 0
	})
	if meta == nil {
		meta = L.NewTable()
		meta.RawSetString("__index", t)
	}
	meta.RawSetString("__newindex", deny)
	p := L.NewTable()
	view := L.NewTable()
	view.RawSetString("__index", p)
	view.RawSetString("__newindex", deny)
	guard := L.NewTable()
	guardMeta := L.NewTable()
	guardMeta.RawSetString("__index", view)
	guardMeta.RawSetString("__newindex", deny)
	guardMeta.RawSetString("__metatable", lua.LFalse)
	L.SetMetatable(guard, guardMeta)
	meta.RawSetString("__metatable", guard)
	L.SetMetatable(p, meta)
	v.protected[p] = true
	v.protected[guard] = true
	return p
}

func nonexistentGlobal(L *lua.LState) int {
	L.RaiseError("Script attempted to access nonexistent global variable '%s'", L.ToStringMeta(L.Get(2)).String())
	return 0
}

func (v *vm) setmetatable(L *lua.LState) int {
	if t, ok := L.Get(1).(*lua.LTable); ok && v.protected[t] {
		L.Error(lua.LString(errReadonly), 0)
	}
	L.CheckTypes(2, lua.LTNil, lua.LTTable)
	obj := L.Get(1)
	if obj == lua.LNil {
		L.RaiseError("cannot set metatable to a nil object.")
	}
	if m, ok := L.GetMetatable(obj).(*lua.LTable); ok && m.RawGetString("__metatable") != lua.LNil {
		L.RaiseError("cannot change a protected metatable")
	}
	L.SetMetatable(obj, L.Get(2))
	L.SetTop(1)
	return 1
}

func (v *vm) rawset(L *lua.LState) int {
	t := L.CheckTable(1)
	if v.protected[t] || t == v.globals {
		L.Error(lua.LString(errReadonly), 0)
	}
	L.RawSet(t, L.CheckAny(2), L.CheckAny(3))
	L.SetTop(1)
	return 1
}

// luaPcall is Redis's pcall: an error raised as a Redis error table is returned as its
// message, so scripts written for older Redis keep working.
func luaPcall(L *lua.LState) int {
	L.CheckAny(1)
	nargs := L.GetTop() - 1
	if err := L.PCall(nargs, lua.MultRet, nil); err != nil {
		obj := lua.LValue(lua.LString(err.Error()))
		var apiErr *lua.ApiError
		if errors.As(err, &apiErr) {
			obj = apiErr.Object
		}
		if t, ok := obj.(*lua.LTable); ok {
			if msg, ok := t.RawGetString("err").(lua.LString); ok {
				obj = msg
			}
		}
		L.SetTop(0)
		L.Push(lua.LFalse)
		L.Push(obj)
		return 2
	}
	L.Insert(lua.LTrue, 1)
	return L.GetTop()
}

// errorHandler turns what a failing script raised into a Redis error table with the
// place of the failure, as Redis's __redis__err__handler does.
func errorHandler(L *lua.LState) int {
	errv := L.Get(1)
	t, ok := errv.(*lua.LTable)
	if !ok {
		t = L.NewTable()
		t.RawSetString("err", lua.LString("ERR "+L.ToStringMeta(errv).String()))
	}
	for level := 0; ; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
			break
		}
		if dbg.What == "G" || dbg.CurrentLine <= 0 {
			continue
		}
		if t.RawGetString("source") == lua.LNil {
			t.RawSetString("source", lua.LString("@"+dbg.Source))
			t.RawSetString("line", lua.LNumber(dbg.CurrentLine))
		}
		break
	}
	L.Push(t)
	return 1
}

// pushError raises (or, for pcall, returns) a Redis error table. msg is a Redis
// error reply without the '-': "ERR ...", "WRONGTYPE ...".
func errorTable(L *lua.LState, msg string) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("err", lua.LString(msg))
	return t
}

// redisErrorMessage is Redis's luaPushErrorBuff: the code is the first word of a
// "-CODE message" reply (ERR when there is no code) and line breaks are trimmed.
func redisErrorMessage(s string, dashed bool) string {
	if dashed {
		s = s[1:]
		code, msg := "ERR", s
		for i := 0; i < len(s); i++ {
			if s[i] == ' ' {
				code, msg = s[:i], s[i+1:]
				break
			}
		}
		return code + " " + trimCRLF(msg)
	}
	return "ERR " + trimCRLF(s)
}

func trimCRLF(s string) string {
	for len(s) > 0 && (s[0] == '\r' || s[0] == '\n') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == '\r' || s[len(s)-1] == '\n') {
		s = s[:len(s)-1]
	}
	return s
}

func redisSha1hex(L *lua.LState) int {
	if L.GetTop() != 1 {
		L.Error(errorTable(L, "ERR wrong number of arguments"), 0)
	}
	sum := sha1.Sum([]byte(L.ToString(1)))
	L.Push(lua.LString(hex.EncodeToString(sum[:])))
	return 1
}

func redisErrorReply(L *lua.LState) int {
	if L.GetTop() != 1 || L.Get(1).Type() != lua.LTString {
		L.Push(errorTable(L, "ERR wrong number or type of arguments"))
		return 1
	}
	s := L.ToString(1)
	if len(s) == 0 || s[0] != '-' {
		s = "-" + s
	}
	L.Push(errorTable(L, redisErrorMessage(s, true)))
	return 1
}

func redisStatusReply(L *lua.LState) int {
	if L.GetTop() != 1 || L.Get(1).Type() != lua.LTString {
		L.Push(errorTable(L, "ERR wrong number or type of arguments"))
		return 1
	}
	t := L.NewTable()
	t.RawSetString("ok", L.Get(1))
	L.Push(t)
	return 1
}

func (v *vm) redisLog(L *lua.LState) int {
	argc := L.GetTop()
	if argc < 2 {
		L.Error(errorTable(L, "ERR redis.log() requires two arguments or more."), 0)
	}
	n, ok := L.Get(1).(lua.LNumber)
	if !ok {
		if s, isStr := L.Get(1).(lua.LString); isStr {
			if f, err := strconv.ParseFloat(string(s), 64); err == nil {
				n, ok = lua.LNumber(f), true
			}
		}
	}
	if !ok {
		L.Error(errorTable(L, "ERR First argument must be a number (log level)."), 0)
	}
	level := int(n)
	if level < logDebug || level > logWarning {
		L.Error(errorTable(L, "ERR Invalid debug level."), 0)
	}
	var msg []byte
	for i := 2; i <= argc; i++ {
		switch a := L.Get(i).(type) {
		case lua.LString, lua.LNumber:
			if i != 2 {
				msg = append(msg, ' ')
			}
			msg = append(msg, lua.LVAsString(a)...)
		}
	}
	lvl := slog.LevelInfo
	switch level {
	case logDebug, logVerbose:
		lvl = slog.LevelDebug
	case logWarning:
		lvl = slog.LevelWarn
	}
	v.s.log.Log(context.Background(), lvl, string(msg), "source", "lua")
	return 0
}

func (v *vm) redisSetresp(L *lua.LState) int {
	r := v.run
	if r == nil {
		L.Error(errorTable(L, "ERR redis.setresp can only be called inside a script invocation"), 0)
	}
	if L.GetTop() != 1 {
		L.Error(errorTable(L, "ERR redis.setresp() requires one argument."), 0)
	}
	n := int(luaToNumber(L.Get(1)))
	if n != 2 && n != 3 {
		L.Error(errorTable(L, "ERR RESP version must be 2 or 3."), 0)
	}
	r.w.SetProto(n)
	return 0
}

// redisSetRepl accepts the flags and keeps them: in Redis 7.0 scripts always replicate
// their effects, and set_repl only chooses where (AOF, replicas) they go. kv's single
// effect stream feeds both, so REPL_NONE/AOF/REPLICA are recorded but not split.
func (v *vm) redisSetRepl(L *lua.LState) int {
	r := v.run
	if r == nil {
		L.Error(errorTable(L, "ERR redis.set_repl can only be called inside a script invocation"), 0)
	}
	if L.GetTop() != 1 {
		L.Error(errorTable(L, "ERR redis.set_repl() requires two arguments."), 0)
	}
	flags := int(luaToNumber(L.Get(1)))
	if flags&^replAll != 0 {
		L.Error(errorTable(L, "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."), 0)
	}
	r.replFlags = flags
	return 0
}

// redisACLCheckCmd answers whether the caller may run a command. kv has no ACL users
// yet, so every existing command is allowed.
func (v *vm) redisACLCheckCmd(L *lua.LState) int {
	if v.run == nil {
		L.Error(errorTable(L, "ERR redis.acl_check_cmd can only be called inside a script invocation"), 0)
	}
	args, errMsg := luaArgs(L)
	if errMsg != "" {
		L.Error(errorTable(L, errMsg), 0)
	}
	if v.s.e.Commands().Lookup(args[0]) == nil {
		L.Error(errorTable(L, "ERR Invalid command passed to redis.acl_check_cmd()"), 0)
	}
	L.Push(lua.LTrue)
	return 1
}

func luaToNumber(lv lua.LValue) float64 {
	switch x := lv.(type) {
	case lua.LNumber:
		return float64(x)
	case lua.LString:
		f, err := strconv.ParseFloat(string(x), 64)
		if err == nil {
			return f
		}
	}
	return 0
}

// The PRNG behind math.random is Redis's redisLrand48: the 48-bit linear congruential
// generator of lrand48, seeded as Redis seeds it, so scripts see Redis's sequence.
type lrand48 struct{ x uint64 }

const lrand48Max = math.MaxInt32

func (r *lrand48) seed(s int32) { r.x = uint64(uint32(s))<<16 | 0x330E }
func (r *lrand48) next() int32 {
	r.x = (0x5DEECE66D*r.x + 0xB) & (1<<48 - 1)
	return int32(r.x >> 17)
}

func (v *vm) mathRandom(L *lua.LState) int {
	if v.run == nil {
		L.RaiseError("math.random can only be called inside a script invocation")
	}
	r := float64(v.s.rand.next()%lrand48Max) / float64(lrand48Max)
	switch L.GetTop() {
	case 0:
		L.Push(lua.LNumber(r))
	case 1:
		u := L.CheckInt(1)
		if u < 1 {
			L.ArgError(1, "interval is empty")
		}
		L.Push(lua.LNumber(math.Floor(r*float64(u)) + 1))
	case 2:
		l, u := L.CheckInt(1), L.CheckInt(2)
		if l > u {
			L.ArgError(2, "interval is empty")
		}
		L.Push(lua.LNumber(math.Floor(r*float64(u-l+1)) + float64(l)))
	default:
		L.RaiseError("wrong number of arguments")
	}
	return 1
}

func (v *vm) mathRandomseed(L *lua.LState) int {
	if v.run == nil {
		L.RaiseError("math.randomseed can only be called inside a script invocation")
	}
	v.s.rand.seed(int32(luaCheckInt(L, 1)))
	return 0
}

// killContext is the context the VM checks between instructions: SCRIPT KILL closes
// ch, and the interpreter raises an error at the next instruction (and again after
// every pcall that catches it), so the script cannot swallow the kill.
type killContext struct{ ch chan struct{} }

var errKilled = errors.New("Script killed by user with SCRIPT KILL...")

func (k *killContext) Deadline() (time.Time, bool) { return time.Time{}, false }
func (k *killContext) Done() <-chan struct{}       { return k.ch }
func (k *killContext) Value(any) any               { return nil }
func (k *killContext) Err() error {
	select {
	case <-k.ch:
		return errKilled
	default:
		return nil
	}
}

// luaCheckInt is luaL_checkint: a number, or a string that converts to one.
func luaCheckInt(L *lua.LState, i int) int {
	if s, ok := L.Get(i).(lua.LString); ok {
		if f, err := strconv.ParseFloat(strings.TrimSpace(string(s)), 64); err == nil {
			return int(f)
		}
	}
	return L.CheckInt(i)
}
