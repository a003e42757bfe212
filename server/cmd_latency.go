package server

import (
	"fmt"
	"math/bits"
	"sort"
	"strings"
	"time"

	"kv/engine"
)

// latencyMonitor keeps, per event ("command", "fast-command", "expire-cycle"...), the
// last latencyTSLen samples above latency-monitor-threshold, one per second at most,
// and per command a histogram of run times for LATENCY HISTOGRAM. Engine lock.
type latencyMonitor struct {
	threshold int64 // ms; 0 disables the monitor
	events    map[string]*latencySeries
	hists     map[*engine.Command]*latencyHist
	tracking  bool // latency-tracking
}

const latencyTSLen = 160

type latencySample struct {
	time    int64 // Unix seconds
	latency int64 // ms
}

type latencySeries struct {
	idx     int
	max     int64
	samples [latencyTSLen]latencySample
}

// latencyHist counts run times in power-of-two buckets from 1024 ns, the buckets
// LATENCY HISTOGRAM reports (Redis's hdr_iter_log with 1024 and base 2).
type latencyHist struct {
	calls   int64
	buckets [31]int64
}

func (m *latencyMonitor) init() {
	m.events = map[string]*latencySeries{}
	m.hists = map[*engine.Command]*latencyHist{}
	m.tracking = true
}

// addSampleIfNeeded records latency ms for event when it reaches the threshold.
func (m *latencyMonitor) addSampleIfNeeded(event string, ms int64) {
	if m.threshold > 0 && ms >= m.threshold {
		m.addSample(event, ms)
	}
}

func (m *latencyMonitor) addSample(event string, ms int64) {
	ts := m.events[event]
	if ts == nil {
		ts = &latencySeries{}
		m.events[event] = ts
	}
	now := time.Now().Unix()
	ts.max = max(ts.max, ms)
	prev := (ts.idx + latencyTSLen - 1) % latencyTSLen
	if ts.samples[prev].time == now {
		ts.samples[prev].latency = max(ts.samples[prev].latency, ms)
		return
	}
	ts.samples[ts.idx] = latencySample{time: now, latency: ms}
	ts.idx = (ts.idx + 1) % latencyTSLen
}

func (m *latencyMonitor) observe(cmd *engine.Command, d time.Duration) {
	if !m.tracking {
		return
	}
	h := m.hists[cmd]
	if h == nil {
		h = &latencyHist{}
		m.hists[cmd] = h
	}
	h.calls++
	ns := max(d.Nanoseconds(), 1)
	b := 0
	if ns > 1024 {
		b = bits.Len64(uint64(ns-1)) - 10
	}
	h.buckets[min(b, len(h.buckets)-1)]++
}

func (s *Server) latencyCommands() []*engine.Command {
	return []*engine.Command{container(
		&engine.Command{Name: "latency", Arity: -2, Flags: 0,
			ACL: []string{"slow"}, Group: "server", Since: "2.8.13",
			Summary:    "A container for latency diagnostics commands",
			Complexity: "Depends on subcommand.",
			Syntax:     "", Handler: nil},
		&engine.Command{Name: "latency|doctor", Arity: 2, Flags: engine.FlagAdmin | engine.FlagNoscript | engine.FlagLoading | engine.FlagStale,
			ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "2.8.13",
			Summary:    "Return a human readable latency analysis report.",
			Complexity: "O(1)",
			Syntax:     "", Handler: s.latencyDoctor},
		&engine.Command{Name: "latency|graph", Arity: 3, Flags: engine.FlagAdmin | engine.FlagNoscript | engine.FlagLoading | engine.FlagStale,
			ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "2.8.13",
			Summary:    "Return a latency graph for the event.",
			Complexity: "O(1)",
			Syntax:     "event", Handler: s.latencyGraph},
		&engine.Command{Name: "latency|help", Arity: 2, Flags: engine.FlagLoading | engine.FlagStale,
			ACL: []string{"slow"}, Group: "server", Since: "2.8.13",
			Summary:    "Show helpful text about the different subcommands.",
			Complexity: "O(1)",
			Syntax:     "", Handler: s.latencyHelp},
		&engine.Command{Name: "latency|histogram", Arity: -2, Flags: engine.FlagAdmin | engine.FlagNoscript | engine.FlagLoading | engine.FlagStale,
			ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "7.0.0",
			Summary:    "Return the cumulative distribution of latencies of a subset of commands or all.",
			Complexity: "O(N) where N is the number of commands with latency information being retrieved.",
			Syntax:     "[COMMAND [COMMAND ...]]", Handler: s.latencyHistogram},
		&engine.Command{Name: "latency|history", Arity: 3, Flags: engine.FlagAdmin | engine.FlagNoscript | engine.FlagLoading | engine.FlagStale,
			ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "2.8.13",
			Summary:    "Return timestamp-latency samples for the event.",
			Complexity: "O(1)",
			Syntax:     "event", Handler: s.latencyHistory},
		&engine.Command{Name: "latency|latest", Arity: 2, Flags: engine.FlagAdmin | engine.FlagNoscript | engine.FlagLoading | engine.FlagStale,
			ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "2.8.13",
			Summary:    "Return the latest latency samples for all events.",
			Complexity: "O(1)",
			Syntax:     "", Handler: s.latencyLatest},
		&engine.Command{Name: "latency|reset", Arity: -2, Flags: engine.FlagAdmin | engine.FlagNoscript | engine.FlagLoading | engine.FlagStale,
			ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "2.8.13",
			Summary:    "Reset latency data for one or more events.",
			Complexity: "O(1)",
			Syntax:     "[event [event ...]]", Handler: s.latencyReset},
	)}
}

func (s *Server) latencyHelp(c *engine.Ctx) {
	writeHelp(c, []string{
		"DOCTOR",
		"    Return a human readable latency analysis report.",
		"GRAPH <event>",
		"    Return an ASCII latency graph for the <event> class.",
		"HISTORY <event>",
		"    Return time-latency samples for the <event> class.",
		"LATEST",
		"    Return the latest latency samples for all events.",
		"RESET [<event> ...]",
		"    Reset latency data of one or more <event> classes.",
		"    (default: reset all data for all event classes)",
		"HISTOGRAM [COMMAND ...]",
		"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
		"    If no commands are specified then all histograms are replied.",
	})
}

func (s *Server) latencyHistory(c *engine.Ctx) {
	ts := s.latency.events[string(c.Args[2])]
	if ts == nil {
		c.W.Array(0)
		return
	}
	d := c.W.DeferLen()
	n := 0
	for j := 0; j < latencyTSLen; j++ {
		smp := ts.samples[(ts.idx+j)%latencyTSLen]
		if smp.time == 0 {
			continue
		}
		c.W.Array(2)
		c.W.Int(smp.time)
		c.W.Int(smp.latency)
		n++
	}
	c.W.SetArray(d, n)
}

func (s *Server) sortedEvents() []string {
	names := make([]string, 0, len(s.latency.events))
	for k := range s.latency.events {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func (s *Server) latencyLatest(c *engine.Ctx) {
	names := s.sortedEvents()
	c.W.Array(len(names))
	for _, name := range names {
		ts := s.latency.events[name]
		last := ts.samples[(ts.idx+latencyTSLen-1)%latencyTSLen]
		c.W.Array(4)
		c.W.BulkString(name)
		c.W.Int(last.time)
		c.W.Int(last.latency)
		c.W.Int(ts.max)
	}
}

func (s *Server) latencyReset(c *engine.Ctx) {
	n := 0
	if len(c.Args) == 2 {
		n = len(s.latency.events)
		clear(s.latency.events)
	} else {
		for _, a := range c.Args[2:] {
			for name := range s.latency.events {
				if strings.EqualFold(name, string(a)) {
					delete(s.latency.events, name)
					n++
				}
			}
		}
	}
	c.W.Int(int64(n))
}

// latencyGraph draws the samples as columns of '#' (Redis uses a sparkline with
// different glyphs; the header line is the same).
func (s *Server) latencyGraph(c *engine.Ctx) {
	name := string(c.Args[2])
	ts := s.latency.events[name]
	if ts == nil {
		c.Error("ERR No samples available for event '" + name + "'")
		return
	}
	var lo, hi int64
	var vals []int64
	for j := 0; j < latencyTSLen; j++ {
		smp := ts.samples[(ts.idx+j)%latencyTSLen]
		if smp.time == 0 {
			continue
		}
		if len(vals) == 0 || smp.latency < lo {
			lo = smp.latency
		}
		hi = max(hi, smp.latency)
		vals = append(vals, smp.latency)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s - high %d ms, low %d ms (all time high %d ms)\n", name, hi, lo, ts.max)
	b.WriteString(strings.Repeat("-", 80) + "\n")
	if len(vals) > 80 {
		vals = vals[len(vals)-80:]
	}
	for row := 4; row >= 1; row-- {
		for _, v := range vals {
			lvl := int64(4)
			if hi > lo {
				lvl = 1 + (v-lo)*3/(hi-lo)
			}
			if lvl >= int64(row) {
				b.WriteByte('#')
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteByte('\n')
	}
	c.W.Verbatim("txt", b.String())
}

// latencyDoctor reports each event's statistics; Redis adds tuning advice that
// depends on its fork and fsync machinery, which kv does not share.
func (s *Server) latencyDoctor(c *engine.Ctx) {
	var b strings.Builder
	if len(s.latency.events) == 0 && s.latency.threshold == 0 {
		b.WriteString("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n")
	} else if len(s.latency.events) == 0 {
		b.WriteString("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n")
	} else {
		b.WriteString("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n")
		now := time.Now().Unix()
		for i, name := range s.sortedEvents() {
			ts := s.latency.events[name]
			var n, sum, lo, hi, oldest int64
			for _, smp := range ts.samples {
				if smp.time == 0 {
					continue
				}
				if n == 0 || smp.latency < lo {
					lo = smp.latency
				}
				hi = max(hi, smp.latency)
				if oldest == 0 || smp.time < oldest {
					oldest = smp.time
				}
				sum += smp.latency
				n++
			}
			avg := sum / max(n, 1)
			var mad int64
			for _, smp := range ts.samples {
				if smp.time != 0 {
					d := avg - smp.latency
					mad += max(d, -d)
				}
			}
			mad /= max(n, 1)
			period := max(now-oldest, 1)
			fmt.Fprintf(&b, "%d. %s: %d latency spikes (average %dms, mean deviation %dms, period %.2f sec). Worst all time event %dms.\n",
				i+1, name, n, avg, mad, float64(period)/float64(n), ts.max)
		}
		b.WriteString("\nI have no advice for you, Dave.\n")
	}
	c.W.Verbatim("txt", b.String())
}

func (s *Server) latencyHistogram(c *engine.Ctx) {
	d := c.W.DeferLen()
	n := 0
	emit := func(cmd *engine.Command) {
		h := s.latency.hists[cmd]
		if h == nil {
			return
		}
		c.W.BulkString(cmd.Name)
		c.W.Map(2)
		c.W.BulkString("calls")
		c.W.Int(h.calls)
		c.W.BulkString("histogram_usec")
		hd := c.W.DeferLen()
		var cum int64
		k := 0
		for b, cnt := range h.buckets {
			if cnt == 0 {
				continue
			}
			cum += cnt
			c.W.Int((int64(1024) << b) / 1000)
			c.W.Int(cum)
			k++
		}
		c.W.SetMap(hd, k)
		n++
	}
	withSubs := func(cmd *engine.Command) {
		emit(cmd)
		for _, sc := range sortedSubs(cmd) {
			emit(sc)
		}
	}
	if len(c.Args) == 2 {
		for _, cmd := range s.e.Commands().All() {
			withSubs(cmd)
		}
	} else {
		for _, a := range c.Args[2:] {
			if cmd := s.lookupFullName(string(a)); cmd != nil {
				withSubs(cmd)
			}
		}
	}
	c.W.SetMap(d, n)
}

func sortedSubs(cmd *engine.Command) []*engine.Command {
	out := make([]*engine.Command, 0, len(cmd.Subcommands))
	for _, sc := range cmd.Subcommands {
		out = append(out, sc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// lookupFullName finds "get" or "config|get", case-insensitively (Redis's
// lookupCommandBySds).
func (s *Server) lookupFullName(name string) *engine.Command {
	parts := strings.Split(strings.ToLower(name), "|")
	if len(parts) > 2 {
		return nil
	}
	cmd := s.e.Commands().Lookup([]byte(parts[0]))
	if cmd == nil || len(parts) == 1 {
		return cmd
	}
	return cmd.LookupSub([]byte(parts[1]))
}
