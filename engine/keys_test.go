package engine_test

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"kv/engine"
	"kv/internal/kvtest"
	"kv/resp"
)

// put stores a string key directly in the engine (ttl in ms from now, 0 for none), so
// these tests do not depend on the string commands.
func putStr(t *testing.T, s *kvtest.Server, db int, key, val string, ttl time.Duration) {
	t.Helper()
	s.E.Lock()
	defer s.E.Unlock()
	at := int64(-1)
	if ttl != 0 {
		at = s.E.NowMs() + ttl.Milliseconds()
	}
	s.E.DB(db).Put([]byte(key), engine.NewString([]byte(val)), at)
}

// get reads a string key directly from the engine ("" and false when absent).
func getStr(s *kvtest.Server, db int, key string) (string, bool) {
	s.E.Lock()
	defer s.E.Unlock()
	o := s.E.DB(db).Peek([]byte(key))
	if o == nil {
		return "", false
	}
	return string(o.Bytes()), true
}

type kstep struct {
	cmd  string // space-separated arguments
	want string // resp.Value.String() of the reply
}

// referenceCheck runs steps on the real Redis at KV_REFERENCE_ADDR (flushed first,
// then given setup as strings in db 0), so the expected replies are Redis's own and
// not our reading of its source. Without the variable it does nothing.
func referenceCheck(t *testing.T, setup map[string]string, steps []kstep) {
	t.Helper()
	addr := os.Getenv("KV_REFERENCE_ADDR")
	if addr == "" {
		return
	}
	nc, err := net.DialTimeout("tcp", addr, kvtest.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(kvtest.Timeout))
	rd := resp.NewReplyReader(nc)
	do := func(args ...string) resp.Value {
		if _, err := nc.Write(resp.AppendCommandStrings(nil, args...)); err != nil {
			t.Fatal(err)
		}
		v, err := rd.Read()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	do("FLUSHALL")
	for k, v := range setup {
		do("SET", k, v)
	}
	for _, st := range steps {
		if got := do(strings.Fields(st.cmd)...).String(); got != st.want {
			t.Errorf("reference: %s = %q, want %q", st.cmd, got, st.want)
		}
	}
}

// runKeys sends each step on one raw connection and checks the reply.
func runKeys(t *testing.T, r *kvtest.Raw, steps []kstep) {
	t.Helper()
	for _, st := range steps {
		if got := r.Do(strings.Fields(st.cmd)...).String(); got != st.want {
			t.Errorf("%s = %q, want %q", st.cmd, got, st.want)
		}
	}
}

// propRecorder is a Propagator that keeps what the engine sends to replicas and the AOF.
type propRecorder struct {
	mu  sync.Mutex
	out []string
}

func (p *propRecorder) Propagate(db int, args [][]byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = string(a)
	}
	p.out = append(p.out, fmt.Sprintf("%d %s", db, strings.Join(parts, " ")))
}

func (p *propRecorder) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.out
	p.out = nil
	return out
}

func TestGenericKeyCommands(t *testing.T) {
	cases := []struct {
		name  string
		setup map[string]string // keys in db 0
		steps []kstep
	}{
		{"del", map[string]string{"a": "1", "b": "2"}, []kstep{
			{"DEL", "(error) ERR wrong number of arguments for 'del' command"},
			{"DEL a b c a", "2"},
			{"EXISTS a b", "0"},
			{"DBSIZE", "0"},
		}},
		{"unlink", map[string]string{"a": "1", "b": "2"}, []kstep{
			{"UNLINK a x", "1"},
			{"DBSIZE", "1"},
		}},
		{"exists counts repeats", map[string]string{"a": "1"}, []kstep{
			{"EXISTS a a x", "2"},
			{"EXISTS", "(error) ERR wrong number of arguments for 'exists' command"},
		}},
		{"type", map[string]string{"a": "1"}, []kstep{
			{"TYPE a", "string"},
			{"TYPE nope", "none"},
			{"TYPE a b", "(error) ERR wrong number of arguments for 'type' command"},
		}},
		{"rename", map[string]string{"a": "1", "b": "2"}, []kstep{
			{"RENAME nope x", "(error) ERR no such key"},
			{"RENAME nope nope", "(error) ERR no such key"},
			{"RENAME a a", "OK"},
			{"RENAME a b", "OK"},
			{"EXISTS a", "0"},
			{"DBSIZE", "1"},
			{"RENAME b c", "OK"},
			{"TYPE c", "string"},
		}},
		{"renamenx", map[string]string{"a": "1", "b": "2"}, []kstep{
			{"RENAMENX nope x", "(error) ERR no such key"},
			{"RENAMENX a a", "0"},
			{"RENAMENX a b", "0"},
			{"RENAMENX a c", "1"},
			{"EXISTS a c", "1"},
		}},
		{"copy", map[string]string{"a": "hello", "b": "2"}, []kstep{
			{"COPY a a", "(error) ERR source and destination objects are the same"},
			{"COPY a b", "0"},
			{"COPY a b REPLACE", "1"},
			{"COPY nope b REPLACE", "0"},
			{"COPY a x DB 1", "1"},
			{"COPY a x DB 1", "0"},
			{"COPY a x db 1 replace", "1"},
			{"COPY a a DB 1", "1"},
			{"COPY a a DB 1", "0"},
			{"COPY a a DB 1 REPLACE", "1"},
			{"COPY a b DB", "(error) ERR syntax error"},
			{"COPY a b DB 16", "(error) ERR DB index is out of range"},
			{"COPY a b DB -1", "(error) ERR DB index is out of range"},
			{"COPY a b DB x", "(error) ERR value is not an integer or out of range"},
			{"COPY a b FOO", "(error) ERR syntax error"},
			{"COPY a", "(error) ERR wrong number of arguments for 'copy' command"},
			{"SELECT 1", "OK"},
			{"DBSIZE", "2"},
		}},
		{"move", map[string]string{"a": "1", "b": "2"}, []kstep{
			{"MOVE a 0", "(error) ERR source and destination objects are the same"},
			{"MOVE a 16", "(error) ERR DB index is out of range"},
			{"MOVE a x", "(error) ERR value is not an integer or out of range"},
			{"MOVE nope 1", "0"},
			{"MOVE a 1", "1"},
			{"EXISTS a", "0"},
			{"SELECT 1", "OK"},
			{"EXISTS a", "1"},
			{"MOVE a 0", "1"},
			{"SELECT 0", "OK"},
			{"MOVE b 1", "1"},
			{"RENAME a b", "OK"},
			{"MOVE b 1", "0"},
		}},
		{"touch", map[string]string{"a": "1", "b": "2"}, []kstep{
			{"TOUCH a b c a", "3"},
		}},
		{"object", map[string]string{"int": "12", "big": "123456", "emb": "hello", "raw": strings.Repeat("x", 45)}, []kstep{
			{"OBJECT", "(error) ERR wrong number of arguments for 'object' command"},
			{"OBJECT foo", "(error) ERR unknown subcommand 'foo'. Try OBJECT HELP."},
			{"OBJECT encoding", "(error) ERR wrong number of arguments for 'object|encoding' command"},
			{"OBJECT help x", "(error) ERR wrong number of arguments for 'object|help' command"},
			{"OBJECT ENCODING int", "int"},
			{"OBJECT ENCODING emb", "embstr"},
			{"OBJECT ENCODING raw", "raw"},
			{"OBJECT ENCODING nope", "(nil)"},
			{"OBJECT REFCOUNT int", "2147483647"},
			{"OBJECT REFCOUNT big", "1"},
			{"OBJECT REFCOUNT nope", "(nil)"},
			{"TOUCH emb", "1"},
			{"OBJECT IDLETIME emb", "0"},
			{"OBJECT FREQ emb", "(error) ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."},
			{"OBJECT FREQ nope", "(nil)"},
		}},
		{"swapdb", map[string]string{"a": "1"}, []kstep{
			{"SWAPDB 0 1", "OK"},
			{"DBSIZE", "0"},
			{"SELECT 1", "OK"},
			{"DBSIZE", "1"},
			{"SWAPDB 1 1", "OK"},
			{"SWAPDB x 1", "(error) ERR invalid first DB index"},
			{"SWAPDB 0 x", "(error) ERR invalid second DB index"},
			{"SWAPDB 0 16", "(error) ERR DB index is out of range"},
			{"SWAPDB -1 0", "(error) ERR DB index is out of range"},
		}},
		{"flushdb", map[string]string{"a": "1", "b": "2"}, []kstep{
			{"FLUSHDB foo", "(error) ERR syntax error"},
			{"FLUSHDB ASYNC x", "(error) ERR syntax error"},
			{"COPY a a DB 1", "1"},
			{"FLUSHDB", "OK"},
			{"DBSIZE", "0"},
			{"SELECT 1", "OK"},
			{"DBSIZE", "1"},
			{"FLUSHDB sync", "OK"},
			{"FLUSHDB async", "OK"},
		}},
		{"flushall", map[string]string{"a": "1", "b": "2"}, []kstep{
			{"COPY a a DB 5", "1"},
			{"FLUSHALL x", "(error) ERR syntax error"},
			{"FLUSHALL ASYNC", "OK"},
			{"DBSIZE", "0"},
			{"SELECT 5", "OK"},
			{"DBSIZE", "0"},
			{"FLUSHALL", "OK"},
		}},
		{"randomkey", map[string]string{"only": "1"}, []kstep{
			{"RANDOMKEY", "only"},
			{"RANDOMKEY x", "(error) ERR wrong number of arguments for 'randomkey' command"},
			{"DEL only", "1"},
			{"RANDOMKEY", "(nil)"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := kvtest.Start(t)
			for k, v := range tc.setup {
				putStr(t, s, 0, k, v, 0)
			}
			runKeys(t, s.Raw(t), tc.steps)
			referenceCheck(t, tc.setup, tc.steps)
		})
	}
}

// TestKeyValuesSurviveMoves checks values and TTLs travel with RENAME, MOVE and COPY.
func TestKeyValuesSurviveMoves(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	putStr(t, s, 0, "a", "va", time.Hour)
	putStr(t, s, 0, "b", "vb", 0)
	runKeys(t, r, []kstep{
		{"RENAME a a2", "OK"},
		{"TTL a2", "3600"},
		{"COPY a2 a3 DB 3", "1"},
		{"MOVE b 2", "1"},
		{"RENAME a2 b", "OK"},
		{"TTL b", "3600"},
	})
	for _, c := range []struct {
		db       int
		key, val string
	}{{0, "b", "va"}, {3, "a3", "va"}, {2, "b", "vb"}} {
		if got, _ := getStr(s, c.db, c.key); got != c.val {
			t.Errorf("db %d %s = %q, want %q", c.db, c.key, got, c.val)
		}
	}
	runKeys(t, r, []kstep{{"SELECT 3", "OK"}, {"TTL a3", "3600"}, {"SELECT 2", "OK"}, {"TTL b", "-1"}})
}

func TestExpireCommands(t *testing.T) {
	cases := []struct {
		name  string
		steps []kstep
	}{
		{"errors", []kstep{
			{"EXPIRE k", "(error) ERR wrong number of arguments for 'expire' command"},
			{"EXPIRE k x", "(error) ERR value is not an integer or out of range"},
			{"EXPIRE k 10 foo", "(error) ERR Unsupported option foo"},
			{"EXPIRE k x foo", "(error) ERR Unsupported option foo"},
			{"EXPIRE k 10 NX XX", "(error) ERR NX and XX, GT or LT options at the same time are not compatible"},
			{"EXPIRE k 10 nx gt", "(error) ERR NX and XX, GT or LT options at the same time are not compatible"},
			{"EXPIRE k 10 GT LT", "(error) ERR GT and LT options at the same time are not compatible"},
			{"EXPIRE k 9223372036854775807", "(error) ERR invalid expire time in 'expire' command"},
			{"EXPIRE k -9223372036854775807", "(error) ERR invalid expire time in 'expire' command"},
			{"PEXPIRE k 9223372036854775807", "(error) ERR invalid expire time in 'pexpire' command"},
			{"EXPIREAT k 9223372036854775807", "(error) ERR invalid expire time in 'expireat' command"},
			{"EXPIRE k 9223372036854775", "(error) ERR invalid expire time in 'expire' command"},
			{"PEXPIREAT k 9223372036854775807", "1"},
			{"EXPIRE nope 10", "0"},
		}},
		{"set and read", []kstep{
			{"EXPIRE k 100", "1"},
			{"TTL k", "100"},
			{"PERSIST k", "1"},
			{"PERSIST k", "0"},
			{"PERSIST nope", "0"},
			{"TTL k", "-1"},
			{"PTTL k", "-1"},
			{"EXPIRETIME k", "-1"},
			{"TTL nope", "-2"},
			{"PEXPIRETIME nope", "-2"},
			{"PEXPIREAT k 32503680000000", "1"},
			{"EXPIRETIME k", "32503680000"},
			{"PEXPIRETIME k", "32503680000000"},
			{"EXPIREAT k 32503680001", "1"},
			{"PEXPIRETIME k", "32503680001000"},
		}},
		{"NX XX GT LT", []kstep{
			{"EXPIRE k 100 XX", "0"},
			{"EXPIRE k 100 GT", "0"},
			{"EXPIRE k 100 LT", "1"},
			{"EXPIRE k 200 NX", "0"},
			{"EXPIRE k 50 GT", "0"},
			{"EXPIRE k 200 gt", "1"},
			{"TTL k", "200"},
			{"EXPIRE k 300 LT", "0"},
			{"EXPIRE k 150 lt", "1"},
			{"EXPIRE k 100 xx", "1"},
			{"TTL k", "100"},
			{"PERSIST k", "1"},
			{"EXPIRE k 100 NX", "1"},
		}},
		{"past time deletes", []kstep{
			{"EXPIRE k -1", "1"},
			{"EXISTS k", "0"},
			{"EXPIRE k -1", "0"},
		}},
		{"expireat in the past deletes", []kstep{
			{"EXPIREAT k 1", "1"},
			{"DBSIZE", "0"},
		}},
		{"pexpire zero deletes", []kstep{
			{"PEXPIRE k 0", "1"},
			{"TYPE k", "none"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := kvtest.Start(t)
			putStr(t, s, 0, "k", "v", 0)
			runKeys(t, s.Raw(t), tc.steps)
			referenceCheck(t, map[string]string{"k": "v"}, tc.steps)
		})
	}
}

// TestExpirePropagation checks what replicas and the AOF see: the absolute
// PEXPIREAT form with the options kept, and DEL (or UNLINK) for a time in the past.
func TestExpirePropagation(t *testing.T) {
	s := kvtest.Start(t)
	rec := &propRecorder{}
	s.E.Lock()
	s.E.SetPropagator(rec)
	s.E.Unlock()
	r := s.Raw(t)
	putStr(t, s, 0, "k", "v", 0)

	before := time.Now().UnixMilli()
	runKeys(t, r, []kstep{{"EXPIRE k 100 NX", "1"}})
	after := time.Now().UnixMilli()
	got := rec.take()
	if len(got) != 1 {
		t.Fatalf("propagated %q", got)
	}
	f := strings.Fields(got[0])
	at, _ := strconv.ParseInt(f[3], 10, 64)
	if f[0] != "0" || f[1] != "PEXPIREAT" || f[2] != "k" || f[4] != "NX" || at < before+100000 || at > after+100000 {
		t.Errorf("EXPIRE propagated as %q", got[0])
	}

	runKeys(t, r, []kstep{{"PEXPIREAT k 32503680000000", "1"}, {"EXPIREAT k 32503680000", "1"}, {"PERSIST k", "1"}, {"PERSIST k", "0"}})
	want := []string{"0 PEXPIREAT k 32503680000000", "0 PEXPIREAT k 32503680000000", "0 PERSIST k"}
	if got := rec.take(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("propagated %q, want %q", got, want)
	}

	runKeys(t, r, []kstep{{"EXPIRE k -5", "1"}})
	s.E.Lock()
	s.E.Settings.LazyfreeLazyExpire = true
	s.E.Unlock()
	putStr(t, s, 0, "k", "v", 0)
	runKeys(t, r, []kstep{{"PEXPIRE k -5", "1"}, {"FLUSHDB", "OK"}})
	want = []string{"0 DEL k", "0 UNLINK k", "0 FLUSHDB"}
	if got := rec.take(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("propagated %q, want %q", got, want)
	}
}

func TestLazyExpiry(t *testing.T) {
	s := kvtest.Start(t)
	rec := &propRecorder{}
	s.E.Lock()
	s.E.SetPropagator(rec)
	s.E.Unlock()
	r := s.Raw(t)
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		putStr(t, s, 0, k, "v", 20*time.Millisecond)
	}
	putStr(t, s, 0, "live", "v", 0)
	time.Sleep(30 * time.Millisecond)
	// Every access path hides an expired key; DBSIZE still counts unreclaimed ones.
	runKeys(t, r, []kstep{
		{"DBSIZE", "6"},
		{"EXISTS a", "0"},
		{"TYPE b", "none"},
		{"TTL c", "-2"},
		{"RENAME d x", "(error) ERR no such key"},
		{"DEL e", "0"},
		{"DBSIZE", "1"},
	})
	want := []string{"0 DEL a", "0 DEL b", "0 DEL c", "0 DEL d", "0 DEL e"}
	if got := rec.take(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("propagated %q, want %q", got, want)
	}
}

// TestActiveExpiry checks that keys nobody reads disappear within a bounded time,
// with the INFO counters kept.
func TestActiveExpiry(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	const n = 200
	for i := range n {
		putStr(t, s, 0, fmt.Sprintf("k%d", i), "v", 50*time.Millisecond)
		putStr(t, s, 3, fmt.Sprintf("k%d", i), "v", 50*time.Millisecond)
	}
	putStr(t, s, 0, "long", "v", time.Hour)
	putStr(t, s, 0, "forever", "v", 0)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if r.Do("DBSIZE").String() == "2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("DBSIZE still %s after 5s", r.Do("DBSIZE").String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for time.Now().Before(deadline) {
		s.E.Lock()
		n3 := s.E.DB(3).Len()
		s.E.Unlock()
		if n3 == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.E.Lock()
	defer s.E.Unlock()
	if got := s.E.Stats.ExpiredKeys; got != 2*n {
		t.Errorf("expired_keys = %d, want %d", got, 2*n)
	}
	if s.E.DB(3).Len() != 0 {
		t.Errorf("db 3 still has %d keys", s.E.DB(3).Len())
	}
	if avg := s.E.DB(0).AvgTTL; avg <= 0 || avg > time.Hour.Milliseconds() {
		t.Errorf("avg_ttl = %d", avg)
	}
	if s.E.Stats.ExpiredStalePerc <= 0 {
		t.Errorf("expired_stale_perc = %v", s.E.Stats.ExpiredStalePerc)
	}
}

// TestActiveExpireCycleTimeLimit drives the cycle directly with a tiny period, so it
// must stop early and say so.
func TestActiveExpireCycleTimeLimit(t *testing.T) {
	e := engine.New(engine.Options{Databases: 1})
	engine.RegisterAll(e)
	e.Lock()
	defer e.Unlock()
	past := e.NowMs() - 1
	for i := range 50000 {
		e.DB(0).Put([]byte("k"+strconv.Itoa(i)), engine.NewInt(int64(i)), past)
	}
	e.ActiveExpireCycle(time.Microsecond)
	if e.Stats.ExpiredTimeCapReachedCount != 1 {
		t.Errorf("expired_time_cap_reached_count = %d", e.Stats.ExpiredTimeCapReachedCount)
	}
	left := e.DB(0).Len()
	if left == 0 || left == 50000 {
		t.Errorf("%d keys left after a time-capped cycle", left)
	}
	for range 1000 {
		if e.DB(0).Len() == 0 {
			break
		}
		e.ActiveExpireCycle(100 * time.Millisecond)
		e.ActiveRehash(time.Millisecond)
	}
	if e.DB(0).Len() != 0 || e.Stats.ExpiredKeys != 50000 {
		t.Errorf("len %d, expired %d", e.DB(0).Len(), e.Stats.ExpiredKeys)
	}
}

func TestFlushAndSwapInvalidateWatch(t *testing.T) {
	cases := []struct {
		name   string
		watch  string // key watched in db 0
		setup  func(t *testing.T, s *kvtest.Server)
		action string // run by another client
		aborts bool
	}{
		{"flushdb existing", "a", func(*testing.T, *kvtest.Server) {}, "FLUSHDB", true},
		{"flushall existing", "a", func(*testing.T, *kvtest.Server) {}, "FLUSHALL", true},
		{"flushdb missing key", "nope", func(*testing.T, *kvtest.Server) {}, "FLUSHDB", false},
		{"flushdb other db", "a", func(*testing.T, *kvtest.Server) {}, "SELECT 1\nFLUSHDB", false},
		{"swapdb from other side", "x", func(t *testing.T, s *kvtest.Server) { putStr(t, s, 1, "x", "1", 0) }, "SWAPDB 0 1", true},
		{"swapdb existing", "a", func(*testing.T, *kvtest.Server) {}, "SWAPDB 1 0", true},
		{"swapdb neither", "nope", func(*testing.T, *kvtest.Server) {}, "SWAPDB 0 1", false},
		{"del", "a", func(*testing.T, *kvtest.Server) {}, "DEL a", true},
		{"move", "a", func(*testing.T, *kvtest.Server) {}, "MOVE a 1", true},
		{"expire", "a", func(*testing.T, *kvtest.Server) {}, "EXPIRE a 100", true},
		{"persist without ttl", "a", func(*testing.T, *kvtest.Server) {}, "PERSIST a", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := kvtest.Start(t)
			putStr(t, s, 0, "a", "1", 0)
			tc.setup(t, s)
			r, other := s.Raw(t), s.Raw(t)
			runKeys(t, r, []kstep{{"WATCH " + tc.watch, "OK"}})
			for _, line := range strings.Split(tc.action, "\n") {
				if v := other.Do(strings.Fields(line)...); v.Kind == resp.KindError {
					t.Fatalf("%s: %s", line, v.String())
				}
			}
			want := "[PONG]"
			if tc.aborts {
				want = "(nil)"
			}
			runKeys(t, r, []kstep{{"MULTI", "OK"}, {"PING", "QUEUED"}, {"EXEC", want}})
		})
	}
}

// TestFlushdbStaleWatchedKey: flushing a key that had already expired when watched is
// no change, as in Redis 7.0.
func TestFlushdbStaleWatchedKey(t *testing.T) {
	s := kvtest.Start(t)
	putStr(t, s, 0, "a", "1", time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	r := s.Raw(t)
	runKeys(t, r, []kstep{{"WATCH a", "OK"}})
	runKeys(t, s.Raw(t), []kstep{{"FLUSHDB", "OK"}})
	runKeys(t, r, []kstep{{"MULTI", "OK"}, {"PING", "QUEUED"}, {"EXEC", "[PONG]"}})
}

func TestObjectLFU(t *testing.T) {
	s := kvtest.Start(t)
	s.E.Lock()
	s.E.Settings.MaxmemoryPolicy = "allkeys-lfu"
	s.E.Unlock()
	putStr(t, s, 0, "a", "1", 0)
	r := s.Raw(t)
	runKeys(t, r, []kstep{
		{"OBJECT IDLETIME a", "(error) ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."},
	})
	// The counter grows logarithmically with reads, from its initial 5.
	for range 100 {
		r.Do("TOUCH", "a")
	}
	f, _ := strconv.Atoi(r.Do("OBJECT", "FREQ", "a").String())
	if f <= 5 || f > 255 {
		t.Errorf("OBJECT FREQ after 100 reads = %d", f)
	}
}
