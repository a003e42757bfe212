package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"kv/internal/kvtest"
	"kv/internal/redistest"
)

// gaugeKeys makes used memory 100 bytes per key in db 0-15, so tests set exact limits.
func gaugeKeys(s *kvtest.Server) {
	s.E.Lock()
	s.E.SetMemoryGauge(func() int64 {
		n := 0
		for i := 0; i < s.E.NumDBs(); i++ {
			n += s.E.DB(i).Len()
		}
		return int64(n * 100)
	})
	s.E.Unlock()
}

func TestNoevictionOOM(t *testing.T) {
	s := kvtest.Start(t)
	gaugeKeys(s)
	r := s.Raw(t)
	oom := "(error) OOM command not allowed when used memory > 'maxmemory'."
	steps := [][2]string{
		{"SET a 1", "OK"},
		{"SET b 2", "OK"},
		{"CONFIG SET maxmemory 100", "OK"},
		{"SET c 3", oom},
		{"GET a", "1"},
		{"MULTI", "OK"},
		{"SET c 3", oom},
		// Inside MULTI everything but EXEC/DISCARD is refused: queuing takes memory.
		{"GET a", oom},
		{"EXEC", "(error) EXECABORT Transaction discarded because of previous errors."},
		// A transaction queued before the limit is aborted at EXEC.
		{"CONFIG SET maxmemory 0", "OK"},
		{"MULTI", "OK"},
		{"SET c 3", "QUEUED"},
		{"CONFIG SET maxmemory 100", "QUEUED"},
		{"EXEC", "[OK OK]"},
		{"CONFIG SET maxmemory 0", "OK"},
		{"MULTI", "OK"},
		{"SET d 4", "QUEUED"},
		{"EXEC", "(error) EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'."},
		{"DEL a", "1"},
		{"DEL b c", "2"},
		{"SET e 5", "OK"},
		{"SET f 6", "OK"}, // 100 bytes used is not over 100
		{"SET g 7", "(error) OOM command not allowed when used memory > 'maxmemory'."},
		{"GET f", "6"},
	}
	for i, st := range steps {
		if st[0] == "EXEC" && i > 14 {
			// Another client lowers the limit while r is in MULTI: EXEC holding a
			// deny-oom command is aborted, as Redis's execCommandAbort.
			s.Raw(t).Do("CONFIG", "SET", "maxmemory", "100")
		}
		if got := r.Do(strings.Fields(st[0])...).String(); got != st[1] {
			t.Fatalf("step %d %s: got %s, want %s", i, st[0], got, st[1])
		}
	}
	info := r.Do("INFO", "stats").String()
	if !strings.Contains(info, "evicted_keys:0") {
		t.Errorf("noeviction evicted keys: %s", info)
	}
}

// TestEvictionThroughServer: eviction runs before commands, counts evicted_keys,
// invalidates WATCH, and CONFIG SET maxmemory takes effect without a write.
func TestEvictionThroughServer(t *testing.T) {
	s := kvtest.Start(t)
	gaugeKeys(s)
	r := s.Raw(t)
	for i := 0; i < 50; i++ {
		r.Do("SET", fmt.Sprint("k", i), "v")
	}
	w := s.Raw(t)
	w.Do("WATCH", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "k10", "k11", "k12")
	r.Do("CONFIG", "SET", "maxmemory-policy", "allkeys-random")
	r.Do("CONFIG", "SET", "maxmemory", "2000")
	// The background loop evicts without waiting for a command.
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.E.Lock()
		n := s.E.DB(0).Len()
		s.E.Unlock()
		if n == 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dbsize %d after CONFIG SET maxmemory, want 20", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !strings.Contains(r.Do("INFO", "stats").String(), "evicted_keys:30") {
		t.Errorf("INFO stats: %s", r.Do("INFO", "stats"))
	}
	// 30 of 50 keys went; the chance that none of the 12 watched did is negligible.
	w.Do("MULTI")
	w.Do("PING")
	if got := w.Do("EXEC").String(); got != "(nil)" && got != "(nil array)" && !strings.Contains(got, "nil") {
		t.Errorf("EXEC after an eviction of a watched key = %s, want nil", got)
	}
	// Writes keep evicting to stay at the limit.
	for i := 100; i < 150; i++ {
		if got := r.Do("SET", fmt.Sprint("k", i), "v").String(); got != "OK" {
			t.Fatalf("SET under allkeys-random: %s", got)
		}
	}
	if got := r.Do("DBSIZE").String(); got != "20" {
		t.Errorf("DBSIZE after writes = %s, want 20", got)
	}
	// OBJECT FREQ answers under an LFU policy only.
	r.Do("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
	r.Do("SET", "f", "1")
	if got := r.Do("OBJECT", "FREQ", "f").String(); got != "5" && got != "6" {
		t.Errorf("OBJECT FREQ of a new key under allkeys-lfu = %s", got)
	}
}

// TestRealHeapEviction runs without a gauge: used_memory comes from the Go runtime,
// and a cache filled well past maxmemory stays near it.
func TestRealHeapEviction(t *testing.T) {
	s := kvtest.Start(t)
	c := s.Client(t)
	ctx := kvtest.Ctx(t)
	used := infoInt(t, c, "memory", "used_memory")
	limit := used + 4<<20
	c.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru")
	c.ConfigSet(ctx, "maxmemory", strconv.FormatInt(limit, 10))
	val := strings.Repeat("x", 1000)
	p := c.Pipeline()
	for i := 0; i < 20_000; i++ { // about 20 MB of values
		p.Set(ctx, fmt.Sprint("key:", i), val, 0)
		if i%500 == 499 {
			if _, err := p.Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	evicted := infoInt(t, c, "stats", "evicted_keys")
	n, _ := c.DBSize(ctx).Result()
	after := infoInt(t, c, "memory", "used_memory")
	t.Logf("limit %d, used_memory %d, %d keys kept, %d evicted", limit, after, n, evicted)
	if evicted == 0 || n+evicted != 20_000 {
		t.Fatalf("%d keys + %d evicted, want 20000 in all with evictions", n, evicted)
	}
	// 4 MB holds at most ~3500 1 KB values; garbage not yet collected may push used
	// memory a little over, never far.
	if n > 4000 || after > limit+limit/4 {
		t.Errorf("%d keys, used_memory %d over limit %d", n, after, limit)
	}
	if got := infoInt(t, c, "memory", "maxmemory"); got != limit {
		t.Errorf("INFO maxmemory %d", got)
	}
}

func infoInt(t *testing.T, c *redis.Client, section, field string) int64 {
	t.Helper()
	info, err := c.Info(context.Background(), section).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	t.Fatalf("INFO %s has no %s", section, field)
	return 0
}

// TestMemoryUsageMatchesRedis runs the same writes on kv and real Redis 7.0.15 and
// compares MEMORY USAGE, which kv computes with Redis's structure sizes.
func TestMemoryUsageMatchesRedis(t *testing.T) {
	ref := redistest.Start(t)
	s := kvtest.Start(t)
	ctx := kvtest.Ctx(t)
	kc := s.Client(t, 2)
	rc := redis.NewClient(&redis.Options{Addr: ref.Addr, Protocol: 2})
	t.Cleanup(func() { rc.Close() })
	hashFields := func(n int, vlen int) []any {
		var a []any
		for i := 0; i < n; i++ {
			a = append(a, fmt.Sprint("field:", i), strings.Repeat("v", vlen))
		}
		return a
	}
	members := func(n int, prefix string) []any {
		var a []any
		for i := 0; i < n; i++ {
			a = append(a, fmt.Sprint(prefix, i))
		}
		return a
	}
	cmds := [][]any{
		{"SET", "s:small", "bar"},
		{"SET", "s:int", "123456"},
		{"SET", "s:neg", "-5"},
		{"SET", "s:44", strings.Repeat("a", 44)},
		{"SET", "s:45", strings.Repeat("a", 45)},
		{"SET", "s:1k", strings.Repeat("a", 1000)},
		{"SET", strings.Repeat("longkey", 10), "v"},
		append([]any{"HSET", "h:lp"}, hashFields(5, 8)...),
		{"HSET", "h:ints", "1", "100", "2", "-3000", "3", "70000", "4", "9999999999"},
		append([]any{"HSET", "h:ht"}, hashFields(600, 10)...),
		append([]any{"HSET", "h:bigval"}, hashFields(2, 100)...),
		append([]any{"SADD", "set:int"}, members(10, "")...),
		{"SADD", "set:wide", "1", "100000", "10000000000"},
		append([]any{"SADD", "set:str"}, members(20, "member:")...),
	}
	for _, cmd := range cmds {
		if err := kc.Do(ctx, cmd...).Err(); err != nil {
			t.Fatalf("kv %v: %v", cmd[:2], err)
		}
		if err := rc.Do(ctx, cmd...).Err(); err != nil {
			t.Fatalf("redis %v: %v", cmd[:2], err)
		}
	}
	for _, cmd := range cmds {
		key := cmd[1].(string)
		for _, samples := range []int{5, 0} {
			want, err := rc.MemoryUsage(ctx, key, samples).Result()
			if err != nil {
				t.Fatal(err)
			}
			got, err := kc.MemoryUsage(ctx, key, samples).Result()
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("MEMORY USAGE %s SAMPLES %d: kv %d, Redis %d", key, samples, got, want)
			}
		}
	}
	for _, args := range [][]any{
		{"MEMORY", "USAGE", "nokey"},
		{"MEMORY", "USAGE", "s:small", "SAMPLES"},
		{"MEMORY", "USAGE", "s:small", "SAMPLES", "-1"},
		{"MEMORY", "USAGE", "s:small", "SAMPLES", "x"},
		{"MEMORY", "USAGE"},
		{"MEMORY", "FOO"},
		{"MEMORY", "PURGE"},
		{"MEMORY", "HELP"},
	} {
		want := fmt.Sprint(rc.Do(ctx, args...).Result())
		got := fmt.Sprint(kc.Do(ctx, args...).Result())
		if got != want {
			t.Errorf("%v: kv %s, Redis %s", args, got, want)
		}
	}
	// MEMORY STATS has Redis 7.0's fields in its order.
	keysOf := func(c *redis.Client) []string {
		v, err := c.Do(ctx, "MEMORY", "STATS").Slice()
		if err != nil {
			t.Fatal(err)
		}
		var ks []string
		for i := 0; i < len(v); i += 2 {
			ks = append(ks, fmt.Sprint(v[i]))
		}
		return ks
	}
	if got, want := keysOf(kc), keysOf(rc); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("MEMORY STATS fields\n kv    %v\n redis %v", got, want)
	}
}

// TestHitRateMatchesRedis is the cache test of issue 8: the same zipfian read-through
// workload (GET, SET on a miss) against kv and real Redis, both under allkeys-lru
// with the same maxmemory, must end with hit rates within a few points. The key
// space is sized so the cache holds a fraction of it on both servers.
func TestHitRateMatchesRedis(t *testing.T) {
	ref := redistest.Start(t)
	s := kvtest.Start(t)
	const (
		keys     = 200_000
		requests = 150_000
		valueLen = 200
		maxmem   = 8 << 20 // above each server's baseline
	)
	run := func(name string, c *redis.Client) float64 {
		// Each server gets its own deadline: under -race on a loaded machine the two
		// runs together can take longer than one.
		ctx := kvtest.Ctx(t)
		base := infoInt(t, c, "memory", "used_memory")
		if err := c.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru").Err(); err != nil {
			t.Fatal(err)
		}
		if err := c.ConfigSet(ctx, "maxmemory", strconv.FormatInt(base+maxmem, 10)).Err(); err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		zipf := rand.NewZipf(rng, 1.01, 1, keys-1)
		val := strings.Repeat("v", valueLen)
		var hits, total int
		const batch = 100
		for done := 0; done < requests; done += batch {
			ks := make([]string, batch)
			p := c.Pipeline()
			gets := make([]*redis.StringCmd, batch)
			for i := range ks {
				ks[i] = "key:" + strconv.FormatUint(zipf.Uint64(), 10)
				gets[i] = p.Get(ctx, ks[i])
			}
			_, _ = p.Exec(ctx)
			p = c.Pipeline()
			for i, g := range gets {
				total++
				if g.Err() == nil {
					hits++
				} else {
					p.Set(ctx, ks[i], val, 0)
				}
			}
			if _, err := p.Exec(ctx); err != nil && err != redis.Nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		n, _ := c.DBSize(ctx).Result()
		rate := float64(hits) / float64(total)
		t.Logf("%s: hit rate %.1f%%, %d keys cached, evicted_keys %d", name, 100*rate, n,
			infoInt(t, c, "stats", "evicted_keys"))
		return rate
	}
	rc := redis.NewClient(&redis.Options{Addr: ref.Addr, Protocol: 2})
	t.Cleanup(func() { rc.Close() })
	start := time.Now()
	want := run("redis", rc)
	got := run("kv", s.Client(t))
	t.Logf("both runs took %v", time.Since(start))
	if d := want - got; d > 0.05 || d < -0.05 {
		t.Errorf("kv hit rate %.1f%%, Redis %.1f%%: more than 5 points apart", 100*got, 100*want)
	}
}
