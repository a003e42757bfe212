package engine

import (
	"math/big"
	"strings"
)

// Redis does HINCRBYFLOAT (and INCRBYFLOAT) arithmetic in C's long double, the
// x87 80-bit format on the platforms it ships for: a 64-bit mantissa. float64
// would round differently (0.1+0.2 gives 0.30000000000000004 instead of Redis's
// 0.3), so kv computes with big.Float at 64 bits of precision, which rounds each
// operation exactly as the x87 does, and bounds the exponent to long double's.

// ld is a long double value.
type ld struct{ f *big.Float }

const (
	ldPrec = 64
	// ldMaxExp and ldMinExp bound big.Float's MantExp exponent (mantissa in
	// [0.5, 1)) to long double's range: LDBL_MAX < 2^16384, and the smallest
	// subnormal is 2^-16445.
	ldMaxExp = 16384
	ldMinExp = -16444
	// ldMaxChars is MAX_LONG_DOUBLE_CHARS: longer inputs are rejected and longer
	// results are not formatted.
	ldMaxChars = 5 * 1024
)

func newLD() *big.Float { return new(big.Float).SetPrec(ldPrec).SetMode(big.ToNearestEven) }

func ldZero() ld { return ld{newLD()} }

// IsInf reports whether x is an infinity.
func (x ld) IsInf() bool { return x.f.IsInf() }

// ldParse parses b as Redis's string2ld does with strtold: decimal or hex
// floats, inf and infinity in any case; no leading space, nothing trailing, no
// NaN, no overflow and no underflow to zero.
func ldParse(b []byte) (ld, bool) {
	if len(b) == 0 || len(b) >= ldMaxChars {
		return ld{}, false
	}
	switch b[0] {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return ld{}, false
	}
	s := string(b)
	body := s
	neg := false
	if body[0] == '+' || body[0] == '-' {
		neg = body[0] == '-'
		body = body[1:]
	}
	if lower := strings.ToLower(body); lower == "inf" || lower == "infinity" {
		return ld{newLD().SetInf(neg)}, true
	}
	lower := strings.ToLower(body)
	// big.Float's base-0 syntax is wider than strtold's: it takes binary and
	// octal prefixes and digit separators, which strtold stops at.
	if strings.ContainsRune(body, '_') || strings.HasPrefix(lower, "0b") || strings.HasPrefix(lower, "0o") ||
		body == "" || !(body[0] == '.' || body[0] >= '0' && body[0] <= '9') {
		return ld{}, false
	}
	if !strings.HasPrefix(lower, "0x") && strings.ContainsAny(lower, "p") {
		return ld{}, false
	}
	f, _, err := newLD().Parse(s, 0)
	if err != nil {
		return ld{}, false
	}
	if f.Sign() != 0 {
		exp := f.MantExp(nil)
		if exp > ldMaxExp || exp < ldMinExp {
			return ld{}, false
		}
	}
	return ld{f}, true
}

// ldAdd returns a+b rounded to long double, and false when the result is not
// finite in long double.
func ldAdd(a, b ld) (ld, bool) {
	z := newLD().Add(a.f, b.f)
	if z.IsInf() {
		return ld{}, false
	}
	if z.Sign() != 0 && z.MantExp(nil) > ldMaxExp {
		return ld{}, false
	}
	return ld{z}, true
}

// ldFormatHuman formats x as Redis's ld2string(LD_STR_HUMAN): "%.17Lf" without
// trailing zeros (or the point), and "-0" as "0".
func ldFormatHuman(x ld) []byte {
	if x.f.IsInf() {
		if x.f.Sign() < 0 {
			return []byte("-inf")
		}
		return []byte("inf")
	}
	b := x.f.Append(nil, 'f', 17)
	if len(b)+1 > ldMaxChars {
		// Redis's buffer is too small for it and it stores an empty string.
		return []byte{}
	}
	if strings.IndexByte(string(b), '.') >= 0 {
		for b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
		if b[len(b)-1] == '.' {
			b = b[:len(b)-1]
		}
	}
	if string(b) == "-0" {
		b = []byte("0")
	}
	return b
}
