package scripting

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sort"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"kv/engine"
	"kv/glob"
	"kv/rdb"
	"kv/resp"
)

// libraries is the function registry: libraries by name and their functions by
// lower-cased name (function names are global across libraries and matched without
// case, as in Redis).
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
	desc  *string
	flags scriptFlags
	lib   *library
	fn    *lua.LFunction
}

// loadingLib is the library whose top-level code is running (FUNCTION LOAD), which
// redis.register_function adds to.
type loadingLib struct {
	lib   *library
	start time.Time
}

func newLibraries() *libraries {
	return &libraries{byName: map[string]*library{}, funcs: map[string]*function{}}
}

// loadTimeout bounds a library's top-level code, Redis's LOAD_TIMEOUT_MS.
const loadTimeout = 500 * time.Millisecond

func (s *Scripting) functionCommand() *engine.Command {
	sub := func(name string, arity int, flags engine.Flag, summary, syntax string, h engine.Handler) *engine.Command {
		return &engine.Command{Name: "function|" + name, Arity: arity, Flags: flags, ACL: []string{"slow", "scripting"},
			Group: "scripting", Since: "7.0.0", Summary: summary, Syntax: syntax, Handler: h}
	}
	ns := engine.FlagNoscript
	return container(&engine.Command{Name: "function", Arity: -2, Group: "scripting", Since: "7.0.0",
		Summary: "A container for function commands"},
		sub("load", -3, ns|engine.FlagWrite|engine.FlagDenyOOM, "Create a function with the given arguments (name, code, description)",
			"[REPLACE] function-code", s.cmdFunctionLoad),
		sub("delete", 3, ns|engine.FlagWrite, "Delete a function by name", "library-name", s.cmdFunctionDelete),
		sub("flush", -2, ns|engine.FlagWrite, "Deleting all functions", "[ASYNC|SYNC]", s.cmdFunctionFlush),
		sub("list", -2, ns, "List information about all the functions", "[LIBRARYNAME library-name-pattern] [WITHCODE]", s.cmdFunctionList),
		sub("dump", 2, ns, "Dump all functions into a serialized binary payload", "", s.cmdFunctionDump),
		sub("restore", -3, ns|engine.FlagWrite|engine.FlagDenyOOM, "Restore all the functions on the given payload",
			"serialized-value [FLUSH|APPEND|REPLACE]", s.cmdFunctionRestore),
		sub("stats", 2, ns|engine.FlagAllowBusy, "Return information about the function currently running (name, description, duration)", "",
			s.cmdFunctionStats),
		sub("kill", 2, ns|engine.FlagAllowBusy, "Kill the function currently in execution.", "", s.cmdFunctionKill),
		sub("help", 2, engine.FlagLoading|engine.FlagStale, "Show helpful text about the different subcommands", "", s.cmdFunctionHelp),
	)
}

// Libraries lists the loaded libraries by name (engine.FunctionStore, for the RDB).
func (s *Scripting) Libraries() []engine.Library {
	out := make([]engine.Library, 0, len(s.libs.byName))
	for _, l := range s.libs.byName {
		out = append(out, engine.Library{Name: l.name, Code: l.code})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LoadLibrary compiles and adds a library (engine.FunctionStore, for the RDB and AOF).
func (s *Scripting) LoadLibrary(code string, replace bool) error {
	_, err := s.createLibrary(s.libs, code, replace, 0)
	s.countLibraries()
	return err
}

// FlushLibraries removes every library.
func (s *Scripting) FlushLibraries() {
	s.libs = newLibraries()
	s.resetFunctionVM()
	s.countLibraries()
}

// countLibraries publishes the registry's size for FUNCTION STATS while busy.
func (s *Scripting) countLibraries() {
	s.libCount.Store(int64(len(s.libs.byName)))
	s.funcCount.Store(int64(len(s.libs.funcs)))
}

func validName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

const errBadName = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"

// libraryMetadata parses the "#!lua name=<lib>" shebang.
func libraryMetadata(code string) (engineName, name string, body string, err error) {
	if !strings.HasPrefix(code, "#!") {
		return "", "", "", errors.New("Missing library metadata")
	}
	end := strings.IndexByte(code, '\n')
	if end < 0 {
		return "", "", "", errors.New("Invalid library metadata")
	}
	parts, perr := resp.SplitArgs([]byte(code[:end]))
	if perr != nil || len(parts) == 0 {
		return "", "", "", errors.New("Invalid library metadata")
	}
	engineName = string(parts[0][2:])
	gotName := false
	for _, p := range parts[1:] {
		if len(p) >= 5 && strings.EqualFold(string(p[:5]), "name=") {
			if gotName {
				return "", "", "", errors.New("Invalid metadata value, name argument was given multiple times")
			}
			name, gotName = string(p[5:]), true
			continue
		}
		return "", "", "", errors.New("Invalid metadata value given: " + string(p))
	}
	if !gotName {
		return "", "", "", errors.New("Library name was not given")
	}
	return engineName, name, code[end:], nil
}

// createLibrary compiles code, runs its top-level code to collect its functions and
// links the library into libs. timeout 0 means no limit (loading a snapshot).
func (s *Scripting) createLibrary(libs *libraries, code string, replace bool, timeout time.Duration) (string, error) {
	engineName, name, body, err := libraryMetadata(code)
	if err != nil {
		return "", err
	}
	if !validName(name) {
		return "", errors.New(errBadName)
	}
	if !strings.EqualFold(engineName, "LUA") {
		return "", errors.New("Engine '" + engineName + "' not found")
	}
	old := libs.byName[name]
	if old != nil && !replace {
		return "", errors.New("Library '" + name + "' already exists")
	}
	lib := &library{name: name, code: code, funcs: map[string]*function{}}
	if err := s.fnVM.loadLibrary(lib, body, timeout); err != nil {
		return "", err
	}
	if len(lib.funcs) == 0 {
		return "", errors.New("No functions registered")
	}
	for fname := range lib.funcs {
		if f := libs.funcs[strings.ToLower(fname)]; f != nil && f.lib != old {
			return "", errors.New("Function " + fname + " already exists")
		}
	}
	if old != nil {
		for fname := range old.funcs {
			delete(libs.funcs, strings.ToLower(fname))
		}
	}
	libs.byName[name] = lib
	for fname, f := range lib.funcs {
		libs.funcs[strings.ToLower(fname)] = f
	}
	return name, nil
}

// loadLibrary runs a library's top-level code with the load-time globals, so that it
// can only register functions.
func (v *vm) loadLibrary(lib *library, body string, timeout time.Duration) error {
	L := v.L
	fn, err := L.Load(strings.NewReader(body), "user_function")
	if err != nil {
		return errors.New("Error compiling function: " + compileError(err))
	}
	v.envMeta.RawSetString("__index", v.loadAPI)
	v.loading = &loadingLib{lib: lib, start: time.Now()}
	var timer *time.Timer
	kill := &killContext{ch: make(chan struct{})}
	if timeout > 0 {
		timer = time.AfterFunc(timeout, func() { close(kill.ch) })
		L.SetContext(kill)
	}
	L.Push(fn)
	err = L.PCall(0, 0, nil)
	if timer != nil {
		timer.Stop()
		L.RemoveContext()
	}
	v.loading = nil
	v.envMeta.RawSetString("__index", v.globals)
	if err != nil {
		if kill.Err() != nil {
			return errors.New("Error registering functions: FUNCTION LOAD timeout")
		}
		return errors.New("Error registering functions: " + luaErrorMessage(err))
	}
	return nil
}

// luaErrorMessage is Redis's luaExtractErrorInformation: a table's err field, or
// "ERR " and the message.
func luaErrorMessage(err error) string {
	var apiErr *lua.ApiError
	if errors.As(err, &apiErr) {
		if t, ok := apiErr.Object.(*lua.LTable); ok {
			if m, ok := t.RawGetString("err").(lua.LString); ok {
				return string(m)
			}
		}
		if s, ok := apiErr.Object.(lua.LString); ok {
			return "ERR " + string(s)
		}
	}
	return "ERR " + err.Error()
}

// registerFunction is redis.register_function, positional (name, callback) or named
// ({function_name=, callback=, flags=, description=}).
func (v *vm) registerFunction(L *lua.LState) int {
	ld := v.loading
	if ld == nil {
		L.Error(errorTable(L, "ERR redis.register_function can only be called on FUNCTION LOAD command"), 0)
	}
	fail := func(msg string) { L.Error(errorTable(L, "ERR "+msg), 0) }
	f := &function{lib: ld.lib}
	switch L.GetTop() {
	case 1:
		t, ok := L.Get(1).(*lua.LTable)
		if !ok {
			fail("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).")
		}
		var ferr string
		gotName := false
		t.ForEach(func(k, val lua.LValue) {
			if ferr != "" {
				return
			}
			ks, ok := k.(lua.LString)
			if !ok {
				if _, isNum := k.(lua.LNumber); !isNum {
					ferr = "named argument key given to redis.register_function is not a string"
					return
				}
				ks = lua.LString(lua.LVAsString(k))
			}
			switch strings.ToLower(string(ks)) {
			case "function_name":
				if !isLuaString(val) {
					ferr = "function_name argument given to redis.register_function must be a string"
					return
				}
				f.name, gotName = lua.LVAsString(val), true
			case "description":
				if !isLuaString(val) {
					ferr = "description argument given to redis.register_function must be a string"
					return
				}
				d := lua.LVAsString(val)
				f.desc = &d
			case "callback":
				fn, ok := val.(*lua.LFunction)
				if !ok {
					ferr = "callback argument given to redis.register_function must be a function"
					return
				}
				f.fn = fn
			case "flags":
				ft, ok := val.(*lua.LTable)
				if !ok {
					ferr = "flags argument to redis.register_function must be a table representing function flags"
					return
				}
				flags, ok := readFlags(ft)
				if !ok {
					ferr = "unknown flag given"
					return
				}
				f.flags = flags
			default:
				ferr = "unknown argument given to redis.register_function"
			}
		})
		if ferr != "" {
			fail(ferr)
		}
		if !gotName {
			fail("redis.register_function must get a function name argument")
		}
		if f.fn == nil {
			fail("redis.register_function must get a callback argument")
		}
	case 2:
		if !isLuaString(L.Get(1)) {
			fail("first argument to redis.register_function must be a string")
		}
		fn, ok := L.Get(2).(*lua.LFunction)
		if !ok {
			fail("second argument to redis.register_function must be a function")
		}
		f.name, f.fn = lua.LVAsString(L.Get(1)), fn
	default:
		fail("wrong number of arguments to redis.register_function")
	}
	if !validName(f.name) {
		fail(errBadName)
	}
	if ld.lib.funcs[f.name] != nil {
		fail("Function already exists in the library")
	}
	ld.lib.funcs[f.name] = f
	return 0
}

func isLuaString(v lua.LValue) bool {
	switch v.(type) {
	case lua.LString, lua.LNumber:
		return true
	}
	return false
}

func readFlags(t *lua.LTable) (scriptFlags, bool) {
	var flags scriptFlags
	for i := 1; ; i++ {
		v := t.RawGetInt(i)
		if v == lua.LNil {
			return flags, true
		}
		if !isLuaString(v) {
			return 0, false
		}
		found := false
		for _, fn := range flagNames {
			if strings.EqualFold(fn.name, lua.LVAsString(v)) {
				flags |= fn.f
				found = true
				break
			}
		}
		if !found {
			return 0, false
		}
	}
}

func (s *Scripting) cmdFunctionLoad(c *engine.Ctx) {
	replace := false
	i := 2
	for ; i < len(c.Args)-1; i++ {
		if !c.Is(i, "replace") {
			c.Error("ERR Unknown option given: " + string(c.Args[i]))
			return
		}
		replace = true
	}
	if i >= len(c.Args) {
		c.Error("ERR Function code is missing")
		return
	}
	timeout := loadTimeout
	if c.FromMaster {
		timeout = 0
	}
	name, err := s.createLibrary(s.libs, string(c.Args[i]), replace, timeout)
	s.countLibraries()
	if err != nil {
		c.Error("ERR " + err.Error())
		return
	}
	c.AddDirty(1)
	c.W.BulkString(name)
}

func (s *Scripting) cmdFunctionDelete(c *engine.Ctx) {
	lib := s.libs.byName[string(c.Args[2])]
	if lib == nil {
		c.Error("ERR Library not found")
		return
	}
	for fname := range lib.funcs {
		delete(s.libs.funcs, strings.ToLower(fname))
	}
	delete(s.libs.byName, lib.name)
	s.countLibraries()
	c.AddDirty(1)
	c.W.OK()
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

func (s *Scripting) cmdFunctionList(c *engine.Ctx) {
	withCode := false
	var pattern []byte
	for i := 2; i < len(c.Args); i++ {
		switch {
		case !withCode && c.Is(i, "withcode"):
			withCode = true
		case pattern == nil && c.Is(i, "libraryname"):
			if i >= len(c.Args)-1 {
				c.Error("ERR library name argument was not given")
				return
			}
			i++
			pattern = c.Args[i]
		default:
			c.Error("ERR Unknown argument " + string(c.Args[i]))
			return
		}
	}
	libs := make([]*library, 0, len(s.libs.byName))
	for _, l := range s.libs.byName {
		if pattern == nil || glob.Match(pattern, []byte(l.name), false) {
			libs = append(libs, l)
		}
	}
	sort.Slice(libs, func(i, j int) bool { return libs[i].name < libs[j].name })
	w := c.W
	w.Array(len(libs))
	for _, l := range libs {
		if withCode {
			w.Map(4)
		} else {
			w.Map(3)
		}
		w.BulkString("library_name")
		w.BulkString(l.name)
		w.BulkString("engine")
		w.BulkString("LUA")
		w.BulkString("functions")
		fns := make([]*function, 0, len(l.funcs))
		for _, f := range l.funcs {
			fns = append(fns, f)
		}
		sort.Slice(fns, func(i, j int) bool { return fns[i].name < fns[j].name })
		w.Array(len(fns))
		for _, f := range fns {
			w.Map(3)
			w.BulkString("name")
			w.BulkString(f.name)
			w.BulkString("description")
			if f.desc != nil {
				w.BulkString(*f.desc)
			} else {
				w.Null()
			}
			w.BulkString("flags")
			n := 0
			for _, fl := range flagNames {
				if f.flags&fl.f != 0 {
					n++
				}
			}
			w.Set(n)
			for _, fl := range flagNames {
				if f.flags&fl.f != 0 {
					w.Simple(fl.name)
				}
			}
		}
		if withCode {
			w.BulkString("library_code")
			w.BulkString(l.code)
		}
	}
}

// rdbVersion is the RDB version FUNCTION DUMP payloads carry (Redis 7.0's).
const rdbVersion = 10

// cmdFunctionDump writes the libraries as Redis does: each as RDB_OPCODE_FUNCTION2 and
// its code, then the RDB version (2 bytes) and a CRC64 (8 bytes), both little endian.
func (s *Scripting) cmdFunctionDump(c *engine.Ctx) {
	var buf bytes.Buffer
	enc := rdb.NewEncoder(&buf, true)
	for _, l := range s.Libraries() {
		enc.Byte(245) // RDB_OPCODE_FUNCTION2
		enc.String([]byte(l.Code))
	}
	if err := enc.Flush(); err != nil {
		c.Error("ERR " + err.Error())
		return
	}
	payload := buf.Bytes()
	payload = binary.LittleEndian.AppendUint16(payload, rdbVersion)
	payload = binary.LittleEndian.AppendUint64(payload, rdb.CRC64(0, payload))
	c.W.Bulk(payload)
}

func (s *Scripting) cmdFunctionRestore(c *engine.Ctx) {
	if len(c.Args) > 4 {
		subcommandSyntaxError(c)
		return
	}
	policy := "append"
	if len(c.Args) == 4 {
		switch {
		case c.Is(3, "append"), c.Is(3, "replace"), c.Is(3, "flush"):
			policy = c.Arg(3)
		default:
			c.Error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
			return
		}
	}
	data := c.Args[2]
	if len(data) < 10 {
		c.Error("ERR DUMP payload version or checksum are wrong")
		return
	}
	footer := data[len(data)-10:]
	ver := binary.LittleEndian.Uint16(footer[:2])
	if ver > rdbVersion || binary.LittleEndian.Uint64(footer[2:]) != rdb.CRC64(0, data[:len(data)-8]) {
		c.Error("ERR DUMP payload version or checksum are wrong")
		return
	}
	body := data[:len(data)-10]
	var codes []string
	dec := rdb.NewDecoder(bytes.NewReader(body))
	for dec.Offset() < int64(len(body)) {
		op, err := dec.Byte("type")
		if err != nil {
			c.Error("ERR can not read data type")
			return
		}
		if op != 245 {
			c.Error("ERR given type is not a function")
			return
		}
		code, err := dec.String()
		if err != nil {
			c.Error("ERR failed loading the given functions payload")
			return
		}
		codes = append(codes, string(code))
	}
	// Compile into a scratch registry first, so a failure leaves the current one as it was.
	scratch := newLibraries()
	for _, code := range codes {
		if _, err := s.createLibrary(scratch, code, false, 0); err != nil {
			c.Error("ERR " + err.Error())
			return
		}
	}
	switch policy {
	case "flush":
		s.libs = scratch
	default:
		for name := range scratch.byName {
			if s.libs.byName[name] != nil && policy == "append" {
				c.Error("ERR Library " + name + " already exists")
				return
			}
		}
		for fname, f := range scratch.funcs {
			if old := s.libs.funcs[fname]; old != nil && scratch.byName[old.lib.name] == nil {
				c.Error("ERR Function " + f.name + " already exists")
				return
			}
		}
		for name, l := range scratch.byName {
			if old := s.libs.byName[name]; old != nil {
				for fname := range old.funcs {
					delete(s.libs.funcs, strings.ToLower(fname))
				}
			}
			s.libs.byName[name] = l
			for fname, f := range l.funcs {
				s.libs.funcs[fname] = f
			}
		}
	}
	s.countLibraries()
	c.AddDirty(1)
	c.W.OK()
}

func (s *Scripting) cmdFunctionStats(c *engine.Ctx) {
	s.writeFunctionStats(c.W, nil)
}

// writeFunctionStats is FUNCTION STATS; r is the running function when called while
// busy (without the engine lock), nil otherwise.
func (s *Scripting) writeFunctionStats(w *resp.Writer, r *run) {
	w.Map(2)
	w.BulkString("running_script")
	if r == nil {
		w.Null()
	} else {
		w.Map(3)
		w.BulkString("name")
		w.BulkString(r.name)
		w.BulkString("command")
		w.Array(len(r.args))
		for _, a := range r.args {
			w.Bulk(a)
		}
		w.BulkString("duration_ms")
		w.Int(time.Now().UnixMilli() - r.startMs)
	}
	w.BulkString("engines")
	w.Map(1)
	w.BulkString("LUA")
	w.Map(2)
	w.BulkString("libraries_count")
	w.Int(s.libCount.Load())
	w.BulkString("functions_count")
	w.Int(s.funcCount.Load())
}

func (s *Scripting) cmdFunctionKill(c *engine.Ctx) {
	c.Error("NOTBUSY No scripts in execution right now.")
}

func (s *Scripting) cmdFunctionHelp(c *engine.Ctx) {
	writeHelp(c, []string{
		"LOAD [REPLACE] <FUNCTION CODE>",
		"    Create a new library with the given library name and code.",
		"DELETE <LIBRARY NAME>",
		"    Delete the given library.",
		"LIST [LIBRARYNAME PATTERN] [WITHCODE]",
		"    Return general information on all the libraries:",
		"    * Library name",
		"    * The engine used to run the Library",
		"    * Library description",
		"    * Functions list",
		"    * Library code (if WITHCODE is given)",
		"    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
		"STATS",
		"    Return information about the current function running:",
		"    * Function name",
		"    * Command used to run the function",
		"    * Duration in MS that the function is running",
		"    If no function is running, return nil",
		"    In addition, returns a list of available engines.",
		"KILL",
		"    Kill the current running function.",
		"FLUSH [ASYNC|SYNC]",
		"    Delete all the libraries.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the libraries.",
		"    * SYNC: Synchronously flush the libraries.",
		"DUMP",
		"    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
		"RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
		"    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
		"    control how to handle existing libraries (default APPEND):",
		"    * FLUSH: delete all existing libraries.",
		"    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
		"    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
		"      libraries with the new libraries (notice that even on this option there is a chance of failure",
		"      in case of functions name collision with another library).",
	})
}

func (s *Scripting) fcall(c *engine.Ctx, ro bool) {
	c.FeedMonitors()
	f := s.libs.funcs[strings.ToLower(string(c.Args[1]))]
	if f == nil {
		c.Error("ERR Function not found")
		return
	}
	nkeys, ok := parseNumKeys(c, "ERR Bad number of keys provided")
	if !ok {
		return
	}
	s.call(c, s.fnVM, f.fn, f.name, f.flags, ro, c.Args[3:3+nkeys], c.Args[3+nkeys:])
}
