package scripting

import (
	"encoding/binary"
	"math"

	lua "github.com/yuin/gopher-lua"
)

// The cmsgpack library as Redis ships it (lua-cmsgpack 0.4.0): pack, unpack,
// unpack_one, unpack_limit. Tables nested deeper than 16 encode as nil, which also
// makes self-referencing tables encodable, as in Redis.

const msgpackMaxNesting = 16

func openCmsgpack(L *lua.LState) int {
	mod := L.NewTable()
	for name, fn := range map[string]lua.LGFunction{
		"pack":         msgpackPack,
		"unpack":       func(L *lua.LState) int { return msgpackUnpack(L, 0, 0) },
		"unpack_one":   func(L *lua.LState) int { return msgpackUnpack(L, 1, L.OptInt(2, 0)) },
		"unpack_limit": func(L *lua.LState) int { return msgpackUnpack(L, L.OptInt(2, 0), L.OptInt(3, 0)) },
	} {
		mod.RawSetString(name, L.NewFunction(fn))
	}
	mod.RawSetString("_NAME", lua.LString("cmsgpack"))
	mod.RawSetString("_VERSION", lua.LString("lua-cmsgpack 0.4.0"))
	mod.RawSetString("_COPYRIGHT", lua.LString("Copyright (C) 2012, Salvatore Sanfilippo"))
	mod.RawSetString("_DESCRIPTION", lua.LString("MessagePack C implementation for Lua"))
	L.SetGlobal("cmsgpack", mod)
	L.Push(mod)
	return 1
}

func msgpackPack(L *lua.LState) int {
	n := L.GetTop()
	if n == 0 {
		L.ArgError(0, "MessagePack pack needs input.")
	}
	var b []byte
	for i := 1; i <= n; i++ {
		b = msgpackEncode(b, L.Get(i), 0)
	}
	L.SetTop(0)
	L.Push(lua.LString(b))
	return 1
}

func msgpackEncode(b []byte, v lua.LValue, level int) []byte {
	switch x := v.(type) {
	case lua.LString:
		n := len(x)
		switch {
		case n < 32:
			b = append(b, 0xa0|byte(n))
		case n <= 0xff:
			b = append(b, 0xd9, byte(n))
		case n <= 0xffff:
			b = append(b, 0xda)
			b = binary.BigEndian.AppendUint16(b, uint16(n))
		default:
			b = append(b, 0xdb)
			b = binary.BigEndian.AppendUint32(b, uint32(n))
		}
		return append(b, x...)
	case lua.LBool:
		if x {
			return append(b, 0xc3)
		}
		return append(b, 0xc2)
	case lua.LNumber:
		f := float64(x)
		if !math.IsInf(f, 0) && f == math.Trunc(f) && f >= -9.2233720368547758e18 && f < 9.2233720368547758e18 {
			return msgpackInt(b, int64(f))
		}
		if f32 := float32(f); float64(f32) == f {
			b = append(b, 0xca)
			return binary.BigEndian.AppendUint32(b, math.Float32bits(f32))
		}
		b = append(b, 0xcb)
		return binary.BigEndian.AppendUint64(b, math.Float64bits(f))
	case *lua.LTable:
		if level == msgpackMaxNesting {
			return append(b, 0xc0)
		}
		if n, ok := msgpackArrayLen(x); ok {
			b = msgpackHeader(b, n, 0x90, 0xdc, 0xdd)
			for i := 1; i <= n; i++ {
				b = msgpackEncode(b, x.RawGetInt(i), level+1)
			}
			return b
		}
		n := 0
		x.ForEach(func(_, _ lua.LValue) { n++ })
		b = msgpackHeader(b, n, 0x80, 0xde, 0xdf)
		x.ForEach(func(k, val lua.LValue) {
			b = msgpackEncode(b, k, level+1)
			b = msgpackEncode(b, val, level+1)
		})
		return b
	}
	return append(b, 0xc0)
}

func msgpackHeader(b []byte, n int, fix, b16, b32 byte) []byte {
	switch {
	case n <= 15:
		return append(b, fix|byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, b16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, b32), uint32(n))
}

func msgpackArrayLen(t *lua.LTable) (int, bool) {
	count, max := 0, 0
	ok := true
	t.ForEach(func(k, _ lua.LValue) {
		n, isNum := k.(lua.LNumber)
		if !ok || !isNum || n <= 0 || float64(n) != math.Trunc(float64(n)) || float64(n) > math.MaxInt32 {
			ok = false
			return
		}
		max = int(math.Max(float64(max), float64(n)))
		count++
	})
	return count, ok && max == count
}

func msgpackInt(b []byte, n int64) []byte {
	switch {
	case n >= 0 && n <= 127:
		return append(b, byte(n))
	case n >= 0 && n <= 0xff:
		return append(b, 0xcc, byte(n))
	case n >= 0 && n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(n))
	case n >= 0 && n <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(n))
	case n >= 0:
		return binary.BigEndian.AppendUint64(append(b, 0xcf), uint64(n))
	case n >= -32:
		return append(b, byte(int8(n)))
	case n >= -128:
		return append(b, 0xd0, byte(int8(n)))
	case n >= -32768:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(int16(n)))
	case n >= -2147483648:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(int32(n)))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(n))
}

// msgpackUnpack decodes up to limit values from offset (limit and offset 0: decode
// everything and return only the values; otherwise the next offset, -1 at the end,
// comes first).
func msgpackUnpack(L *lua.LState, limit, offset int) int {
	s := L.CheckString(1)
	all := limit == 0 && offset == 0
	if offset < 0 || limit < 0 {
		L.RaiseError("Invalid request to unpack with offset of %d and limit of %d.", offset, len(s))
	}
	if offset > len(s) {
		L.RaiseError("Start offset %d greater than input length %d.", offset, len(s))
	}
	if all {
		limit = math.MaxInt32
	}
	d := &msgpackDecoder{L: L, b: []byte(s), pos: offset}
	var vals []lua.LValue
	for cnt := 0; d.pos < len(d.b) && cnt < limit; cnt++ {
		vals = append(vals, d.decode())
		if d.err == 1 {
			L.RaiseError("Missing bytes in input.")
		} else if d.err == 2 {
			L.RaiseError("Bad data format in input.")
		}
	}
	L.SetTop(0)
	if !all {
		next := d.pos
		if d.pos >= len(d.b) {
			next = -1
		}
		L.Push(lua.LNumber(next))
	}
	for _, v := range vals {
		L.Push(v)
	}
	return L.GetTop()
}

type msgpackDecoder struct {
	L   *lua.LState
	b   []byte
	pos int
	err int // 1 missing bytes, 2 bad format
}

func (d *msgpackDecoder) need(n int) []byte {
	if d.err != 0 || d.pos+n > len(d.b) || n < 0 {
		if d.err == 0 {
			d.err = 1
		}
		return nil
	}
	p := d.b[d.pos : d.pos+n]
	d.pos += n
	return p
}

func (d *msgpackDecoder) decode() lua.LValue {
	h := d.need(1)
	if h == nil {
		return lua.LNil
	}
	c := h[0]
	switch {
	case c <= 0x7f:
		return lua.LNumber(c)
	case c >= 0xe0:
		return lua.LNumber(int8(c))
	case c&0xe0 == 0xa0:
		return d.str(int(c & 0x1f))
	case c&0xf0 == 0x90:
		return d.array(int(c & 0x0f))
	case c&0xf0 == 0x80:
		return d.mapN(int(c & 0x0f))
	}
	switch c {
	case 0xc0:
		return lua.LNil
	case 0xc2:
		return lua.LFalse
	case 0xc3:
		return lua.LTrue
	case 0xca:
		if p := d.need(4); p != nil {
			return lua.LNumber(math.Float32frombits(binary.BigEndian.Uint32(p)))
		}
	case 0xcb:
		if p := d.need(8); p != nil {
			return lua.LNumber(math.Float64frombits(binary.BigEndian.Uint64(p)))
		}
	case 0xcc:
		if p := d.need(1); p != nil {
			return lua.LNumber(p[0])
		}
	case 0xcd:
		if p := d.need(2); p != nil {
			return lua.LNumber(binary.BigEndian.Uint16(p))
		}
	case 0xce:
		if p := d.need(4); p != nil {
			return lua.LNumber(binary.BigEndian.Uint32(p))
		}
	case 0xcf:
		if p := d.need(8); p != nil {
			return lua.LNumber(binary.BigEndian.Uint64(p))
		}
	case 0xd0:
		if p := d.need(1); p != nil {
			return lua.LNumber(int8(p[0]))
		}
	case 0xd1:
		if p := d.need(2); p != nil {
			return lua.LNumber(int16(binary.BigEndian.Uint16(p)))
		}
	case 0xd2:
		if p := d.need(4); p != nil {
			return lua.LNumber(int32(binary.BigEndian.Uint32(p)))
		}
	case 0xd3:
		if p := d.need(8); p != nil {
			return lua.LNumber(int64(binary.BigEndian.Uint64(p)))
		}
	case 0xc4, 0xd9:
		if p := d.need(1); p != nil {
			return d.str(int(p[0]))
		}
	case 0xc5, 0xda:
		if p := d.need(2); p != nil {
			return d.str(int(binary.BigEndian.Uint16(p)))
		}
	case 0xc6, 0xdb:
		if p := d.need(4); p != nil {
			return d.str(int(binary.BigEndian.Uint32(p)))
		}
	case 0xdc:
		if p := d.need(2); p != nil {
			return d.array(int(binary.BigEndian.Uint16(p)))
		}
	case 0xdd:
		if p := d.need(4); p != nil {
			return d.array(int(binary.BigEndian.Uint32(p)))
		}
	case 0xde:
		if p := d.need(2); p != nil {
			return d.mapN(int(binary.BigEndian.Uint16(p)))
		}
	case 0xdf:
		if p := d.need(4); p != nil {
			return d.mapN(int(binary.BigEndian.Uint32(p)))
		}
	default:
		d.err = 2
	}
	return lua.LNil
}

func (d *msgpackDecoder) str(n int) lua.LValue {
	if p := d.need(n); p != nil {
		return lua.LString(p)
	}
	return lua.LNil
}

func (d *msgpackDecoder) array(n int) lua.LValue {
	if n > len(d.b)-d.pos {
		d.err = 1
		return lua.LNil
	}
	t := d.L.CreateTable(n, 0)
	for i := 1; i <= n && d.err == 0; i++ {
		t.RawSetInt(i, d.decode())
	}
	return t
}

func (d *msgpackDecoder) mapN(n int) lua.LValue {
	if n > len(d.b)-d.pos {
		d.err = 1
		return lua.LNil
	}
	t := d.L.CreateTable(0, n)
	for i := 0; i < n && d.err == 0; i++ {
		k := d.decode()
		v := d.decode()
		if k != lua.LNil && d.err == 0 {
			t.RawSet(k, v)
		}
	}
	return t
}
