package engine

import (
	"math/big"
)

// LongDouble is a number with the range and precision of the x87 80-bit long double
// Redis uses for INCRBYFLOAT and HINCRBYFLOAT: a 64-bit mantissa, rounding to nearest
// even, binary exponents up to 16383. float64 would not do: Redis stores 10.5+0.1 as
// "10.6" only because the long double sum rounds to that at 17 decimals.
type LongDouble struct {
	f *big.Float // nil never; Inf for ±infinity
}

const (
	ldPrec = 64
	// A finite long double is below 2^16384; big.Float's MantExp exponent for it is
	// at most 16384.
	ldMaxExp = 16384
	// The smallest normal long double is 2^-16382 (MantExp exponent -16381); below it
	// precision shrinks one bit per halving, down to the smallest subnormal 2^-16445.
	ldMinNormalExp = -16381
	// maxLongDoubleChars is Redis's MAX_LONG_DOUBLE_CHARS: longer input is not a float.
	maxLongDoubleChars = 5 * 1024
)

func newLD() *big.Float { return new(big.Float).SetPrec(ldPrec).SetMode(big.ToNearestEven) }

// LongDoubleFromInt converts an integer exactly (64 bits of mantissa hold any int64).
func LongDoubleFromInt(n int64) *LongDouble {
	return &LongDouble{f: newLD().SetInt64(n)}
}

// ParseLongDouble parses b as Redis's string2ld does with strtold: decimal or hex
// ("0x1.8p3") notation, "inf"/"infinity" in any case, an optional sign; no spaces,
// no trailing bytes, no NaN; a magnitude that overflows, or that underflows to zero,
// is refused.
func ParseLongDouble(b []byte) (*LongDouble, bool) {
	if len(b) == 0 || len(b) >= maxLongDoubleChars {
		return nil, false
	}
	s := string(b)
	neg := false
	body := s
	if body[0] == '+' || body[0] == '-' {
		neg = body[0] == '-'
		body = body[1:]
	}
	if isInfWord(body) {
		f := newLD().SetInf(neg)
		return &LongDouble{f: f}, true
	}
	hex := len(body) > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X')
	var mantZero bool
	var exp int64
	var ok bool
	if hex {
		mantZero, exp, ok = scanFloatSyntax(body[2:], true)
	} else {
		mantZero, exp, ok = scanFloatSyntax(body, false)
	}
	if !ok {
		return nil, false
	}
	if mantZero {
		f := newLD()
		if neg {
			f.Neg(f)
		}
		return &LongDouble{f: f}, true
	}
	// Decide absurd exponents without handing them to big.Float, which would compute
	// 10^exp in full; the digits cannot move the value across this margin.
	if exp > 100000 {
		return nil, false // overflows to HUGE_VAL
	}
	if exp < -100000 {
		return nil, false // underflows to zero
	}
	f := newLD()
	var err error
	if hex {
		// big.Float wants a 'p' exponent on hex mantissas only when there is a
		// fraction; give it one always so "0x10" and "0x1.8" both parse.
		src := s
		if !hasHexExp(body) {
			src += "p0"
		}
		_, _, err = f.Parse(src, 0)
	} else {
		_, _, err = f.Parse(s, 10)
	}
	if err != nil {
		return nil, false
	}
	d := &LongDouble{f: f}
	if !d.fit() {
		return nil, false
	}
	if d.f.Sign() == 0 {
		return nil, false
	}
	return d, true
}

func isInfWord(s string) bool {
	return equalFoldString(s, "inf") || equalFoldString(s, "infinity")
}

func equalFoldString(s, lower string) bool { return EqualFold([]byte(s), lower) }

func hasHexExp(body string) bool {
	for i := 0; i < len(body); i++ {
		if body[i] == 'p' || body[i] == 'P' {
			return true
		}
	}
	return false
}

// scanFloatSyntax checks the whole of s is a strtold mantissa (digits with at most one
// point, at least one digit) and optional exponent (e for decimal, p for hex, with a
// sign and at least one digit). It reports whether every mantissa digit is zero and
// the written exponent, clamped, for range decisions: with at most 5120 digits the
// real magnitude is within 5120 (decimal) or 20480 (binary) of it.
func scanFloatSyntax(s string, hex bool) (zero bool, exp int64, ok bool) {
	isDigit := func(ch byte) bool {
		if ch >= '0' && ch <= '9' {
			return true
		}
		return hex && ((ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'))
	}
	i, digits, dot := 0, 0, false
	zero = true
	for ; i < len(s); i++ {
		ch := s[i]
		if ch == '.' {
			if dot {
				return false, 0, false
			}
			dot = true
			continue
		}
		if !isDigit(ch) {
			break
		}
		digits++
		if ch != '0' {
			zero = false
		}
	}
	if digits == 0 {
		return false, 0, false
	}
	if i < len(s) {
		ch := s[i]
		if (!hex && ch != 'e' && ch != 'E') || (hex && ch != 'p' && ch != 'P') {
			return false, 0, false
		}
		i++
		neg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			neg = s[i] == '-'
			i++
		}
		if i == len(s) {
			return false, 0, false
		}
		for ; i < len(s); i++ {
			ch := s[i]
			if ch < '0' || ch > '9' {
				return false, 0, false
			}
			if exp < 1<<40 {
				exp = exp*10 + int64(ch-'0')
			}
		}
		if neg {
			exp = -exp
		}
	}
	return zero, exp, true
}

// fit rounds d to what a long double can hold: Inf past the largest finite value,
// fewer mantissa bits in the subnormal range, zero below the smallest subnormal.
func (d *LongDouble) fit() bool {
	if d.f.IsInf() || d.f.Sign() == 0 {
		return true
	}
	e := d.f.MantExp(nil)
	if e > ldMaxExp {
		d.f = newLD().SetInf(d.f.Sign() < 0)
		return false
	}
	if e < ldMinNormalExp {
		bits := ldPrec - (ldMinNormalExp - e)
		if bits <= 0 {
			d.f = newLD().SetInt64(0)
			return true
		}
		d.f.SetPrec(uint(bits))
		d.f.SetPrec(ldPrec)
	}
	return true
}

// Add returns d+x, or false when the sum is not finite (Redis's "increment would
// produce NaN or Infinity").
func (d *LongDouble) Add(x *LongDouble) (*LongDouble, bool) {
	if d.f.IsInf() || x.f.IsInf() {
		return nil, false
	}
	sum := &LongDouble{f: newLD().Add(d.f, x.f)}
	if !sum.fit() {
		return nil, false
	}
	return sum, true
}

// FormatHuman formats as Redis's ld2string in LD_STR_HUMAN mode: printf("%.17Lf"),
// then trailing zeros and a bare point dropped, and "-0" written "0".
func (d *LongDouble) FormatHuman() []byte {
	if d.f.IsInf() {
		if d.f.Sign() < 0 {
			return []byte("-inf")
		}
		return []byte("inf")
	}
	out := d.f.Append(nil, 'f', 17)
	for i := range out {
		if out[i] == '.' {
			n := len(out)
			for out[n-1] == '0' {
				n--
			}
			if out[n-1] == '.' {
				n--
			}
			out = out[:n]
			break
		}
	}
	if len(out) == 2 && out[0] == '-' && out[1] == '0' {
		out = out[:1]
		out[0] = '0'
	}
	return out
}
