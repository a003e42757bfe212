package config

import (
	"math"
	"strconv"
	"strings"
)

// The helpers in this file reproduce the C library and Redis parsing
// routines Redis uses for settings (memtoull, string2ll, strtoll, the glob
// matcher), because CONFIG SET accepts or rejects a value by their rules and
// clients rely on that.

// memtoull parses a memory amount as Redis does: digits followed by an
// optional unit b, k, kb, m, mb, g or gb (case-insensitive; k/m/g are powers
// of 1000, kb/mb/gb of 1024). Like Redis it accepts an empty digit string as
// zero, saturates on overflow of the digits and wraps on overflow of the
// multiplication.
func memtoull(s string) (uint64, bool) {
	if strings.HasPrefix(s, "-") {
		return 0, false
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	var mul uint64
	switch u := s[i:]; {
	case u == "" || strings.EqualFold(u, "b"):
		mul = 1
	case strings.EqualFold(u, "k"):
		mul = 1000
	case strings.EqualFold(u, "kb"):
		mul = 1024
	case strings.EqualFold(u, "m"):
		mul = 1000 * 1000
	case strings.EqualFold(u, "mb"):
		mul = 1024 * 1024
	case strings.EqualFold(u, "g"):
		mul = 1000 * 1000 * 1000
	case strings.EqualFold(u, "gb"):
		mul = 1024 * 1024 * 1024
	default:
		return 0, false
	}
	if i >= 128 { // Redis copies the digits into a 128-byte buffer.
		return 0, false
	}
	if i == 0 {
		return 0, true
	}
	v, err := strconv.ParseUint(s[:i], 10, 64)
	if err != nil {
		v = math.MaxUint64 // strtoull saturates and Redis does not check ERANGE
	}
	return v * mul, true
}

// formatMemory writes bytes the way CONFIG REWRITE does: the largest of
// gb/mb/kb that divides it exactly, else plain bytes.
func formatMemory(n int64) string {
	const kb, mb, gb = 1 << 10, 1 << 20, 1 << 30
	switch {
	case n != 0 && n%gb == 0:
		return strconv.FormatInt(n/gb, 10) + "gb"
	case n != 0 && n%mb == 0:
		return strconv.FormatInt(n/mb, 10) + "mb"
	case n != 0 && n%kb == 0:
		return strconv.FormatInt(n/kb, 10) + "kb"
	}
	return strconv.FormatInt(n, 10)
}

// string2ll is Redis's strict integer parser: an optional '-', no '+', no
// spaces, no leading zeros, no overflow.
func string2ll(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	if s == "0" {
		return 0, true
	}
	neg := false
	p := 0
	if s[0] == '-' {
		neg = true
		p++
		if p == len(s) {
			return 0, false
		}
	}
	if s[p] < '1' || s[p] > '9' {
		return 0, false
	}
	var v uint64
	for ; p < len(s); p++ {
		c := s[p]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (math.MaxUint64-uint64(c-'0'))/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// strtoll mimics C strtoll(s, &end, 10): leading white space, an optional
// sign, digits, saturation on overflow. It returns the value and whether the
// whole string was consumed (*end == '\0'), which is the check Redis makes.
// Like C, a string with no digits yields 0 and leaves end at its start, so
// the empty string is accepted as 0.
func strtoll(s string) (int64, bool) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var v uint64
	over := false
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		if v > (math.MaxUint64-uint64(s[i]-'0'))/10 {
			over = true
		} else {
			v = v*10 + uint64(s[i]-'0')
		}
		i++
	}
	if i == start { // no conversion: end points at the start of s
		return 0, len(s) == 0
	}
	var r int64
	switch {
	case neg && (over || v > 1<<63):
		r = math.MinInt64
	case neg:
		r = -int64(v)
	case over || v > math.MaxInt64:
		r = math.MaxInt64
	default:
		r = int64(v)
	}
	return r, i == len(s)
}

func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// splitArgs splits a multi-argument value on single spaces as Redis's
// sdssplitlen does for CONFIG SET: empty input gives no arguments, and
// consecutive spaces give empty arguments.
func splitArgs(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}

// globMatch reports whether name matches pattern under Redis's stringmatch
// rules with nocase set (CONFIG GET is case-insensitive): '*', '?', '[...]'
// with '^' negation and 'a-z' ranges, and '\' escapes.
func globMatch(pattern, name string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			for len(pattern) > 1 && pattern[1] == '*' {
				pattern = pattern[1:]
			}
			if len(pattern) == 1 {
				return true
			}
			for i := 0; i <= len(name); i++ {
				if globMatch(pattern[1:], name[i:]) {
					return true
				}
			}
			return false
		case '?':
			if len(name) == 0 {
				return false
			}
			name = name[1:]
		case '[':
			if len(name) == 0 {
				return false
			}
			pattern = pattern[1:]
			not := len(pattern) > 0 && pattern[0] == '^'
			if not {
				pattern = pattern[1:]
			}
			match := false
			c := lower(name[0])
			for len(pattern) > 0 && pattern[0] != ']' {
				switch {
				case pattern[0] == '\\' && len(pattern) >= 2:
					pattern = pattern[1:]
					if lower(pattern[0]) == c {
						match = true
					}
				case len(pattern) >= 3 && pattern[1] == '-':
					lo, hi := lower(pattern[0]), lower(pattern[2])
					if lo > hi {
						lo, hi = hi, lo
					}
					if c >= lo && c <= hi {
						match = true
					}
					pattern = pattern[2:]
				default:
					if lower(pattern[0]) == c {
						match = true
					}
				}
				pattern = pattern[1:]
			}
			if len(pattern) == 0 { // unterminated class: Redis treats the end as ']'
				pattern = "]"
			}
			if match == not {
				return false
			}
			name = name[1:]
		case '\\':
			if len(pattern) >= 2 {
				pattern = pattern[1:]
			}
			fallthrough
		default:
			if len(name) == 0 || lower(pattern[0]) != lower(name[0]) {
				return false
			}
			name = name[1:]
		}
		pattern = pattern[1:]
	}
	return len(name) == 0
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// tomlString quotes s as a TOML basic string. Go's strconv.Quote is not
// used because it may emit escapes TOML does not know (\x, \a, \v).
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 || r == 0x7f {
				b.WriteString(`\u00`)
				b.WriteByte("0123456789abcdef"[r>>4])
				b.WriteByte("0123456789abcdef"[r&15])
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// tomlStrings formats a TOML array of strings.
func tomlStrings(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = tomlString(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
