package engine_test

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"testing"

	"kv/internal/kvtest"
	"kv/resp"
)

// sorted renders an array reply's elements sorted, for replies whose order
// Redis does not define.
func sorted(v resp.Value) string {
	if v.Kind == resp.KindError {
		return v.String()
	}
	var out []string
	for _, e := range v.Elems {
		out = append(out, e.String())
	}
	sort.Strings(out)
	return fmt.Sprint(out)
}

func TestSetCommands(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	runSteps(t, r, []step{
		{cmd("SADD s"), "(error) ERR wrong number of arguments for 'sadd' command"},
		{cmd("SADD s 1 2 3"), "3"},
		{cmd("SADD s 3 4"), "1"},
		{cmd("SADD t a b 3"), "3"},
		{cmd("SCARD s"), "4"},
		{cmd("SCARD nokey"), "0"},
		{cmd("SISMEMBER s 1"), "1"},
		{cmd("SISMEMBER s x"), "0"},
		{cmd("SISMEMBER nokey 1"), "0"},
		{cmd("SMISMEMBER s 1 x 4"), "[1 0 1]"},
		{cmd("SMISMEMBER nokey 1 2"), "[0 0]"},
		{cmd("SMEMBERS s"), "[1 2 3 4]"},
		{cmd("SMEMBERS nokey"), "[]"},
		{cmd("SINTER s nokey"), "[]"},
		{cmd("SINTERSTORE d s t"), "1"},
		{cmd("SMEMBERS d"), "[3]"},
		{cmd("SDIFF s s"), "[]"},
		{cmd("SDIFF nokey s"), "[]"},
		{cmd("SINTERCARD 2 s t"), "1"},
		{cmd("SINTERCARD 1 s LIMIT 0"), "4"},
		{cmd("SINTERCARD 1 s LIMIT 2"), "2"},
		{cmd("SINTERCARD 1 nokey"), "0"},
		{cmd("SINTERCARD 0 s"), "(error) ERR numkeys should be greater than 0"},
		{cmd("SINTERCARD x s"), "(error) ERR numkeys should be greater than 0"},
		{cmd("SINTERCARD 3 s t"), "(error) ERR Number of keys can't be greater than number of args"},
		{cmd("SINTERCARD 2 s t LIMIT"), "(error) ERR syntax error"},
		{cmd("SINTERCARD 2 s t LIMIT -1"), "(error) ERR LIMIT can't be negative"},
		{cmd("SINTERCARD 2 s t LIMIT x"), "(error) ERR LIMIT can't be negative"},
		{cmd("SINTERCARD 2 s t foo"), "(error) ERR syntax error"},
		{cmd("SREM s 2 99"), "1"},
		{cmd("SREM nokey 1"), "0"},
		{cmd("SMOVE s s 1"), "1"},
		{cmd("SMOVE s s 99"), "0"},
		{cmd("SMOVE s t 99"), "0"},
		{cmd("SMOVE nokey t 1"), "0"},
		{cmd("SMOVE s t 1"), "1"},
		{cmd("SMOVE s n 4"), "1"},
		{cmd("SMEMBERS n"), "[4]"},
		{cmd("SPOP nokey"), "(nil)"},
		{cmd("SPOP nokey 3"), "[]"},
		{cmd("SPOP s 1 2"), "(error) ERR syntax error"},
		{cmd("SPOP s -1"), "(error) ERR value is out of range, must be positive"},
		{cmd("SPOP s x"), "(error) ERR value is out of range, must be positive"},
		{cmd("SPOP s 0"), "[]"},
		{cmd("SRANDMEMBER nokey"), "(nil)"},
		{cmd("SRANDMEMBER nokey 3"), "[]"},
		{cmd("SRANDMEMBER s 0"), "[]"},
		{cmd("SRANDMEMBER s 1 2"), "(error) ERR syntax error"},
		{cmd("SRANDMEMBER s x"), "(error) ERR value is not an integer or out of range"},
		{cmd("SRANDMEMBER s -9223372036854775808"), "(error) ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"},
		{cmd("SADD i 5 1 3"), "3"},
		{cmd("SPOP i 5"), "[1 3 5]"},
		{cmd("SCARD i"), "0"},
		{cmd("SADD neg -5 -10 100000 -2147483649 9223372036854775807 -9223372036854775808"), "6"},
		{cmd("SMEMBERS neg"), "[-9223372036854775808 -2147483649 -10 -5 100000 9223372036854775807]"},
		{cmd("SISMEMBER neg 007"), "0"},
		{cmd("SISMEMBER neg -5"), "1"},

		{cmd("HSET h f v"), "1"},
		{cmd("SADD h x"), wrongType},
		{cmd("SREM h x"), wrongType},
		{cmd("SCARD h"), wrongType},
		{cmd("SISMEMBER h x"), wrongType},
		{cmd("SMISMEMBER h x"), wrongType},
		{cmd("SMEMBERS h"), wrongType},
		{cmd("SPOP h"), wrongType},
		{cmd("SPOP h 2"), wrongType},
		{cmd("SRANDMEMBER h"), wrongType},
		{cmd("SINTER s h"), wrongType},
		{cmd("SINTER nokey h"), wrongType},
		{cmd("SUNION s h"), wrongType},
		{cmd("SDIFF nokey h"), wrongType},
		{cmd("SINTERCARD 2 s h"), wrongType},
		{cmd("SINTERSTORE h s"), "1"}, // the destination's type does not matter
		{cmd("HSET h3 f v"), "1"},
		{cmd("SMOVE h3 s 1"), wrongType},
		{cmd("SMOVE t h2 a"), "1"},
		{cmd("SMOVE t h3 b"), wrongType},
		{cmd("SMOVE nokey h3 b"), "0"},
		{cmd("SSCAN h3 0"), wrongType},
	})
	// Unordered results, compared sorted.
	r.Do("SADD", "u1", "a", "b", "1")
	r.Do("SADD", "u2", "b", "c", "2")
	for _, c := range []step{
		{cmd("SUNION u1 u2 nokey"), "[1 2 a b c]"},
		{cmd("SINTER u1 u2"), "[b]"},
		{cmd("SDIFF u1 u2"), "[1 a]"},
		{cmd("SDIFF u1 nokey u2"), "[1 a]"},
	} {
		if got := sorted(r.Do(c.args...)); got != c.want {
			t.Errorf("%v: %s, want %s", c.args, got, c.want)
		}
	}
}

// The STORE variants overwrite the destination whatever it held (and drop its
// TTL), and delete it when the result is empty.
func TestSetStoreVariants(t *testing.T) {
	h := newHarness(t, 2)
	h.do("SADD", "a", "1", "2", "3")
	h.do("SADD", "b", "2", "3", "4")
	h.do("SADD", "c", "x", "y")
	h.takeEvents()
	cases := []struct {
		args   []string
		reply  string
		dst    string // sorted members, or "" for no key
		enc    string
		events []string
	}{
		{cmd("SINTERSTORE d a b"), "2", "[2 3]", "intset", []string{"sinterstore d"}},
		{cmd("SUNIONSTORE d a b"), "4", "[1 2 3 4]", "intset", []string{"sunionstore d"}},
		{cmd("SUNIONSTORE d a c"), "5", "[1 2 3 x y]", "hashtable", []string{"sunionstore d"}},
		{cmd("SDIFFSTORE d a b"), "1", "[1]", "intset", []string{"sdiffstore d"}},
		{cmd("SDIFFSTORE d a a"), "0", "", "", []string{"del d"}},
		{cmd("SDIFFSTORE d a a"), "0", "", "", nil},
		{cmd("HSET d f v"), "1", "", "listpack", []string{"hset d"}},
		{cmd("SINTERSTORE d a nokey"), "0", "", "", []string{"del d"}},
		{cmd("HSET d f v"), "1", "", "listpack", []string{"hset d"}},
		{cmd("SUNIONSTORE d a"), "3", "[1 2 3]", "intset", []string{"sunionstore d"}},
		{cmd("SINTERSTORE a a b"), "2", "", "", []string{"sinterstore a"}},
		{cmd("SMEMBERS a"), "[2 3]", "", "", nil},
	}
	for _, c := range cases {
		v := h.do(c.args...)
		got := v.String()
		if v.Kind == resp.KindArray {
			got = sorted(v)
		}
		if got != c.reply {
			t.Errorf("%v: reply %s, want %s", c.args, got, c.reply)
		}
		if ev := h.takeEvents(); !slices.Equal(ev, c.events) {
			t.Errorf("%v: events %q, want %q", c.args, ev, c.events)
		}
		if c.args[0] == "SMEMBERS" {
			continue
		}
		if enc := h.encoding("d"); c.args[1] == "d" && enc != c.enc {
			t.Errorf("%v: destination encoding %q, want %q", c.args, enc, c.enc)
		}
		if c.dst != "" {
			if got := sorted(h.do("SMEMBERS", "d")); got != c.dst {
				t.Errorf("%v: destination %s, want %s", c.args, got, c.dst)
			}
			h.takeEvents()
		}
	}
}

func TestSetEncoding(t *testing.T) {
	h := newHarness(t, 2)
	h.e.Lock()
	h.e.Settings.SetMaxIntsetEntries = 4
	h.e.Unlock()
	cases := []struct {
		name string
		cmds [][]string
		want string
	}{
		{"integers at limit", [][]string{cmd("SADD a 1 2 3 4")}, "intset"},
		{"integers past limit", [][]string{cmd("SADD b 1 2 3 4 5")}, "hashtable"},
		{"first member a string", [][]string{cmd("SADD c x")}, "hashtable"},
		{"string added later", [][]string{cmd("SADD d 1"), cmd("SADD d x")}, "hashtable"},
		{"non-canonical integer", [][]string{cmd("SADD e 1 01")}, "hashtable"},
		{"plus sign", [][]string{cmd("SADD f +1")}, "hashtable"},
		{"int64 bounds", [][]string{cmd("SADD g -9223372036854775808 9223372036854775807")}, "intset"},
		{"past int64", [][]string{cmd("SADD i 9223372036854775808")}, "hashtable"},
		{"no conversion back", [][]string{cmd("SADD j 1 x"), cmd("SREM j x")}, "hashtable"},
		{"smove into new key", [][]string{cmd("SADD k x 5"), cmd("SMOVE k k2 5")}, "intset"},
		{"spop to one", [][]string{cmd("SADD l 1 2 3"), cmd("SPOP l 2")}, "intset"},
	}
	for _, c := range cases {
		for _, args := range c.cmds {
			if v := h.do(args...); v.Kind == resp.KindError {
				t.Fatalf("%s: %v: %v", c.name, args, v)
			}
		}
		key := c.cmds[len(c.cmds)-1][1]
		if c.name == "smove into new key" {
			key = "k2"
		}
		if got := h.encoding(key); got != c.want {
			t.Errorf("%s: encoding %s, want %s", c.name, got, c.want)
		}
	}
	if got := h.do("SMEMBERS", "g").String(); got != "[-9223372036854775808 9223372036854775807]" {
		t.Errorf("SMEMBERS g = %s", got)
	}
	if got := sorted(h.do("SMEMBERS", "b")); got != "[1 2 3 4 5]" {
		t.Errorf("SMEMBERS b = %s", got)
	}
}

func TestSetReplyShapes(t *testing.T) {
	cases := []struct {
		args         []string
		resp2, resp3 string
	}{
		{cmd("SMEMBERS s"), "*[$ $]", "~[$ $]"},
		{cmd("SMEMBERS nokey"), "*", "~"},
		{cmd("SINTER s nokey"), "*", "~"},
		{cmd("SUNION s nokey"), "*[$ $]", "~[$ $]"},
		{cmd("SDIFF s nokey"), "*[$ $]", "~[$ $]"},
		{cmd("SRANDMEMBER s 2"), "*[$ $]", "*[$ $]"},
		{cmd("SRANDMEMBER s -3"), "*[$ $ $]", "*[$ $ $]"},
		{cmd("SRANDMEMBER nokey"), "$nil", "_nil"},
		{cmd("SPOP nokey"), "$nil", "_nil"},
		{cmd("SPOP nokey 1"), "*", "~"},
		{cmd("SPOP s 0"), "*", "~"},
		{cmd("SMISMEMBER s 1 9"), "*[: :]", "*[: :]"},
		{cmd("SSCAN s 0"), "*[$ *[$ $]]", "*[$ *[$ $]]"},
		{cmd("SPOP s 1"), "*[$]", "~[$]"},
		{cmd("SPOP s 5"), "*[$]", "~[$]"},
	}
	for _, proto := range []int{2, 3} {
		for _, members := range [][]string{{"1", "2"}, {"a", "b"}} {
			h := newHarness(t, proto)
			h.do(append([]string{"SADD", "s"}, members...)...)
			for _, c := range cases {
				want := c.resp2
				if proto == 3 {
					want = c.resp3
				}
				if got := kinds(h.do(c.args...)); got != want {
					t.Errorf("RESP%d %v %v: shape %s, want %s", proto, members, c.args, got, want)
				}
			}
		}
	}
}

func TestSetEventsAndPropagation(t *testing.T) {
	h := newHarness(t, 2)
	cases := []struct {
		args   []string
		events []string
		props  []string
	}{
		{cmd("SADD s 1 2"), []string{"sadd s"}, []string{"SADD s 1 2"}},
		{cmd("SADD s 1"), nil, nil},
		{cmd("SREM s 9"), nil, nil},
		{cmd("SREM s 1"), []string{"srem s"}, []string{"SREM s 1"}},
		{cmd("SMOVE s t 2"), []string{"srem s", "del s", "sadd t"}, []string{"SMOVE s t 2"}},
		{cmd("SADD s 2"), []string{"sadd s"}, []string{"SADD s 2"}},
		{cmd("SMOVE s t 2"), []string{"srem s", "del s"}, []string{"SMOVE s t 2"}},
		{cmd("SPOP t"), []string{"spop t", "del t"}, []string{"SREM t 2"}},
		{cmd("SADD s 7 8"), []string{"sadd s"}, []string{"SADD s 7 8"}},
		{cmd("SPOP s 5"), []string{"spop s", "del s"}, []string{"DEL s"}},
		{cmd("SREM s 1"), nil, nil},
	}
	for _, c := range cases {
		h.do(c.args...)
		if ev := h.takeEvents(); !slices.Equal(ev, c.events) {
			t.Errorf("%v: events %q, want %q", c.args, ev, c.events)
		}
		if p := h.takeProps(); !slices.Equal(p, c.props) {
			t.Errorf("%v: propagated %q, want %q", c.args, p, c.props)
		}
	}
	// SPOP with a count below the size propagates one SREM per popped member, as one
	// unit: wrapped in MULTI/EXEC like every multi-effect command in Redis 7.0.
	h.do("SADD", "p", "1", "2", "3", "4", "5")
	h.takeProps()
	v := h.do("SPOP", "p", "3")
	want := []string{"MULTI"}
	for _, e := range v.Elems {
		want = append(want, "SREM p "+string(e.Str))
	}
	want = append(want, "EXEC")
	if p := h.takeProps(); !slices.Equal(p, want) {
		t.Errorf("SPOP p 3 propagated %q, want %q", p, want)
	}
}

// SPOP and SRANDMEMBER draw uniformly: over many draws every member turns up
// about as often as the others.
func TestSetRandomDistribution(t *testing.T) {
	for _, enc := range []string{"intset", "hashtable"} {
		t.Run(enc, func(t *testing.T) {
			h := newHarness(t, 2)
			const members = 20
			prefix := ""
			if enc == "hashtable" {
				prefix = "m"
			}
			args := []string{"SADD", "s"}
			for i := 0; i < members; i++ {
				args = append(args, fmt.Sprint(prefix, i))
			}
			h.do(args...)
			if got := h.encoding("s"); got != enc {
				t.Fatalf("encoding %s", got)
			}
			counts := map[string]int{}
			const draws = 20000
			for _, e := range h.do("SRANDMEMBER", "s", fmt.Sprint(-draws)).Elems {
				counts[string(e.Str)]++
			}
			checkUniform(t, "SRANDMEMBER -n", counts, members, draws)

			// Distinct draws with a positive count, both below and near the size.
			for _, n := range []int{3, 15} {
				counts = map[string]int{}
				for i := 0; i < 2000; i++ {
					v := h.do("SRANDMEMBER", "s", fmt.Sprint(n))
					seen := map[string]bool{}
					for _, e := range v.Elems {
						if seen[string(e.Str)] {
							t.Fatalf("SRANDMEMBER %d repeated %s", n, e.Str)
						}
						seen[string(e.Str)] = true
						counts[string(e.Str)]++
					}
				}
				checkUniform(t, fmt.Sprint("SRANDMEMBER ", n), counts, members, 2000*n)
			}

			// SPOP: pop half and put it back, many times.
			counts = map[string]int{}
			for i := 0; i < 2000; i++ {
				v := h.do("SPOP", "s", "10")
				add := []string{"SADD", "s"}
				for _, e := range v.Elems {
					counts[string(e.Str)]++
					add = append(add, string(e.Str))
				}
				if len(v.Elems) != 10 {
					t.Fatalf("SPOP s 10 gave %d", len(v.Elems))
				}
				h.do(add...)
			}
			checkUniform(t, "SPOP 10", counts, members, 20000)
			counts = map[string]int{}
			for i := 0; i < 4000; i++ {
				m := h.do("SPOP", "s")
				counts[string(m.Str)]++
				h.do("SADD", "s", string(m.Str))
			}
			checkUniform(t, "SPOP", counts, members, 4000)
		})
	}
}

// checkUniform fails when a chi-squared statistic is far beyond what a uniform
// draw gives (19 degrees of freedom: 99.99th percentile is about 52).
func checkUniform(t *testing.T, what string, counts map[string]int, members, draws int) {
	t.Helper()
	if len(counts) != members {
		t.Fatalf("%s: %d distinct members, want %d", what, len(counts), members)
	}
	exp := float64(draws) / float64(members)
	chi := 0.0
	for _, c := range counts {
		chi += math.Pow(float64(c)-exp, 2) / exp
	}
	if chi > 60 {
		t.Errorf("%s: chi-squared %.1f over %d members: not uniform (%v)", what, chi, members, counts)
	}
}

func TestSscan(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	runSteps(t, r, []step{
		{cmd("SSCAN nokey 0"), "[0 []]"},
		{cmd("SSCAN s -"), "(error) ERR invalid cursor"},
		{cmd("SADD s 3 1 20"), "3"},
		{cmd("SSCAN s 0"), "[0 [1 3 20]]"},
		{cmd("SSCAN s 0 MATCH 2*"), "[0 [20]]"},
		{cmd("SSCAN s 0 COUNT 0"), "(error) ERR syntax error"},
		{cmd("SSCAN s 0 TYPE set"), "(error) ERR syntax error"},
	})
	for i := 0; i < 1000; i++ {
		r.Do("SADD", "big", fmt.Sprint("m", i))
	}
	got := map[string]bool{}
	cursor := "0"
	for rounds := 0; ; rounds++ {
		if rounds > 2000 {
			t.Fatal("scan does not end")
		}
		v := r.Do("SSCAN", "big", cursor)
		for _, e := range v.Elems[1].Elems {
			got[string(e.Str)] = true
		}
		cursor = string(v.Elems[0].Str)
		if cursor == "0" {
			break
		}
	}
	if len(got) != 1000 {
		t.Fatalf("scan returned %d members, want 1000", len(got))
	}
}

func TestSetGoRedis(t *testing.T) {
	s := kvtest.Start(t)
	c := s.Client(t, 2)
	ctx := kvtest.Ctx(t)
	if n, err := c.SAdd(ctx, "tags", "go", "redis", "kv").Result(); err != nil || n != 3 {
		t.Fatalf("SADD: %d %v", n, err)
	}
	if ok, err := c.SIsMember(ctx, "tags", "go").Result(); err != nil || !ok {
		t.Fatalf("SISMEMBER: %v %v", ok, err)
	}
	if m, err := c.SMembers(ctx, "tags").Result(); err != nil || len(m) != 3 {
		t.Fatalf("SMEMBERS: %v %v", m, err)
	}
	if n, err := c.SInterCard(ctx, 0, "tags", "tags").Result(); err != nil || n != 3 {
		t.Fatalf("SINTERCARD: %d %v", n, err)
	}
	if ms, err := c.SMIsMember(ctx, "tags", "go", "java").Result(); err != nil || !slices.Equal(ms, []bool{true, false}) {
		t.Fatalf("SMISMEMBER: %v %v", ms, err)
	}
	popped, err := c.SPopN(ctx, "tags", 2).Result()
	if err != nil || len(popped) != 2 {
		t.Fatalf("SPOP 2: %v %v", popped, err)
	}
	if n, err := c.SCard(ctx, "tags").Result(); err != nil || n != 1 {
		t.Fatalf("SCARD: %d %v", n, err)
	}
}
