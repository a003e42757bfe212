package server_test

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"kv/internal/kvtest"
	"kv/server"
)

func TestTransactions(t *testing.T) {
	const abort = "(error) EXECABORT Transaction discarded because of previous errors."
	cases := []struct {
		name  string
		needs string
		steps []step
	}{
		{name: "queuing errors abort EXEC", steps: []step{
			{1, "MULTI", map[int][]string{1: {"OK"}}},
			{1, "SET a 1", map[int][]string{1: {"QUEUED"}}},
			{1, "NOSUCH x", map[int][]string{1: {"(error) ERR unknown command 'NOSUCH', with args beginning with: 'x' "}}},
			{1, "GET", map[int][]string{1: {"(error) ERR wrong number of arguments for 'get' command"}}},
			{1, "SET b 2", map[int][]string{1: {"QUEUED"}}},
			{1, "EXEC", map[int][]string{1: {abort}}},
			{1, "EXEC", map[int][]string{1: {"(error) ERR EXEC without MULTI"}}},
			{1, "GET a", map[int][]string{1: {"(nil)"}}},
		}},
		{name: "unknown subcommand aborts EXEC", steps: []step{
			{1, "MULTI", map[int][]string{1: {"OK"}}},
			{1, "CONFIG NOPE", map[int][]string{1: {"(error) ERR unknown subcommand 'NOPE'. Try CONFIG HELP."}}},
			{1, "EXEC", map[int][]string{1: {abort}}},
		}},
		{name: "no-multi command aborts EXEC", steps: []step{
			{1, "MULTI", map[int][]string{1: {"OK"}}},
			{1, "SHUTDOWN", map[int][]string{1: {"(error) ERR Command not allowed inside a transaction"}}},
			{1, "EXEC", map[int][]string{1: {abort}}},
		}},
		{name: "runtime errors do not roll back", steps: []step{
			{1, "HSET h f v", map[int][]string{1: {"1"}}},
			{1, "MULTI", map[int][]string{1: {"OK"}}},
			{1, "SET a 1", map[int][]string{1: {"QUEUED"}}},
			{1, "INCR h", map[int][]string{1: {"QUEUED"}}},
			{1, "SET b 1 NX XX", map[int][]string{1: {"QUEUED"}}},
			{1, "SET c 3", map[int][]string{1: {"QUEUED"}}},
			{1, "EXEC", map[int][]string{1: {"[OK (error) WRONGTYPE Operation against a key holding the wrong kind of value (error) ERR syntax error OK]"}}},
			{1, "MGET a b c", map[int][]string{1: {"[1 (nil) 3]"}}},
		}},
		{name: "another client's write fails EXEC", steps: []step{
			{1, "WATCH k", map[int][]string{1: {"OK"}}},
			{2, "SET k theirs", map[int][]string{2: {"OK"}}},
			{1, "MULTI", map[int][]string{1: {"OK"}}},
			{1, "SET k mine", map[int][]string{1: {"QUEUED"}}},
			{1, "EXEC", map[int][]string{1: {"(nil)"}}},
			{1, "GET k", map[int][]string{1: {"theirs"}}},
			// A failed EXEC unwatches: the next transaction runs.
			{2, "SET k again", map[int][]string{2: {"OK"}}},
			{1, "MULTI", map[int][]string{1: {"OK"}}},
			{1, "SET k mine", map[int][]string{1: {"QUEUED"}}},
			{1, "EXEC", map[int][]string{1: {"[OK]"}}},
		}},
		{name: "write to an unwatched key or another db does not", steps: []step{
			{1, "WATCH k", map[int][]string{1: {"OK"}}},
			{2, "SET other v", map[int][]string{2: {"OK"}}},
			{2, "SELECT 1", map[int][]string{2: {"OK"}}},
			{2, "SET k v", map[int][]string{2: {"OK"}}},
			{1, "MULTI", map[int][]string{1: {"OK"}}},
			{1, "PING", map[int][]string{1: {"QUEUED"}}},
			{1, "EXEC", map[int][]string{1: {"[PONG]"}}},
		}},
		{name: "own write before MULTI fails EXEC", steps: []step{
			{1, "WATCH k", map[int][]string{1: {"OK"}}},
			{1, "SET k v", map[int][]string{1: {"OK"}}},
			{1, "MULTI", map[int][]string{1: {"OK"}}},
			{1, "PING", map[int][]string{1: {"QUEUED"}}},
			{1, "EXEC", map[int][]string{1: {"(nil)"}}},
		}},
		{name: "own write inside MULTI does not", steps: []step{
			{1, "WATCH k", map[int][]string{1: {"OK"}}},
			{1, "MULTI", map[int][]string{1: {"OK"}}},
			{1, "SET k v", map[int][]string{1: {"QUEUED"}}},
			{1, "INCR n", map[int][]string{1: {"QUEUED"}}},
			{1, "EXEC", map[int][]string{1: {"[OK 1]"}}},
		}},
		{name: "UNWATCH and DISCARD forget watches", steps: []step{
			{1, "WATCH k", map[int][]string{1: {"OK"}}},
			{1, "UNWATCH", map[int][]string{1: {"OK"}}},
			{2, "SET k v", map[int][]string{2: {"OK"}}},
			{1, "MULTI", map[int][]string{1: {"OK"}}},
			{1, "EXEC", map[int][]string{1: {"[]"}}},
			{1, "WATCH k", map[int][]string{1: {"OK"}}},
			{2, "SET k w", map[int][]string{2: {"OK"}}},
			{1, "MULTI", map[int][]string{1: {"OK"}}},
			{1, "DISCARD", map[int][]string{1: {"OK"}}},
			{1, "MULTI", map[int][]string{1: {"OK"}}},
			{1, "EXEC", map[int][]string{1: {"[]"}}},
		}},
		{name: "misuse", steps: []step{
			{1, "EXEC", map[int][]string{1: {"(error) ERR EXEC without MULTI"}}},
			{1, "DISCARD", map[int][]string{1: {"(error) ERR DISCARD without MULTI"}}},
			{1, "MULTI", map[int][]string{1: {"OK"}}},
			{1, "MULTI", map[int][]string{1: {"(error) ERR MULTI calls can not be nested"}}},
			{1, "WATCH k", map[int][]string{1: {"(error) ERR WATCH inside MULTI is not allowed"}}},
			{1, "PING", map[int][]string{1: {"QUEUED"}}},
			// Neither error dooms the transaction.
			{1, "EXEC", map[int][]string{1: {"[PONG]"}}},
		}},
		{name: "RESET inside MULTI", steps: []step{
			{1, "WATCH k", map[int][]string{1: {"OK"}}},
			{1, "MULTI", map[int][]string{1: {"OK"}}},
			{1, "SET a 1", map[int][]string{1: {"QUEUED"}}},
			{1, "RESET", map[int][]string{1: {"RESET"}}},
			{1, "EXEC", map[int][]string{1: {"(error) ERR EXEC without MULTI"}}},
			{1, "GET a", map[int][]string{1: {"(nil)"}}},
		}},
		{name: "FLUSHDB touches watched keys that exist", needs: "flushdb", steps: []step{
			{1, "SET k v", map[int][]string{1: {"OK"}}},
			{1, "WATCH k", map[int][]string{1: {"OK"}}},
			{2, "FLUSHDB", map[int][]string{2: {"OK"}}},
			{1, "MULTI", map[int][]string{1: {"OK"}}},
			{1, "PING", map[int][]string{1: {"QUEUED"}}},
			{1, "EXEC", map[int][]string{1: {"(nil)"}}},
			{1, "WATCH missing", map[int][]string{1: {"OK"}}},
			{2, "FLUSHDB", map[int][]string{2: {"OK"}}},
			{1, "MULTI", map[int][]string{1: {"OK"}}},
			{1, "PING", map[int][]string{1: {"QUEUED"}}},
			{1, "EXEC", map[int][]string{1: {"[PONG]"}}},
		}},
		{name: "FLUSHALL touches watched keys", needs: "flushall", steps: []step{
			{1, "SET k v", map[int][]string{1: {"OK"}}},
			{1, "WATCH k", map[int][]string{1: {"OK"}}},
			{2, "FLUSHALL", map[int][]string{2: {"OK"}}},
			{1, "MULTI", map[int][]string{1: {"OK"}}},
			{1, "PING", map[int][]string{1: {"QUEUED"}}},
			{1, "EXEC", map[int][]string{1: {"(nil)"}}},
		}},
		{name: "SWAPDB touches watched keys that exist on either side", needs: "swapdb", steps: []step{
			{2, "SELECT 1", map[int][]string{2: {"OK"}}},
			{2, "SET k v", map[int][]string{2: {"OK"}}},
			{1, "WATCH k", map[int][]string{1: {"OK"}}},
			{2, "SWAPDB 0 1", map[int][]string{2: {"OK"}}},
			{1, "MULTI", map[int][]string{1: {"OK"}}},
			{1, "PING", map[int][]string{1: {"QUEUED"}}},
			{1, "EXEC", map[int][]string{1: {"(nil)"}}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.needs != "" && !implemented(tc.needs) {
				t.Skipf("%s is not implemented yet", strings.ToUpper(tc.needs))
			}
			runSteps(t, kvtest.Start(t), tc.steps)
		})
	}
}

func TestQuitInsideMulti(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	for _, st := range []struct{ cmd, want string }{{"MULTI", "OK"}, {"SET a 1", "QUEUED"}, {"QUIT", "OK"}} {
		if got := r.Do(splitCmd(st.cmd)...).String(); got != st.want {
			t.Fatalf("%s = %q, want %q", st.cmd, got, st.want)
		}
	}
	if _, err := r.ReadErr(); err == nil {
		t.Fatal("connection still open after QUIT")
	}
	if got := s.Raw(t).Do("GET", "a").String(); got != "(nil)" {
		t.Errorf("queued SET ran: a = %q", got)
	}
}

// Expiry counts as a change to a watched key, unless the key had already expired
// when it was watched (Redis 7.0).
func TestWatchExpiry(t *testing.T) {
	s := kvtest.Start(t)
	exec := func(r *kvtest.Raw) string {
		r.Do("MULTI")
		r.Do("PING")
		return r.Do("EXEC").String()
	}
	r := s.Raw(t)
	// The key must still be alive when WATCH runs; on a loaded machine the
	// client can be slower than a short TTL, so the check is repeated then.
	watchedAlive := false
	for attempt := 0; attempt < 5 && !watchedAlive; attempt++ {
		r.Do("UNWATCH")
		r.Do("SET", "k", "v", "PX", "200")
		r.Do("WATCH", "k")
		watchedAlive = r.Do("PTTL", "k").Int > 0
	}
	if !watchedAlive {
		t.Fatal("could not WATCH the key before it expired")
	}
	time.Sleep(300 * time.Millisecond)
	if got := exec(r); got != "(nil)" {
		t.Errorf("watched key expired: EXEC = %q, want (nil)", got)
	}

	r.Do("SET", "stale", "v", "PX", "1")
	time.Sleep(10 * time.Millisecond)
	r.Do("WATCH", "stale")
	if got := exec(r); got != "[PONG]" {
		t.Errorf("watched an already expired key: EXEC = %q, want [PONG]", got)
	}

	r.Do("SET", "stale2", "v", "PX", "1")
	time.Sleep(10 * time.Millisecond)
	r.Do("WATCH", "stale2")
	// Reclaiming it (here lazily, by a read) is no logical change either...
	if got := s.Raw(t).Do("GET", "stale2").String(); got != "(nil)" {
		t.Fatal(got)
	}
	if got := exec(r); got != "[PONG]" {
		t.Errorf("watched stale key reclaimed: EXEC = %q, want [PONG]", got)
	}
	// ...but creating it again is.
	r.Do("SET", "stale3", "v", "PX", "1")
	time.Sleep(10 * time.Millisecond)
	r.Do("WATCH", "stale3")
	w := s.Raw(t)
	w.Do("GET", "stale3")
	w.Do("SET", "stale3", "new")
	if got := exec(r); got != "(nil)" {
		t.Errorf("stale watched key recreated: EXEC = %q, want (nil)", got)
	}
}

// recorder is a Propagator that keeps what it is given, as "db:ARGS".
type recorder struct{ got []string }

func (r *recorder) Propagate(db int, args [][]byte) {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = string(a)
	}
	r.got = append(r.got, strconv.Itoa(db)+":"+strings.Join(parts, " "))
}

// A transaction reaches the AOF and replicas as one unit: wrapped in MULTI/EXEC when
// it wrote more than once, as the bare command when once, not at all when never.
func TestTransactionPropagation(t *testing.T) {
	cases := []struct {
		name string
		cmds []string
		want []string
	}{
		{"single write", []string{"MULTI", "SET a 1", "GET a", "EXEC", "SET b 2"},
			[]string{"0:SET a 1", "0:SET b 2"}},
		{"several writes", []string{"MULTI", "SET a 1", "GET a", "INCR n", "EXEC"},
			[]string{"0:MULTI", "0:SET a 1", "0:INCR n", "0:EXEC"}},
		{"several databases", []string{"MULTI", "SELECT 1", "SET a 1", "SELECT 2", "SET b 2", "EXEC"},
			[]string{"1:MULTI", "1:SET a 1", "2:SET b 2", "2:EXEC"}},
		{"empty", []string{"MULTI", "EXEC"}, nil},
		{"read only", []string{"MULTI", "GET a", "EXEC"}, nil},
		{"write without effect", []string{"MULTI", "SET a 1 XX", "EXEC"}, nil},
		{"aborted", []string{"MULTI", "SET a 1", "GET", "EXEC"}, nil},
		{"discarded", []string{"MULTI", "SET a 1", "DISCARD"}, nil},
		{"outside MULTI, one per command", []string{"SET a 1", "INCR n"}, []string{"0:SET a 1", "0:INCR n"}},
		{"rewritten effects keep their form", []string{"MULTI", "SET a 1", "INCRBYFLOAT f 1.5", "EXEC"},
			[]string{"0:MULTI", "0:SET a 1", "0:SET f 1.5 KEEPTTL", "0:EXEC"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := kvtest.Start(t)
			rec := &recorder{}
			s.E.Lock()
			s.E.SetPropagator(rec)
			s.E.Unlock()
			r := s.Raw(t)
			for _, c := range tc.cmds {
				r.Do(splitCmd(c)...)
			}
			s.E.Lock()
			got := rec.got
			s.E.Unlock()
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("propagated %q, want %q", got, tc.want)
			}
		})
	}
}

// A command that expires a key on its way and then writes is one unit of two effects,
// so it is wrapped too (Redis 7.0 propagates the lazy DEL with the command), except
// for SCAN and RANDOMKEY, whose DELs are independent.
func TestLazyExpiryPropagatesWithTheCommand(t *testing.T) {
	s := kvtest.Start(t, func(o *server.Options) { o.EnableDebugCommand = "yes" })
	rec := &recorder{}
	s.E.Lock()
	s.E.SetPropagator(rec)
	s.E.Unlock()
	r := s.Raw(t)
	if got := r.Do("DEBUG", "SET-ACTIVE-EXPIRE", "0").String(); got != "OK" {
		t.Fatal(got)
	}
	r.Do("SET", "k", "v", "PX", "1")
	time.Sleep(10 * time.Millisecond)
	s.E.Lock()
	rec.got = nil
	s.E.Unlock()
	r.Do("APPEND", "k", "x")
	s.E.Lock()
	got := strings.Join(rec.got, "|")
	s.E.Unlock()
	if want := "0:MULTI|0:DEL k|0:APPEND k x|0:EXEC"; got != want {
		t.Errorf("propagated %q, want %q", got, want)
	}
}

// Optimistic locking under contention: 20 clients increment one counter through
// WATCH/GET/MULTI/SET/EXEC. Every EXEC that succeeded added exactly one, so the final
// value is the number of successful EXECs.
func TestWatchRace(t *testing.T) {
	s := kvtest.Start(t)
	ctx := kvtest.Ctx(t)
	const clients, attempts = 20, 40
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		c := s.Client(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range attempts {
				err := c.Watch(ctx, func(tx *redis.Tx) error {
					n, err := tx.Get(ctx, "counter").Int()
					if err != nil && !errors.Is(err, redis.Nil) {
						return err
					}
					_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
						p.Set(ctx, "counter", n+1, 0)
						return nil
					})
					return err
				}, "counter")
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, redis.TxFailedErr):
					failed.Add(1)
				default:
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := s.Client(t).Get(ctx, "counter").Int64()
	if err != nil {
		t.Fatal(err)
	}
	if got != ok.Load() {
		t.Errorf("counter = %d, successful EXECs = %d (failed %d)", got, ok.Load(), failed.Load())
	}
	if ok.Load() == 0 {
		t.Error("no transaction succeeded")
	}
	t.Logf("%d EXECs succeeded, %d failed on a touched key", ok.Load(), failed.Load())
}
