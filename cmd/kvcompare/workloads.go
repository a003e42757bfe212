package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"kv/resp"
)

// workload is one measurement: run starts the server it needs (so each starts clean),
// measures, stops it, and returns its figures. A figure kv cannot produce yet comes
// back as a sample with na set.
type workload struct {
	name string
	run  func(ctx context.Context, e *env, sk *serverKind) ([]sample, error)
}

func workloads(e *env) []workload {
	o := e.opts
	ws := []workload{}
	for _, p := range []int{1, 16} {
		for _, d := range []int{64, 1024} {
			n := o.p1Req
			if p > 1 {
				n = o.p16Req
			}
			ws = append(ws, defaultTests(p, d, n))
		}
	}
	ws = append(ws, getManyClients(e), latency(o.latReq))
	ws = append(ws,
		stringsAndPersistence(o),
		rssWorkload(fmt.Sprintf("RSS/key %s small hashes (10 fields)", count(o.hashes)), o.hashes, "", genHash),
		rssWorkload(fmt.Sprintf("RSS/key %s small zsets (10 members)", count(o.zsets)), o.zsets, "zsets", genZset),
		rssWorkload(fmt.Sprintf("RSS/key %s lists of %d", count(o.lists), o.listLen), o.lists, "", genList(o.listLen)),
		aofWorkload("everysec", o.aofReq),
		aofWorkload("always", o.aofReq),
	)
	return ws
}

func count(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return strconv.Itoa(n)
}

// benchResult is one line of redis-benchmark --csv.
type benchResult struct {
	test          string
	rps, p50, p99 float64
}

// benchmark runs redis-benchmark against s with --csv and returns its lines in order.
func benchmark(ctx context.Context, e *env, s *server, args ...string) ([]benchResult, error) {
	all := append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(s.port), "--csv"}, args...)
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.opts.benchBin, all...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if e.opts.verbose {
		fmt.Fprintf(os.Stderr, "kvcompare:   redis-benchmark %s\n", strings.Join(all, " "))
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	e.procs.add(cmd)
	err := cmd.Wait()
	e.procs.remove(cmd)
	if err != nil {
		return nil, fmt.Errorf("redis-benchmark: %v: %s", err, strings.TrimSpace(errb.String()))
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("redis-benchmark csv: %v", err)
	}
	var res []benchResult
	for _, r := range recs {
		if len(r) < 7 || r[0] == "test" {
			continue
		}
		f := func(i int) float64 { v, _ := strconv.ParseFloat(r[i], 64); return v }
		// test, rps, avg, min, p50, p95, p99, max
		res = append(res, benchResult{test: r[0], rps: f(1), p50: f(4), p99: f(6)})
	}
	if len(res) == 0 {
		return nil, fmt.Errorf("redis-benchmark printed no results: %s", strings.TrimSpace(errb.String()))
	}
	return res, nil
}

// testNeeds maps a redis-benchmark test to the kv feature it exercises beyond the
// basics, so its figure is n/a while kv lacks it.
func testNeeds(test string) string {
	if strings.HasPrefix(test, "ZADD") || strings.HasPrefix(test, "ZPOPMIN") {
		return "zsets"
	}
	return ""
}

// The default list split in two: the LRANGE tests answer hundreds of elements per
// request and run at a few thousand requests per second, so they get a tenth of the
// requests (the tool would otherwise spend most of its time there).
var (
	fastTests  = []string{"ping_inline", "ping_mbulk", "set", "get", "incr", "lpush", "rpush", "lpop", "rpop", "sadd", "hset", "spop", "zadd", "zpopmin", "mset"}
	lrangeTest = "lrange_100,lrange_300,lrange_500,lrange_600"
)

// defaultTests is redis-benchmark's default test list at -c 50. redis-benchmark stops
// at the first error reply, so tests for a feature kv lacks are left out of kv's run
// and reported as n/a.
func defaultTests(pipeline, size, n int) workload {
	name := fmt.Sprintf("-P %d -d %d", pipeline, size)
	return workload{name: "default tests " + name, run: func(ctx context.Context, e *env, sk *serverKind) ([]sample, error) {
		s, err := e.start(ctx, sk)
		if err != nil {
			return nil, err
		}
		defer s.stop()
		var tests []string
		var skipped, out []sample
		for _, t := range fastTests {
			if reason := e.kvMissing(sk, testNeeds(strings.ToUpper(t))); reason != "" {
				skipped = append(skipped, sample{row: name + " " + strings.ToUpper(t), unit: unitRPS, na: reason})
				continue
			}
			tests = append(tests, t)
		}
		common := []string{"-c", "50", "-P", strconv.Itoa(pipeline), "-d", strconv.Itoa(size)}
		res, err := benchmark(ctx, e, s, append(common, "-n", strconv.Itoa(n), "-t", strings.Join(tests, ","))...)
		if err != nil {
			return nil, err
		}
		lr, err := benchmark(ctx, e, s, append(common, "-n", strconv.Itoa(max(n/10, 1000)), "-t", lrangeTest)...)
		if err != nil {
			return nil, err
		}
		for _, r := range append(res, lr...) {
			out = append(out, sample{row: name + " " + r.test, unit: unitRPS, value: r.rps})
			// Skipped tests take their place in the list (the zset tests follow SPOP),
			// so the table's order does not depend on which server ran first.
			if r.test == "SPOP" {
				out, skipped = append(out, skipped...), nil
			}
		}
		return append(out, skipped...), nil
	}}
}

// getManyClients is GET with a thousand connections, or as many as the open-file
// limit allows (both the benchmark and the server need one descriptor per client).
func getManyClients(e *env) workload {
	clients := 1000
	if lim := int(e.fdLimit) - 64; lim < clients {
		clients = max(lim, 1)
		e.notes = append(e.notes, fmt.Sprintf("GET -c %d: the open-file limit (%d) does not allow 1000 clients", clients, e.fdLimit))
	}
	n := e.opts.c1000Req
	return workload{name: fmt.Sprintf("GET -c %d", clients), run: func(ctx context.Context, e *env, sk *serverKind) ([]sample, error) {
		s, err := e.start(ctx, sk)
		if err != nil {
			return nil, err
		}
		defer s.stop()
		res, err := benchmark(ctx, e, s, "-t", "get", "-c", strconv.Itoa(clients), "-n", strconv.Itoa(n))
		if err != nil {
			return nil, err
		}
		return []sample{{row: fmt.Sprintf("GET -c %d", clients), unit: unitRPS, value: res[0].rps}}, nil
	}}
}

// latency is p50 and p99 of SET and GET at -P 1, -c 50, from redis-benchmark's own
// histogram.
func latency(n int) workload {
	return workload{name: "latency SET/GET -P 1", run: func(ctx context.Context, e *env, sk *serverKind) ([]sample, error) {
		s, err := e.start(ctx, sk)
		if err != nil {
			return nil, err
		}
		defer s.stop()
		res, err := benchmark(ctx, e, s, "-t", "set,get", "-c", "50", "-P", "1", "-r", "100000", "-n", strconv.Itoa(n))
		if err != nil {
			return nil, err
		}
		var out []sample
		for _, r := range res {
			out = append(out,
				sample{row: "p50 " + r.test + " -P 1", unit: unitMs, value: r.p50},
				sample{row: "p99 " + r.test + " -P 1", unit: unitMs, value: r.p99})
		}
		return out, nil
	}}
}

// A generator appends key i's load commands (each an argument vector) to cmds.
type generator func(i int, cmds [][][]byte) [][][]byte

// String keys are named as redis-benchmark's -r keys are, so the load run during
// BGSAVE overwrites keys the snapshot has not written yet.
func genString(i int, cmds [][][]byte) [][][]byte {
	key := fmt.Appendf(nil, "key:%012d", i)
	val := fmt.Appendf(nil, "value-%010d-abcdefghijklmnop", i) // 32 bytes, not an integer
	return append(cmds, [][]byte{[]byte("SET"), key, val})
}

func genHash(i int, cmds [][][]byte) [][][]byte {
	args := [][]byte{[]byte("HSET"), fmt.Appendf(nil, "hash:%08d", i)}
	for f := 0; f < 10; f++ {
		args = append(args, fmt.Appendf(nil, "field:%d", f), fmt.Appendf(nil, "v%07d", i+f))
	}
	return append(cmds, args)
}

func genZset(i int, cmds [][][]byte) [][][]byte {
	args := [][]byte{[]byte("ZADD"), fmt.Appendf(nil, "zset:%08d", i)}
	for m := 0; m < 10; m++ {
		args = append(args, strconv.AppendInt(nil, int64(i%1000+m), 10), fmt.Appendf(nil, "member:%d", m))
	}
	return append(cmds, args)
}

func genList(length int) generator {
	return func(i int, cmds [][][]byte) [][][]byte {
		key := fmt.Appendf(nil, "list:%06d", i)
		for done := 0; done < length; {
			args := [][]byte{[]byte("RPUSH"), key}
			for j := 0; j < 100 && done < length; j++ {
				args = append(args, fmt.Appendf(nil, "element-%08d", done))
				done++
			}
			cmds = append(cmds, args)
		}
		return cmds
	}
}

// load writes keys 0..n-1 through kv/client with pipelined batches.
func load(ctx context.Context, s *server, n int, gen generator) error {
	c, err := s.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	const batch = 1000
	var cmds [][][]byte
	for i := 0; i < n; {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		cmds = cmds[:0]
		for ; i < n && len(cmds) < batch; i++ {
			cmds = gen(i, cmds)
		}
		for _, a := range cmds {
			c.SendArgs(a)
		}
		if err := c.Flush(); err != nil {
			return err
		}
		for range cmds {
			v, err := c.Receive()
			if err != nil {
				return err
			}
			if v.Kind == resp.KindError {
				return fmt.Errorf("loading: %s", v.Str)
			}
		}
	}
	return nil
}

// rssPerKey starts a server, loads n keys and returns the VmRSS growth per key. The
// server is returned running for more measurements.
func rssPerKey(ctx context.Context, e *env, sk *serverKind, n int, gen generator) (*server, float64, error) {
	s, err := e.start(ctx, sk)
	if err != nil {
		return nil, 0, err
	}
	before, err := s.rss()
	if err != nil {
		s.stop()
		return nil, 0, err
	}
	if err := load(ctx, s, n, gen); err != nil {
		s.stop()
		return nil, 0, err
	}
	// Let the allocator settle (Redis's lazy frees, Go's background sweep) the same for both.
	time.Sleep(time.Second)
	after, err := s.rss()
	if err != nil {
		s.stop()
		return nil, 0, err
	}
	if v, err := s.do(ctx, "DBSIZE"); err != nil || v.Int != int64(n) {
		s.stop()
		return nil, 0, fmt.Errorf("DBSIZE after loading is %d, want %d (%v)", v.Int, n, err)
	}
	return s, float64(after-before) / float64(n), nil
}

func rssWorkload(name string, n int, needs string, gen generator) workload {
	return workload{name: name, run: func(ctx context.Context, e *env, sk *serverKind) ([]sample, error) {
		if sk.isKV() && needs != "" && e.missing[needs] != "" {
			return []sample{{row: name, unit: unitBytes, na: e.missing[needs]}}, nil
		}
		s, per, err := rssPerKey(ctx, e, sk, n, gen)
		if err != nil {
			return nil, err
		}
		s.stop()
		return []sample{{row: name, unit: unitBytes, value: per}}, nil
	}}
}

// stringsAndPersistence loads the string data set once and measures on it: RSS per
// key, SAVE time and RDB size, load time at start, and the p99 of a SET load while
// BGSAVE runs over and over.
func stringsAndPersistence(o *options) workload {
	n := o.strings
	cnt := count(n)
	rows := struct{ rss, save, size, loadt, bgsave string }{
		"RSS/key " + cnt + " strings (32 B values)",
		"SAVE time " + cnt + " keys",
		"RDB size " + cnt + " keys",
		"load time at start " + cnt + " keys",
		"p99 SET -P 1 during BGSAVE " + cnt + " keys",
	}
	return workload{name: "strings " + cnt + ": RSS, SAVE, load, BGSAVE", run: func(ctx context.Context, e *env, sk *serverKind) ([]sample, error) {
		s, per, err := rssPerKey(ctx, e, sk, n, genString)
		if err != nil {
			return nil, err
		}
		defer func() { s.stop() }()
		out := []sample{{row: rows.rss, unit: unitBytes, value: per}}
		if reason := e.kvMissing(sk, "save"); reason != "" {
			out = append(out,
				sample{row: rows.save, unit: unitSeconds, na: reason},
				sample{row: rows.size, unit: unitBytes, na: reason},
				sample{row: rows.loadt, unit: unitSeconds, na: reason})
		} else {
			t0 := time.Now()
			v, err := s.do(ctx, "SAVE")
			dt := time.Since(t0)
			if err != nil {
				return out, err
			}
			if v.Kind == resp.KindError {
				return out, fmt.Errorf("SAVE: %s", v.Str)
			}
			out = append(out, sample{row: rows.save, unit: unitSeconds, value: dt.Seconds()})
			fi, err := os.Stat(filepath.Join(s.dir, "dump.rdb"))
			if err != nil {
				return out, fmt.Errorf("SAVE wrote no dump.rdb: %v", err)
			}
			out = append(out, sample{row: rows.size, unit: unitBytes, value: float64(fi.Size())})
			s.stop()
			t0 = time.Now()
			s, err = e.spawn(sk, s.dir)
			if err != nil {
				return out, err
			}
			if err := s.waitReady(ctx, 5*time.Minute); err != nil {
				return out, err
			}
			dt = time.Since(t0)
			if v, err := s.do(ctx, "DBSIZE"); err != nil || v.Int != int64(n) {
				out = append(out, sample{row: rows.loadt, unit: unitSeconds,
					na: fmt.Sprintf("%s did not load dump.rdb at start (DBSIZE %d)", sk.name, v.Int)})
			} else {
				out = append(out, sample{row: rows.loadt, unit: unitSeconds, value: dt.Seconds()})
			}
		}
		if reason := e.kvMissing(sk, "bgsave"); reason != "" {
			return append(out, sample{row: rows.bgsave, unit: unitMs, na: reason}), nil
		}
		p99, saves, err := underBgsave(ctx, e, s, n, o.bgsaveReq)
		if err != nil {
			return out, err
		}
		if saves == 0 {
			return append(out, sample{row: rows.bgsave, unit: unitMs, na: "no BGSAVE finished during the run"}), nil
		}
		return append(out, sample{row: rows.bgsave, unit: unitMs, value: p99}), nil
	}}
}

func (e *env) kvMissing(sk *serverKind, feature string) string {
	if !sk.isKV() {
		return ""
	}
	return e.missing[feature]
}

// underBgsave runs a SET load over the loaded keys and keeps a BGSAVE running for as
// long as it lasts; it returns the load's p99 and how many BGSAVEs completed.
func underBgsave(ctx context.Context, e *env, s *server, keys, n int) (float64, int, error) {
	type result struct {
		res []benchResult
		err error
	}
	done := make(chan result, 1)
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	started := make(chan struct{})
	go func() {
		close(started)
		r, err := benchmark(bctx, e, s, "-t", "set", "-c", "50", "-P", "1", "-d", "32", "-r", strconv.Itoa(keys), "-n", strconv.Itoa(n))
		done <- result{r, err}
	}()
	<-started
	c, err := s.dial(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	saves := 0
	inProgress := false
	for {
		select {
		case r := <-done:
			if r.err != nil {
				return 0, saves, r.err
			}
			// Leave no save running into the next workload's measurements.
			for i := 0; i < 6000 && inProgress; i++ {
				inProgress, _ = bgsaveRunning(c)
				time.Sleep(10 * time.Millisecond)
			}
			return r.res[0].p99, saves, nil
		case <-time.After(20 * time.Millisecond):
		}
		running, err := bgsaveRunning(c)
		if err != nil {
			return 0, saves, err
		}
		if inProgress && !running {
			saves++
		}
		inProgress = running
		if !running {
			v, err := c.Do("BGSAVE")
			if err != nil {
				return 0, saves, err
			}
			if v.Kind == resp.KindError && !strings.Contains(string(v.Str), "in progress") {
				return 0, saves, fmt.Errorf("BGSAVE: %s", v.Str)
			}
			inProgress = true
		}
	}
}

func bgsaveRunning(c interface {
	Do(args ...any) (resp.Value, error)
}) (bool, error) {
	v, err := c.Do("INFO", "persistence")
	if err != nil {
		return false, err
	}
	for _, line := range strings.Split(string(v.Str), "\r\n") {
		if k, val, ok := strings.Cut(line, ":"); ok && k == "rdb_bgsave_in_progress" {
			return val == "1", nil
		}
	}
	return false, errors.New("INFO persistence has no rdb_bgsave_in_progress")
}

// aofWorkload is SET throughput with the AOF on under an fsync policy. A server that
// leaves no AOF file behind has not done the work, so its figure is n/a.
func aofWorkload(policy string, n int) workload {
	row := "SET -P 1 appendfsync " + policy
	return workload{name: row, run: func(ctx context.Context, e *env, sk *serverKind) ([]sample, error) {
		s, err := e.start(ctx, sk, "--appendonly", "yes", "--appendfsync", policy)
		if err != nil {
			if sk.isKV() {
				return []sample{{row: row, unit: unitRPS, na: "kv does not start with appendonly yes: " + firstLine(err.Error())}}, nil
			}
			return nil, err
		}
		defer s.stop()
		res, err := benchmark(ctx, e, s, "-t", "set", "-c", "50", "-P", "1", "-r", "100000", "-n", strconv.Itoa(n))
		if err != nil {
			return nil, err
		}
		if size := aofBytes(s.dir); size == 0 {
			return []sample{{row: row, unit: unitRPS, na: sk.name + " wrote no AOF (appendonly not implemented yet)"}}, nil
		}
		return []sample{{row: row, unit: unitRPS, value: res[0].rps}}, nil
	}}
}

// aofBytes is the size of every AOF file in dir (Redis 7's appendonlydir, or a single
// appendonly.aof).
func aofBytes(dir string) int64 {
	var total int64
	_ = filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && strings.Contains(fi.Name(), ".aof") && !strings.HasSuffix(fi.Name(), ".manifest") {
			total += fi.Size()
		}
		return nil
	})
	return total
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
