package scripting

import (
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"kv/resp"
)

// maxReplyDepth stands in for the C stack Redis's conversion recurses on: a table
// nested deeper (or one that contains itself) ends in an error element.
const maxReplyDepth = 7990

// writeLuaReply converts what a script returned into a reply, by Redis's rules: strings
// are bulk strings, numbers integers (truncated), true is 1 and false nil in RESP2
// (booleans in RESP3, after redis.setresp(3)), tables with err/ok/double/big_number/
// verbatim_string/map/set fields those types, other tables arrays up to the first nil.
func writeLuaReply(w *resp.Writer, v lua.LValue, scriptProto, depth int) {
	if depth > maxReplyDepth {
		w.Error("ERR reached lua stack limit")
		return
	}
	switch x := v.(type) {
	case lua.LString:
		w.BulkString(string(x))
	case lua.LBool:
		if scriptProto == 2 {
			if x {
				w.Int(1)
			} else {
				w.Null()
			}
			return
		}
		w.Bool(bool(x))
	case lua.LNumber:
		w.Int(luaNumberToInt(float64(x)))
	case *lua.LTable:
		writeLuaTable(w, x, scriptProto, depth)
	default:
		w.Null()
	}
}

// luaNumberToInt is C's (long long) cast on the platforms Redis runs on.
func luaNumberToInt(f float64) int64 {
	if math.IsNaN(f) || f >= 9.2233720368547758e18 || f < -9.2233720368547758e18 {
		return math.MinInt64
	}
	return int64(f)
}

func writeLuaTable(w *resp.Writer, t *lua.LTable, scriptProto, depth int) {
	if e, ok := t.RawGetString("err").(lua.LString); ok {
		w.Error(string(e))
		return
	}
	if s, ok := t.RawGetString("ok").(lua.LString); ok {
		w.Simple(string(s))
		return
	}
	if d, ok := t.RawGetString("double").(lua.LNumber); ok {
		w.Double(float64(d))
		return
	}
	if b, ok := t.RawGetString("big_number").(lua.LString); ok {
		w.BigNumber(strings.NewReplacer("\r", " ", "\n", " ").Replace(string(b)))
		return
	}
	if vs, ok := t.RawGetString("verbatim_string").(*lua.LTable); ok {
		f, fok := vs.RawGetString("format").(lua.LString)
		s, sok := vs.RawGetString("string").(lua.LString)
		if fok && sok {
			w.Verbatim(string(f), string(s))
			return
		}
	}
	if m, ok := t.RawGetString("map").(*lua.LTable); ok {
		d := w.DeferLen()
		n := 0
		m.ForEach(func(k, v lua.LValue) {
			writeLuaReply(w, k, scriptProto, depth+1)
			writeLuaReply(w, v, scriptProto, depth+1)
			n++
		})
		w.SetMap(d, n)
		return
	}
	if set, ok := t.RawGetString("set").(*lua.LTable); ok {
		d := w.DeferLen()
		n := 0
		set.ForEach(func(k, _ lua.LValue) {
			writeLuaReply(w, k, scriptProto, depth+1)
			n++
		})
		w.SetSet(d, n)
		return
	}
	d := w.DeferLen()
	n := 0
	for i := 1; ; i++ {
		v := t.RawGetInt(i)
		if v == lua.LNil {
			break
		}
		writeLuaReply(w, v, scriptProto, depth+1)
		n++
		if depth+1 > maxReplyDepth {
			break
		}
	}
	w.SetArray(d, n)
}
