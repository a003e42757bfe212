package scripting

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"kv/engine"
	"kv/resp"
)

// run is one script or function invocation. The fields under "lock-free" are read by
// other connections while the engine is busy (SCRIPT KILL, FUNCTION STATS); everything
// else belongs to the goroutine running the script, under the engine lock.
type run struct {
	vm     *vm
	caller *engine.Ctx
	ctx    *engine.Ctx  // the script's own context for redis.call
	w      *resp.Writer // replies of redis.call, in the script's RESP version
	flags  scriptFlags  // declared flags (flagEvalCompat for plain EVAL)
	ro     bool         // EVAL_RO, FCALL_RO or no-writes
	// allowOOM lets deny-oom commands run over maxmemory (the allow-oom flag).
	allowOOM bool
	args     [][]byte    // the caller's command, for FUNCTION STATS
	timer    *time.Timer // turns the engine busy after busy-reply-threshold
	start    time.Time
	// replFlags are what redis.set_repl chose; kv always propagates effects.
	replFlags int

	// lock-free
	eval    bool
	name    string
	startMs int64
	wrote   atomic.Bool // a write command ran: SCRIPT KILL can no longer stop it
	killed  atomic.Bool
	killCh  chan struct{}
	mu      sync.Mutex // orders the busy timer against the end of the run
	ended   bool
}

// kill asks the script to stop. It returns the error to reply with, or "" for OK.
// Called without the engine lock by a connection while the engine is busy.
func (r *run) kill(byEval bool) string {
	if r.wrote.Load() {
		return "UNKILLABLE Sorry the script already executed write commands against the dataset. " +
			"You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
	}
	if byEval && !r.eval {
		return engine.ErrBusyFunction
	}
	if !byEval && r.eval {
		return engine.ErrBusyEval
	}
	if r.killed.CompareAndSwap(false, true) {
		close(r.killCh)
	}
	return ""
}

// call runs fn (already compiled in v) for the command in c: keys and args become KEYS
// and ARGV (EVAL) or the function's two arguments (FCALL). The reply goes to c.W.
func (s *Scripting) call(c *engine.Ctx, v *vm, fn *lua.LFunction, name string, flags scriptFlags, ro bool,
	keys, args [][]byte) {
	if !s.prepare(c, flags, ro) {
		return
	}
	r := s.newRun(c, v, name, flags, ro)
	L := v.L
	keysT := byteSliceTable(L, keys)
	argsT := byteSliceTable(L, args)
	L.Push(fn)
	nargs := 0
	if v.eval {
		v.globals.RawSetString("KEYS", keysT)
		v.globals.RawSetString("ARGV", argsT)
	} else {
		L.Push(keysT)
		L.Push(argsT)
		nargs = 2
	}
	err := L.PCall(nargs, 1, v.errHandler)
	s.endRun(r)
	if r.killed.Load() {
		L.SetTop(0)
		c.Error("ERR Script killed by user with SCRIPT KILL... script: " + name + ", on @" + scriptSource(v) + ":" +
			strconv.Itoa(lineOf(err)) + ".")
		s.finishRun(r)
		return
	}
	if err != nil {
		var apiErr *lua.ApiError
		var obj lua.LValue = lua.LString(err.Error())
		if errors.As(err, &apiErr) {
			obj = apiErr.Object
		}
		L.SetTop(0)
		if t, ok := obj.(*lua.LTable); ok {
			msg := "ERR unknown error"
			if m, ok := t.RawGetString("err").(lua.LString); ok {
				msg = string(m)
			}
			if src, ok := t.RawGetString("source").(lua.LString); ok {
				msg += " script: " + name + ", on " + string(src) + ":" + lua.LVAsString(t.RawGetString("line")) + "."
			}
			c.Error(msg)
		} else {
			msg := "execution failure"
			if s, ok := obj.(lua.LString); ok {
				msg = string(s)
			}
			if len(msg) > 100 {
				msg = msg[:100]
			}
			c.Error("ERR Error running script " + name + ", " + msg)
		}
	} else {
		ret := L.Get(-1)
		L.Pop(1)
		writeLuaReply(c.W, ret, r.w.Proto(), 0)
	}
	s.finishRun(r)
}

func scriptSource(v *vm) string {
	if v.eval {
		return "user_script"
	}
	return "user_function"
}

// lineOf digs the line of a kill out of the interpreter's message ("user_script:3: ...").
func lineOf(err error) int {
	var apiErr *lua.ApiError
	if errors.As(err, &apiErr) {
		if t, ok := apiErr.Object.(*lua.LTable); ok {
			if n, ok := t.RawGetString("line").(lua.LNumber); ok {
				return int(n)
			}
		}
	}
	return 1
}

// prepare checks what Redis checks before a script with declared flags runs.
func (s *Scripting) prepare(c *engine.Ctx, flags scriptFlags, ro bool) bool {
	if flags&flagEvalCompat != 0 {
		return true
	}
	// Redis derives EVAL's and FCALL's command flags from the script's: without
	// allow-oom or no-writes the call is deny-oom and refused before it runs.
	if flags&(flagAllowOOM|flagNoWrites) == 0 && !c.FromMaster && c.E.OOMAtCommandStart() {
		c.Error(engine.ErrOOM)
		return false
	}
	if flags&flagNoWrites == 0 {
		if c.E.Replica && !c.FromMaster {
			c.Error("READONLY Can not run script with write flag on readonly replica")
			return false
		}
		if ro {
			c.Error("ERR Can not execute a script with write flag using *_ro command.")
			return false
		}
	}
	return true
}

func (s *Scripting) newRun(c *engine.Ctx, v *vm, name string, flags scriptFlags, ro bool) *run {
	r := &run{vm: v, caller: c, ctx: s.sctx, w: s.sw, flags: flags, eval: v.eval, name: name,
		args: c.Args, start: time.Now(), startMs: time.Now().UnixMilli(), replFlags: replAll}
	r.ro = ro || (flags&flagEvalCompat == 0 && flags&flagNoWrites != 0)
	r.allowOOM = flags&flagEvalCompat == 0 && flags&flagAllowOOM != 0
	r.w.Reset()
	r.w.SetProto(2)
	sc := r.ctx
	sc.DB = c.DB
	sc.Client = c.Client
	sc.FromMaster = c.FromMaster
	sc.FixTime(c.Now)
	r.killCh = v.kill.ch
	v.run = r
	v.L.SetContext(&v.kill)
	s.current.Store(r)
	if ms := c.E.Settings.BusyReplyThreshold; ms > 0 {
		kind := engine.BusyFunction
		if v.eval {
			kind = engine.BusyEval
		}
		r.timer = time.AfterFunc(time.Duration(ms)*time.Millisecond, func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.ended {
				return
			}
			cmd := "FUNCTION KILL"
			if r.eval {
				cmd = "SCRIPT KILL"
			}
			s.log.Warn("Slow script detected: still in execution after " + strconv.FormatInt(ms, 10) +
				" milliseconds. You can try killing the script using the " + cmd + " command. Script name is: " + r.name + ".")
			c.E.SetBusy(kind)
		})
	}
	return r
}

// endRun stops the busy timer and leaves busy mode; after it no other goroutine
// looks at r.
func (s *Scripting) endRun(r *run) {
	if r.timer != nil {
		r.timer.Stop()
	}
	r.mu.Lock()
	r.ended = true
	r.mu.Unlock()
	s.current.Store(nil)
	r.caller.E.ClearBusy()
}

func (s *Scripting) finishRun(r *run) {
	v := r.vm
	v.L.RemoveContext()
	if r.killed.Load() {
		v.kill.ch = make(chan struct{})
	}
	v.run = nil
	r.ctx.UnfixTime()
	r.ctx.Client = nil
	if v.eval {
		v.globals.RawSetString("KEYS", lua.LNil)
		v.globals.RawSetString("ARGV", lua.LNil)
	}
}

func byteSliceTable(L *lua.LState, items [][]byte) *lua.LTable {
	t := L.CreateTable(len(items), 0)
	for _, it := range items {
		t.Append(lua.LString(it))
	}
	return t
}
