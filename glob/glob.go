// Package glob owns kv's glob-style pattern matching, the one Redis uses for
// KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET and ACL key and channel patterns.
// It reproduces Redis 7.0's stringmatchlen (util.c) result for result,
// quirks included, because clients depend on exactly which keys a pattern
// selects:
//
//   - '*' matches any run of bytes, '?' any one byte, '\' makes the next
//     byte literal.
//   - '[abc]', '[^abc]' and ranges '[a-z]' match one byte; a range may be
//     written backwards ('[z-a]'); inside brackets '\' escapes one byte and
//     that escaped byte is compared case-sensitively even with nocase. An
//     unclosed '[' matches as if closed at the end of the pattern.
//   - Range ends and the byte tested are compared as C's signed char on
//     x86-64, so a byte >= 0x80 sorts below every ASCII byte: '[a-\xff]'
//     is the range -1..97 and matches 0xff and 0x00-'a', but not 'b'-'z'
//     nor 0x80-0xfe.
//   - nocase folds ASCII letters only (the C locale's tolower).
//   - The string must be non-empty to match anything but an empty pattern:
//     Match("*", "") is false, as in Redis. Redis's KEYS and SCAN special-case
//     the pattern "*" before matching; callers here must do the same.
//
// Redis bounds the cost of patterns like "a*a*a*a*b": once the text after a
// '*' fails to match at every remaining position, no earlier '*' can do
// better, so matching stops. That makes only the latest '*' worth
// backtracking to, which is what lets this implementation loop instead of
// recurse: time is O(len(pattern)*len(s)) and the stack is constant. It also
// applies the limit of 1000 nested '*' that Redis added for CVE-2024-31228
// (6.2.16, 7.2.6, 7.4.1; absent from 7.0.15): a pattern that needs more than
// 1000 '*' groups, other than a trailing one, to match does not match.
package glob

// maxNesting is the number of '*' groups Redis lets one match pass through.
const maxNesting = 1000

// Match reports whether s matches pattern, Redis-style. nocase folds ASCII
// letters.
func Match(pattern, s []byte, nocase bool) bool {
	return match(pattern, s, nocase, nil)
}

// MatchString is Match for strings.
func MatchString(pattern, s string, nocase bool) bool {
	return match(pattern, s, nocase, nil)
}

// match is the matcher; when steps is not nil it counts loop iterations, so tests
// can check the O(len(pattern)*len(s)) bound without timing anything.
func match[T ~string | ~[]byte](p, s T, nocase bool, steps *int) bool {
	pi, si := 0, 0
	// Where to resume after the latest '*': the pattern after it, and the
	// position in s at which that rest was last tried. restP < 0: no '*' yet.
	restP, restS := -1, 0
	stars := 0
	for {
		if steps != nil {
			*steps++
		}
		if pi < len(p) && si < len(s) {
			ok := true
			switch p[pi] {
			case '*':
				for pi+1 < len(p) && p[pi+1] == '*' {
					pi++
				}
				if pi == len(p)-1 {
					return true
				}
				stars++
				if stars > maxNesting {
					return false
				}
				pi++
				restP, restS = pi, si
				continue
			case '?':
			case '[':
				pi, ok = matchClass(p, pi, s[si], nocase)
			case '\\':
				if len(p)-pi >= 2 {
					pi++
				}
				ok = equal(p[pi], s[si], nocase)
			default:
				ok = equal(p[pi], s[si], nocase)
			}
			if ok {
				pi++
				si++
				if si < len(s) {
					continue
				}
				// s is used up: only '*'s may remain in the pattern.
				for pi < len(p) && p[pi] == '*' {
					pi++
				}
				if pi == len(p) {
					return true
				}
			}
		} else if pi == len(p) && si == len(s) {
			return true
		}
		// Mismatch: let the latest '*' swallow one more byte. Redis never
		// tries the empty tail, which could not match a non-empty rest.
		if restP < 0 {
			return false
		}
		restS++
		if restS >= len(s) {
			return false
		}
		pi, si = restP, restS
	}
}

// matchClass matches c against the bracket expression opening at p[open].
// It returns the index of the expression's last byte (its ']' if it has
// one) and whether c matched.
func matchClass[T ~string | ~[]byte](p T, open int, c byte, nocase bool) (last int, ok bool) {
	at := func(i int) byte {
		// Reading past the end sees the NUL that ends Redis's strings.
		if i < len(p) {
			return p[i]
		}
		return 0
	}
	i := open + 1
	negate := at(i) == '^'
	if negate {
		i++
	}
	matched := false
	for {
		switch {
		case at(i) == '\\' && len(p)-i >= 2:
			i++
			if p[i] == c {
				matched = true
			}
		case at(i) == ']':
			return i, matched != negate
		case i >= len(p):
			return i - 1, matched != negate
		case len(p)-i >= 3 && p[i+1] == '-':
			lo, hi, x := signed(p[i]), signed(p[i+2]), signed(c)
			if lo > hi {
				lo, hi = hi, lo
			}
			if nocase {
				lo, hi, x = lowerInt(lo), lowerInt(hi), lowerInt(x)
			}
			if lo <= x && x <= hi {
				matched = true
			}
			i += 2
		default:
			if equal(p[i], c, nocase) {
				matched = true
			}
		}
		i++
	}
}

func equal(a, b byte, nocase bool) bool {
	if nocase {
		return lower(a) == lower(b)
	}
	return a == b
}

// signed is C's char on x86-64, where Redis's range comparisons happen.
func signed(b byte) int { return int(int8(b)) }

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + ('a' - 'A')
	}
	return b
}

func lowerInt(c int) int {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}
