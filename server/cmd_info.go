package server

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"kv/engine"
)

func (s *Server) infoCommands() []*engine.Command {
	return []*engine.Command{
		&engine.Command{Name: "info", Arity: -1, Flags: engine.FlagLoading | engine.FlagStale | engine.FlagSentinel,
			ACL: []string{"slow", "dangerous"}, Group: "server", Since: "1.0.0",
			Summary:    "Get information and statistics about the server",
			Complexity: "O(1)",
			Syntax:     "[section [section ...]]", Handler: s.cmdInfo},
	}
}

// defaultInfoSections are what INFO and INFO default show (Redis 7.0's list).
var defaultInfoSections = []string{"server", "clients", "memory", "persistence", "stats", "replication",
	"cpu", "module_list", "errorstats", "cluster", "keyspace"}

// infoSection renders one section; name is the lower-case name INFO matches.
type infoSection struct {
	name, title string
	render      func(s *Server, b *infoBuilder)
}

var infoSections = []infoSection{
	{"server", "Server", (*Server).infoServer},
	{"clients", "Clients", (*Server).infoClients},
	{"memory", "Memory", (*Server).infoMemory},
	{"persistence", "Persistence", (*Server).infoPersistence},
	{"stats", "Stats", (*Server).infoStats},
	{"replication", "Replication", (*Server).infoReplication},
	{"cpu", "CPU", (*Server).infoCPU},
	{"module_list", "Modules", func(*Server, *infoBuilder) {}},
	{"commandstats", "Commandstats", (*Server).infoCommandstats},
	{"errorstats", "Errorstats", (*Server).infoErrorstats},
	{"latencystats", "Latencystats", (*Server).infoLatencystats},
	{"cluster", "Cluster", func(_ *Server, b *infoBuilder) { b.int("cluster_enabled", 0) }},
	{"keyspace", "Keyspace", (*Server).infoKeyspace},
}

type infoBuilder struct{ b []byte }

func (b *infoBuilder) str(k, v string) {
	b.b = append(b.b, k...)
	b.b = append(b.b, ':')
	b.b = append(b.b, v...)
	b.b = append(b.b, '\r', '\n')
}

func (b *infoBuilder) int(k string, v int64) { b.str(k, strconv.FormatInt(v, 10)) }

func (b *infoBuilder) f(k, format string, args ...any) { b.str(k, fmt.Sprintf(format, args...)) }

func (s *Server) cmdInfo(c *engine.Ctx) {
	c.W.Verbatim("txt", s.InfoString(c.Args[1:]...))
}

// InfoString renders INFO for the given section arguments ("all", "default",
// "everything" or section names, case-insensitive). Engine lock held.
func (s *Server) InfoString(args ...[]byte) string {
	want := map[string]bool{}
	all := false
	if len(args) == 0 {
		for _, n := range defaultInfoSections {
			want[n] = true
		}
	}
	for _, a := range args {
		switch n := strings.ToLower(string(a)); n {
		case "default":
			for _, n := range defaultInfoSections {
				want[n] = true
			}
		case "all", "everything":
			all = true
		case "modules":
			want["module_list"] = true
		default:
			want[n] = true
		}
	}
	var out infoBuilder
	n := 0
	for _, sec := range infoSections {
		if !all && !want[sec.name] {
			continue
		}
		if n > 0 {
			out.b = append(out.b, '\r', '\n')
		}
		n++
		out.b = append(out.b, "# "+sec.title+"\r\n"...)
		sec.render(s, &out)
	}
	if n > 0 {
		out.b = append(out.b, '\r', '\n')
	}
	return string(out.b)
}

func (s *Server) infoServer(b *infoBuilder) {
	now := time.Now()
	var uts syscall.Utsname
	osName := runtime.GOOS
	if syscall.Uname(&uts) == nil {
		osName = utsString(uts.Sysname[:]) + " " + utsString(uts.Release[:]) + " " + utsString(uts.Machine[:])
	}
	exe, _ := os.Executable()
	uptime := int64(now.Sub(s.start) / time.Second)
	b.str("redis_version", s.version())
	b.str("redis_git_sha1", "00000000")
	b.int("redis_git_dirty", 0)
	b.str("redis_build_id", "0")
	b.str("redis_mode", "standalone")
	b.str("os", osName)
	b.int("arch_bits", strconv.IntSize)
	b.str("monotonic_clock", "POSIX clock_gettime")
	b.str("multiplexing_api", "epoll")
	b.str("atomicvar_api", "c11-builtin")
	b.str("gcc_version", "0.0.0")
	b.int("process_id", int64(os.Getpid()))
	b.str("process_supervised", "no")
	b.str("run_id", s.runID)
	b.int("tcp_port", int64(s.port()))
	b.int("server_time_usec", now.UnixMicro())
	b.int("uptime_in_seconds", uptime)
	b.int("uptime_in_days", uptime/86400)
	b.int("hz", 10)
	b.int("configured_hz", 10)
	b.int("lru_clock", (now.UnixMilli()/1000)&(1<<24-1))
	b.str("executable", exe)
	b.str("config_file", s.configFile())
	b.int("io_threads_active", 0)
}

func utsString(a []int8) string {
	var sb strings.Builder
	for _, ch := range a {
		if ch == 0 {
			break
		}
		sb.WriteByte(byte(ch))
	}
	return sb.String()
}

// port is the TCP port of the first listener.
func (s *Server) port() int {
	s.connsMu.Lock()
	defer s.connsMu.Unlock()
	for _, ln := range s.listeners {
		if a, ok := ln.Addr().(*net.TCPAddr); ok {
			return a.Port
		}
	}
	return 0
}

func (s *Server) infoClients(b *infoBuilder) {
	conns := s.liveConns()
	var maxIn, maxOut int64
	for _, cl := range conns {
		maxIn = max(maxIn, int64(cl.qbuf))
		maxOut = max(maxOut, int64(cl.pendingOutput()))
	}
	b.int("connected_clients", int64(len(conns)))
	b.int("cluster_connections", 0)
	b.int("maxclients", s.maxClients.Load())
	b.int("client_recent_max_input_buffer", maxIn)
	b.int("client_recent_max_output_buffer", maxOut)
	b.int("blocked_clients", int64(s.e.BlockedClients()))
	b.int("tracking_clients", 0)
	b.int("clients_in_timeout_table", int64(s.e.BlockedWithTimeout()))
}

// humanBytes formats like Redis's bytesToHuman.
func humanBytes(n int64) string {
	f := float64(n)
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + "B"
	case n < 1<<20:
		return fmt.Sprintf("%.2fK", f/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.2fM", f/(1<<20))
	case n < 1<<40:
		return fmt.Sprintf("%.2fG", f/(1<<30))
	case n < 1<<50:
		return fmt.Sprintf("%.2fT", f/(1<<40))
	}
	return fmt.Sprintf("%.2fP", f/(1<<50))
}

// rss reads the resident set size from /proc (0 where there is none).
func rss() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func totalSystemMemory() int64 {
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}

func (s *Server) infoMemory(b *infoBuilder) {
	m := s.memoryOverhead()
	used, res := m.total, m.rss
	s.memPeak = m.peak
	overhead := m.overheadTotal
	dataset := m.dataset
	pct := func(a, b int64) string {
		if b <= 0 {
			return "0.00%"
		}
		return fmt.Sprintf("%.2f%%", float64(a)*100/float64(b))
	}
	ratio := func(a, b int64) string {
		if b <= 0 {
			return "0.00"
		}
		return fmt.Sprintf("%.2f", float64(a)/float64(b))
	}
	allocated, active, resident := m.allocated, m.active, m.resident
	sysMem := totalSystemMemory()
	maxmem := s.maxmemory.Load()
	b.int("used_memory", used)
	b.str("used_memory_human", humanBytes(used))
	b.int("used_memory_rss", res)
	b.str("used_memory_rss_human", humanBytes(res))
	b.int("used_memory_peak", s.memPeak)
	b.str("used_memory_peak_human", humanBytes(s.memPeak))
	b.str("used_memory_peak_perc", pct(used, s.memPeak))
	b.int("used_memory_overhead", overhead)
	b.int("used_memory_startup", s.memStartup)
	b.int("used_memory_dataset", dataset)
	b.str("used_memory_dataset_perc", pct(dataset, used-s.memStartup))
	b.int("allocator_allocated", allocated)
	b.int("allocator_active", active)
	b.int("allocator_resident", resident)
	b.int("total_system_memory", sysMem)
	b.str("total_system_memory_human", humanBytes(sysMem))
	// Scripting is not built yet: no Lua VM, no scripts, no functions.
	b.int("used_memory_lua", 0)
	b.int("used_memory_vm_eval", 0)
	b.str("used_memory_lua_human", "0B")
	b.int("used_memory_scripts_eval", 0)
	b.int("number_of_cached_scripts", 0)
	b.int("number_of_functions", 0)
	b.int("number_of_libraries", 0)
	b.int("used_memory_vm_functions", 0)
	b.int("used_memory_vm_total", 0)
	b.str("used_memory_vm_total_human", "0B")
	b.int("used_memory_functions", 0)
	b.int("used_memory_scripts", 0)
	b.str("used_memory_scripts_human", "0B")
	b.int("maxmemory", maxmem)
	b.str("maxmemory_human", humanBytes(maxmem))
	b.str("maxmemory_policy", *s.maxmemoryPolicy.Load())
	b.str("allocator_frag_ratio", ratio(active, allocated))
	b.int("allocator_frag_bytes", active-allocated)
	b.str("allocator_rss_ratio", ratio(resident, active))
	b.int("allocator_rss_bytes", resident-active)
	b.str("rss_overhead_ratio", ratio(res, resident))
	b.int("rss_overhead_bytes", res-resident)
	b.str("mem_fragmentation_ratio", ratio(res, used))
	b.int("mem_fragmentation_bytes", res-used)
	b.int("mem_not_counted_for_evict", s.e.MemNotCountedForEvict())
	b.int("mem_replication_backlog", 0)
	b.int("mem_total_replication_buffers", 0)
	b.int("mem_clients_slaves", m.clientsSlaves)
	b.int("mem_clients_normal", m.clientsNormal)
	b.int("mem_cluster_links", 0)
	b.int("mem_aof_buffer", 0)
	b.str("mem_allocator", runtime.Version())
	b.int("active_defrag_running", 0)
	b.int("lazyfree_pending_objects", 0)
	b.int("lazyfreed_objects", 0)
}

// infoPersistence reports RDB (persist.go) and AOF (aof.go) persistence.
func (s *Server) infoPersistence(b *infoBuilder) {
	for _, kv := range s.PersistenceInfo() {
		b.str(kv[0], kv[1])
	}
	s.aofInfo(b)
}

// opsPerSec is instantaneous_ops_per_sec: commands per second over the last second or
// more since the previous sample, sampled when INFO asks.
func (s *Server) opsPerSec(now time.Time) (ops int64, inKbps, outKbps float64) {
	r := &s.rate
	total, in, out := s.e.Stats.TotalCommands, s.stats.netInput.Load(), s.stats.netOutput.Load()
	if r.at.IsZero() {
		r.at, r.cmds, r.in, r.out = now, total, in, out
		return 0, 0, 0
	}
	if dt := now.Sub(r.at).Seconds(); dt >= 1 {
		r.ops = int64(float64(total-r.cmds) / dt)
		r.inKbps = float64(in-r.in) / dt / 1024
		r.outKbps = float64(out-r.out) / dt / 1024
		r.at, r.cmds, r.in, r.out = now, total, in, out
	}
	return r.ops, r.inKbps, r.outKbps
}

type rateSample struct {
	at              time.Time
	cmds, in, out   int64
	ops             int64
	inKbps, outKbps float64
}

func (s *Server) infoStats(b *infoBuilder) {
	st := &s.e.Stats
	ops, inK, outK := s.opsPerSec(time.Now())
	b.int("total_connections_received", s.stats.totalConnections.Load())
	b.int("total_commands_processed", st.TotalCommands)
	b.int("instantaneous_ops_per_sec", ops)
	b.int("total_net_input_bytes", s.stats.netInput.Load())
	b.int("total_net_output_bytes", s.stats.netOutput.Load())
	b.int("total_net_repl_input_bytes", 0)
	b.int("total_net_repl_output_bytes", 0)
	b.f("instantaneous_input_kbps", "%.2f", inK)
	b.f("instantaneous_output_kbps", "%.2f", outK)
	b.str("instantaneous_input_repl_kbps", "0.00")
	b.str("instantaneous_output_repl_kbps", "0.00")
	b.int("rejected_connections", s.stats.rejected.Load())
	b.int("sync_full", 0)
	b.int("sync_partial_ok", 0)
	b.int("sync_partial_err", 0)
	b.int("expired_keys", st.ExpiredKeys)
	b.f("expired_stale_perc", "%.2f", st.ExpiredStalePerc*100)
	b.int("expired_time_cap_reached_count", st.ExpiredTimeCapReachedCount)
	b.int("expire_cycle_cpu_milliseconds", st.ExpireCycleTime.Milliseconds())
	b.int("evicted_keys", st.EvictedKeys)
	b.int("evicted_clients", 0)
	evTotal, evCurrent := s.e.EvictionExceededTime()
	b.int("total_eviction_exceeded_time", evTotal.Milliseconds())
	b.int("current_eviction_exceeded_time", evCurrent.Milliseconds())
	b.int("keyspace_hits", st.KeyspaceHits)
	b.int("keyspace_misses", st.KeyspaceMisses)
	b.int("pubsub_channels", int64(s.PubsubChannels()))
	b.int("pubsub_patterns", int64(s.PubsubPatterns()))
	b.int("pubsubshard_channels", int64(s.PubsubShardChannels()))
	b.int("latest_fork_usec", 0)
	b.int("total_forks", 0)
	b.int("migrate_cached_sockets", 0)
	b.int("slave_expires_tracked_keys", 0)
	b.int("active_defrag_hits", 0)
	b.int("active_defrag_misses", 0)
	b.int("active_defrag_key_hits", 0)
	b.int("active_defrag_key_misses", 0)
	b.int("total_active_defrag_time", 0)
	b.int("current_active_defrag_time", 0)
	b.int("tracking_total_keys", 0)
	b.int("tracking_total_items", 0)
	b.int("tracking_total_prefixes", 0)
	b.int("unexpected_error_replies", 0)
	b.int("total_error_replies", st.TotalErrors)
	b.int("dump_payload_sanitizations", 0)
	b.int("total_reads_processed", s.stats.reads.Load())
	b.int("total_writes_processed", s.stats.writes.Load())
	b.int("io_threaded_reads_processed", 0)
	b.int("io_threaded_writes_processed", 0)
	b.int("reply_buffer_shrinks", 0)
	b.int("reply_buffer_expands", 0)
}

// infoReplication reports a master without replicas until replication lands.
func (s *Server) infoReplication(b *infoBuilder) {
	b.str("role", "master")
	b.int("connected_slaves", 0)
	b.str("master_failover_state", "no-failover")
	b.str("master_replid", s.runID)
	b.str("master_replid2", strings.Repeat("0", 40))
	b.int("master_repl_offset", 0)
	b.int("second_repl_offset", -1)
	b.int("repl_backlog_active", 0)
	b.int("repl_backlog_size", 1048576)
	b.int("repl_backlog_first_byte_offset", 0)
	b.int("repl_backlog_histlen", 0)
}

func (s *Server) infoCPU(b *infoBuilder) {
	var self, children syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	tv := func(t syscall.Timeval) string { return fmt.Sprintf("%d.%06d", t.Sec, t.Usec) }
	b.str("used_cpu_sys", tv(self.Stime))
	b.str("used_cpu_user", tv(self.Utime))
	b.str("used_cpu_sys_children", tv(children.Stime))
	b.str("used_cpu_user_children", tv(children.Utime))
	// Go has no main thread; the process figures are the honest answer.
	b.str("used_cpu_sys_main_thread", tv(self.Stime))
	b.str("used_cpu_user_main_thread", tv(self.Utime))
}

// allCommands lists every command and subcommand, sorted by full name.
func (s *Server) allCommands() []*engine.Command {
	var out []*engine.Command
	for _, cmd := range s.e.Commands().All() {
		out = append(out, cmd)
		out = append(out, sortedSubs(cmd)...)
	}
	return out
}

func (s *Server) infoCommandstats(b *infoBuilder) {
	for _, cmd := range s.allCommands() {
		st := &cmd.Stats
		if st.Calls == 0 && st.FailedCalls == 0 && st.RejectedCalls == 0 {
			continue
		}
		per := 0.0
		if st.Calls > 0 {
			per = float64(st.Usec) / float64(st.Calls)
		}
		b.f("cmdstat_"+cmd.Name, "calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d",
			st.Calls, st.Usec, per, st.RejectedCalls, st.FailedCalls)
	}
}

func (s *Server) infoErrorstats(b *infoBuilder) {
	codes := make([]string, 0, len(s.e.Stats.Errors))
	for k := range s.e.Stats.Errors {
		codes = append(codes, k)
	}
	sort.Strings(codes)
	for _, k := range codes {
		b.f("errorstat_"+k, "count=%d", s.e.Stats.Errors[k])
	}
}

func (s *Server) infoLatencystats(b *infoBuilder) {
	for _, cmd := range s.allCommands() {
		h := s.latency.hists[cmd]
		if h == nil || h.calls == 0 {
			continue
		}
		var sb strings.Builder
		for i, p := range s.latencyPercentiles {
			if i > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "p%s=%.3f", strconv.FormatFloat(p, 'f', -1, 64), h.percentile(p))
		}
		b.str("latency_percentiles_usec_"+cmd.Name, sb.String())
	}
}

// percentile is the upper bound, in µs, of the bucket holding the p-th percentile.
func (h *latencyHist) percentile(p float64) float64 {
	target := int64(float64(h.calls)*p/100 + 0.5)
	target = max(target, 1)
	var cum int64
	for b, n := range h.buckets {
		cum += n
		if cum >= target {
			return float64(int64(1024)<<b) / 1000
		}
	}
	return float64(int64(1024)<<(len(h.buckets)-1)) / 1000
}

func (s *Server) infoKeyspace(b *infoBuilder) {
	for i := 0; i < s.e.NumDBs(); i++ {
		db := s.e.DB(i)
		if db.Len() == 0 {
			continue
		}
		b.f("db"+strconv.Itoa(i), "keys=%d,expires=%d,avg_ttl=%d", db.Len(), db.ExpiresLen(), db.AvgTTL)
	}
}
