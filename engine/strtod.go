package engine

import (
	"math"
	"strconv"
)

// Redis parses doubles with C's strtod, and two callers use it differently: scores and
// weights must be a whole, finite-or-infinite, non-NaN number (string2d), while range
// bounds ("(1.5", "", " 2") accept whatever strtod accepts up to the end of the C
// string, ignoring overflow. Go's ParseFloat disagrees with strtod at the edges (it
// takes "1_0", rejects "0x10", and turns underflow into 0 without complaint), so the
// accepted prefix is found here first and only then converted.

// cIsSpace is C's isspace in the "C" locale.
func cIsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHexDigit(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// hasPrefixFold reports whether b starts with the lower-case ASCII word w, ignoring case.
func hasPrefixFold(b []byte, w string) bool {
	return len(b) >= len(w) && EqualFold(b[:len(w)], w)
}

// strtod converts the longest prefix of b that C's strtod would, returning the value,
// the number of bytes consumed (0 when nothing converts, as strtod then leaves its end
// pointer at the start) and whether strtod would have set ERANGE.
func strtod(b []byte) (v float64, n int, erange bool) {
	i := 0
	for i < len(b) && cIsSpace(b[i]) {
		i++
	}
	start := i
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	rest := b[i:]
	switch {
	case hasPrefixFold(rest, "infinity"):
		return signed(math.Inf(1), neg), i + 8, false
	case hasPrefixFold(rest, "inf"):
		return signed(math.Inf(1), neg), i + 3, false
	case hasPrefixFold(rest, "nan"):
		j := i + 3
		if j < len(b) && b[j] == '(' {
			k := j + 1
			for k < len(b) && (isHexDigit(b[k]) || ('a' <= b[k]|0x20 && b[k]|0x20 <= 'z') || b[k] == '_') {
				k++
			}
			if k < len(b) && b[k] == ')' {
				j = k + 1
			}
		}
		return math.NaN(), j, false
	}
	if len(rest) >= 2 && rest[0] == '0' && rest[1]|0x20 == 'x' {
		if end, ok := scanHex(b, i+2); ok {
			return convertFloat(b, start, end, true)
		}
	}
	j := i
	digits := 0
	for j < len(b) && isDigit(b[j]) {
		j++
		digits++
	}
	if j < len(b) && b[j] == '.' {
		j++
		for j < len(b) && isDigit(b[j]) {
			j++
			digits++
		}
	}
	if digits == 0 {
		return 0, 0, false
	}
	if j < len(b) && b[j]|0x20 == 'e' {
		k := j + 1
		if k < len(b) && (b[k] == '+' || b[k] == '-') {
			k++
		}
		if k < len(b) && isDigit(b[k]) {
			for k < len(b) && isDigit(b[k]) {
				k++
			}
			j = k
		}
	}
	return convertFloat(b, start, j, false)
}

// scanHex finds the end of a hex float whose digits start at i (after "0x"); ok is
// false when no hex digit follows, in which case strtod reads just the "0".
func scanHex(b []byte, i int) (end int, ok bool) {
	j := i
	digits := 0
	for j < len(b) && isHexDigit(b[j]) {
		j++
		digits++
	}
	if j < len(b) && b[j] == '.' {
		j++
		for j < len(b) && isHexDigit(b[j]) {
			j++
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if j < len(b) && b[j]|0x20 == 'p' {
		k := j + 1
		if k < len(b) && (b[k] == '+' || b[k] == '-') {
			k++
		}
		if k < len(b) && isDigit(b[k]) {
			for k < len(b) && isDigit(b[k]) {
				k++
			}
			j = k
		}
	}
	return j, true
}

// convertFloat converts b[start:end], already validated as a strtod number.
func convertFloat(b []byte, start, end int, hex bool) (float64, int, bool) {
	s := string(b[start:end])
	mant := b[start:end]
	if len(mant) > 0 && (mant[0] == '+' || mant[0] == '-') {
		mant = mant[1:]
	}
	if hex {
		mant = mant[2:] // "0x"
	}
	hasExp, nonzero := false, false
	for _, c := range mant {
		if hex && c|0x20 == 'p' || !hex && c|0x20 == 'e' {
			hasExp = true
			break
		}
		if c != '0' && c != '.' {
			nonzero = true
		}
	}
	if hex && !hasExp {
		s += "p0"
	}
	v, err := strconv.ParseFloat(s, 64)
	erange := false
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			erange = true
		} else {
			return 0, 0, false
		}
	}
	if v == 0 && nonzero {
		erange = true // underflow: strtod reports ERANGE with a zero result
	}
	if v != 0 && math.Abs(v) < 0x1p-1022 && !math.IsInf(v, 0) {
		erange = true // glibc flags denormal results too; callers accept them
	}
	return v, end, erange
}

func signed(f float64, neg bool) float64 {
	if neg {
		return -f
	}
	return f
}

// parseScore is Redis's string2d: the whole argument must be a number, without leading
// space, not NaN, and not out of range (overflow or total underflow).
func parseScore(b []byte) (float64, bool) {
	if len(b) == 0 || cIsSpace(b[0]) {
		return 0, false
	}
	v, n, erange := strtod(b)
	if n != len(b) || math.IsNaN(v) {
		return 0, false
	}
	if erange && (math.IsInf(v, 0) || v == 0) {
		return 0, false
	}
	return v, true
}

// cString is b as C code sees it: up to the first NUL byte.
func cString(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}
