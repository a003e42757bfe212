package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	rows := struct{ rss, save, size, loadt, bgsave, bgtime string }{
		"RSS/key " + cnt + " strings (32 B values)",
		"SAVE time " + cnt + " keys",
		"RDB size " + cnt + " keys",
		"load time at start " + cnt + " keys",
		"p99 SET -P 1 during BGSAVE " + cnt + " keys",
		"BGSAVE time under SET load " + cnt + " keys",
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
			return append(out, sample{row: rows.bgsave, unit: unitMs, na: reason},
				sample{row: rows.bgtime, unit: unitSeconds, na: reason}), nil
		}
		r, err := underBgsave(ctx, s, n, o.bgsaves)
		if err != nil {
			return out, err
		}
		if e.opts.verbose {
			fmt.Fprintf(os.Stderr, "kvcompare:   %s: %d BGSAVEs, mean %v, %d SETs measured, %d error replies\n",
				sk.name, r.saves, r.meanSave.Round(time.Millisecond), r.requests, r.setErrors)
		}
		return append(out,
			sample{row: rows.bgsave, unit: unitMs, value: r.p99Ms},
			sample{row: rows.bgtime, unit: unitSeconds, value: r.meanSave.Seconds()}), nil
	}}
}

func (e *env) kvMissing(sk *serverKind, feature string) string {
	if !sk.isKV() {
		return ""
	}
	return e.missing[feature]
}

// bgsaveLoad is what underBgsave measured: the p99 of the SET requests sent while a
// BGSAVE was in progress, the mean time a BGSAVE took, and how many requests counted.
type bgsaveLoad struct {
	p99Ms     float64
	meanSave  time.Duration
	requests  int
	saves     int
	setErrors int
}

// underBgsave runs a SET load as redis-benchmark -t set -c 50 -P 1 -d 32 -r keys
// would, over the loaded keys (so it overwrites keys the snapshot has not written
// yet), and runs saves BGSAVEs one after the other while it goes on. Only requests
// sent while a BGSAVE is in progress count: from just before BGSAVE is sent (Redis's
// fork stalls its event loop inside the command) until INFO persistence says
// rdb_bgsave_in_progress:0. Both servers are thus measured over the same number of
// saves, however long each takes; a faster save is not charged for the extra saves
// it would fit in a fixed load, nor a slower one excused for finishing none.
func underBgsave(ctx context.Context, s *server, keys, saves int) (bgsaveLoad, error) {
	const clients = 50
	var measuring, stop atomic.Bool
	lat := make([][]time.Duration, clients)
	errs := make([]int, clients)
	fail := make(chan error, clients)
	var wg sync.WaitGroup
	for i := range clients {
		c, err := s.dial(ctx)
		if err != nil {
			stop.Store(true)
			wg.Wait()
			return bgsaveLoad{}, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			rnd := rand.New(rand.NewPCG(uint64(i), uint64(keys)))
			key := make([]byte, 0, 32)
			val := []byte("value-xxxxxxxxxx-abcdefghijklmnop")
			args := [][]byte{[]byte("SET"), nil, val}
			for !stop.Load() {
				k := rnd.IntN(keys)
				key = append(key[:0], "key:"...)
				key = appendPadded(key, k, 12)
				args[1] = key
				counted := measuring.Load()
				t0 := time.Now()
				v, err := c.DoArgs(args)
				dt := time.Since(t0)
				if err != nil {
					fail <- err
					return
				}
				if v.Kind == resp.KindError {
					errs[i]++
				}
				if counted {
					lat[i] = append(lat[i], dt)
				}
			}
		}()
	}
	defer func() { stop.Store(true); wg.Wait() }()
	c, err := s.dial(ctx)
	if err != nil {
		return bgsaveLoad{}, err
	}
	defer c.Close()
	// Let every client connect and the load reach its pace before the first save.
	time.Sleep(300 * time.Millisecond)
	var total time.Duration
	for n := 0; n < saves; n++ {
		measuring.Store(true)
		t0 := time.Now()
		v, err := c.Do("BGSAVE")
		if err != nil {
			return bgsaveLoad{}, err
		}
		if v.Kind == resp.KindError {
			return bgsaveLoad{}, fmt.Errorf("BGSAVE: %s", v.Str)
		}
		for {
			select {
			case err := <-fail:
				return bgsaveLoad{}, fmt.Errorf("SET load: %v", err)
			case <-ctx.Done():
				return bgsaveLoad{}, ctx.Err()
			case <-time.After(5 * time.Millisecond):
			}
			running, err := bgsaveRunning(c)
			if err != nil {
				return bgsaveLoad{}, err
			}
			if !running {
				break
			}
			if time.Since(t0) > 10*time.Minute {
				return bgsaveLoad{}, errors.New("BGSAVE still running after 10 minutes")
			}
		}
		measuring.Store(false)
		total += time.Since(t0)
		// A short gap, unmeasured, so the next save does not start inside the
		// previous one's cleanup.
		time.Sleep(50 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	var all []time.Duration
	res := bgsaveLoad{saves: saves, meanSave: total / time.Duration(saves)}
	for i := range lat {
		all = append(all, lat[i]...)
		res.setErrors += errs[i]
	}
	if len(all) == 0 {
		return res, errors.New("no SET was sent while a BGSAVE was in progress")
	}
	slices.Sort(all)
	res.requests = len(all)
	res.p99Ms = float64(all[len(all)*99/100].Microseconds()) / 1000
	return res, nil
}

// appendPadded appends n in decimal, zero-padded to width digits, as %012d would
// without fmt's allocation per call.
func appendPadded(b []byte, n, width int) []byte {
	var d [20]byte
	s := strconv.AppendInt(d[:0], int64(n), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
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
