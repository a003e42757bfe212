package engine_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// TestZaddManyBuildsSameListpack checks that a multi-member ZADD, which grows the
// listpack once for all its members, leaves exactly the bytes that adding the members
// one command at a time leaves, gives the same replies, and keeps little spare room;
// and that the conversion thresholds still apply to the command as a whole.
func TestZaddManyBuildsSameListpack(t *testing.T) {
	pairs := func(spec string) []string { return strings.Fields(spec) }
	cases := []struct {
		name    string
		initial string // members added first, one ZADD each ("" for a new key)
		opts    string
		pairs   string
		enc     string
	}{
		{"new key", "", "", "3 c 1 a 2 b 1.5 x -7 neg 1e300 big", "listpack"},
		{"new key, repeated member", "", "", "1 a 2 a 3 b 0 a", "listpack"},
		{"existing, all new", "5 e 6 f", "", "1 a 2 b 7 g", "listpack"},
		{"existing, mixed new and updates", "5 e 6 f", "", "1 e 2 b 6 f 9 z", "listpack"},
		{"NX", "5 e 6 f", "NX", "1 e 2 b 3 c", "listpack"},
		{"XX", "5 e 6 f", "XX", "1 e 2 b 7 f", "listpack"},
		{"GT CH", "5 e 6 f", "GT CH", "1 e 2 b 7 f", "listpack"},
		{"LT", "5 e 6 f", "LT", "1 e 2 b 7 f", "listpack"},
		{"long member converts", "5 e", "", "1 a 2 " + strings.Repeat("m", 65) + " 3 c", "skiplist"},
		{"new key, long member not first converts", "", "", "1 a 2 " + strings.Repeat("m", 65), "skiplist"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			one, many := newHarness(t, 2), newHarness(t, 2)
			for _, h := range []*harness{one, many} {
				ps := pairs(c.initial)
				for i := 0; i+1 < len(ps); i += 2 {
					h.do("ZADD", "z", ps[i], ps[i+1])
				}
			}
			opts, ps := pairs(c.opts), pairs(c.pairs)
			got := many.do(append(append([]string{"ZADD", "z"}, opts...), ps...)...)
			total := int64(0)
			for i := 0; i+1 < len(ps); i += 2 {
				total += one.do(append(append([]string{"ZADD", "z"}, opts...), ps[i], ps[i+1])...).Int
			}
			if got.Int != total {
				t.Errorf("ZADD of all pairs replied %d, one by one %d", got.Int, total)
			}
			if enc := many.encoding("z"); enc != c.enc {
				t.Fatalf("encoding %s, want %s", enc, c.enc)
			}
			a := one.do("ZRANGE", "z", "0", "-1", "WITHSCORES").String()
			b := many.do("ZRANGE", "z", "0", "-1", "WITHSCORES").String()
			if a != b {
				t.Fatalf("one by one %s, all at once %s", a, b)
			}
			if c.enc != "listpack" {
				return
			}
			one.e.Lock()
			lpOne := one.e.DB(0).Peek([]byte("z")).Str
			one.e.Unlock()
			many.e.Lock()
			lpMany := many.e.DB(0).Peek([]byte("z")).Str
			many.e.Unlock()
			if !bytes.Equal(lpOne, lpMany) {
				t.Errorf("listpacks differ:\none by one  %x\nall at once %x", lpOne, lpMany)
			}
			if slack := cap(lpMany) - len(lpMany); slack > len(lpMany)/8 {
				t.Errorf("%d bytes of spare room for a %d-byte listpack", slack, len(lpMany))
			}
		})
	}

	// zset-max-listpack-entries counts the whole command: 128 members stay compact,
	// 129 in one ZADD convert.
	for _, n := range []int{128, 129} {
		h := newHarness(t, 2)
		args := []string{"ZADD", "z"}
		for i := 0; i < n; i++ {
			args = append(args, fmt.Sprint(i), fmt.Sprintf("m%d", i))
		}
		h.do(args...)
		want := "listpack"
		if n > 128 {
			want = "skiplist"
		}
		if enc := h.encoding("z"); enc != want {
			t.Errorf("%d members in one ZADD: %s, want %s", n, enc, want)
		}
	}
}
