package scripting

import (
	"encoding/binary"
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// The struct library as Redis ships it (Roberto Ierusalimschy's lua-struct):
// struct.pack(fmt, ...), struct.unpack(fmt, data [, pos]) and struct.size(fmt).

const structMaxIntSize = 32

type structFormat struct {
	L      *lua.LState
	fmt    string
	pos    int
	little bool
	align  int
}

func openStruct(L *lua.LState) int {
	mod := L.NewTable()
	mod.RawSetString("pack", L.NewFunction(structPack))
	mod.RawSetString("unpack", L.NewFunction(structUnpack))
	mod.RawSetString("size", L.NewFunction(structSize))
	L.SetGlobal("struct", mod)
	L.Push(mod)
	return 1
}

func (f *structFormat) number(def int) int {
	if f.pos >= len(f.fmt) || f.fmt[f.pos] < '0' || f.fmt[f.pos] > '9' {
		return def
	}
	n := 0
	for f.pos < len(f.fmt) && f.fmt[f.pos] >= '0' && f.fmt[f.pos] <= '9' {
		n = n*10 + int(f.fmt[f.pos]-'0')
		if n > math.MaxInt32/10 {
			break
		}
		f.pos++
	}
	return n
}

// next reads one option and returns it with its size; controls ('<', '!' ...) return
// size 0 after applying themselves.
func (f *structFormat) next() (byte, int) {
	opt := f.fmt[f.pos]
	f.pos++
	switch opt {
	case 'B', 'b':
		return opt, 1
	case 'H', 'h':
		return opt, 2
	case 'L', 'l', 'T':
		return opt, 8
	case 'f':
		return opt, 4
	case 'd':
		return opt, 8
	case 'x':
		return opt, 1
	case 'c':
		return opt, f.number(1)
	case 'i', 'I':
		n := f.number(4)
		if n > structMaxIntSize {
			f.L.RaiseError("integral size %d is larger than limit of %d", n, structMaxIntSize)
		}
		return opt, n
	case 's', ' ':
		return opt, 0
	case '<', '=':
		f.little = true
		return opt, 0
	case '>':
		f.little = false
		return opt, 0
	case '!':
		a := f.number(8)
		if a&(a-1) != 0 {
			f.L.RaiseError("alignment %d is not a power of 2", a)
		}
		f.align = a
		return opt, 0
	}
	f.L.RaiseError("invalid format option '%c'", opt)
	return 0, 0
}

func (f *structFormat) toAlign(length, size int, opt byte) int {
	if size == 0 || opt == 'c' {
		return 0
	}
	if size > f.align {
		size = f.align
	}
	return (size - (length & (size - 1))) & (size - 1)
}

func newStructFormat(L *lua.LState) *structFormat {
	return &structFormat{L: L, fmt: L.CheckString(1), little: true, align: 1}
}

func (f *structFormat) putInt(b []byte, v uint64, size int) []byte {
	buf := make([]byte, size)
	for i := 0; i < size; i++ {
		var byt byte
		if i < 8 {
			byt = byte(v >> (8 * i))
		} else if int64(v) < 0 {
			byt = 0xff
		}
		if f.little {
			buf[i] = byt
		} else {
			buf[size-1-i] = byt
		}
	}
	return append(b, buf...)
}

func structPack(L *lua.LState) int {
	f := newStructFormat(L)
	var b []byte
	arg := 2
	for f.pos < len(f.fmt) {
		opt, size := f.next()
		pad := f.toAlign(len(b), size, opt)
		for ; pad > 0; pad-- {
			b = append(b, 0)
		}
		switch opt {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			n := float64(L.CheckNumber(arg))
			arg++
			var v uint64
			if n < 0 {
				v = uint64(int64(n))
			} else {
				v = uint64(n)
			}
			b = f.putInt(b, v, size)
		case 'x':
			b = append(b, 0)
		case 'f':
			v := math.Float32bits(float32(L.CheckNumber(arg)))
			arg++
			b = f.putInt(b, uint64(v), 4)
		case 'd':
			v := math.Float64bits(float64(L.CheckNumber(arg)))
			arg++
			b = f.putInt(b, v, 8)
		case 'c', 's':
			s := L.CheckString(arg)
			l := len(s)
			if size == 0 {
				size = l
			}
			if l < size {
				L.ArgError(arg, "string too short")
			}
			b = append(b, s[:size]...)
			if opt == 's' {
				b = append(b, 0)
				size++
			}
			arg++
		}
	}
	L.Push(lua.LString(b))
	return 1
}

func (f *structFormat) getInt(b []byte, signed bool, size int) float64 {
	var v uint64
	limit := size
	if limit > 8 {
		limit = 8
	}
	for i := 0; i < limit; i++ {
		var byt byte
		if f.little {
			byt = b[i]
		} else {
			byt = b[size-1-i]
		}
		v |= uint64(byt) << (8 * i)
	}
	if signed && size < 8 {
		mask := uint64(1) << (size*8 - 1)
		v = (v ^ mask) - mask
	}
	if signed {
		return float64(int64(v))
	}
	return float64(v)
}

func structUnpack(L *lua.LState) int {
	f := newStructFormat(L)
	data := L.CheckString(2)
	pos := L.OptInt(3, 1) - 1
	if pos < 0 {
		L.ArgError(3, "offset must be 1 or greater")
	}
	L.SetTop(2)
	n := 0
	for f.pos < len(f.fmt) {
		opt, size := f.next()
		pos += f.toAlign(pos, size, opt)
		if size > len(data)-pos || pos > len(data) {
			L.ArgError(2, "data string too short")
		}
		switch opt {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			signed := opt == 'b' || opt == 'h' || opt == 'l' || opt == 'i'
			L.Push(lua.LNumber(f.getInt([]byte(data[pos:pos+size]), signed, size)))
			n++
		case 'x':
		case 'f':
			L.Push(lua.LNumber(math.Float32frombits(uint32(f.getInt([]byte(data[pos:pos+4]), false, 4)))))
			n++
		case 'd':
			var v uint64
			p := []byte(data[pos : pos+8])
			if f.little {
				v = binary.LittleEndian.Uint64(p)
			} else {
				v = binary.BigEndian.Uint64(p)
			}
			L.Push(lua.LNumber(math.Float64frombits(v)))
			n++
		case 'c':
			if size == 0 {
				if n == 0 || L.Get(-1).Type() != lua.LTNumber {
					L.RaiseError("format 'c0' needs a previous size")
				}
				size = int(L.ToNumber(-1))
				L.Pop(1)
				n--
				if size > len(data)-pos {
					L.ArgError(2, "data string too short")
				}
			}
			L.Push(lua.LString(data[pos : pos+size]))
			n++
		case 's':
			end := strings.IndexByte(data[pos:], 0)
			if end < 0 {
				L.RaiseError("unfinished string in data")
			}
			L.Push(lua.LString(data[pos : pos+end]))
			size = end + 1
			n++
		}
		pos += size
	}
	L.Push(lua.LNumber(pos + 1))
	return n + 1
}

func structSize(L *lua.LState) int {
	f := newStructFormat(L)
	pos := 0
	for f.pos < len(f.fmt) {
		opt, size := f.next()
		if opt == 's' || (opt == 'c' && size == 0) {
			L.ArgError(1, "options 'c0' - 's' have undefined sizes")
		}
		pos += f.toAlign(pos, size, opt)
		pos += size
	}
	L.Push(lua.LNumber(pos))
	return 1
}
