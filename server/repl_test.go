package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"kv/config"
	"kv/engine"
	"kv/internal/kvtest"
	"kv/internal/redistest"
	"kv/server"
)

// node is a replication participant: a kv server or a real redis-server.
type node struct {
	addr string
	c    *redis.Client
}

func newNode(t *testing.T, addr string) *node {
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DialTimeout: kvtest.Timeout,
		ReadTimeout: kvtest.Timeout, WriteTimeout: kvtest.Timeout, MaxRetries: -1, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	return &node{addr: addr, c: c}
}

func startReplKV(t *testing.T, settings ...string) *node {
	t.Helper()
	s := kvtest.Start(t, func(o *server.Options) { o.EnableDebugCommand = "yes"; o.Logger = testLogger(t) })
	n := newNode(t, s.Addr)
	for i := 0; i+1 < len(settings); i += 2 {
		mustDo(t, n, "CONFIG", "SET", settings[i], settings[i+1])
	}
	return n
}

func mustDo(t *testing.T, n *node, args ...any) any {
	t.Helper()
	v, err := n.c.Do(kvtest.Ctx(t), args...).Result()
	if err != nil {
		t.Fatalf("%s %v: %v", n.addr, args, err)
	}
	return v
}

func (n *node) info(t *testing.T, field string) string {
	t.Helper()
	s, err := n.c.Info(context.Background(), "all").Result()
	if err != nil {
		t.Fatalf("INFO on %s: %v", n.addr, err)
	}
	for _, line := range strings.Split(s, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == field {
			return v
		}
	}
	return ""
}

func (n *node) infoInt(t *testing.T, field string) int64 {
	v, _ := strconv.ParseInt(n.info(t, field), 10, 64)
	return v
}

func (n *node) digest(t *testing.T) string {
	return mustDo(t, n, "DEBUG", "DIGEST").(string)
}

func (n *node) replicaOf(t *testing.T, m *node) {
	t.Helper()
	host, port, _ := net.SplitHostPort(m.addr)
	mustDo(t, n, "REPLICAOF", host, port)
}

// replWaitFor polls cond until d passes; on timeout the report carries *state and
// what explain() says (computed only then).
func replWaitFor(t *testing.T, what string, d time.Duration, cond func() bool, state ...any) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			for _, x := range state {
				switch x := x.(type) {
				case *string:
					what += " (" + *x + ")"
				case func() string:
					what += x()
				}
			}
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitSynced waits until every replica is linked and has applied the master's whole
// stream, then checks the datasets are identical.
func waitSynced(t *testing.T, m *node, reps ...*node) {
	t.Helper()
	// The master's active expiry may delete keys (and propagate DELs) between the
	// offset check and the digests, so both are checked together until they agree.
	var state string
	replWaitFor(t, "replicas to catch up with identical data", 20*time.Second, func() bool {
		off := m.infoInt(t, "master_repl_offset")
		want := m.digest(t)
		state = fmt.Sprintf("master %d %s", off, want)
		ok := true
		for _, r := range reps {
			link, roff, d := r.info(t, "master_link_status"), r.infoInt(t, "master_repl_offset"), r.digest(t)
			state += fmt.Sprintf(", %s %s %d %s", r.addr, link, roff, d)
			ok = ok && link == "up" && roff == off && d == want
		}
		return ok && m.infoInt(t, "master_repl_offset") == off
	}, &state, func() string {
		var diff string
		for _, r := range reps {
			diff += keyDiff(t, m, r)
		}
		return diff
	})
}

// keyDiff lists the keys whose values differ between a and b (databases 0-2), with
// each side's value and TTL, to tell which command or sync path diverged.
func keyDiff(t *testing.T, a, b *node) string {
	ctx := context.Background()
	var out strings.Builder
	for db := 0; db < 3; db++ {
		keys := map[string]bool{}
		for _, n := range []*node{a, b} {
			c := redis.NewClient(&redis.Options{Addr: n.addr, Protocol: 2, DB: db, DisableIdentity: true})
			ks, _ := c.Keys(ctx, "*").Result()
			for _, k := range ks {
				keys[k] = true
			}
			c.Close()
		}
		ca := redis.NewClient(&redis.Options{Addr: a.addr, Protocol: 2, DB: db, DisableIdentity: true})
		cb := redis.NewClient(&redis.Options{Addr: b.addr, Protocol: 2, DB: db, DisableIdentity: true})
		for k := range keys {
			da, _ := ca.Do(ctx, "DEBUG", "DIGEST-VALUE", k).Result()
			dbv, _ := cb.Do(ctx, "DEBUG", "DIGEST-VALUE", k).Result()
			if fmt.Sprint(da) == fmt.Sprint(dbv) {
				continue
			}
			show := func(c *redis.Client) string {
				typ, _ := c.Type(ctx, k).Result()
				ttl, _ := c.PTTL(ctx, k).Result()
				var v any
				switch typ {
				case "string":
					v, _ = c.Get(ctx, k).Result()
				case "list":
					v, _ = c.LRange(ctx, k, 0, -1).Result()
				case "hash":
					v, _ = c.HGetAll(ctx, k).Result()
				case "set":
					v, _ = c.SMembers(ctx, k).Result()
				case "zset":
					v, _ = c.ZRangeWithScores(ctx, k, 0, -1).Result()
				}
				return fmt.Sprintf("%s ttl=%v %v", typ, ttl, v)
			}
			fmt.Fprintf(&out, "\n  db%d %q: %s=[%s] %s=[%s]", db, k, a.addr, show(ca), b.addr, show(cb))
		}
		ca.Close()
		cb.Close()
	}
	return out.String()
}

// workload writes values of every type from several clients until stop closes.
func workload(t *testing.T, m *node, clients int, stop <-chan struct{}) *workers {
	wg := &workers{}
	var mu sync.Mutex
	fail := func(format string, args ...any) {
		mu.Lock()
		if wg.err == nil {
			wg.err = fmt.Errorf(format, args...)
		}
		mu.Unlock()
	}
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			c := redis.NewClient(&redis.Options{Addr: m.addr, Protocol: 2, MaxRetries: -1, DisableIdentity: true,
				ReadTimeout: kvtest.Timeout, WriteTimeout: kvtest.Timeout})
			defer c.Close()
			ctx := context.Background()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := fmt.Sprintf("k%d", rng.IntN(200))
				db := rng.IntN(3)
				var args []any
				switch rng.IntN(19) {
				case 0:
					args = []any{"SET", "s:" + k, i}
				case 1:
					args = []any{"INCRBY", "n:" + k, rng.IntN(10)}
				case 2:
					args = []any{"INCRBYFLOAT", "f:" + k, "1.5"}
				case 3:
					args = []any{"RPUSH", "l:" + k, i, i + 1}
				case 4:
					args = []any{"LPOP", "l:" + k}
				case 5:
					args = []any{"HSET", "h:" + k, "f" + strconv.Itoa(rng.IntN(20)), i}
				case 6:
					args = []any{"SADD", "set:" + k, rng.IntN(50)}
				case 7:
					args = []any{"SPOP", "set:" + k}
				case 8:
					args = []any{"ZADD", "z:" + k, rng.IntN(100), "m" + strconv.Itoa(rng.IntN(30))}
				case 17:
					args = []any{"ZINCRBY", "z:" + k, "0.5", "m" + strconv.Itoa(rng.IntN(30))}
				case 18:
					args = []any{"SREM", "set:" + k, rng.IntN(50)}
				case 9:
					args = []any{"EXPIRE", "s:" + k, 1 + rng.IntN(3)}
				case 10:
					args = []any{"SET", "t:" + k, i, "PX", 1 + rng.IntN(200)}
				case 11:
					args = []any{"DEL", "n:" + k}
				case 12:
					args = []any{"SETRANGE", "s:" + k, rng.IntN(10), "xy"}
				case 13:
					args = []any{"SETBIT", "b:" + k, rng.IntN(1000), 1}
				case 14:
					args = []any{"HINCRBYFLOAT", "h:" + k, "x", "0.25"}
				case 15:
					args = []any{"HDEL", "h:" + k, "f" + strconv.Itoa(rng.IntN(20))}
				case 16:
					// A transaction: the replica must apply it whole.
					_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
						p.Do(ctx, "SELECT", db)
						p.Incr(ctx, "pair:a")
						p.Incr(ctx, "pair:b")
						p.LPush(ctx, "l:"+k, i)
						return nil
					})
					if err != nil && !isClosed(err) {
						fail("MULTI: %v", err)
						return
					}
					continue
				}
				if _, err := c.Do(ctx, "SELECT", db).Result(); err != nil {
					return
				}
				if err := c.Do(ctx, args...).Err(); err != nil && err != redis.Nil && !strings.HasPrefix(err.Error(), "WRONGTYPE") &&
					!strings.HasPrefix(err.Error(), "ERR") {
					if !isClosed(err) {
						fail("%v: %v", args, err)
					}
					return
				}
			}
		}()
	}
	return wg
}

type workers struct {
	sync.WaitGroup
	err error
}

// Wait waits for the writers and fails the test if one got an unexpected error.
func (w *workers) check(t *testing.T) {
	t.Helper()
	w.Wait()
	if w.err != nil {
		t.Fatal(w.err)
	}
}

func isClosed(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "closed") || strings.Contains(err.Error(), "EOF") ||
		strings.Contains(err.Error(), "reset"))
}

// runWorkload writes for d with clients writers.
func runWorkload(t *testing.T, m *node, clients int, d time.Duration) {
	stop := make(chan struct{})
	wg := workload(t, m, clients, stop)
	time.Sleep(d)
	close(stop)
	wg.check(t)
}

func TestReplicationChainConverges(t *testing.T) {
	for _, diskless := range []string{"yes", "no"} {
		t.Run("diskless="+diskless, func(t *testing.T) {
			m := startReplKV(t, "repl-diskless-sync", diskless, "repl-diskless-sync-delay", "0")
			r1 := startReplKV(t, "repl-diskless-sync", "no")
			r2 := startReplKV(t)
			r3 := startReplKV(t)
			runWorkload(t, m, 2, 200*time.Millisecond)
			r1.replicaOf(t, m)
			stop := make(chan struct{})
			wg := workload(t, m, 4, stop)
			time.Sleep(200 * time.Millisecond)
			r2.replicaOf(t, m)
			time.Sleep(200 * time.Millisecond)
			replWaitFor(t, "r1 link", 10*time.Second, func() bool { return r1.info(t, "master_link_status") == "up" })
			r3.replicaOf(t, r1)
			time.Sleep(500 * time.Millisecond)
			close(stop)
			wg.check(t)
			waitSynced(t, m, r1, r2, r3)
			if got, want := r3.info(t, "master_replid"), m.info(t, "master_replid"); got != want {
				t.Fatalf("chained replica replid %s, master %s", got, want)
			}
			if v := mustDo(t, r2, "ROLE").([]any); v[0] != "slave" || v[3] != "connected" {
				t.Fatalf("ROLE on replica: %v", v)
			}
			if v := mustDo(t, m, "ROLE").([]any); v[0] != "master" || len(v[2].([]any)) != 2 {
				t.Fatalf("ROLE on master: %v", v)
			}
			if err := r2.c.Set(kvtest.Ctx(t), "x", 1, 0).Err(); err == nil || err.Error() != "READONLY You can't write against a read only replica." {
				t.Fatalf("write on replica: %v", err)
			}
		})
	}
}

func TestReplicationPartialResyncAfterLinkLoss(t *testing.T) {
	m := startReplKV(t, "repl-diskless-sync-delay", "0")
	r := startReplKV(t)
	r.replicaOf(t, m)
	runWorkload(t, m, 2, 300*time.Millisecond)
	waitSynced(t, m, r)
	full, partial := m.infoInt(t, "sync_full"), m.infoInt(t, "sync_partial_ok")
	// Cut the replica's side of the link: the master keeps writing meanwhile.
	mustDo(t, m, "CLIENT", "KILL", "TYPE", "replica")
	runWorkload(t, m, 2, 300*time.Millisecond)
	waitSynced(t, m, r)
	if got := m.infoInt(t, "sync_full"); got != full {
		t.Fatalf("sync_full went from %d to %d", full, got)
	}
	if got := m.infoInt(t, "sync_partial_ok"); got <= partial {
		t.Fatalf("sync_partial_ok did not grow: %d", got)
	}
}

// startKVDir starts a kv server with its own dir and save points, as a restartable
// process would be.
func startKVDir(t *testing.T, dir string, settings ...string) (*kvtest.Server, *node) {
	t.Helper()
	cfg := config.New()
	for _, kv := range [][2]string{{"dir", dir}, {"enable-debug-command", "yes"}, {"save", "3600 1"}} {
		if err := cfg.SetFromFlag(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i+1 < len(settings); i += 2 {
		if err := cfg.SetFromFlag(settings[i], settings[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	s := kvtest.Start(t, func(o *server.Options) { o.Config = cfg; o.Logger = testLogger(t) })
	return s, newNode(t, s.Addr)
}

func TestReplicationPartialResyncAfterReplicaRestart(t *testing.T) {
	// The backlog must hold everything written while the replica is down (over 1mb,
	// the default, in 2s on a fast machine), or the resync is rightly a full one.
	m := startReplKV(t, "repl-diskless-sync-delay", "0", "repl-backlog-size", "64mb")
	dir := t.TempDir()
	host, port, _ := net.SplitHostPort(m.addr)
	rs, r := startKVDir(t, dir, "replicaof", host+" "+port)
	runWorkload(t, m, 2, 300*time.Millisecond)
	waitSynced(t, m, r)
	full, partial := m.infoInt(t, "sync_full"), m.infoInt(t, "sync_partial_ok")
	// Stop the replica as SHUTDOWN would (saving, with its replication offset), keep
	// writing on the master for a while, then start it again from its file.
	rs.E.Lock()
	if err := rs.Srv.ShutdownSave(true, false); err != nil {
		rs.E.Unlock()
		t.Fatal(err)
	}
	rs.E.Unlock()
	rs.Srv.Close()
	r.c.Close()
	runWorkload(t, m, 2, 2*time.Second)
	_, r = startKVDir(t, dir, "replicaof", host+" "+port)
	waitSynced(t, m, r)
	if got := m.infoInt(t, "sync_full"); got != full {
		t.Fatalf("sync_full went from %d to %d", full, got)
	}
	if got := m.infoInt(t, "sync_partial_ok"); got != partial+1 {
		t.Fatalf("sync_partial_ok %d, want %d", got, partial+1)
	}
}

func TestReplicationPromotedSiblingPartialResync(t *testing.T) {
	m := startReplKV(t, "repl-diskless-sync-delay", "0", "repl-ping-replica-period", "3600")
	r1 := startReplKV(t, "repl-diskless-sync-delay", "0")
	r2 := startReplKV(t)
	// The workload sets TTLs: the master's active expiry could propagate a DEL that
	// reaches r2 but not r1 between the sync check and r1's promotion.
	mustDo(t, m, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
	r1.replicaOf(t, m)
	r2.replicaOf(t, m)
	runWorkload(t, m, 2, 300*time.Millisecond)
	waitSynced(t, m, r1, r2)
	oldID := m.info(t, "master_replid")
	// r1 takes over and r2 follows it (the master sends no PINGs or expiry DELs
	// meanwhile, so both stopped at the same offset).
	mustDo(t, r1, "REPLICAOF", "NO", "ONE")
	if got := r1.info(t, "master_replid2"); got != oldID {
		t.Fatalf("promoted replica replid2 %s, want %s", got, oldID)
	}
	r2.replicaOf(t, r1)
	runWorkload(t, r1, 2, 200*time.Millisecond)
	waitSynced(t, r1, r2)
	if got := r1.infoInt(t, "sync_full"); got != 0 {
		t.Fatalf("promoted replica did %d full syncs", got)
	}
	if got := r1.infoInt(t, "sync_partial_ok"); got != 1 {
		t.Fatalf("sync_partial_ok %d, want 1", got)
	}
}

func TestReplicationWait(t *testing.T) {
	m := startReplKV(t, "repl-diskless-sync-delay", "0")
	r1, r2 := startReplKV(t), startReplKV(t)
	ctx := kvtest.Ctx(t)
	c := m.c.Conn()
	defer c.Close()
	if err := c.Set(ctx, "a", 1, 0).Err(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if n, err := c.Do(ctx, "WAIT", 1, 200).Int(); err != nil || n != 0 {
		t.Fatalf("WAIT without replicas: %d %v", n, err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("WAIT returned after %v, before its timeout", d)
	}
	r1.replicaOf(t, m)
	r2.replicaOf(t, m)
	waitSynced(t, m, r1, r2)
	if err := c.Set(ctx, "b", 2, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Do(ctx, "WAIT", 2, 5000).Int(); err != nil || n != 2 {
		t.Fatalf("WAIT 2: %d %v", n, err)
	}
	if n, err := c.Do(ctx, "WAIT", 3, 100).Int(); err != nil || n != 2 {
		t.Fatalf("WAIT 3 with two replicas: %d %v", n, err)
	}
	if err := r1.c.Do(ctx, "WAIT", 1, 10).Err(); err == nil || !strings.HasPrefix(err.Error(), "ERR WAIT cannot be used with replica instances") {
		t.Fatalf("WAIT on a replica: %v", err)
	}
}

func TestReplicationMinReplicas(t *testing.T) {
	m := startReplKV(t, "min-replicas-to-write", "1", "repl-diskless-sync-delay", "0")
	ctx := kvtest.Ctx(t)
	err := m.c.Set(ctx, "a", 1, 0).Err()
	if err == nil || err.Error() != "NOREPLICAS Not enough good replicas to write." {
		t.Fatalf("write without replicas: %v", err)
	}
	if err := m.c.Get(ctx, "a").Err(); err != redis.Nil {
		t.Fatalf("read without replicas: %v", err)
	}
	r := startReplKV(t)
	r.replicaOf(t, m)
	replWaitFor(t, "a good replica", 10*time.Second, func() bool { return m.c.Set(ctx, "a", 1, 0).Err() == nil })
}

func TestReplicationStaleData(t *testing.T) {
	r := startReplKV(t, "replica-serve-stale-data", "no")
	mustDo(t, r, "REPLICAOF", "127.0.0.1", "1")
	ctx := kvtest.Ctx(t)
	err := r.c.Get(ctx, "a").Err()
	if err == nil || err.Error() != "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'." {
		t.Fatalf("GET with the link down: %v", err)
	}
	if r.info(t, "master_link_status") != "down" {
		t.Fatal("link up to a dead port")
	}
	mustDo(t, r, "REPLICAOF", "NO", "ONE")
	if err := r.c.Set(ctx, "a", 1, 0).Err(); err != nil {
		t.Fatalf("write after promotion: %v", err)
	}
	// A transaction queued while the link was fine is refused whole at EXEC once
	// the replica went stale, as Redis (unit/multi "stale replica state change").
	tx := (&kvtest.Server{Addr: r.addr}).Raw(t)
	tx.Do("MULTI")
	tx.Do("GET", "a")
	mustDo(t, r, "REPLICAOF", "127.0.0.1", "1")
	want := "(error) EXECABORT Transaction discarded because of: MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
	if got := tx.Do("EXEC").String(); got != want {
		t.Fatalf("EXEC of a GET on a stale replica: %s", got)
	}
	mustDo(t, r, "REPLICAOF", "NO", "ONE")
}

func TestReplicationFailover(t *testing.T) {
	m := startReplKV(t, "repl-diskless-sync-delay", "0")
	r := startReplKV(t, "repl-diskless-sync-delay", "0")
	r.replicaOf(t, m)
	runWorkload(t, m, 2, 200*time.Millisecond)
	waitSynced(t, m, r)
	mustDo(t, m, "FAILOVER")
	replWaitFor(t, "the roles to switch", 60*time.Second, func() bool {
		return m.info(t, "role") == "slave" && r.info(t, "role") == "master" && m.info(t, "master_link_status") == "up" &&
			m.info(t, "master_failover_state") == "no-failover"
	})
	runWorkload(t, r, 2, 200*time.Millisecond)
	waitSynced(t, r, m)
	if got := r.infoInt(t, "sync_full"); got != 0 {
		t.Fatalf("the new master did %d full syncs", got)
	}
}

// Interop with Debian's redis-server 7.0.

func startRedis(t *testing.T, extra ...string) *node {
	logf := t.TempDir() + "/redis.log"
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logf)
			if i := strings.Index(string(b), "=== REDIS BUG REPORT START"); i >= 0 {
				b = b[max(0, i-1500):min(len(b), i+2500)]
			} else if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			t.Logf("redis-server log:\n%s", b)
		}
	})
	s := redistest.Start(t, append([]string{"--enable-debug-command", "yes", "--logfile", logf}, extra...)...)
	return newNode(t, s.Addr)
}

func TestReplicationKVReplicaOfRedis(t *testing.T) {
	for _, diskless := range []string{"yes", "no"} {
		t.Run("diskless="+diskless, func(t *testing.T) {
			m := startRedis(t, "--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0")
			r := startReplKV(t)
			runWorkload(t, m, 2, 200*time.Millisecond)
			r.replicaOf(t, m)
			runWorkload(t, m, 3, 500*time.Millisecond)
			waitSynced(t, m, r)
			partial := m.infoInt(t, "sync_partial_ok")
			mustDo(t, m, "CLIENT", "KILL", "TYPE", "replica")
			runWorkload(t, m, 2, 300*time.Millisecond)
			waitSynced(t, m, r)
			if got := m.infoInt(t, "sync_partial_ok"); got != partial+1 {
				t.Fatalf("redis master sync_partial_ok %d, want %d", got, partial+1)
			}
			if got := m.infoInt(t, "sync_full"); got != 1 {
				t.Fatalf("redis master sync_full %d, want 1", got)
			}
		})
	}
}

func TestReplicationRedisReplicaOfKV(t *testing.T) {
	for _, diskless := range []string{"yes", "no"} {
		t.Run("diskless="+diskless, func(t *testing.T) {
			m := startReplKV(t, "repl-diskless-sync", diskless, "repl-diskless-sync-delay", "0")
			r := startRedis(t)
			runWorkload(t, m, 2, 200*time.Millisecond)
			r.replicaOf(t, m)
			runWorkload(t, m, 3, 500*time.Millisecond)
			waitSynced(t, m, r)
			partial := m.infoInt(t, "sync_partial_ok")
			mustDo(t, m, "CLIENT", "KILL", "TYPE", "replica")
			runWorkload(t, m, 2, 300*time.Millisecond)
			waitSynced(t, m, r)
			if got := m.infoInt(t, "sync_partial_ok"); got != partial+1 {
				t.Fatalf("kv master sync_partial_ok %d, want %d", got, partial+1)
			}
			if got := m.infoInt(t, "sync_full"); got != 1 {
				t.Fatalf("kv master sync_full %d, want 1", got)
			}
		})
	}
}

var _ = engine.FlagWrite
var _ = slog.LevelInfo
var _ = io.Discard

// testLogger shows server logs with -v when KV_TEST_LOG is set.
func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("KV_TEST_LOG") == "" {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}

// PUBLISH on a master reaches subscribers on its replica (Redis propagates it to
// replicas only), in order with the writes around it.
func TestReplicationPublish(t *testing.T) {
	m := startReplKV(t, "repl-diskless-sync-delay", "0")
	r := startReplKV(t)
	r.replicaOf(t, m)
	waitSynced(t, m, r)
	ctx := kvtest.Ctx(t)
	sub := r.c.Subscribe(ctx, "news")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	mustDo(t, m, "SET", "before", "1")
	if n := mustDo(t, m, "PUBLISH", "news", "hello"); n != int64(0) {
		t.Fatalf("PUBLISH on the master counted %v subscribers", n)
	}
	msg, err := sub.ReceiveMessage(ctx)
	if err != nil || msg.Payload != "hello" {
		t.Fatalf("message on the replica: %v %v", msg, err)
	}
	if v, err := r.c.Get(ctx, "before").Result(); err != nil || v != "1" {
		t.Fatalf("write before the message: %q %v", v, err)
	}
	waitSynced(t, m, r)
}

// A replica with the AOF on starts it again from the master's payload: reloading
// its AOF gives the master's dataset, not its own old data under the stream.
func TestReplicationReplicaAOF(t *testing.T) {
	m := startReplKV(t, "repl-diskless-sync-delay", "0")
	runWorkload(t, m, 2, 200*time.Millisecond)
	rs, r := startKVDir(t, t.TempDir(), "appendonly", "yes", "appendfsync", "always")
	mustDo(t, r, "SET", "stale", "1")
	r.replicaOf(t, m)
	runWorkload(t, m, 2, 300*time.Millisecond)
	// No expiry DELs may arrive between the digest and the reload.
	mustDo(t, m, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
	waitSynced(t, m, r)
	replWaitFor(t, "the AOF rewrite after the sync", 30*time.Second, func() bool {
		return r.info(t, "aof_rewrite_in_progress") == "0" && r.info(t, "aof_rewrite_scheduled") == "0"
	})
	want := r.digest(t)
	rk := rs.Raw(t)
	if v := rk.Do("DEBUG", "LOADAOF").String(); v != "OK" {
		t.Fatalf("DEBUG LOADAOF: %s", v)
	}
	if got := r.digest(t); got != want {
		t.Fatalf("digest after reloading the replica's AOF %s, want %s", got, want)
	}
}
