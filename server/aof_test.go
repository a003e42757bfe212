package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
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

// waitRewrite polls INFO until no AOF rewrite runs or is scheduled.
func waitRewrite(t *testing.T, r *kvtest.Raw) {
	t.Helper()
	deadline := time.Now().Add(kvtest.Timeout)
	for time.Now().Before(deadline) {
		v := r.Do("INFO", "persistence").String()
		if strings.Contains(v, "aof_rewrite_in_progress:0") && strings.Contains(v, "aof_rewrite_scheduled:0") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("AOF rewrite did not finish")
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAOFRoundTripWithRedis: kv's AOF directory (base, written before a rewrite, plus
// incr) passes redis-check-aof and loads into real Redis with the same digest; then
// Redis writes more and kv loads Redis's directory with Redis's digest.
func TestAOFRoundTripWithRedis(t *testing.T) {
	check := redistest.Bin(t, "redis-check-aof")
	redistest.Bin(t, "redis-server")
	for _, preamble := range []string{"yes", "no"} {
		t.Run("preamble="+preamble, func(t *testing.T) {
			dir := t.TempDir()
			kv := startKV(t, dir, "appendonly", "yes", "appendfsync", "always", "aof-use-rdb-preamble", preamble)
			rk := kv.Raw(t)
			cmds := datasetCommands()
			run(t, rk, cmds[:8])
			if v := rk.Do("BGREWRITEAOF").String(); !strings.Contains(v, "started") {
				t.Fatalf("BGREWRITEAOF: %s", v)
			}
			run(t, rk, cmds[8:])
			waitRewrite(t, rk)
			run(t, rk, [][]string{{"MULTI"}, {"SET", "tx", "1"}, {"INCRBYFLOAT", "fl", "1.5"}, {"EXPIRE", "tx", "100000"}, {"EXEC"}, {"SELECT", "9"}, {"SADD", "s9", "a", "7"}, {"SELECT", "0"}})
			want := digest(t, rk)

			manifest := filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest")
			out, err := exec.Command(check, manifest).CombinedOutput()
			if err != nil || !bytes.Contains(out, []byte("All AOF files and manifest are valid")) {
				t.Fatalf("redis-check-aof: %v\n%s", err, out)
			}
			rdir := t.TempDir()
			copyDir(t, filepath.Join(dir, "appendonlydir"), filepath.Join(rdir, "appendonlydir"))
			red := kvtest.StartRedis(t, rdir, "--appendonly", "yes", "--appendfsync", "always", "--enable-debug-command", "yes")
			rr := (&kvtest.Server{Addr: red.Addr}).Raw(t)
			if got := digest(t, rr); got != want {
				t.Fatalf("Redis digest of kv's AOF %s, kv digest %s", got, want)
			}

			run(t, rr, [][]string{{"SET", "fromredis", "1"}, {"SELECT", "4"}, {"RPUSH", "l4", "x", "y"}, {"SELECT", "0"}, {"INCRBYFLOAT", "fl", "2"}})
			want = digest(t, rr)
			kdir := t.TempDir()
			copyDir(t, filepath.Join(rdir, "appendonlydir"), filepath.Join(kdir, "appendonlydir"))
			kv2 := startKV(t, kdir, "appendonly", "yes")
			if got := digest(t, kv2.Raw(t)); got != want {
				t.Fatalf("kv digest of Redis's AOF %s, Redis says %s", got, want)
			}
		})
	}
}

// TestAOFFixturesFromRedis loads directories written by redis-server 7.0.15
// (testdata/aof/make-fixtures.sh) and compares the digest Redis recorded.
func TestAOFFixturesFromRedis(t *testing.T) {
	for _, variant := range []string{"preamble", "commands"} {
		t.Run(variant, func(t *testing.T) {
			src := filepath.Join("..", "testdata", "aof", "redis-7.0.15-"+variant)
			want, err := os.ReadFile(filepath.Join(src, "digest.txt"))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			copyDir(t, filepath.Join(src, "appendonlydir"), filepath.Join(dir, "appendonlydir"))
			kv := startKV(t, dir, "appendonly", "yes")
			if got := digest(t, kv.Raw(t)); got != strings.TrimSpace(string(want)) {
				t.Fatalf("digest %s, Redis recorded %s", got, want)
			}
		})
	}
}

// buildKV compiles the kv binary once per test run.
var buildKV = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "kv-aof-test")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "kv")
	out, err := exec.Command("go", "build", "-o", bin, "..").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

type kvProc struct {
	cmd  *exec.Cmd
	addr string
	log  *bytes.Buffer
}

// startKVProc runs the kv binary on dir; the test kills it (kill -9) or it dies at
// cleanup.
func startKVProc(t *testing.T, dir string, args ...string) *kvProc {
	t.Helper()
	bin, err := buildKV()
	if err != nil {
		t.Fatal(err)
	}
	port := redistest.FreePort(t)
	all := append([]string{"serve", "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ""}, args...)
	cmd := exec.Command(bin, all...)
	var log bytes.Buffer
	cmd.Stderr = &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &kvProc{cmd: cmd, addr: fmt.Sprintf("127.0.0.1:%d", port), log: &log}
	t.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(kvtest.Timeout)
	for {
		if c, err := net.Dial("tcp", p.addr); err == nil {
			c.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("kv did not start: %s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *kvProc) kill() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Kill() // SIGKILL: no chance to flush anything
		_ = p.cmd.Wait()
	}
}

// crashRun has workers INCR their own counter as fast as they can, records every
// acknowledged value with its time, kills kv -9 after d and returns, per counter,
// the acknowledgements.
type ack struct {
	val int64
	at  time.Time
}

func crashRun(t *testing.T, p *kvProc, workers int, d time.Duration) ([][]ack, time.Time) {
	t.Helper()
	acks := make([][]ack, workers)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := redis.NewClient(&redis.Options{Addr: p.addr, MaxRetries: -1, PoolSize: 1})
			defer c.Close()
			key := fmt.Sprintf("counter:%d", w)
			for ctx.Err() == nil {
				v, err := c.Incr(ctx, key).Result()
				if err != nil {
					return
				}
				acks[w] = append(acks[w], ack{v, time.Now()})
			}
		}()
	}
	time.Sleep(d)
	killedAt := time.Now()
	p.kill()
	cancel()
	wg.Wait()
	return acks, killedAt
}

func counters(t *testing.T, addr string, workers int) []int64 {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	out := make([]int64, workers)
	for w := range workers {
		v, err := c.Get(context.Background(), fmt.Sprintf("counter:%d", w)).Int64()
		if err != nil && err != redis.Nil {
			t.Fatal(err)
		}
		out[w] = v
	}
	return out
}

// TestAOFCrashAlways: with appendfsync always, kill -9 under concurrent writes loses
// no acknowledged INCR.
func TestAOFCrashAlways(t *testing.T) {
	dir := t.TempDir()
	p := startKVProc(t, dir, "--appendonly", "yes", "--appendfsync", "always")
	const workers = 8
	acks, _ := crashRun(t, p, workers, 1500*time.Millisecond)
	p2 := startKVProc(t, dir, "--appendonly", "yes")
	got := counters(t, p2.addr, workers)
	total := 0
	for w, a := range acks {
		total += len(a)
		if len(a) == 0 {
			continue
		}
		last := a[len(a)-1].val
		if got[w] < last {
			t.Errorf("counter %d: %d after restart, %d was acknowledged", w, got[w], last)
		}
		if got[w] > last+1 {
			t.Errorf("counter %d: %d after restart, only %d (+1 in flight) was sent", w, got[w], last)
		}
	}
	if total < 100 {
		t.Fatalf("only %d writes acknowledged: the test did not exercise anything", total)
	}
	t.Logf("%d acknowledged INCRs, all present after kill -9", total)
}

// TestAOFCrashEverysec: with everysec, what kill -9 loses was acknowledged within
// the last two seconds.
func TestAOFCrashEverysec(t *testing.T) {
	dir := t.TempDir()
	p := startKVProc(t, dir, "--appendonly", "yes", "--appendfsync", "everysec")
	const workers = 8
	acks, killedAt := crashRun(t, p, workers, 2500*time.Millisecond)
	p2 := startKVProc(t, dir, "--appendonly", "yes")
	got := counters(t, p2.addr, workers)
	for w, a := range acks {
		for _, x := range a {
			if x.val > got[w] && killedAt.Sub(x.at) > 2*time.Second {
				t.Errorf("counter %d: value %d acknowledged %v before the kill is lost", w, x.val, killedAt.Sub(x.at))
				break
			}
		}
	}
}

// TestAOFTruncated: a torn tail loads with aof-load-truncated yes (the file is cut to
// its last whole command), is refused with no, and kv aof check --fix repairs it.
func TestAOFTruncated(t *testing.T) {
	bin, err := buildKV()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	kv := startKV(t, dir, "appendonly", "yes", "appendfsync", "always")
	run(t, kv.Raw(t), [][]string{{"SET", "a", "1"}, {"SET", "b", "2"}})
	incr := filepath.Join(dir, "appendonlydir", "appendonly.aof.1.incr.aof")
	whole, err := os.ReadFile(incr)
	if err != nil {
		t.Fatal(err)
	}
	torn := append(append([]byte(nil), whole...), "*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$5\r\nab"...)

	// aof-load-truncated no: refused, with the offset.
	d2 := t.TempDir()
	copyDir(t, filepath.Join(dir, "appendonlydir"), filepath.Join(d2, "appendonlydir"))
	os.WriteFile(filepath.Join(d2, "appendonlydir", "appendonly.aof.1.incr.aof"), torn, 0o644)
	cfg := config.New()
	for _, kv := range [][2]string{{"dir", d2}, {"appendonly", "yes"}, {"aof-load-truncated", "no"}, {"save", ""}} {
		if err := cfg.SetFromFlag(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	e := engine.New(engine.Options{Databases: 16})
	engine.RegisterAll(e)
	srv, err := server.New(server.Options{Engine: e, Config: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	err = srv.LoadDataset()
	if err == nil || !strings.Contains(err.Error(), fmt.Sprint("offset ", len(whole))) {
		t.Fatalf("load with aof-load-truncated no: %v, want an error naming offset %d", err, len(whole))
	}

	// kv aof check finds it; --fix repairs it.
	out, err := exec.Command(bin, "aof", "check", filepath.Join(d2, "appendonlydir")).CombinedOutput()
	if err == nil || !bytes.Contains(out, []byte(fmt.Sprint("valid up to offset ", len(whole)))) {
		t.Fatalf("kv aof check: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "aof", "check", "--fix", "--yes", filepath.Join(d2, "appendonlydir")).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte(fmt.Sprintf("cut %d bytes", len(torn)-len(whole)))) {
		t.Fatalf("kv aof check --fix: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "aof", "check", filepath.Join(d2, "appendonlydir")).CombinedOutput(); err != nil {
		t.Fatalf("after --fix: %v\n%s", err, out)
	}
	if fixed, _ := os.ReadFile(filepath.Join(d2, "appendonlydir", "appendonly.aof.1.incr.aof")); !bytes.Equal(fixed, whole) {
		t.Fatalf("fixed file differs from the whole commands")
	}

	// aof-load-truncated yes (the default): loads, and the file is cut.
	d3 := t.TempDir()
	copyDir(t, filepath.Join(dir, "appendonlydir"), filepath.Join(d3, "appendonlydir"))
	os.WriteFile(filepath.Join(d3, "appendonlydir", "appendonly.aof.1.incr.aof"), torn, 0o644)
	kv3 := startKV(t, d3, "appendonly", "yes")
	if v := kv3.Raw(t).Do("MGET", "a", "b", "c").String(); v != "[1 2 (nil)]" {
		t.Fatalf("after a truncated load: %s", v)
	}
	if fixed, _ := os.ReadFile(filepath.Join(d3, "appendonlydir", "appendonly.aof.1.incr.aof")); !bytes.HasPrefix(fixed, whole) || len(fixed) < len(whole) {
		t.Fatalf("the torn tail was not cut: %d bytes", len(fixed))
	}
}

// TestBgrewriteaofUnderWrites: rewrites keep every write while clients keep
// writing (base from the snapshot + the new incr), checked by reloading the files.
func TestBgrewriteaofUnderWrites(t *testing.T) {
	dir := t.TempDir()
	kv := startKV(t, dir, "appendonly", "yes", "appendfsync", "everysec")
	rk := kv.Raw(t)
	const workers = 6
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	last := make([]int64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := kv.Client(t)
			for ctx.Err() == nil {
				v, err := c.Incr(context.Background(), fmt.Sprintf("counter:%d", w)).Result()
				if err != nil {
					t.Error(err)
					return
				}
				c.HSet(context.Background(), fmt.Sprintf("h:%d", v%50), fmt.Sprint(w), v)
				last[w] = v
			}
		}()
	}
	rewrites := 0
	for ctx.Err() == nil {
		if v := rk.Do("BGREWRITEAOF").String(); strings.Contains(v, "started") {
			rewrites++
		}
		waitRewrite(t, rk)
	}
	wg.Wait()
	want := digest(t, rk)
	if v := rk.Do("DEBUG", "LOADAOF").String(); v != "OK" {
		t.Fatalf("DEBUG LOADAOF: %s", v)
	}
	if got := digest(t, rk); got != want {
		t.Fatalf("after %d rewrites, the AOF reloads to digest %s, the dataset was %s", rewrites, got, want)
	}
	got := counters(t, kv.Addr, workers)
	for w := range workers {
		if got[w] != last[w] {
			t.Errorf("counter %d: %d after reload, %d acknowledged", w, got[w], last[w])
		}
	}
	if rewrites < 2 {
		t.Fatalf("only %d rewrites ran", rewrites)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "appendonlydir"))
	if len(ents) != 3 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("after rewrites the dir holds %v, want manifest, base and one incr", names)
	}
}

// TestAppendonlyAtRuntime: CONFIG SET appendonly yes makes a base by rewriting, as
// Redis; no turns it off; INFO follows.
func TestAppendonlyAtRuntime(t *testing.T) {
	dir := t.TempDir()
	kv := startKV(t, dir)
	rk := kv.Raw(t)
	run(t, rk, [][]string{{"SET", "before", "1"}, {"CONFIG", "SET", "appendonly", "yes"}, {"SET", "after", "2"}})
	waitRewrite(t, rk)
	run(t, rk, [][]string{{"SET", "later", "3"}})
	info := rk.Do("INFO", "persistence").String()
	for _, f := range []string{"aof_enabled:1", "aof_rewrites:1", "aof_last_bgrewrite_status:ok", "aof_last_write_status:ok"} {
		if !strings.Contains(info, f) {
			t.Errorf("INFO persistence lacks %s:\n%s", f, info)
		}
	}
	want := digest(t, rk)
	if v := rk.Do("DEBUG", "LOADAOF").String(); v != "OK" {
		t.Fatalf("DEBUG LOADAOF: %s", v)
	}
	if got := digest(t, rk); got != want {
		t.Fatalf("digest after reload %s, want %s", got, want)
	}
	m, _ := os.ReadFile(filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest"))
	if string(m) != "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n" {
		t.Fatalf("manifest:\n%s", m)
	}
	run(t, rk, [][]string{{"CONFIG", "SET", "appendonly", "no"}})
	if info := rk.Do("INFO", "persistence").String(); !strings.Contains(info, "aof_enabled:0") {
		t.Fatalf("after appendonly no:\n%s", info)
	}
}
