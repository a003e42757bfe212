// Package bench is kv bench: a redis-benchmark compatible load generator (same
// flags, same default tests, same __rand_int__ substitution) that also reports HDR
// latency percentiles, mixed workloads (--ratio), key distributions (--keys), timed
// runs (--duration), JSON, and side-by-side comparison of two servers (--compare).
//
// The generator must never be the bottleneck: each connection has its own goroutine,
// one reusable write buffer holding a whole pipeline of commands (arguments patched
// in place), reads replies with resp.ReplyReader.Skip (no allocation), and records
// latencies into its own histogram; nothing is shared on the hot path but two atomic
// counters.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"kv/client"
)

// Config is one benchmark run, with redis-benchmark's defaults.
type Config struct {
	Host     string
	Port     int
	Password string
	User     string
	Clients  int // -c
	Requests int // -n
	DataSize int // -d
	KeySpace int // -r; 0 leaves __rand_int__ as it is, as redis-benchmark does
	Pipeline int // -P
	Tests    []string
	Quiet    bool
	Loop     bool
	CSV      bool
	JSON     bool
	Threads  int
	DB       int
	Resp3    bool
	Ratio    *Ratio
	Keys     string // uniform, zipfian, sequential
	Duration time.Duration
	Compare  string // host:port of a second server
	Command  []string
	Out      io.Writer
	Progress io.Writer // live progress line; nil for none

	csvHeader bool
}

// Ratio is a mixed workload: commands in proportion, e.g. SET:GET 1:10.
type Ratio struct {
	Names   []string
	Weights []int
}

// ParseRatio reads "SET:GET" and "1:10".
func ParseRatio(names, weights string) (*Ratio, error) {
	ns := strings.Split(names, ":")
	ws := strings.Split(weights, ":")
	if len(ns) != len(ws) || len(ns) < 2 {
		return nil, fmt.Errorf("--ratio wants as many commands as weights, e.g. --ratio SET:GET 1:10")
	}
	r := &Ratio{}
	for i, n := range ns {
		w, err := strconv.Atoi(ws[i])
		if err != nil || w < 0 {
			return nil, fmt.Errorf("--ratio: bad weight %q", ws[i])
		}
		if _, ok := testCommands[strings.ToLower(n)]; !ok {
			return nil, fmt.Errorf("--ratio: %q is not a test name (use set, get, incr, lpush...)", n)
		}
		r.Names = append(r.Names, strings.ToUpper(n))
		r.Weights = append(r.Weights, w)
	}
	return r, nil
}

// Result is one test's figures; latencies in milliseconds.
type Result struct {
	Test     string  `json:"test"`
	Server   string  `json:"server"`
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	Seconds  float64 `json:"seconds"`
	RPS      float64 `json:"rps"`
	Avg      float64 `json:"avg_ms"`
	Min      float64 `json:"min_ms"`
	P50      float64 `json:"p50_ms"`
	P90      float64 `json:"p90_ms"`
	P95      float64 `json:"p95_ms"`
	P99      float64 `json:"p99_ms"`
	P999     float64 `json:"p99_9_ms"`
	Max      float64 `json:"max_ms"`
}

// DefaultTests is redis-benchmark's default list, in its order.
var DefaultTests = []string{"ping_inline", "ping_mbulk", "set", "get", "incr", "lpush", "rpush", "lpop", "rpop",
	"sadd", "hset", "spop", "zadd", "zpopmin", "lrange_100", "lrange_300", "lrange_500", "lrange_600", "mset"}

// testCommands gives each named test its command; "%d" is the data payload, and
// __rand_int__ is replaced per request.
var testCommands = map[string]string{
	"set":     "SET key:__rand_int__ %d",
	"get":     "GET key:__rand_int__",
	"incr":    "INCR counter:__rand_int__",
	"lpush":   "LPUSH mylist %d",
	"rpush":   "RPUSH mylist %d",
	"lpop":    "LPOP mylist",
	"rpop":    "RPOP mylist",
	"sadd":    "SADD myset element:__rand_int__",
	"hset":    "HSET myhash element:__rand_int__ %d",
	"spop":    "SPOP myset",
	"zadd":    "ZADD myzset %s element:__rand_int__",
	"zpopmin": "ZPOPMIN myzset",
}

// test is one benchmark: a title and the command(s) it sends.
type test struct {
	title string
	cmds  []*template // cycled through by weight
	sched []int       // indexes into cmds, one per slot of the mix
}

// plan expands the selected tests into the ordered list redis-benchmark runs.
func (c *Config) plan() []*test {
	data := strings.Repeat("x", c.DataSize)
	score := "0"
	if c.KeySpace > 0 {
		score = "__rand_int__"
	}
	words := func(f string) []string {
		var out []string
		for _, w := range strings.Fields(f) {
			switch w {
			case "%d":
				w = data
			case "%s":
				w = score
			}
			out = append(out, w)
		}
		return out
	}
	single := func(title string, args []string) *test {
		return &test{title: title, cmds: []*template{newTemplate(args, false)}, sched: []int{0}}
	}
	if len(c.Command) > 0 {
		return []*test{single(strings.Join(c.Command, " "), c.Command)}
	}
	if c.Ratio != nil {
		t := &test{title: strings.Join(c.Ratio.Names, ":") + " " + joinInts(c.Ratio.Weights)}
		for i, n := range c.Ratio.Names {
			t.cmds = append(t.cmds, newTemplate(words(testCommands[strings.ToLower(n)]), false))
			for w := 0; w < c.Ratio.Weights[i]; w++ {
				t.sched = append(t.sched, i)
			}
		}
		return []*test{t}
	}
	sel := map[string]bool{}
	for _, t := range c.Tests {
		sel[strings.ToLower(strings.TrimSpace(t))] = true
	}
	all := len(sel) == 0
	is := func(names ...string) bool {
		if all {
			return true
		}
		for _, n := range names {
			if sel[n] {
				return true
			}
		}
		return false
	}
	var out []*test
	if is("ping_inline", "ping") {
		out = append(out, &test{title: "PING_INLINE", cmds: []*template{newTemplate([]string{"PING"}, true)}, sched: []int{0}})
	}
	if is("ping_mbulk", "ping") {
		out = append(out, single("PING_MBULK", []string{"PING"}))
	}
	for _, n := range []string{"set", "get", "incr", "lpush", "rpush", "lpop", "rpop", "sadd", "hset", "spop", "zadd", "zpopmin"} {
		if is(n) {
			out = append(out, single(strings.ToUpper(n), words(testCommands[n])))
		}
	}
	if is("lrange", "lrange_100", "lrange_300", "lrange_500", "lrange_600") {
		out = append(out, single("LPUSH (needed to benchmark LRANGE)", words(testCommands["lpush"])))
	}
	for _, n := range []int{100, 300, 500, 600} {
		if is("lrange", fmt.Sprintf("lrange_%d", n)) {
			out = append(out, single(fmt.Sprintf("LRANGE_%d (first %d elements)", n, n),
				[]string{"LRANGE", "mylist", "0", strconv.Itoa(n - 1)}))
		}
	}
	if is("mset") {
		args := []string{"MSET"}
		for i := 0; i < 10; i++ {
			args = append(args, "key:__rand_int__", data)
		}
		out = append(out, single("MSET (10 keys)", args))
	}
	return out
}

func joinInts(ws []int) string {
	s := make([]string, len(ws))
	for i, w := range ws {
		s[i] = strconv.Itoa(w)
	}
	return strings.Join(s, ":")
}

// template is one command encoded once, with the offsets of its 12-digit
// __rand_int__ slots, so a request is a copy and a few digit patches.
type template struct {
	wire  []byte
	slots []int
}

const placeholder = "__rand_int__"

func newTemplate(args []string, inline bool) *template {
	t := &template{}
	if inline {
		t.wire = []byte(strings.Join(args, " ") + "\r\n")
	} else {
		t.wire = append(t.wire, '*')
		t.wire = strconv.AppendInt(t.wire, int64(len(args)), 10)
		t.wire = append(t.wire, "\r\n"...)
		for _, a := range args {
			t.wire = append(t.wire, '$')
			t.wire = strconv.AppendInt(t.wire, int64(len(a)), 10)
			t.wire = append(t.wire, "\r\n"...)
			t.wire = append(t.wire, a...)
			t.wire = append(t.wire, "\r\n"...)
		}
	}
	for off := 0; ; {
		i := strings.Index(string(t.wire[off:]), placeholder)
		if i < 0 {
			break
		}
		t.slots = append(t.slots, off+i)
		off += i + len(placeholder)
	}
	return t
}

// keyGen picks the next key number for one connection.
type keyGen struct {
	kind  string
	n     uint64
	rng   *rand.Rand
	zipf  *rand.Zipf
	next  uint64
	limit uint64
}

func newKeyGen(kind string, space int, id int, clients int) *keyGen {
	g := &keyGen{kind: kind, n: uint64(space), rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(id)))}
	switch kind {
	case "zipfian":
		g.zipf = rand.NewZipf(g.rng, 1.1, 1, uint64(space-1))
	case "sequential":
		// Connections walk disjoint stretches so together they cover the space in order.
		g.next = uint64(space) * uint64(id) / uint64(max(clients, 1))
	}
	return g
}

func (g *keyGen) key() uint64 {
	switch {
	case g.zipf != nil:
		return g.zipf.Uint64()
	case g.kind == "sequential":
		k := g.next % g.n
		g.next++
		return k
	default:
		return g.rng.Uint64N(g.n)
	}
}

// putDigits writes k as 12 zero-padded digits (redis-benchmark's %012llu).
func putDigits(b []byte, k uint64) {
	for i := 11; i >= 0; i-- {
		b[i] = byte('0' + k%10)
		k /= 10
	}
}

// worker is one connection's state.
type worker struct {
	conn *client.Conn
	buf  []byte
	hist *hdrhistogram.Histogram
	keys *keyGen
	slot int
	errs int64
}

// shared is what the workers of one test share: request accounting and stop.
type shared struct {
	issued   atomic.Int64
	done     atomic.Int64
	limit    int64
	deadline time.Time
	stop     atomic.Bool
}

// claim reserves up to want requests; 0 means the test is over.
func (s *shared) claim(want int) int {
	if s.stop.Load() {
		return 0
	}
	if s.limit <= 0 {
		return want
	}
	n := s.issued.Add(int64(want))
	if over := n - s.limit; over > 0 {
		if over >= int64(want) {
			return 0
		}
		return want - int(over)
	}
	return want
}

func (w *worker) run(t *test, sh *shared, pipeline int, randomize bool) error {
	nc := w.conn.NetConn()
	rd := w.conn.Reader()
	for {
		n := sh.claim(pipeline)
		if n == 0 {
			return nil
		}
		w.buf = w.buf[:0]
		for i := 0; i < n; i++ {
			tm := t.cmds[t.sched[w.slot%len(t.sched)]]
			w.slot++
			off := len(w.buf)
			w.buf = append(w.buf, tm.wire...)
			if randomize {
				for _, s := range tm.slots {
					putDigits(w.buf[off+s:], w.keys.key())
				}
			}
		}
		start := time.Now()
		if _, err := nc.Write(w.buf); err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			isErr, err := rd.Skip()
			if err != nil {
				return err
			}
			if isErr {
				w.errs++
			}
			_ = w.hist.RecordValue(time.Since(start).Microseconds())
		}
		sh.done.Add(int64(n))
		if !sh.deadline.IsZero() && time.Now().After(sh.deadline) {
			sh.stop.Store(true)
		}
	}
}

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, 60_000_000, 3) }

// Run runs every planned test against the configured server (and the --compare
// server), printing as it goes, and returns the results.
func Run(ctx context.Context, c *Config) ([]Result, error) {
	if c.Threads > 0 {
		prev := runtime.GOMAXPROCS(c.Threads)
		defer runtime.GOMAXPROCS(prev)
	}
	if c.Keys != "" && c.KeySpace == 0 {
		c.KeySpace = 100000
	}
	switch c.Keys {
	case "", "uniform", "zipfian", "sequential":
	default:
		return nil, fmt.Errorf("--keys must be uniform, zipfian or sequential")
	}
	if c.Keys == "zipfian" && c.KeySpace < 2 {
		return nil, fmt.Errorf("--keys zipfian needs -r of at least 2")
	}
	targets := []string{joinHostPort(c.Host, c.Port)}
	if c.Compare != "" {
		targets = append(targets, c.Compare)
	}
	var all []Result
	for {
		var round []Result
		for _, t := range c.plan() {
			for _, addr := range targets {
				r, err := c.runTest(ctx, t, addr)
				if err != nil {
					return all, err
				}
				c.report(r, len(targets) > 1)
				round = append(round, r)
			}
		}
		all = append(all, round...)
		if !c.Loop || ctx.Err() != nil {
			break
		}
	}
	c.summary(all, targets)
	return all, nil
}

func joinHostPort(h string, p int) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]:" + strconv.Itoa(p)
	}
	return h + ":" + strconv.Itoa(p)
}

func (c *Config) runTest(ctx context.Context, t *test, addr string) (Result, error) {
	proto := 2
	if c.Resp3 {
		proto = 3
	}
	workers := make([]*worker, c.Clients)
	for i := range workers {
		conn, err := client.Dial(ctx, client.Options{Addr: addr, Username: c.User, Password: c.Password,
			DB: c.DB, Protocol: proto, DialTimeout: 10 * time.Second})
		if err != nil {
			for _, w := range workers[:i] {
				w.conn.Close()
			}
			return Result{}, fmt.Errorf("Could not connect to Redis at %s: %w", addr, err)
		}
		w := &worker{conn: conn, hist: newHist(), buf: make([]byte, 0, 64<<10), slot: i}
		if c.KeySpace > 0 {
			w.keys = newKeyGen(c.Keys, c.KeySpace, i, c.Clients)
		}
		workers[i] = w
	}
	defer func() {
		for _, w := range workers {
			w.conn.Close()
		}
	}()
	sh := &shared{limit: int64(c.Requests)}
	if c.Duration > 0 {
		sh.limit = 0
		sh.deadline = time.Now().Add(c.Duration)
	}
	stopProgress := c.progress(t.title, sh)
	start := time.Now()
	var wg sync.WaitGroup
	errc := make(chan error, len(workers))
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.run(t, sh, max(c.Pipeline, 1), c.KeySpace > 0); err != nil {
				sh.stop.Store(true)
				errc <- err
			}
		}()
	}
	go func() {
		<-ctx.Done()
		sh.stop.Store(true)
	}()
	wg.Wait()
	elapsed := time.Since(start)
	stopProgress()
	select {
	case err := <-errc:
		if !errors.Is(err, io.EOF) || ctx.Err() == nil {
			return Result{}, fmt.Errorf("%s: %w", t.title, err)
		}
	default:
	}
	h := newHist()
	var errs int64
	for _, w := range workers {
		h.Merge(w.hist)
		errs += w.errs
	}
	ms := func(us int64) float64 { return float64(us) / 1000 }
	r := Result{Test: t.title, Server: addr, Requests: sh.done.Load(), Errors: errs, Seconds: elapsed.Seconds(),
		Avg: h.Mean() / 1000, Min: ms(h.Min()), P50: ms(h.ValueAtQuantile(50)), P90: ms(h.ValueAtQuantile(90)),
		P95: ms(h.ValueAtQuantile(95)), P99: ms(h.ValueAtQuantile(99)), P999: ms(h.ValueAtQuantile(99.9)), Max: ms(h.Max())}
	if elapsed > 0 {
		r.RPS = float64(r.Requests) / elapsed.Seconds()
	}
	return r, nil
}

// progress prints a live line (rps now and overall) until the returned func is called.
func (c *Config) progress(title string, sh *shared) func() {
	if c.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		start, last, lastN := time.Now(), time.Now(), int64(0)
		width := 0
		for {
			select {
			case <-done:
				fmt.Fprintf(c.Progress, "\r%s\r", strings.Repeat(" ", width))
				return
			case now := <-tick.C:
				n := sh.done.Load()
				cur := float64(n-lastN) / now.Sub(last).Seconds()
				overall := float64(n) / now.Sub(start).Seconds()
				line := fmt.Sprintf("%s: rps=%.1f (overall: %.1f) requests=%d", title, cur, overall, n)
				if sh.limit > 0 {
					line += fmt.Sprintf("/%d", sh.limit)
				}
				width = max(width, len(line))
				fmt.Fprintf(c.Progress, "\r%-*s", width, line)
				last, lastN = now, n
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
