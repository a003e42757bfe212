package engine_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"kv/engine"
	"kv/internal/kvtest"
	"kv/resp"
)

// encodingOf reads a key's encoding straight from the engine (OBJECT ENCODING is
// another group's command).
func encodingOf(t *testing.T, s *kvtest.Server, key string) string {
	t.Helper()
	s.E.Lock()
	defer s.E.Unlock()
	o := s.E.DB(0).Peek([]byte(key))
	if o == nil {
		return "none"
	}
	return o.Enc.String()
}

func TestZSetEncodingTransitions(t *testing.T) {
	s := kvtest.Start(t)
	rc := s.Client(t, 2)
	ctx := kvtest.Ctx(t)
	members := func(n int, prefix string) []redis.Z {
		out := make([]redis.Z, n)
		for i := range out {
			out[i] = redis.Z{Score: float64(i), Member: prefix + strconv.Itoa(i)}
		}
		return out
	}
	steps := []struct {
		name string
		run  func() error
		key  string
		want string
	}{
		{"128 members stay compact", func() error { return rc.ZAdd(ctx, "z128", members(128, "m")...).Err() }, "z128", "listpack"},
		{"the 129th converts", func() error { return rc.ZAdd(ctx, "z128", redis.Z{Score: 1, Member: "extra"}).Err() }, "z128", "skiplist"},
		{"removing members does not convert back", func() error { return rc.ZRemRangeByRank(ctx, "z128", 0, 100).Err() }, "z128", "skiplist"},
		{"a 64-byte member fits", func() error { return rc.ZAdd(ctx, "v64", redis.Z{Member: strings.Repeat("x", 64)}).Err() }, "v64", "listpack"},
		{"a 65-byte member converts", func() error { return rc.ZAdd(ctx, "v64", redis.Z{Member: strings.Repeat("y", 65)}).Err() }, "v64", "skiplist"},
		{"a new set with a long first member starts as a skiplist", func() error { return rc.ZAdd(ctx, "v65", redis.Z{Member: strings.Repeat("y", 65)}).Err() }, "v65", "skiplist"},
		{"ZRANGESTORE of a small range is compact", func() error { return rc.ZRangeStore(ctx, "rs", redis.ZRangeArgs{Key: "z128", Start: 0, Stop: 9}).Err() }, "rs", "listpack"},
		{"ZRANGESTORE past the limit is a skiplist", func() error {
			if err := rc.ZAdd(ctx, "big", members(300, "b")...).Err(); err != nil {
				return err
			}
			return rc.ZRangeStore(ctx, "rs2", redis.ZRangeArgs{Key: "big", Start: 0, Stop: 200}).Err()
		}, "rs2", "skiplist"},
		{"ZUNIONSTORE keeps a skiplist for a long member", func() error { return rc.ZUnionStore(ctx, "u", &redis.ZStore{Keys: []string{"v64"}}).Err() }, "u", "skiplist"},
		{"ZINTERSTORE result within limits is a listpack", func() error {
			if err := rc.ZRangeStore(ctx, "rs3", redis.ZRangeArgs{Key: "big", Start: 0, Stop: 9}).Err(); err != nil {
				return err
			}
			return rc.ZInterStore(ctx, "i", &redis.ZStore{Keys: []string{"big", "rs3"}}).Err()
		}, "i", "listpack"},
		{"ZDIFFSTORE result past the limit is a skiplist", func() error { return rc.ZDiffStore(ctx, "d", "big", "rs").Err() }, "d", "skiplist"},
	}
	for _, st := range steps {
		if err := st.run(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := encodingOf(t, s, st.key); got != st.want {
			t.Errorf("%s: encoding %s, want %s", st.name, got, st.want)
		}
	}

	// zset-max-listpack-entries 0 makes every new set a skiplist.
	s.E.Lock()
	s.E.Settings.ZSetMaxListpackEntries = 0
	s.E.Unlock()
	if err := rc.ZAdd(ctx, "zero", redis.Z{Member: "a"}).Err(); err != nil {
		t.Fatal(err)
	}
	if got := encodingOf(t, s, "zero"); got != "skiplist" {
		t.Errorf("with zset-max-listpack-entries 0: %s", got)
	}
}

// TestZSetLargeAgainstModel checks rank and range queries of a skiplist-encoded set
// against a sorted slice.
func TestZSetLargeAgainstModel(t *testing.T) {
	s := kvtest.Start(t)
	rc := s.Client(t, 2)
	ctx := kvtest.Ctx(t)
	r := rand.New(rand.NewPCG(1, 2))
	type pair struct {
		m string
		s float64
	}
	var model []pair
	var zs []redis.Z
	for i := 0; i < 2000; i++ {
		p := pair{fmt.Sprintf("m%05d", i), float64(r.IntN(300))}
		model = append(model, p)
		zs = append(zs, redis.Z{Score: p.s, Member: p.m})
	}
	if err := rc.ZAdd(ctx, "z", zs...).Err(); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(model, func(a, b pair) int {
		if a.s != b.s {
			if a.s < b.s {
				return -1
			}
			return 1
		}
		return strings.Compare(a.m, b.m)
	})
	for _, i := range []int{0, 1, 17, 999, 1998, 1999} {
		rank, err := rc.ZRank(ctx, "z", model[i].m).Result()
		if err != nil || rank != int64(i) {
			t.Fatalf("ZRANK %s = %d, %v; want %d", model[i].m, rank, err, i)
		}
		rev, _ := rc.ZRevRank(ctx, "z", model[i].m).Result()
		if rev != int64(len(model)-1-i) {
			t.Fatalf("ZREVRANK %s = %d", model[i].m, rev)
		}
	}
	got, err := rc.ZRange(ctx, "z", 500, 509).Result()
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range got {
		if m != model[500+i].m {
			t.Fatalf("ZRANGE 500 509 [%d] = %s, want %s", i, m, model[500+i].m)
		}
	}
	n, _ := rc.ZCount(ctx, "z", "(100", "200").Result()
	want := 0
	for _, p := range model {
		if p.s > 100 && p.s <= 200 {
			want++
		}
	}
	if n != int64(want) {
		t.Fatalf("ZCOUNT (100 200 = %d, want %d", n, want)
	}
	if err := rc.ZRemRangeByScore(ctx, "z", "-inf", "(150").Err(); err != nil {
		t.Fatal(err)
	}
	card, _ := rc.ZCard(ctx, "z").Result()
	left := 0
	for _, p := range model {
		if p.s >= 150 {
			left++
		}
	}
	if card != int64(left) {
		t.Fatalf("ZCARD after ZREMRANGEBYSCORE = %d, want %d", card, left)
	}
}

// zsetRecorder collects keyspace events and propagated commands.
type zsetRecorder struct {
	mu     sync.Mutex
	events []string
	props  []string
}

func (r *zsetRecorder) NotifyKeyspaceEvent(class engine.EventClass, event string, key []byte, db int) {
	if class == engine.EventKeyMiss || class == engine.EventNew {
		return
	}
	r.mu.Lock()
	r.events = append(r.events, event+" "+string(key))
	r.mu.Unlock()
}

func (r *zsetRecorder) Propagate(db int, args [][]byte) {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = string(a)
	}
	r.mu.Lock()
	r.props = append(r.props, strings.Join(parts, " "))
	r.mu.Unlock()
}

func (r *zsetRecorder) take() (events, props []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	events, props = r.events, r.props
	r.events, r.props = nil, nil
	return events, props
}

func TestZSetEventsAndPropagation(t *testing.T) {
	s := kvtest.Start(t)
	rec := &zsetRecorder{}
	s.E.Lock()
	s.E.SetNotifier(rec)
	s.E.SetPropagator(rec)
	s.E.Unlock()
	raw := s.Raw(t)
	cases := []struct {
		cmd    []string
		events []string
		props  []string
	}{
		{[]string{"ZADD", "z", "1", "a", "2", "b", "3", "c"}, []string{"zadd z"}, []string{"ZADD z 1 a 2 b 3 c"}},
		{[]string{"ZADD", "z", "1", "a"}, nil, nil},
		{[]string{"ZADD", "z", "INCR", "1", "a"}, []string{"zincr z"}, []string{"ZADD z INCR 1 a"}},
		{[]string{"ZINCRBY", "z", "1", "a"}, []string{"zincr z"}, []string{"ZINCRBY z 1 a"}},
		{[]string{"ZREM", "z", "nosuch"}, nil, nil},
		{[]string{"ZMPOP", "2", "nokey", "z", "MIN", "COUNT", "5"}, []string{"zpopmin z", "del z"}, []string{"ZPOPMIN z 3"}},
		{[]string{"ZADD", "y", "1", "a", "2", "b"}, []string{"zadd y"}, []string{"ZADD y 1 a 2 b"}},
		{[]string{"ZPOPMAX", "y"}, []string{"zpopmax y"}, []string{"ZPOPMAX y"}},
		{[]string{"ZREMRANGEBYSCORE", "y", "-inf", "+inf"}, []string{"zremrangebyscore y", "del y"}, []string{"ZREMRANGEBYSCORE y -inf +inf"}},
		{[]string{"ZADD", "x", "1", "a", "2", "b"}, []string{"zadd x"}, []string{"ZADD x 1 a 2 b"}},
		{[]string{"ZRANGESTORE", "dst", "x", "0", "0"}, []string{"zrangestore dst"}, []string{"ZRANGESTORE dst x 0 0"}},
		{[]string{"ZUNIONSTORE", "dst", "1", "x"}, []string{"zunionstore dst"}, []string{"ZUNIONSTORE dst 1 x"}},
		{[]string{"ZINTERSTORE", "dst", "2", "x", "nokey"}, []string{"del dst"}, []string{"ZINTERSTORE dst 2 x nokey"}},
		{[]string{"ZDIFFSTORE", "dst", "1", "nokey"}, nil, nil},
		{[]string{"ZREMRANGEBYRANK", "x", "0", "0"}, []string{"zremrangebyrank x"}, []string{"ZREMRANGEBYRANK x 0 0"}},
		{[]string{"ZREMRANGEBYLEX", "x", "-", "+"}, []string{"zremrangebylex x", "del x"}, []string{"ZREMRANGEBYLEX x - +"}},
		{[]string{"ZADD", "w", "1", "a"}, []string{"zadd w"}, []string{"ZADD w 1 a"}},
		{[]string{"ZREM", "w", "a", "b"}, []string{"zrem w", "del w"}, []string{"ZREM w a b"}},
	}
	for _, tc := range cases {
		if v := raw.Do(tc.cmd...); v.Kind == '-' {
			t.Fatalf("%v: %s", tc.cmd, v)
		}
		events, props := rec.take()
		if !slices.Equal(events, tc.events) || !slices.Equal(props, tc.props) {
			t.Errorf("%v:\n events %q, want %q\n propagated %q, want %q", tc.cmd, events, tc.events, props, tc.props)
		}
	}
}

// TestZSetDirty checks the change counter moves by what Redis counts: one per member
// added, updated or removed, one per stored result.
func TestZSetDirty(t *testing.T) {
	s := kvtest.Start(t)
	raw := s.Raw(t)
	cases := []struct {
		cmd   []string
		dirty int64
	}{
		{[]string{"ZADD", "z", "1", "a", "2", "b", "3", "c"}, 3},
		{[]string{"ZADD", "z", "CH", "1", "a", "5", "b", "4", "d"}, 2},
		{[]string{"ZREM", "z", "a", "b", "nosuch"}, 2},
		{[]string{"ZPOPMIN", "z", "10"}, 2},
		{[]string{"ZUNIONSTORE", "u", "1", "nokey"}, 0},
	}
	for _, tc := range cases {
		s.E.Lock()
		before := s.E.Dirty
		s.E.Unlock()
		raw.Do(tc.cmd...)
		s.E.Lock()
		got := s.E.Dirty - before
		s.E.Unlock()
		if got != tc.dirty {
			t.Errorf("%v: dirty +%d, want +%d", tc.cmd, got, tc.dirty)
		}
	}
}

// TestZSetClient exercises the commands through go-redis in both protocols, the way
// an application would use a leaderboard.
func TestZSetClient(t *testing.T) {
	for _, proto := range []int{2} {
		s := kvtest.Start(t)
		rc := s.Client(t, proto)
		ctx := kvtest.Ctx(t)
		if err := rc.ZAdd(ctx, "board", redis.Z{Score: 10, Member: "ann"}, redis.Z{Score: 30, Member: "bob"}, redis.Z{Score: 20, Member: "cid"}).Err(); err != nil {
			t.Fatal(err)
		}
		top, err := rc.ZRevRangeWithScores(ctx, "board", 0, 1).Result()
		if err != nil || len(top) != 2 || top[0].Member != "bob" || top[0].Score != 30 || top[1].Member != "cid" {
			t.Fatalf("ZREVRANGE WITHSCORES = %v, %v", top, err)
		}
		if sc, err := rc.ZIncrBy(ctx, "board", 25, "ann").Result(); err != nil || sc != 35 {
			t.Fatalf("ZINCRBY = %v, %v", sc, err)
		}
		popped, err := rc.ZPopMax(ctx, "board", 2).Result()
		if err != nil || len(popped) != 2 || popped[0].Member != "ann" || popped[1].Member != "bob" {
			t.Fatalf("ZPOPMAX 2 = %v, %v", popped, err)
		}
		key, zs, err := rc.ZMPop(ctx, "min", 1, "nokey", "board").Result()
		if err != nil || key != "board" || len(zs) != 1 || zs[0].Member != "cid" {
			t.Fatalf("ZMPOP = %v %v %v", key, zs, err)
		}
		if n, err := rc.Exists(ctx, "board").Result(); err == nil && n != 0 {
			t.Fatalf("emptied set still exists")
		}
	}
}

// TestZRandMember checks the properties ZRANDMEMBER promises, in both encodings and
// protocols: a positive count gives distinct members (all of them when the count is at
// least the size), a negative count gives exactly that many, and WITHSCORES pairs each
// member with its own score.
func TestZRandMember(t *testing.T) {
	for _, long := range []bool{false, true} {
		for _, proto := range []int{2, 3} {
			e := engine.New(engine.Options{})
			engine.RegisterAll(e)
			w := resp.NewWriter()
			w.SetProto(proto)
			c := e.NewCtx(w, nil)
			scores := map[string]float64{}
			add := []string{"ZADD", "z"}
			for i := 0; i < 40; i++ {
				m := fmt.Sprintf("m%02d", i)
				if long {
					m += strings.Repeat("-", 70)
				}
				scores[m] = float64(i) / 4
				add = append(add, strconv.FormatFloat(scores[m], 'g', -1, 64), m)
			}
			execRaw(e, c, add)
			for _, count := range []int{1, 3, 10, 39, 40, 45, -1, -100} {
				for _, withScores := range []bool{false, true} {
					args := []string{"ZRANDMEMBER", "z", strconv.Itoa(count)}
					if withScores {
						args = append(args, "WITHSCORES")
					}
					v, err := resp.NewReplyReader(strings.NewReader(execRaw(e, c, args))).Read()
					if err != nil {
						t.Fatal(err)
					}
					var got []string
					for i := 0; i < len(v.Elems); i++ {
						el := v.Elems[i]
						var m, score string
						switch {
						case withScores && proto == 3:
							m, score = string(el.Elems[0].Str), string(el.Elems[1].Str)
						case withScores:
							m, score = string(el.Str), string(v.Elems[i+1].Str)
							i++
						default:
							m = string(el.Str)
						}
						if _, ok := scores[m]; !ok {
							t.Fatalf("%v: unknown member %q", args, m)
						}
						if withScores {
							if f, _ := strconv.ParseFloat(score, 64); f != scores[m] {
								t.Fatalf("%v: %q has score %s, want %v", args, m, score, scores[m])
							}
						}
						got = append(got, m)
					}
					want := count
					if count < 0 {
						want = -count
					} else if count > 40 {
						want = 40
					}
					if len(got) != want {
						t.Fatalf("%v (resp%d): %d members, want %d", args, proto, len(got), want)
					}
					if count > 0 {
						sorted := slices.Clone(got)
						slices.Sort(sorted)
						if len(slices.Compact(sorted)) != len(got) {
							t.Fatalf("%v: repeated members %v", args, got)
						}
					}
				}
			}
		}
	}
}

// TestZSetCopyAndSort checks the key commands that reach sorted sets through their
// hooks: COPY keeps the encoding and the members, SORT reads members in order.
func TestZSetCopyAndSort(t *testing.T) {
	s := kvtest.Start(t)
	raw := s.Raw(t)
	raw.Do("ZADD", "small", "3", "c", "1", "a", "2", "b")
	big := []string{"ZADD", "big"}
	for i := 0; i < 200; i++ {
		big = append(big, strconv.Itoa(200-i), fmt.Sprintf("m%03d", i))
	}
	raw.Do(big...)
	cases := []struct{ cmd, want string }{
		{"COPY small small2", "1"},
		{"ZRANGE small2 0 -1 WITHSCORES", "[a 1 b 2 c 3]"},
		{"OBJECT ENCODING small2", "listpack"},
		{"COPY big big2", "1"},
		{"OBJECT ENCODING big2", "skiplist"},
		{"ZRANGE big2 0 2", "[m199 m198 m197]"},
		{"ZCARD big2", "200"},
		{"ZRANK big2 m000", "199"},
		{"SORT small ALPHA DESC", "[c b a]"},
		{"SORT small BY nosort", "[a b c]"},
		{"SORT small BY nosort DESC LIMIT 0 2", "[c b]"},
	}
	for _, tc := range cases {
		if got := raw.Do(strings.Fields(tc.cmd)...).String(); got != tc.want {
			t.Errorf("%s = %s, want %s", tc.cmd, got, tc.want)
		}
	}
}
