package bench

import (
	"encoding/json"
	"fmt"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// report prints one finished test in the selected format. CSV and quiet lines are
// redis-benchmark's own; JSON is printed once at the end.
func (c *Config) report(r Result, compare bool) {
	title := r.Test
	if compare {
		title += " @ " + r.Server
	}
	switch {
	case c.JSON:
	case c.CSV:
		if !c.csvHeader {
			fmt.Fprintln(c.Out, `"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"`)
			c.csvHeader = true
		}
		fmt.Fprintf(c.Out, "\"%s\",\"%.2f\",\"%.3f\",\"%.3f\",\"%.3f\",\"%.3f\",\"%.3f\",\"%.3f\"\n",
			title, r.RPS, r.Avg, r.Min, r.P50, r.P95, r.P99, r.Max)
	case c.Quiet:
		fmt.Fprintf(c.Out, "%s: %.2f requests per second, p50=%.3f msec\n", title, r.RPS, r.P50)
		if r.Errors > 0 {
			fmt.Fprintf(c.Out, "%s: %d error replies\n", title, r.Errors)
		}
	default:
		fmt.Fprintf(c.Out, "====== %s ======\n", title)
		fmt.Fprintf(c.Out, "  %d requests completed in %.2f seconds\n", r.Requests, r.Seconds)
		fmt.Fprintf(c.Out, "  %d parallel clients\n", c.Clients)
		fmt.Fprintf(c.Out, "  %d bytes payload\n", c.DataSize)
		fmt.Fprintf(c.Out, "  pipeline: %d\n", max(c.Pipeline, 1))
		if r.Errors > 0 {
			fmt.Fprintf(c.Out, "  errors: %d\n", r.Errors)
		}
		fmt.Fprintf(c.Out, "\n  throughput summary: %.2f requests per second\n", r.RPS)
		fmt.Fprintf(c.Out, "  latency summary (msec):\n")
		fmt.Fprintf(c.Out, "  %9s %9s %9s %9s %9s %9s %9s\n", "avg", "min", "p50", "p90", "p99", "p99.9", "max")
		fmt.Fprintf(c.Out, "  %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f\n\n", r.Avg, r.Min, r.P50, r.P90, r.P99, r.P999, r.Max)
	}
}

// summary prints the table of every test (and, with --compare, the ratio per test),
// or the JSON document.
func (c *Config) summary(all []Result, targets []string) {
	if c.JSON {
		doc := struct {
			Clients  int      `json:"clients"`
			Pipeline int      `json:"pipeline"`
			DataSize int      `json:"data_size"`
			Servers  []string `json:"servers"`
			Results  []Result `json:"results"`
		}{c.Clients, max(c.Pipeline, 1), c.DataSize, targets, all}
		b, _ := json.MarshalIndent(doc, "", "  ")
		fmt.Fprintln(c.Out, string(b))
		return
	}
	if c.CSV || c.Quiet || len(all) == 0 {
		return
	}
	t := tablewriter.NewTable(c.Out, tablewriter.WithHeaderAutoFormat(tw.Off), tablewriter.WithRowAlignment(tw.AlignRight))
	if len(targets) == 1 {
		t.Header("test", "rps", "avg ms", "p50", "p90", "p99", "p99.9", "max", "errors")
		for _, r := range all {
			_ = t.Append(r.Test, f2(r.RPS), f3(r.Avg), f3(r.P50), f3(r.P90), f3(r.P99), f3(r.P999), f3(r.Max), fmt.Sprint(r.Errors))
		}
	} else {
		t.Header("test", "rps A "+targets[0], "rps B "+targets[1], "ratio A/B", "p50 A", "p50 B", "p99 A", "p99 B", "errors A", "errors B")
		for i := 0; i+1 < len(all); i += 2 {
			a, b := all[i], all[i+1]
			ratio := "-"
			if b.RPS > 0 {
				ratio = fmt.Sprintf("%.2f", a.RPS/b.RPS)
			}
			_ = t.Append(a.Test, f2(a.RPS), f2(b.RPS), ratio, f3(a.P50), f3(b.P50), f3(a.P99), f3(b.P99), fmt.Sprint(a.Errors), fmt.Sprint(b.Errors))
		}
	}
	_ = t.Render()
}

func f2(v float64) string { return fmt.Sprintf("%.2f", v) }
func f3(v float64) string { return fmt.Sprintf("%.3f", v) }
