package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"kv/client/bench"
	"kv/internal/kvtest"
	"kv/internal/redistest"
)

type doc struct {
	Clients int            `json:"clients"`
	Servers []string       `json:"servers"`
	Results []bench.Result `json:"results"`
}

func runJSON(t *testing.T, args ...string) doc {
	t.Helper()
	cfg, _, err := bench.ParseArgs(append([]string{"--json"}, args...))
	if err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	var out bytes.Buffer
	cfg.Out = &out
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := bench.Run(ctx, cfg); err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	var d doc
	if err := json.Unmarshal(out.Bytes(), &d); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, out.String())
	}
	return d
}

func hostPort(addr string) (string, string) {
	h, p, _ := strings.Cut(addr, ":")
	return h, p
}

// The default list against real Redis: every test runs, in redis-benchmark's order,
// with the requested count and no errors.
func TestDefaultListAgainstRedis(t *testing.T) {
	srv := redistest.Start(t)
	h, p := hostPort(srv.Addr)
	d := runJSON(t, "-h", h, "-p", p, "-n", "200", "-c", "4", "-P", "4")
	want := []string{"PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "LPUSH", "RPUSH", "LPOP", "RPOP", "SADD", "HSET",
		"SPOP", "ZADD", "ZPOPMIN", "LPUSH (needed to benchmark LRANGE)", "LRANGE_100 (first 100 elements)",
		"LRANGE_300 (first 300 elements)", "LRANGE_500 (first 500 elements)", "LRANGE_600 (first 600 elements)", "MSET (10 keys)"}
	if len(d.Results) != len(want) {
		t.Fatalf("%d results; want %d", len(d.Results), len(want))
	}
	for i, r := range d.Results {
		if r.Test != want[i] || r.Requests != 200 || r.Errors != 0 || r.RPS <= 0 ||
			!(r.P50 <= r.P90 && r.P90 <= r.P99 && r.P99 <= r.P999 && r.P999 <= r.Max) {
			t.Fatalf("result %d = %+v; want test %q, 200 requests, ordered percentiles", i, r, want[i])
		}
	}
}

// Against kv serve (which knows PING so far), plus an arbitrary command with
// __rand_int__, a timed run, and --compare against itself.
func TestAgainstKV(t *testing.T) {
	s := kvtest.Start(t)
	h, p := hostPort(s.Addr)
	d := runJSON(t, "-h", h, "-p", p, "-n", "500", "-c", "5", "-t", "ping")
	if len(d.Results) != 2 || d.Results[0].Test != "PING_INLINE" || d.Results[1].Test != "PING_MBULK" {
		t.Fatalf("results %+v", d.Results)
	}
	d = runJSON(t, "-h", h, "-p", p, "-n", "300", "-c", "3", "-r", "1000", "ECHO", "key:__rand_int__")
	if len(d.Results) != 1 || d.Results[0].Test != "ECHO key:__rand_int__" || d.Results[0].Requests != 300 || d.Results[0].Errors != 0 {
		t.Fatalf("results %+v", d.Results)
	}
	d = runJSON(t, "-h", h, "-p", p, "-c", "2", "--duration", "200ms", "-t", "ping_mbulk", "--compare", s.Addr)
	if len(d.Results) != 2 || len(d.Servers) != 2 || d.Results[0].Seconds < 0.2 || d.Results[0].Requests == 0 {
		t.Fatalf("results %+v", d.Results)
	}
	// Errors are counted, not fatal.
	d = runJSON(t, "-h", h, "-p", p, "-n", "100", "-c", "2", "NOSUCH")
	if d.Results[0].Errors != 100 {
		t.Fatalf("errors %d; want 100", d.Results[0].Errors)
	}
}

// Mixed workloads and key distributions against real Redis: every key the workload
// touches stays inside the key space.
func TestRatioAndKeys(t *testing.T) {
	srv := redistest.Start(t)
	h, p := hostPort(srv.Addr)
	for _, dist := range []string{"uniform", "zipfian", "sequential"} {
		d := runJSON(t, "-h", h, "-p", p, "-n", "1100", "-c", "4", "-r", "50", "--keys", dist, "--ratio", "SET:GET", "1:10")
		if len(d.Results) != 1 || d.Results[0].Test != "SET:GET 1:10" || d.Results[0].Requests != 1100 {
			t.Fatalf("%s: results %+v", dist, d.Results)
		}
	}
	// SET keys are key:000000000000 .. key:000000000049: at most 50 of them.
	if n := dbsize(t, srv.Addr); n > 50 || n == 0 {
		t.Fatalf("dbsize %d; the key space was 50", n)
	}
}

func dbsize(t *testing.T, addr string) int {
	t.Helper()
	s := &kvtest.Server{Addr: addr}
	v := s.Raw(t).Do("DBSIZE")
	n, _ := strconv.Atoi(v.String())
	return n
}

func TestParseArgs(t *testing.T) {
	c, _, err := bench.ParseArgs([]string{"-h", "h1", "-p", "7000", "-c", "8", "-n", "10", "-P", "16", "-d", "100", "-q", "--csv", "-t", "set,GET", "--dbnum", "2", "--threads", "2"})
	if err != nil || c.Host != "h1" || c.Port != 7000 || c.Clients != 8 || c.Requests != 10 || c.Pipeline != 16 ||
		c.DataSize != 100 || !c.Quiet || !c.CSV || len(c.Tests) != 2 || c.DB != 2 || c.Threads != 2 {
		t.Fatalf("parsed %+v, %v", c, err)
	}
	for _, bad := range [][]string{{"-c"}, {"-c", "x"}, {"--ratio", "SET:GET", "1"}, {"--bogus"}, {"-P", "0"}, {"--ratio", "SET:NOPE", "1:1"}} {
		if _, _, err := bench.ParseArgs(bad); err == nil {
			t.Errorf("ParseArgs(%v) accepted", bad)
		}
	}
}
