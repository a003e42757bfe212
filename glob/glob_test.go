package glob

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		nocase     bool
		want       bool
	}{
		// The examples from the KEYS documentation.
		{"h?llo", "hello", false, true},
		{"h?llo", "hallo", false, true},
		{"h?llo", "hllo", false, false},
		{"h*llo", "hllo", false, true},
		{"h*llo", "heeeello", false, true},
		{"h[ae]llo", "hello", false, true},
		{"h[ae]llo", "hallo", false, true},
		{"h[ae]llo", "hillo", false, false},
		{"h[^e]llo", "hallo", false, true},
		{"h[^e]llo", "hello", false, false},
		{"h[a-b]llo", "hallo", false, true},
		{"h[a-b]llo", "hbllo", false, true},
		{"h[a-b]llo", "hcllo", false, false},
		// From tests/unit/keyspace.tcl and scan.tcl.
		{"foo*", "foo_a", false, true},
		{"foo*", "key_x", false, false},
		{"*", "dlskeriewrioeuwqoirueioqwrueoqwrueqw", false, true},
		{"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", strings.Repeat("a", 40), false, false},
		{strings.Repeat("*?", 50000), strings.Repeat("a", 50000), false, false},
		{"*11*", "key:11", false, true},
		{"*11*", "key:12", false, false},
		// Empty strings: only the empty pattern matches the empty string.
		{"", "", false, true},
		{"*", "", false, false},
		{"**", "", false, false},
		{"", "a", false, false},
		{"a", "", false, false},
		// Stars.
		{"*", "x", false, true},
		{"***", "x", false, true},
		{"a*", "a", false, true},
		{"a**", "a", false, true},
		{"*a", "a", false, true},
		{"*a", "ba", false, true},
		{"*a", "ab", false, false},
		{"a*b*c", "aXbYc", false, true},
		{"a*b*c", "aXbYcZ", false, false},
		{"a*b*c", "abcbc", false, true},
		{"*?", "a", false, true},
		{"?*", "a", false, true},
		{"??", "a", false, false},
		// Escapes.
		{`\*`, "*", false, true},
		{`\*`, "a", false, false},
		{`\?`, "?", false, true},
		{`\?`, "a", false, false},
		{`a\`, `a\`, false, true}, // a trailing backslash is literal
		{`\\`, `\`, false, true},
		{`\a`, "a", false, true},
		{`\A`, "a", true, true},
		// Brackets.
		{"[abc]", "b", false, true},
		{"[abc]", "d", false, false},
		{"[^abc]", "d", false, true},
		{"[^abc]", "a", false, false},
		{"[z-a]", "m", false, true}, // reversed range
		{"[z-a]", "A", false, false},
		{"[a-]", "-", false, false},   // not a literal '-': the range a-] ...
		{"[a-]", "^", false, true},    // ... reversed, so ']' to 'a'
		{"[a-]x", "ax", false, false}, // ... and unclosed: "x" joins the class
		{"[a-]x", "x", false, true},
		{"[-a]", "-", false, true},
		{"[]", "a", false, false},        // empty class matches nothing
		{"[]a]", "]", false, false},      // ']' closes at once
		{"[]a]", "]a]", false, false},    // ... so "[]" then "a]"
		{"[^]", "x", false, true},        // negated empty class matches anything
		{`[\]]`, "]", false, true},       // escaped ']'
		{`[\-]`, "-", false, true},       // escaped '-'
		{`[a\-z]`, "m", false, false},    // escaped '-' is no range
		{`[a\-z]`, "z", false, true},     // ... but its ends count
		{"[abc", "b", false, true},       // unclosed: closed at the end
		{"[abc", "d", false, false},      // ...
		{"[", "a", false, false},         // lone '['
		{"[^", "a", false, true},         // lone '[^'
		{"x[", "x", false, false},        // '[' needs a byte
		{"[a-c]*", "cat", false, true},   //
		{`[\`, `\`, false, true},         // '\' last in an open class is literal
		{"[a-z0-9]?", "5x", false, true}, //
		{"*[0-9]", "abc7", false, true},  //
		{"*[0-9]", "abc", false, false},  //
		{"[[]", "[", false, true},        //
		{"[*]", "*", false, true},        //
		{"[*]", "a", false, false},       //
		{"[?]", "?", false, true},        //
		{"[?]", "a", false, false},       //
		{"a[b-d]*[x-z]", "abbbbbbz", false, true},
		// nocase.
		{"HELLO", "hello", true, true},
		{"HELLO", "hello", false, false},
		{"h[A-Z]llo", "hello", true, true},
		{"h[a-z]llo", "hEllo", true, true},
		{"h[E]llo", "hello", true, true},
		{`h[\E]llo`, "hello", true, false}, // escaped bytes in a class ignore nocase
		{"[Z-a]", "_", false, true},        // '_' lies between 'Z' and 'a'
		{"[Z-a]", "_", true, false},        // folded ends cross: matches nothing
		{"É", "é", true, false},            // ASCII folding only
		// Bytes >= 0x80 compare as signed char in ranges.
		{"[a-\xff]", "b", false, false},
		{"[a-\xff]", "\x80", false, false},
		{"[a-\xff]", "\xff", false, true},
		{"[a-\xff]", "\x00", false, true},
		{"[\x80-\xff]", "\x90", false, true},
		{"[\x80-\xff]", "a", false, false},
		{"\xff*", "\xffabc", false, true},
		// Embedded NUL bytes are ordinary.
		{"a\x00*", "a\x00b", false, true},
		{"a?c", "a\x00c", false, true},
	}
	for _, tc := range tests {
		got := MatchString(tc.pattern, tc.s, tc.nocase)
		if got != tc.want {
			t.Errorf("MatchString(%q, %q, %v) = %v, want %v", short(tc.pattern), short(tc.s), tc.nocase, got, tc.want)
		}
		if b := Match([]byte(tc.pattern), []byte(tc.s), tc.nocase); b != got {
			t.Errorf("Match and MatchString disagree on %q, %q", short(tc.pattern), short(tc.s))
		}
		if len(tc.pattern)+len(tc.s) < 200 {
			if ref := reference(tc.pattern, tc.s, tc.nocase); ref != tc.want {
				t.Errorf("reference(%q, %q, %v) = %v: the table is wrong or the reference is", tc.pattern, tc.s, tc.nocase, ref)
			}
		}
	}
}

func TestNesting(t *testing.T) {
	// 1000 '*' groups are allowed, the 1001st is not, unless it is trailing.
	p1000 := strings.Repeat("*a", 1000)
	p1001 := strings.Repeat("*a", 1001)
	s := strings.Repeat("a", 1001)
	if !MatchString(p1000, s, false) {
		t.Error("1000 '*' groups should match")
	}
	if MatchString(p1001, s, false) {
		t.Error("1001 '*' groups should hit the nesting limit")
	}
	if !MatchString(strings.Repeat("a*", 1001), s+"a", false) {
		t.Error("a trailing 1001st '*' needs no nesting")
	}
	if !MatchString(strings.Repeat("a*", 1001), s, false) {
		t.Error("'*'s stripped at the end of the string need no nesting")
	}
}

func TestAllocs(t *testing.T) {
	p, s := []byte("h[a-z]l*o?w*"), []byte("hello world, hello")
	if n := testing.AllocsPerRun(100, func() { Match(p, s, true) }); n != 0 {
		t.Fatalf("Match allocates %v times", n)
	}
}

// TestPathologicalTime guards the skip-longer-matches rule: without it these
// patterns take exponential time.
// TestPathologicalSteps checks patterns that make naive matchers exponential stay
// within O(len(pattern)*len(s)) loop steps: counted, not timed, so a loaded machine
// cannot fail it.
func TestPathologicalSteps(t *testing.T) {
	cases := []struct{ p, s string }{
		{strings.Repeat("*a", 30) + "b", strings.Repeat("a", 100)},
		{strings.Repeat("a*", 900) + "b", strings.Repeat("a", 10000)},
		{strings.Repeat("*?", 999) + "!", strings.Repeat("a", 20000)},
		{"*" + strings.Repeat("[a-z]", 500) + "!", strings.Repeat("a", 20000)},
	}
	for _, c := range cases {
		steps := 0
		match(c.p, c.s, false, &steps)
		if limit := (len(c.p) + 2) * (len(c.s) + 2); steps > limit {
			t.Errorf("pattern of %d bytes on %d bytes took %d steps, more than %d", len(c.p), len(c.s), steps, limit)
		}
	}
}

// FuzzMatch checks the matcher against the recursive reference and that
// neither Match nor MatchString panics or runs away.
func FuzzMatch(f *testing.F) {
	for _, seed := range [][2]string{
		{"h?llo", "hello"}, {"h[^e]llo", "hallo"}, {"[z-a]*", "mm"}, {`\[a\]`, "[a]"},
		{"a*a*a*b", "aaaaaaa"}, {"[abc", "b"}, {`[\`, `\`}, {"*[0-9]?", "ab12"},
	} {
		f.Add(seed[0], seed[1], false)
		f.Add(seed[0], strings.ToUpper(seed[1]), true)
	}
	f.Fuzz(func(t *testing.T, pattern, s string, nocase bool) {
		if len(pattern) > 1000 || len(s) > 1000 {
			return
		}
		got := MatchString(pattern, s, nocase)
		if Match([]byte(pattern), []byte(s), nocase) != got {
			t.Fatal("Match and MatchString disagree")
		}
		if len(pattern) <= 64 && len(s) <= 64 {
			if want := reference(pattern, s, nocase); got != want {
				t.Fatalf("MatchString(%q, %q, %v) = %v, reference says %v", pattern, s, nocase, got, want)
			}
		}
	})
}

func short(s string) string {
	if len(s) > 40 {
		return s[:20] + "..." + s[len(s)-20:]
	}
	return s
}

// reference is a direct recursive rendering of util.c's stringmatchlen_impl,
// kept naive on purpose so the iterative Match can be checked against it.
// Reads past the end return 0, as Redis reads its strings' NUL terminator.
func reference(pattern, s string, nocase bool) bool {
	skip := false
	return refImpl(pattern, s, nocase, &skip, 0)
}

func refImpl(p, s string, nocase bool, skipLonger *bool, nesting int) bool {
	if nesting > maxNesting {
		return false
	}
	at := func(i int) byte {
		if i < len(p) {
			return p[i]
		}
		return 0
	}
	fold := func(c int) int {
		if nocase {
			return lowerInt(c)
		}
		return c
	}
	for len(p) > 0 && len(s) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 0 && at(1) == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for len(s) > 0 {
				if refImpl(p[1:], s, nocase, skipLonger, nesting+1) {
					return true
				}
				if *skipLonger {
					return false
				}
				s = s[1:]
			}
			*skipLonger = true
			return false
		case '?':
			s = s[1:]
		case '[':
			p = p[1:]
			not := at(0) == '^'
			if not {
				p = p[1:]
			}
			matched := false
			for {
				if at(0) == '\\' && len(p) >= 2 {
					p = p[1:]
					if p[0] == s[0] {
						matched = true
					}
				} else if at(0) == ']' {
					break
				} else if len(p) == 0 {
					// Step back onto the last byte, as util.c does.
					p = "\x00" // any one byte: the caller drops it
					break
				} else if len(p) >= 3 && p[1] == '-' {
					lo, hi, c := signed(p[0]), signed(p[2]), signed(s[0])
					if lo > hi {
						lo, hi = hi, lo
					}
					if fold(lo) <= fold(c) && fold(c) <= fold(hi) {
						matched = true
					}
					p = p[2:]
				} else if fold(int(p[0])) == fold(int(s[0])) {
					matched = true
				}
				p = p[1:]
			}
			if not {
				matched = !matched
			}
			if !matched {
				return false
			}
			s = s[1:]
		default:
			if p[0] == '\\' && len(p) >= 2 {
				p = p[1:]
			}
			if fold(int(p[0])) != fold(int(s[0])) {
				return false
			}
			s = s[1:]
		}
		p = p[1:]
		if len(s) == 0 {
			for at(0) == '*' {
				p = p[1:]
			}
			break
		}
	}
	return len(p) == 0 && len(s) == 0
}
