package engine

// globMatch is Redis's stringmatchlen (case-sensitive) for ZSCAN MATCH: '*', '?',
// '[...]' with '^' negation and ranges, and '\' escapes. As in Redis, an empty string
// matches only an empty pattern.
func globMatch(pat, s []byte) bool {
	for len(pat) > 0 && len(s) > 0 {
		switch pat[0] {
		case '*':
			for len(pat) > 1 && pat[1] == '*' {
				pat = pat[1:]
			}
			if len(pat) == 1 {
				return true
			}
			for i := 0; i < len(s); i++ {
				if globMatch(pat[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			s = s[1:]
		case '[':
			pat = pat[1:]
			not := len(pat) > 0 && pat[0] == '^'
			if not {
				pat = pat[1:]
			}
			match := false
			for {
				if len(pat) >= 2 && pat[0] == '\\' {
					pat = pat[1:]
					if pat[0] == s[0] {
						match = true
					}
				} else if len(pat) == 0 {
					// An unterminated class: Redis steps back so the loop's advance
					// lands on the end.
					break
				} else if pat[0] == ']' {
					break
				} else if len(pat) >= 3 && pat[1] == '-' {
					lo, hi := pat[0], pat[2]
					if lo > hi {
						lo, hi = hi, lo
					}
					pat = pat[2:]
					if s[0] >= lo && s[0] <= hi {
						match = true
					}
				} else if pat[0] == s[0] {
					match = true
				}
				pat = pat[1:]
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s = s[1:]
			if len(pat) == 0 {
				// the class ran to the end of the pattern
				return len(s) == 0
			}
		case '\\':
			if len(pat) >= 2 {
				pat = pat[1:]
			}
			fallthrough
		default:
			if pat[0] != s[0] {
				return false
			}
			s = s[1:]
		}
		pat = pat[1:]
		if len(s) == 0 {
			for len(pat) > 0 && pat[0] == '*' {
				pat = pat[1:]
			}
			return len(pat) == 0
		}
	}
	return len(pat) == 0 && len(s) == 0
}
