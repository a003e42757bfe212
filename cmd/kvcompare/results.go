package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// unit says how a figure is printed and which way is better.
type unit int

const (
	unitRPS     unit = iota // requests per second, higher is better
	unitMs                  // milliseconds, lower is better
	unitSeconds             // seconds, lower is better
	unitBytes               // bytes, lower is better
)

func (u unit) higherBetter() bool { return u == unitRPS }

func (u unit) format(v float64) string {
	switch u {
	case unitRPS:
		return fmt.Sprintf("%.0f rps", v)
	case unitMs:
		return fmt.Sprintf("%.3f ms", v)
	case unitSeconds:
		return fmt.Sprintf("%.3f s", v)
	case unitBytes:
		if v >= 1<<20 {
			return fmt.Sprintf("%.1f MB", v/(1<<20))
		}
		return fmt.Sprintf("%.1f B", v)
	}
	return fmt.Sprint(v)
}

// sample is one figure from one server in one round. NA, when set, says why there is
// no figure (a feature kv lacks); the value is then ignored.
type sample struct {
	row   string
	unit  unit
	value float64
	na    string
}

type row struct {
	name  string
	unit  unit
	kv    map[int]float64 // round -> value
	redis map[int]float64
	na    map[string]string // server -> reason
}

type results struct {
	rows  []*row
	index map[string]*row
	fails []string
}

func newResults() *results { return &results{index: map[string]*row{}} }

func (r *results) get(name string, u unit) *row {
	if x, ok := r.index[name]; ok {
		return x
	}
	x := &row{name: name, unit: u, kv: map[int]float64{}, redis: map[int]float64{}, na: map[string]string{}}
	r.index[name] = x
	r.rows = append(r.rows, x)
	return x
}

func (r *results) add(round int, server string, s sample) {
	x := r.get(s.row, s.unit)
	if s.na != "" {
		x.na[server] = s.na
		return
	}
	if server == "kv" {
		x.kv[round] = s.value
	} else {
		x.redis[round] = s.value
	}
}

func (r *results) fail(workload, server string, err error) {
	r.fails = append(r.fails, fmt.Sprintf("%s on %s failed: %v", workload, server, err))
}

func median(m map[int]float64) float64 {
	if len(m) == 0 {
		return math.NaN()
	}
	vs := make([]float64, 0, len(m))
	for _, v := range m {
		vs = append(vs, v)
	}
	sort.Float64s(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}

// ratio orients kv against Redis so that above 1 is always better for kv: kv/Redis
// for throughput, Redis/kv for latency, time and memory.
func ratio(u unit, kv, redis float64) float64 {
	if u.higherBetter() {
		return kv / redis
	}
	return redis / kv
}

func (x *row) cells() []string {
	kvMed, rMed := median(x.kv), median(x.redis)
	cell := func(server string, v float64) string {
		if reason, ok := x.na[server]; ok {
			_ = reason
			return "n/a"
		}
		if math.IsNaN(v) {
			return "—"
		}
		return x.unit.format(v)
	}
	out := []string{x.name, cell("kv", kvMed), cell("Redis", rMed), "", "", ""}
	var notes []string
	for _, s := range []string{"kv", "Redis"} {
		if reason, ok := x.na[s]; ok {
			notes = append(notes, reason)
		}
	}
	if len(notes) == 0 && !math.IsNaN(kvMed) && !math.IsNaN(rMed) && kvMed > 0 && rMed > 0 {
		out[3] = fmt.Sprintf("%.2f", ratio(x.unit, kvMed, rMed))
		lo, hi := math.Inf(1), math.Inf(-1)
		for round, kv := range x.kv {
			rv, ok := x.redis[round]
			if !ok || kv <= 0 || rv <= 0 {
				continue
			}
			q := ratio(x.unit, kv, rv)
			lo, hi = math.Min(lo, q), math.Max(hi, q)
		}
		if lo <= hi {
			out[4] = fmt.Sprintf("%.2f–%.2f", lo, hi)
		}
	} else {
		out[3] = "n/a"
	}
	out[5] = strings.Join(notes, "; ")
	return out
}

var header = []string{"workload", "kv median", "Redis median", "ratio (>1: kv better)", "per-round ratio min–max", "note"}

func (r *results) render(w io.Writer, markdown bool, notes []string) {
	opts := []tablewriter.Option{tablewriter.WithHeaderAutoFormat(tw.Off), tablewriter.WithRowAlignment(tw.AlignRight)}
	if markdown {
		opts = append(opts, tablewriter.WithRenderer(renderer.NewMarkdown()))
	}
	t := tablewriter.NewTable(w, opts...)
	t.Header(header)
	for _, x := range r.rows {
		_ = t.Append(x.cells())
	}
	_ = t.Render()
	fmt.Fprintln(w)
	fmt.Fprintln(w, "ratio = kv/Redis for throughput, Redis/kv for latency, time and memory: above 1 kv is better.")
	for _, n := range notes {
		fmt.Fprintln(w, "note: "+n)
	}
	for _, f := range r.fails {
		fmt.Fprintln(w, "failed: "+f)
	}
}

func (r *results) writeMarkdown(path, hdr string, notes []string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	fmt.Fprintln(f, hdr)
	fmt.Fprintln(f)
	fmt.Fprintln(f, "command: `"+commandLine()+"`")
	fmt.Fprintln(f)
	r.render(f, true, notes)
	return f.Close()
}

func (r *results) writeJSON(path string) error {
	type jrow struct {
		Workload string            `json:"workload"`
		Unit     string            `json:"unit"`
		KV       map[int]float64   `json:"kv"`
		Redis    map[int]float64   `json:"redis"`
		NA       map[string]string `json:"na,omitempty"`
	}
	units := map[unit]string{unitRPS: "rps", unitMs: "ms", unitSeconds: "s", unitBytes: "bytes"}
	var out []jrow
	for _, x := range r.rows {
		out = append(out, jrow{x.name, units[x.unit], x.kv, x.redis, x.na})
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
