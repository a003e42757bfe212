package scripting

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// The cjson library as Redis ships it (lua-cjson 2.1.0): encode/decode with its
// configuration functions, cjson.null, and its quirks (an empty table encodes as an
// object, '/' is escaped, numbers use %.14g).

type cjsonConfig struct {
	sparseConvert  bool
	sparseRatio    int
	sparseSafe     int
	encodeMaxDepth int
	decodeMaxDepth int
	encodeInvalid  int // 0 off, 1 on, 2 "null"
	decodeInvalid  bool
	keepBuffer     bool
	precision      int
	null           *lua.LUserData
}

func openCjson(L *lua.LState) int {
	cfg := &cjsonConfig{sparseRatio: 2, sparseSafe: 10, encodeMaxDepth: 1000, decodeMaxDepth: 1000,
		keepBuffer: true, precision: 14}
	cfg.null = L.NewUserData()
	mod := L.NewTable()
	fns := map[string]lua.LGFunction{
		"encode": cfg.encode,
		"decode": cfg.decode,
		"encode_sparse_array": func(L *lua.LState) int {
			if L.GetTop() >= 1 && L.Get(1) != lua.LNil {
				cfg.sparseConvert = L.ToBool(1)
			}
			if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
				cfg.sparseRatio = cjsonCheckInt(L, 2, 0, math.MaxInt32)
			}
			if L.GetTop() >= 3 && L.Get(3) != lua.LNil {
				cfg.sparseSafe = cjsonCheckInt(L, 3, 0, math.MaxInt32)
			}
			L.Push(lua.LBool(cfg.sparseConvert))
			L.Push(lua.LNumber(cfg.sparseRatio))
			L.Push(lua.LNumber(cfg.sparseSafe))
			return 3
		},
		"encode_max_depth": func(L *lua.LState) int {
			return cjsonIntOption(L, &cfg.encodeMaxDepth, 1, math.MaxInt32)
		},
		"decode_max_depth": func(L *lua.LState) int {
			return cjsonIntOption(L, &cfg.decodeMaxDepth, 1, math.MaxInt32)
		},
		"encode_number_precision": func(L *lua.LState) int {
			return cjsonIntOption(L, &cfg.precision, 1, 14)
		},
		"encode_keep_buffer": func(L *lua.LState) int {
			if L.GetTop() >= 1 {
				cfg.keepBuffer = L.ToBool(1)
			}
			L.Push(lua.LBool(cfg.keepBuffer))
			return 1
		},
		"encode_invalid_numbers": func(L *lua.LState) int {
			if L.GetTop() >= 1 {
				if s, ok := L.Get(1).(lua.LString); ok && s == "null" {
					cfg.encodeInvalid = 2
				} else if L.ToBool(1) {
					cfg.encodeInvalid = 1
				} else {
					cfg.encodeInvalid = 0
				}
			}
			if cfg.encodeInvalid == 2 {
				L.Push(lua.LString("null"))
			} else {
				L.Push(lua.LBool(cfg.encodeInvalid == 1))
			}
			return 1
		},
		"decode_invalid_numbers": func(L *lua.LState) int {
			if L.GetTop() >= 1 {
				cfg.decodeInvalid = L.ToBool(1)
			}
			L.Push(lua.LBool(cfg.decodeInvalid))
			return 1
		},
	}
	for name, fn := range fns {
		mod.RawSetString(name, L.NewFunction(fn))
	}
	mod.RawSetString("null", cfg.null)
	mod.RawSetString("_NAME", lua.LString("cjson"))
	mod.RawSetString("_VERSION", lua.LString("2.1.0"))
	L.SetGlobal("cjson", mod)
	L.Push(mod)
	return 1
}

func cjsonCheckInt(L *lua.LState, i, lo, hi int) int {
	n := L.CheckInt(i)
	if n < lo || n > hi {
		L.ArgError(i, "expected integer between "+strconv.Itoa(lo)+" and "+strconv.Itoa(hi))
	}
	return n
}

func cjsonIntOption(L *lua.LState, field *int, lo, hi int) int {
	if L.GetTop() >= 1 && L.Get(1) != lua.LNil {
		*field = cjsonCheckInt(L, 1, lo, hi)
	}
	L.Push(lua.LNumber(*field))
	return 1
}

func (cfg *cjsonConfig) encode(L *lua.LState) int {
	if L.GetTop() != 1 {
		L.ArgError(1, "expected 1 argument")
	}
	var b strings.Builder
	cfg.encodeValue(L, &b, L.Get(1), 0)
	L.Push(lua.LString(b.String()))
	return 1
}

func (cfg *cjsonConfig) encodeValue(L *lua.LState, b *strings.Builder, v lua.LValue, depth int) {
	switch x := v.(type) {
	case lua.LString:
		cjsonString(b, string(x))
	case lua.LNumber:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			switch cfg.encodeInvalid {
			case 0:
				L.RaiseError("Cannot serialise number: must not be NaN or Inf")
			case 2:
				b.WriteString("null")
				return
			}
			switch {
			case math.IsNaN(f):
				b.WriteString("nan")
			case f > 0:
				b.WriteString("inf")
			default:
				b.WriteString("-inf")
			}
			return
		}
		b.WriteString(formatG(f, cfg.precision))
	case lua.LBool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case *lua.LNilType:
		b.WriteString("null")
	case *lua.LUserData:
		if x == cfg.null {
			b.WriteString("null")
			return
		}
		L.RaiseError("Cannot serialise userdata: type not supported")
	case *lua.LTable:
		depth++
		if depth > cfg.encodeMaxDepth {
			L.RaiseError("Cannot serialise, excessive nesting (%d)", depth)
		}
		n := cfg.arrayLength(L, x)
		if n > 0 {
			b.WriteByte('[')
			for i := 1; i <= n; i++ {
				if i > 1 {
					b.WriteByte(',')
				}
				cfg.encodeValue(L, b, x.RawGetInt(i), depth)
			}
			b.WriteByte(']')
			return
		}
		b.WriteByte('{')
		first := true
		x.ForEach(func(k, val lua.LValue) {
			if !first {
				b.WriteByte(',')
			}
			first = false
			switch kk := k.(type) {
			case lua.LString:
				cjsonString(b, string(kk))
			case lua.LNumber:
				b.WriteByte('"')
				b.WriteString(formatG(float64(kk), cfg.precision))
				b.WriteByte('"')
			default:
				L.RaiseError("Cannot serialise %s: table key must be a number or string", k.Type().String())
			}
			b.WriteByte(':')
			cfg.encodeValue(L, b, val, depth)
		})
		b.WriteByte('}')
	default:
		L.RaiseError("Cannot serialise %s: type not supported", v.Type().String())
	}
}

// arrayLength is lua-cjson's lua_array_length: the largest key if every key is a
// positive integer (0 for an empty table, or -1 meaning "an object").
func (cfg *cjsonConfig) arrayLength(L *lua.LState, t *lua.LTable) int {
	max, items := 0, 0
	isArray := true
	t.ForEach(func(k, _ lua.LValue) {
		if !isArray {
			return
		}
		n, ok := k.(lua.LNumber)
		if !ok || float64(n) < 1 || float64(n) != math.Floor(float64(n)) {
			isArray = false
			return
		}
		if int(n) > max {
			max = int(n)
		}
		items++
	})
	if !isArray {
		return -1
	}
	if cfg.sparseRatio > 0 && max > items*cfg.sparseRatio && max > cfg.sparseSafe {
		if !cfg.sparseConvert {
			L.RaiseError("Cannot serialise table: excessively sparse array")
		}
		return -1
	}
	return max
}

// formatG is C's printf("%.*g"); Go's 'g' with a precision drops trailing zeros
// and pads the exponent to two digits just as C does.
func formatG(f float64, prec int) string {
	return strconv.FormatFloat(f, 'g', prec, 64)
}

func cjsonString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '/':
			b.WriteString(`\/`)
		case c == '\b':
			b.WriteString(`\b`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\f':
			b.WriteString(`\f`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20 || c == 0x7f:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

type jsonDecoder struct {
	L     *lua.LState
	cfg   *cjsonConfig
	s     string
	pos   int
	depth int
}

func (cfg *cjsonConfig) decode(L *lua.LState) int {
	if L.GetTop() != 1 {
		L.ArgError(1, "expected 1 argument")
	}
	s := L.CheckString(1)
	if len(s) >= 2 && (s[0] == 0 || s[1] == 0) {
		L.RaiseError("JSON parser does not support UTF-16 or UTF-32")
	}
	d := &jsonDecoder{L: L, cfg: cfg, s: s}
	v := d.value()
	d.skipSpace()
	if d.pos < len(d.s) {
		d.fail("the end", d.tokenName())
	}
	L.Push(v)
	return 1
}

func (d *jsonDecoder) skipSpace() {
	for d.pos < len(d.s) {
		switch d.s[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) fail(expected, found string) {
	d.L.RaiseError("Expected %s but found %s at character %d", expected, found, d.pos+1)
}

func (d *jsonDecoder) tokenName() string {
	if d.pos >= len(d.s) {
		return "T_END"
	}
	switch d.s[d.pos] {
	case '{':
		return "T_OBJ_BEGIN"
	case '}':
		return "T_OBJ_END"
	case '[':
		return "T_ARR_BEGIN"
	case ']':
		return "T_ARR_END"
	case ',':
		return "T_COMMA"
	case ':':
		return "T_COLON"
	case '"':
		return "T_STRING"
	}
	return "invalid token"
}

func (d *jsonDecoder) value() lua.LValue {
	d.skipSpace()
	if d.pos >= len(d.s) {
		d.fail("value", "T_END")
	}
	L := d.L
	switch c := d.s[d.pos]; {
	case c == '{':
		d.enter()
		d.pos++
		t := L.NewTable()
		d.skipSpace()
		if d.pos < len(d.s) && d.s[d.pos] == '}' {
			d.pos++
			d.depth--
			return t
		}
		for {
			d.skipSpace()
			if d.pos >= len(d.s) || d.s[d.pos] != '"' {
				d.fail("object key string", d.tokenName())
			}
			k := d.str()
			d.skipSpace()
			if d.pos >= len(d.s) || d.s[d.pos] != ':' {
				d.fail("colon", d.tokenName())
			}
			d.pos++
			t.RawSetString(k, d.value())
			d.skipSpace()
			if d.pos < len(d.s) && d.s[d.pos] == ',' {
				d.pos++
				continue
			}
			if d.pos < len(d.s) && d.s[d.pos] == '}' {
				d.pos++
				d.depth--
				return t
			}
			d.fail("comma or object end", d.tokenName())
		}
	case c == '[':
		d.enter()
		d.pos++
		t := L.NewTable()
		d.skipSpace()
		if d.pos < len(d.s) && d.s[d.pos] == ']' {
			d.pos++
			d.depth--
			return t
		}
		for i := 1; ; i++ {
			t.RawSetInt(i, d.value())
			d.skipSpace()
			if d.pos < len(d.s) && d.s[d.pos] == ',' {
				d.pos++
				continue
			}
			if d.pos < len(d.s) && d.s[d.pos] == ']' {
				d.pos++
				d.depth--
				return t
			}
			d.fail("comma or array end", d.tokenName())
		}
	case c == '"':
		return lua.LString(d.str())
	case strings.HasPrefix(d.s[d.pos:], "true"):
		d.pos += 4
		return lua.LTrue
	case strings.HasPrefix(d.s[d.pos:], "false"):
		d.pos += 5
		return lua.LFalse
	case strings.HasPrefix(d.s[d.pos:], "null"):
		d.pos += 4
		return d.cfg.null
	case c == '-' || c >= '0' && c <= '9':
		start := d.pos
		d.pos++
		for d.pos < len(d.s) && strings.IndexByte("0123456789.eE+-", d.s[d.pos]) >= 0 {
			d.pos++
		}
		f, err := strconv.ParseFloat(d.s[start:d.pos], 64)
		if err != nil && !strings.Contains(err.Error(), "range") {
			d.pos = start
			d.fail("value", "invalid number")
		}
		return lua.LNumber(f)
	}
	d.fail("value", d.tokenName())
	return lua.LNil
}

func (d *jsonDecoder) enter() {
	d.depth++
	if d.depth > d.cfg.decodeMaxDepth {
		d.L.RaiseError("Found too many nested data structures (%d) at character %d", d.depth, d.pos+1)
	}
}

func (d *jsonDecoder) str() string {
	d.pos++ // opening quote
	var b strings.Builder
	for {
		if d.pos >= len(d.s) {
			d.fail("value", "invalid token")
		}
		c := d.s[d.pos]
		if c == '"' {
			d.pos++
			return b.String()
		}
		if c != '\\' {
			b.WriteByte(c)
			d.pos++
			continue
		}
		d.pos++
		if d.pos >= len(d.s) {
			d.fail("value", "invalid token")
		}
		esc := d.s[d.pos]
		d.pos++
		switch esc {
		case '"', '\\', '/':
			b.WriteByte(esc)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r := d.hex4()
			if r >= 0xD800 && r < 0xDC00 && strings.HasPrefix(d.s[d.pos:], `\u`) {
				d.pos += 2
				lo := d.hex4()
				r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
			}
			var tmp [4]byte
			n := utf8.EncodeRune(tmp[:], rune(r))
			b.Write(tmp[:n])
		default:
			d.fail("value", "invalid escape code")
		}
	}
}

func (d *jsonDecoder) hex4() int {
	if d.pos+4 > len(d.s) {
		d.fail("value", "invalid unicode escape code")
	}
	n, err := strconv.ParseUint(d.s[d.pos:d.pos+4], 16, 32)
	if err != nil {
		d.fail("value", "invalid unicode escape code")
	}
	d.pos += 4
	return int(n)
}
