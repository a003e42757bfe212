package scripting

import (
	"math"

	lua "github.com/yuin/gopher-lua"
)

// The bit library (LuaBitOp 1.0.2, as Redis ships it): 32-bit operations on numbers,
// results are signed 32-bit integers.

func toBit(L *lua.LState, i int) uint32 {
	n := float64(L.CheckNumber(i))
	// LuaBitOp normalises through a double with 2^52+2^51 added: the low 32 bits
	// of the rounded integer, so fractional values round to nearest-even.
	n += 6755399441055744.0
	return uint32(math.Float64bits(n))
}

func pushBit(L *lua.LState, b uint32) int {
	L.Push(lua.LNumber(int32(b)))
	return 1
}

func openBit(L *lua.LState) int {
	mod := L.NewTable()
	fns := map[string]lua.LGFunction{
		"tobit": func(L *lua.LState) int { return pushBit(L, toBit(L, 1)) },
		"bnot":  func(L *lua.LState) int { return pushBit(L, ^toBit(L, 1)) },
		"band":  bitReduce(func(a, b uint32) uint32 { return a & b }),
		"bor":   bitReduce(func(a, b uint32) uint32 { return a | b }),
		"bxor":  bitReduce(func(a, b uint32) uint32 { return a ^ b }),
		"lshift": func(L *lua.LState) int {
			return pushBit(L, toBit(L, 1)<<(toBit(L, 2)&31))
		},
		"rshift": func(L *lua.LState) int {
			return pushBit(L, toBit(L, 1)>>(toBit(L, 2)&31))
		},
		"arshift": func(L *lua.LState) int {
			return pushBit(L, uint32(int32(toBit(L, 1))>>(toBit(L, 2)&31)))
		},
		"rol": func(L *lua.LState) int {
			b, n := toBit(L, 1), toBit(L, 2)&31
			return pushBit(L, b<<n|b>>((32-n)&31))
		},
		"ror": func(L *lua.LState) int {
			b, n := toBit(L, 1), toBit(L, 2)&31
			return pushBit(L, b>>n|b<<((32-n)&31))
		},
		"bswap": func(L *lua.LState) int {
			b := toBit(L, 1)
			return pushBit(L, b>>24|(b>>8)&0xff00|(b&0xff00)<<8|b<<24)
		},
		"tohex": func(L *lua.LState) int {
			b := toBit(L, 1)
			n := int32(8)
			if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
				n = int32(toBit(L, 2))
			}
			digits := "0123456789abcdef"
			if n < 0 {
				n = -n
				digits = "0123456789ABCDEF"
			}
			if n > 8 {
				n = 8
			}
			buf := make([]byte, n)
			for i := n - 1; i >= 0; i-- {
				buf[i] = digits[b&15]
				b >>= 4
			}
			L.Push(lua.LString(buf))
			return 1
		},
	}
	for name, fn := range fns {
		mod.RawSetString(name, L.NewFunction(fn))
	}
	L.SetGlobal("bit", mod)
	L.Push(mod)
	return 1
}

func bitReduce(op func(a, b uint32) uint32) lua.LGFunction {
	return func(L *lua.LState) int {
		b := toBit(L, 1)
		for i := 2; i <= L.GetTop(); i++ {
			b = op(b, toBit(L, i))
		}
		return pushBit(L, b)
	}
}
