package engine_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"kv/internal/kvtest"
)

type step struct {
	args []string
	want string
}

func runSteps(t *testing.T, r *kvtest.Raw, steps []step) {
	t.Helper()
	for _, s := range steps {
		if got := r.Do(s.args...).String(); got != s.want {
			t.Errorf("%s: got %q, want %q", strings.Join(s.args, " "), got, s.want)
		}
	}
}

func cmd(s string) []string { return strings.Fields(s) }

const wrongType = "(error) WRONGTYPE Operation against a key holding the wrong kind of value"

// Replies as Redis 7.0.15 gives them, checked against redis-server.
func TestHashCommands(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	runSteps(t, r, []step{
		{cmd("HSET h"), "(error) ERR wrong number of arguments for 'hset' command"},
		{cmd("HSET h a"), "(error) ERR wrong number of arguments for 'hset' command"},
		{cmd("HSET h a 1 b"), "(error) ERR wrong number of arguments for 'hset' command"},
		{cmd("HMSET h a 1 b"), "(error) ERR wrong number of arguments for 'hmset' command"},
		{cmd("HSET h a 1 b 2"), "2"},
		{cmd("HSET h a 1 c 3"), "1"},
		{cmd("HMSET h d 4"), "OK"},
		{cmd("HSETNX h a 9"), "0"},
		{cmd("HSETNX h z 9"), "1"},
		{cmd("HGET h a"), "1"},
		{cmd("HGET h nope"), "(nil)"},
		{cmd("HGET nokey a"), "(nil)"},
		{cmd("HMGET h a nope b"), "[1 (nil) 2]"},
		{cmd("HMGET nokey a b"), "[(nil) (nil)]"},
		{cmd("HGETALL h"), "[a 1 b 2 c 3 d 4 z 9]"},
		{cmd("HGETALL nokey"), "[]"},
		{cmd("HKEYS h"), "[a b c d z]"},
		{cmd("HVALS h"), "[1 2 3 4 9]"},
		{cmd("HKEYS nokey"), "[]"},
		{cmd("HLEN h"), "5"},
		{cmd("HLEN nokey"), "0"},
		{cmd("HSTRLEN h a"), "1"},
		{cmd("HSTRLEN h nope"), "0"},
		{cmd("HEXISTS h a"), "1"},
		{cmd("HEXISTS h nope"), "0"},
		{cmd("HEXISTS nokey a"), "0"},
		{cmd("HINCRBY h a 10"), "11"},
		{cmd("HINCRBY h a x"), "(error) ERR value is not an integer or out of range"},
		{cmd("HINCRBY h a 9223372036854775807"), "(error) ERR increment or decrement would overflow"},
		{cmd("HINCRBY h new -5"), "-5"},
		{cmd("HSET h s str"), "1"},
		{cmd("HINCRBY h s 1"), "(error) ERR hash value is not an integer"},
		{cmd("HINCRBYFLOAT h s 1"), "(error) ERR hash value is not a float"},
		{cmd("HINCRBYFLOAT h f 0.1"), "0.1"},
		{cmd("HINCRBYFLOAT h f 0.2"), "0.3"},
		{cmd("HINCRBYFLOAT h f 1e3"), "1000.29999999999999999"},
		{cmd("HINCRBYFLOAT h f -1000.3"), "0"},
		{cmd("HINCRBYFLOAT h g 5.0e3"), "5000"},
		{cmd("HINCRBYFLOAT h g 3.14159265358979323846"), "5003.14159265358979312"},
		{cmd("HINCRBYFLOAT h g 0x10"), "5019.14159265358979312"},
		{cmd("HINCRBYFLOAT h g inf"), "(error) ERR value is NaN or Infinity"},
		{cmd("HINCRBYFLOAT h g nan"), "(error) ERR value is not a valid float"},
		{cmd("HINCRBYFLOAT h g abc"), "(error) ERR value is not a valid float"},
		{[]string{"HINCRBYFLOAT", "h", "g", " 1"}, "(error) ERR value is not a valid float"},
		{cmd("HINCRBYFLOAT h g 1e5000"), "(error) ERR value is not a valid float"},
		{cmd("HSET h i inf"), "1"},
		{cmd("HINCRBYFLOAT h i 1"), "(error) ERR increment would produce NaN or Infinity"},
		{cmd("HDEL h a nope"), "1"},
		{cmd("HDEL h nope"), "0"},
		{cmd("HDEL nokey a"), "0"},
		{cmd("HDEL h b c d z new s f g i"), "9"},
		{cmd("HLEN h"), "0"},
		{cmd("HGETALL h"), "[]"},

		{cmd("SADD st m"), "1"},
		{cmd("HSET st a 1"), wrongType},
		{cmd("HSETNX st a 1"), wrongType},
		{cmd("HGET st a"), wrongType},
		{cmd("HMGET st a"), wrongType},
		{cmd("HGETALL st"), wrongType},
		{cmd("HKEYS st"), wrongType},
		{cmd("HDEL st a"), wrongType},
		{cmd("HLEN st"), wrongType},
		{cmd("HSTRLEN st a"), wrongType},
		{cmd("HEXISTS st a"), wrongType},
		{cmd("HINCRBY st a 1"), wrongType},
		{cmd("HINCRBYFLOAT st a 1"), wrongType},
		{cmd("HRANDFIELD st"), wrongType},
		{cmd("HRANDFIELD st 1"), wrongType},
		{cmd("HSCAN st 0"), wrongType},
	})
}

func TestHrandfield(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	runSteps(t, r, []step{
		{cmd("HRANDFIELD nokey"), "(nil)"},
		{cmd("HRANDFIELD nokey 5"), "[]"},
		{cmd("HRANDFIELD nokey 5 WITHVALUES"), "[]"},
		{cmd("HSET h a 1 b 2 c 3"), "3"},
		{cmd("HRANDFIELD h 0"), "[]"},
		{cmd("HRANDFIELD h x"), "(error) ERR value is not an integer or out of range"},
		{cmd("HRANDFIELD h 1 foo"), "(error) ERR syntax error"},
		{cmd("HRANDFIELD h 1 withvalues extra"), "(error) ERR syntax error"},
		{cmd("HRANDFIELD h -9223372036854775808"), "(error) ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"},
		{cmd("HRANDFIELD h -9223372036854775807 withvalues"), "(error) ERR value is out of range"},
		{cmd("HRANDFIELD h 4611686018427387904 withvalues"), "(error) ERR value is out of range"},
		{cmd("HRANDFIELD h 10 WITHVALUES"), "[a 1 b 2 c 3]"},
		{cmd("HRANDFIELD h 3"), "[a b c]"},
	})
	// Draws are from the hash, distinct for a positive count, any for a negative one.
	for _, enc := range []string{"listpack", "hashtable"} {
		t.Run(enc, func(t *testing.T) {
			key := "r" + enc
			fields := 50
			if enc == "hashtable" {
				fields = 300
			}
			for i := 0; i < fields; i++ {
				r.Do("HSET", key, fmt.Sprint("f", i), fmt.Sprint(i))
			}
			for _, n := range []int{1, 5, fields / 2, fields - 1} {
				v := r.Do("HRANDFIELD", key, fmt.Sprint(n), "WITHVALUES")
				if len(v.Elems) != 2*n {
					t.Fatalf("count %d: %d elements", n, len(v.Elems))
				}
				seen := map[string]bool{}
				for i := 0; i < len(v.Elems); i += 2 {
					f, val := string(v.Elems[i].Str), string(v.Elems[i+1].Str)
					if seen[f] || "f"+val != f {
						t.Fatalf("count %d: bad or repeated pair %s=%s", n, f, val)
					}
					seen[f] = true
				}
			}
			v := r.Do("HRANDFIELD", key, "-1000")
			counts := map[string]int{}
			for _, e := range v.Elems {
				counts[string(e.Str)]++
			}
			if len(v.Elems) != 1000 || len(counts) < fields/2 {
				t.Fatalf("negative count: %d elements, %d distinct", len(v.Elems), len(counts))
			}
		})
	}
}

// RESP2 flattens HGETALL and HRANDFIELD WITHVALUES; RESP3 answers a map and
// [field, value] pairs.
func TestHashReplyShapes(t *testing.T) {
	cases := []struct {
		args         []string
		resp2, resp3 string
	}{
		{cmd("HGETALL h"), "*[$ $ $ $]", "%[$ $ $ $]"},
		{cmd("HGETALL nokey"), "*", "%"},
		{cmd("HKEYS h"), "*[$ $]", "*[$ $]"},
		{cmd("HRANDFIELD h 2 WITHVALUES"), "*[$ $ $ $]", "*[*[$ $] *[$ $]]"},
		{cmd("HRANDFIELD h -3 WITHVALUES"), "*[$ $ $ $ $ $]", "*[*[$ $] *[$ $] *[$ $]]"},
		{cmd("HRANDFIELD h 1 WITHVALUES"), "*[$ $]", "*[*[$ $]]"},
		{cmd("HRANDFIELD h 9 WITHVALUES"), "*[$ $ $ $]", "*[*[$ $] *[$ $]]"},
		{cmd("HRANDFIELD h 2"), "*[$ $]", "*[$ $]"},
		{cmd("HRANDFIELD nokey"), "$nil", "_nil"},
		{cmd("HGET h nope"), "$nil", "_nil"},
		{cmd("HSCAN h 0"), "*[$ *[$ $ $ $]]", "*[$ *[$ $ $ $]]"},
	}
	for _, proto := range []int{2, 3} {
		h := newHarness(t, proto)
		for _, enc := range []string{"listpack", "hashtable"} {
			h.do("HDEL", "h", "a", "b")
			if enc == "hashtable" {
				h.e.Lock()
				h.e.Settings.HashMaxListpackEntries = 0
				h.e.Unlock()
			}
			h.do("HSET", "h", "a", "1", "b", "2")
			if got := h.encoding("h"); got != enc {
				t.Fatalf("encoding %s, want %s", got, enc)
			}
			for _, c := range cases {
				want := c.resp2
				if proto == 3 {
					want = c.resp3
				}
				if got := kinds(h.do(c.args...)); got != want {
					t.Errorf("RESP%d %s %v: shape %s, want %s", proto, enc, c.args, got, want)
				}
			}
		}
	}
}

// Thresholds as Redis: listpack up to hash-max-listpack-entries fields of at
// most hash-max-listpack-value bytes, hashtable past either, never back.
func TestHashEncoding(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	s.E.Lock()
	s.E.Settings.HashMaxListpackEntries = 4
	s.E.Settings.HashMaxListpackValue = 8
	s.E.Unlock()
	enc := func(key string) string {
		s.E.Lock()
		defer s.E.Unlock()
		o := s.E.DB(0).Peek([]byte(key))
		if o == nil {
			return ""
		}
		return o.Enc.String()
	}
	cases := []struct {
		name string
		cmds [][]string
		want string
	}{
		{"entries at limit", [][]string{cmd("HSET a 1 1 2 2 3 3 4 4")}, "listpack"},
		{"entries past limit", [][]string{cmd("HSET b 1 1 2 2 3 3 4 4 5 5")}, "hashtable"},
		{"one by one past limit", [][]string{cmd("HSET c 1 1"), cmd("HSET c 2 2"), cmd("HSET c 3 3"), cmd("HSET c 4 4"), cmd("HSET c 5 5")}, "hashtable"},
		{"value at limit", [][]string{cmd("HSET d f 12345678")}, "listpack"},
		{"value past limit", [][]string{cmd("HSET e f 123456789")}, "hashtable"},
		{"field past limit", [][]string{cmd("HSET f 123456789 v")}, "hashtable"},
		{"hsetnx long value", [][]string{cmd("HSETNX g f 123456789")}, "hashtable"},
		{"hincrbyfloat grows value", [][]string{cmd("HINCRBYFLOAT i f 1.125"), cmd("HINCRBYFLOAT i f 1000000")}, "hashtable"},
		{"hincrby new fields", [][]string{cmd("HINCRBY j a 1"), cmd("HINCRBY j b 1"), cmd("HINCRBY j c 1"), cmd("HINCRBY j d 1"), cmd("HINCRBY j e 1")}, "hashtable"},
		{"no conversion back", [][]string{cmd("HSET k 1 1 2 2 3 3 4 4 5 5"), cmd("HDEL k 1 2 3 4")}, "hashtable"},
		{"update in place keeps listpack", [][]string{cmd("HSET l a 1 b 2"), cmd("HSET l a 12345678 b 3")}, "listpack"},
	}
	for _, c := range cases {
		key := c.cmds[0][1]
		for _, args := range c.cmds {
			if v := r.Do(args...); v.Kind == '-' {
				t.Fatalf("%s: %v: %v", c.name, args, v)
			}
		}
		if got := enc(key); got != c.want {
			t.Errorf("%s: encoding %s, want %s", c.name, got, c.want)
		}
	}
	// Contents survive conversion.
	if got := r.Do("HGET", "b", "3").String(); got != "3" {
		t.Errorf("after conversion HGET b 3 = %s", got)
	}
	if got := r.Do("HGET", "i", "f").String(); got != "1000001.125" {
		t.Errorf("after conversion HGET i f = %s", got)
	}
	if got := r.Do("HLEN", "k").String(); got != "1" {
		t.Errorf("HLEN k = %s", got)
	}
}

func TestHscan(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	runSteps(t, r, []step{
		{cmd("HSCAN nokey 0"), "[0 []]"},
		{cmd("HSCAN nokey 0 badopt"), "[0 []]"},
		{cmd("HSCAN h x"), "(error) ERR invalid cursor"},
		{cmd("HSCAN h 18446744073709551616"), "(error) ERR invalid cursor"},
		{cmd("HSET h a 1 b 2 ab 3"), "3"},
		{cmd("HSCAN h 0"), "[0 [a 1 b 2 ab 3]]"},
		{cmd("HSCAN h 0 MATCH a*"), "[0 [a 1 ab 3]]"},
		{cmd("HSCAN h 0 MATCH * COUNT 1"), "[0 [a 1 b 2 ab 3]]"},
		{cmd("HSCAN h 0 COUNT 0"), "(error) ERR syntax error"},
		{cmd("HSCAN h 0 COUNT x"), "(error) ERR value is not an integer or out of range"},
		{cmd("HSCAN h 0 MATCH"), "(error) ERR syntax error"},
		{cmd("HSCAN h 0 TYPE string"), "(error) ERR syntax error"},
		{cmd("HSCAN h 0 NOVALUES"), "(error) ERR syntax error"},
	})
	// A hashtable is walked with the cursor; every field comes back once at least.
	s.E.Lock()
	s.E.Settings.HashMaxListpackEntries = 8
	s.E.Unlock()
	want := map[string]string{}
	for i := 0; i < 500; i++ {
		f := fmt.Sprint("field:", i)
		want[f] = fmt.Sprint(i)
		r.Do("HSET", "big", f, want[f])
	}
	got := map[string]string{}
	cursor := "0"
	for rounds := 0; ; rounds++ {
		if rounds > 1000 {
			t.Fatal("scan does not end")
		}
		v := r.Do("HSCAN", "big", cursor, "COUNT", "20")
		for i := 0; i < len(v.Elems[1].Elems); i += 2 {
			got[string(v.Elems[1].Elems[i].Str)] = string(v.Elems[1].Elems[i+1].Str)
		}
		cursor = string(v.Elems[0].Str)
		if cursor == "0" {
			break
		}
	}
	if len(got) != len(want) {
		t.Fatalf("scan returned %d fields, want %d", len(got), len(want))
	}
	for f, v := range want {
		if got[f] != v {
			t.Fatalf("field %s = %q, want %q", f, got[f], v)
		}
	}
	v := r.Do("HSCAN", "big", "0", "MATCH", "field:4??", "COUNT", "10000")
	n := len(v.Elems[1].Elems) / 2
	if n != 100 {
		t.Fatalf("MATCH field:4?? returned %d fields, want 100", n)
	}
}

func TestHashEventsAndPropagation(t *testing.T) {
	h := newHarness(t, 2)
	cases := []struct {
		args   []string
		events []string
		props  []string
	}{
		{cmd("HSET h a 1 b 2"), []string{"hset h"}, []string{"HSET h a 1 b 2"}},
		{cmd("HSETNX h a 1"), nil, nil},
		{cmd("HSETNX h c 3"), []string{"hset h"}, []string{"HSETNX h c 3"}},
		{cmd("HINCRBY h a 5"), []string{"hincrby h"}, []string{"HINCRBY h a 5"}},
		{cmd("HINCRBYFLOAT h b 0.5"), []string{"hincrbyfloat h"}, []string{"HSET h b 2.5"}},
		{cmd("HINCRBYFLOAT h b 1e2"), []string{"hincrbyfloat h"}, []string{"HSET h b 102.5"}},
		{cmd("HDEL h nope"), nil, nil},
		{cmd("HDEL h a b"), []string{"hdel h"}, []string{"HDEL h a b"}},
		{cmd("HDEL h c"), []string{"hdel h", "del h"}, []string{"HDEL h c"}},
		{cmd("HGETALL h"), nil, nil},
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
	if enc := h.encoding("h"); enc != "" {
		t.Errorf("emptied hash still exists (%s)", enc)
	}
}

// The go-redis client sees what a Redis user would.
func TestHashGoRedis(t *testing.T) {
	s := kvtest.Start(t)
	c := s.Client(t, 2)
	ctx := kvtest.Ctx(t)
	if n, err := c.HSet(ctx, "user:1", "name", "ann", "age", "41").Result(); err != nil || n != 2 {
		t.Fatalf("HSET: %d %v", n, err)
	}
	m, err := c.HGetAll(ctx, "user:1").Result()
	if err != nil || m["name"] != "ann" || m["age"] != "41" || len(m) != 2 {
		t.Fatalf("HGETALL: %v %v", m, err)
	}
	if n, err := c.HIncrBy(ctx, "user:1", "age", 1).Result(); err != nil || n != 42 {
		t.Fatalf("HINCRBY: %d %v", n, err)
	}
	if f, err := c.HIncrByFloat(ctx, "user:1", "score", 1.5).Result(); err != nil || f != 1.5 {
		t.Fatalf("HINCRBYFLOAT: %v %v", f, err)
	}
	if keys, err := c.HKeys(ctx, "user:1").Result(); err != nil || !slices.Equal(keys, []string{"name", "age", "score"}) {
		t.Fatalf("HKEYS: %v %v", keys, err)
	}
	if _, err := c.HGet(ctx, "user:1", "nope").Result(); err == nil || err.Error() != "redis: nil" {
		t.Fatalf("HGET missing: %v", err)
	}
	kvs, err := c.HRandFieldWithValues(ctx, "user:1", 2).Result()
	if err != nil || len(kvs) != 2 {
		t.Fatalf("HRANDFIELD WITHVALUES: %v %v", kvs, err)
	}
	keys, cursor, err := c.HScan(ctx, "user:1", 0, "*a*", 10).Result()
	if err != nil || cursor != 0 || !slices.Equal(keys, []string{"name", "ann", "age", "42"}) {
		t.Fatalf("HSCAN: %v %d %v", keys, cursor, err)
	}
}
