package server

import (
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"

	"kv/engine"
)

// maxmemory on the server side: the settings the engine's eviction reads, the Go
// runtime memory limit tied to maxmemory, the background eviction loop, what is not
// counted for eviction, and the MEMORY command.

// applyMaxmemory copies maxmemory into the engine and applies it at once, as Redis's
// updateMaxmemory: a lower limit starts evicting without waiting for a write.
// Called with the engine lock held (CONFIG SET) or before Serve.
func (s *Server) applyMaxmemory() {
	v := s.cfg.Maxmemory.Get()
	s.maxmemory.Store(v)
	s.e.Settings.Maxmemory = v
	s.updateMemoryLimit()
	if v == 0 {
		return
	}
	s.e.SampleMemory()
	if used, _, over := s.e.MaxmemoryState(); over {
		s.log.Warn("WARNING: the new maxmemory value set via CONFIG SET is smaller than the current memory usage. This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.",
			"maxmemory", v, "used_memory", used)
		s.startBackgroundEviction()
	}
}

// memLimitState is the runtime memory limit kv set, to restore the one the process
// started with (GOMEMLIMIT) when maxmemory goes back to 0.
type memLimitState struct {
	original int64
	set      bool
	last     time.Time
}

var memLimitSamples = []metrics.Sample{
	{Name: "/memory/classes/total:bytes"},
	{Name: "/memory/classes/heap/released:bytes"},
	{Name: "/memory/classes/heap/free:bytes"},
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/memory/classes/heap/stacks:bytes"},
}

// updateMemoryLimit ties the Go runtime's soft memory limit to maxmemory, so the
// collector runs when the process nears the limit instead of letting garbage grow to
// GOGC's 100%: evicted keys are garbage until a cycle reclaims them, and without the
// limit a full cache would sit at twice its size. The limit is maxmemory plus the
// runtime's own overhead (span fragmentation, metadata: what the runtime holds beyond
// heap objects, stacks and free pages, measured now) plus a cushion of an eighth of
// maxmemory (at least 4 MB) for garbage between cycles. A tighter limit would make the
// collector run continuously once the cache is full (used memory sits at maxmemory by
// design); a looser one wastes memory. The overhead drifts as the heap grows, so the
// cron re-measures it once a second. Engine lock held.
func (s *Server) updateMemoryLimit() {
	maxmem := s.e.Settings.Maxmemory
	st := &s.memLimit
	if maxmem <= 0 {
		if st.set {
			debug.SetMemoryLimit(st.original)
			st.set = false
		}
		return
	}
	if !st.set {
		st.original = debug.SetMemoryLimit(-1)
		st.set = true
	}
	metrics.Read(memLimitSamples)
	v := func(i int) int64 { return int64(memLimitSamples[i].Value.Uint64()) }
	overhead := max(v(0)-v(1)-v(2)-v(3)-v(4), 0)
	cushion := max(maxmem/8, 4<<20)
	limit := maxmem + overhead + cushion
	if limit < 0 || limit > math.MaxInt64/2 {
		limit = math.MaxInt64
	}
	debug.SetMemoryLimit(limit)
	st.last = time.Now()
}

// memoryCron re-measures the runtime overhead for the memory limit once a second and
// keeps background eviction going. Engine lock held.
func (s *Server) memoryCron() {
	if s.e.Settings.Maxmemory <= 0 {
		return
	}
	s.e.RefreshMemory()
	if time.Since(s.memLimit.last) >= time.Second {
		s.updateMemoryLimit()
	}
	if _, _, over := s.e.MaxmemoryState(); over {
		s.startBackgroundEviction()
	}
}

// startBackgroundEviction runs eviction passes outside of commands until memory is
// back under the limit or nothing is left to evict, as Redis's evictionTimeProc: a
// pass that ran out of its time budget (maxmemory-eviction-tenacity) leaves the rest
// to this loop, which takes the lock one pass at a time so clients interleave.
func (s *Server) startBackgroundEviction() {
	if !s.evicting.CompareAndSwap(false, true) {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.evicting.Store(false)
		for !s.closing.Load() {
			s.e.Lock()
			s.e.RefreshMemory()
			res := s.e.PerformEvictions()
			s.e.Unlock()
			if res != engine.EvictRunning {
				return
			}
			runtime.Gosched()
		}
	}()
}

// memNotCountedForEvict is freeMemoryGetNotCountedMemory: the output buffers of
// replicas, which eviction must not try to pay for (evicting keys produces DELs for
// the replicas, which would grow the buffers further: a feedback loop). Engine lock
// held.
func (s *Server) memNotCountedForEvict() int64 {
	var n int64
	for _, cl := range s.connList() {
		if cl.flags&flagReplica != 0 {
			n += int64(cl.pendingOutput())
		}
	}
	return n
}

// oomReject runs eviction before a command and refuses it with OOM when memory could
// not be brought under maxmemory, as processCommand does: deny-oom commands, an EXEC
// whose queue holds one, and anything but EXEC/DISCARD/QUIT/RESET inside MULTI
// (queuing itself grows memory). It reports whether the command was refused. Engine
// lock held.
func (c *conn) oomReject(cmd *engine.Command) bool {
	e := c.s.e
	oom := e.CheckOOM(c.flags&flagMaster != 0)
	if e.EvictionRunning() {
		c.s.startBackgroundEviction()
	}
	if !oom {
		return false
	}
	deny := cmd.Flags&engine.FlagDenyOOM != 0
	isExec := cmd.Name == "exec"
	if c.multi != nil {
		switch cmd.Name {
		case "exec":
			for _, q := range c.multi.queued {
				if q.cmd.Flags&engine.FlagDenyOOM != 0 {
					deny = true
				}
			}
		case "discard", "quit", "reset":
		default:
			deny = true
		}
	}
	if !deny {
		return false
	}
	cmd.Stats.RejectedCalls++
	if isExec && c.multi != nil {
		// execCommandAbort: the transaction is discarded and EXEC says why.
		c.multi = nil
		e.Unwatch(&c.watch)
		msg := "EXECABORT Transaction discarded because of: " + engine.ErrOOM
		c.w.Error(msg)
		e.CountError(msg)
		return true
	}
	c.reject(engine.ErrOOM)
	return true
}

func (s *Server) memoryCommands() []*engine.Command {
	sub := func(name string, arity int, flags engine.Flag, acl []string, summary, complexity, syntax string, h engine.Handler) *engine.Command {
		return &engine.Command{Name: "memory|" + name, Arity: arity, Flags: flags, ACL: acl, Group: "server",
			Since: "4.0.0", Summary: summary, Complexity: complexity, Syntax: syntax, Handler: h}
	}
	usage := sub("usage", -3, engine.FlagReadonly, []string{"read", "slow"}, "Estimate the memory usage of a key",
		"O(N) where N is the number of samples.", "key [SAMPLES count]", s.memoryUsage)
	usage.Keys = engine.KeySpec{FirstKey: 2, LastKey: 2, Step: 1}
	usage.KeyFlags = []string{"RO"}
	return []*engine.Command{container(
		&engine.Command{Name: "memory", Arity: -2, ACL: []string{"slow"}, Group: "server", Since: "4.0.0",
			Summary: "A container for memory diagnostics commands", Complexity: "Depends on subcommand."},
		sub("doctor", 2, 0, []string{"slow"}, "Outputs memory problems report", "O(1)", "", s.memoryDoctor),
		sub("help", 2, engine.FlagLoading|engine.FlagStale, []string{"slow"}, "Show helpful text about the different subcommands", "O(1)", "", s.memoryHelp),
		sub("malloc-stats", 2, 0, []string{"slow"}, "Show allocator internal stats",
			"Depends on how much memory is allocated, could be slow", "", s.memoryMallocStats),
		sub("purge", 2, 0, []string{"slow"}, "Ask the allocator to release memory",
			"Depends on how much memory is allocated, could be slow", "", s.memoryPurge),
		sub("stats", 2, 0, []string{"slow"}, "Show memory usage details", "O(1)", "", s.memoryStats),
		usage,
	)}
}

func (s *Server) memoryHelp(c *engine.Ctx) {
	writeHelp(c, []string{
		"DOCTOR",
		"    Return memory problems reports.",
		"MALLOC-STATS",
		"    Return internal statistics report from the memory allocator.",
		"PURGE",
		"    Attempt to purge dirty pages for reclamation by the allocator.",
		"STATS",
		"    Return information about the memory usage of the server.",
		"USAGE <key> [SAMPLES <count>]",
		"    Return memory in bytes used by <key> and its value. Nested values are",
		"    sampled up to <count> times (default: 5, 0 means sample all).",
	})
}

func (s *Server) memoryUsage(c *engine.Ctx) {
	samples := int64(engine.MemoryUsageDefaultSamples)
	for j := 3; j < len(c.Args); j++ {
		if !c.Is(j, "samples") || j+1 >= len(c.Args) {
			c.Error(engine.ErrSyntax)
			return
		}
		n, ok := engine.ParseInt(c.Args[j+1])
		if !ok {
			c.Error(engine.ErrNotInt)
			return
		}
		if n < 0 {
			c.Error(engine.ErrSyntax)
			return
		}
		samples = n
		j++
	}
	// Redis looks the key up directly: no expiry, no stats, no access-time update.
	o := c.DB.Peek(c.Args[2])
	if o == nil {
		c.W.Null()
		return
	}
	c.W.Int(engine.MemoryUsage(c.Args[2], o, int(min(samples, math.MaxInt32))))
}

// memOverhead is Redis's redisMemOverhead with kv's figures.
type memOverhead struct {
	peak, total, startup         int64
	clientsNormal, clientsSlaves int64
	dbs                          []dbOverhead
	overheadTotal                int64
	keys                         int64
	bytesPerKey                  int64
	dataset                      int64
	datasetPerc, peakPerc        float64
	allocated, active, resident  int64
	rss                          int64
}

type dbOverhead struct {
	id            int
	main, expires int64
}

var overheadSamples = []metrics.Sample{
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/memory/classes/heap/unused:bytes"},
	{Name: "/memory/classes/total:bytes"},
	{Name: "/memory/classes/heap/released:bytes"},
}

// memoryOverhead gathers MEMORY STATS and INFO memory's breakdown. Engine lock held.
func (s *Server) memoryOverhead() *memOverhead {
	s.e.RefreshMemory()
	m := &memOverhead{total: s.e.UsedMemory(), peak: s.e.PeakMemory()}
	if s.memStartup == 0 {
		s.memStartup = m.total
	}
	m.startup = s.memStartup
	for _, cl := range s.liveConns() {
		n := int64(cl.qbufCap+cap(cl.w.Bytes())+cl.pendingOutput()) + connOverhead
		if cl.flags&flagReplica != 0 {
			m.clientsSlaves += n
		} else {
			m.clientsNormal += n
		}
	}
	m.overheadTotal = m.startup + m.clientsNormal + m.clientsSlaves
	for i := 0; i < s.e.NumDBs(); i++ {
		db := s.e.DB(i)
		if db.Len() == 0 {
			continue
		}
		main, exp := db.DictOverhead()
		m.dbs = append(m.dbs, dbOverhead{id: i, main: main, expires: exp})
		m.overheadTotal += main + exp
		m.keys += int64(db.Len())
	}
	m.dataset = max(m.total-m.overheadTotal, 0)
	if net := m.total - m.startup; m.keys > 0 && net > 0 {
		m.bytesPerKey = net / m.keys
	}
	if net := m.total - m.startup; net > 0 {
		m.datasetPerc = float64(m.dataset) * 100 / float64(net)
	}
	if m.peak > 0 {
		m.peakPerc = float64(m.total) * 100 / float64(m.peak)
	}
	metrics.Read(overheadSamples)
	v := func(i int) int64 { return int64(overheadSamples[i].Value.Uint64()) }
	m.allocated = v(0)
	m.active = v(0) + v(1)
	m.resident = v(2) - v(3)
	m.rss = rss()
	return m
}

func ratioOf(a, b int64) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func (s *Server) memoryStats(c *engine.Ctx) {
	m := s.memoryOverhead()
	w := c.W
	w.Map(27 + len(m.dbs))
	kv := func(k string, v int64) {
		w.BulkString(k)
		w.Int(v)
	}
	kd := func(k string, v float64) {
		w.BulkString(k)
		w.Double(v)
	}
	kv("peak.allocated", m.peak)
	kv("total.allocated", m.total)
	kv("startup.allocated", m.startup)
	kv("replication.backlog", 0)
	kv("clients.slaves", m.clientsSlaves)
	kv("clients.normal", m.clientsNormal)
	kv("cluster.links", 0)
	kv("aof.buffer", 0)
	kv("lua.caches", 0)
	kv("functions.caches", 0)
	for _, d := range m.dbs {
		w.BulkString(fmt.Sprintf("db.%d", d.id))
		w.Map(3)
		kv("overhead.hashtable.main", d.main)
		kv("overhead.hashtable.expires", d.expires)
		kv("overhead.hashtable.slot-to-keys", 0)
	}
	kv("overhead.total", m.overheadTotal)
	kv("keys.count", m.keys)
	kv("keys.bytes-per-key", m.bytesPerKey)
	kv("dataset.bytes", m.dataset)
	kd("dataset.percentage", m.datasetPerc)
	kd("peak.percentage", m.peakPerc)
	kv("allocator.allocated", m.allocated)
	kv("allocator.active", m.active)
	kv("allocator.resident", m.resident)
	kd("allocator-fragmentation.ratio", ratioOf(m.active, m.allocated))
	kv("allocator-fragmentation.bytes", m.active-m.allocated)
	kd("allocator-rss.ratio", ratioOf(m.resident, m.active))
	kv("allocator-rss.bytes", m.resident-m.active)
	kd("rss-overhead.ratio", ratioOf(m.rss, m.resident))
	kv("rss-overhead.bytes", m.rss-m.resident)
	kd("fragmentation", ratioOf(m.rss, m.total))
	kv("fragmentation.bytes", m.rss-m.total)
}

// memoryDoctor is getMemoryDoctorReport with kv's figures and the same thresholds.
func (s *Server) memoryDoctor(c *engine.Ctx) {
	m := s.memoryOverhead()
	var issues []string
	empty := m.total < 5<<20
	if !empty {
		if float64(m.peak)/float64(m.total) > 1.5 {
			issues = append(issues, " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The Go runtime returns freed memory to the system gradually, so you can expect to see a big fragmentation ratio for a while, however this is actually harmless and is only due to the memory peak. If you want to reclaim memory now, please try the MEMORY PURGE command.\n\n")
		}
		if frag := ratioOf(m.rss, m.total); frag > 1.4 && m.rss-m.total > 10<<20 {
			issues = append(issues, fmt.Sprintf(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the process is much larger than the sum of the logical allocations it performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or to garbage the Go collector has not reclaimed yet. Note: The currently used allocator is \"%s\".\n\n", runtime.Version()))
		}
		if r := ratioOf(m.active, m.allocated); r > 1.1 && m.active-m.allocated > 10<<20 {
			issues = append(issues, " * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot.\n\n")
		}
		if r := ratioOf(m.resident, m.active); r > 1.1 && m.resident-m.active > 10<<20 {
			issues = append(issues, " * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n")
		}
		normal := 0
		for _, cl := range s.liveConns() {
			if cl.flags&flagReplica == 0 {
				normal++
			}
		}
		if normal > 0 && m.clientsNormal/int64(normal) > 200<<10 {
			issues = append(issues, " * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n")
		}
		if m.clientsSlaves > 10<<20 {
			issues = append(issues, " * Big replica buffers: The replica output buffers in this instance are greater than 10MB for each replica (on average). This likely means that there is some replica instance that is struggling receiving data, either because it is too slow or because of networking issues. Please try to identify what replica is not receiving data correctly and why.\n\n")
		}
	}
	var report string
	switch {
	case empty:
		report = "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
	case len(issues) == 0:
		report = "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
	default:
		report = "Sam, I detected a few issues in this instance memory implants:\n\n"
		for _, is := range issues {
			report += is
		}
		report += "I'm here to keep you safe, Sam. I want to help you.\n"
	}
	c.W.Verbatim("txt", report)
}

// memoryMallocStats reports the Go runtime's allocator statistics, the counterpart of
// jemalloc's stats print.
func (s *Server) memoryMallocStats(c *engine.Ctx) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	out := fmt.Sprintf("___ Begin Go runtime statistics ___\n"+
		"Version: %s\n"+
		"Allocated (heap objects): %d\nHeap in use (spans): %d\nHeap idle: %d\nHeap released: %d\n"+
		"Heap objects: %d\nStack in use: %d\nSys: %d\n"+
		"GC cycles: %d\nLast GC pause: %s\nNext GC target: %d\nMemory limit: %d\n"+
		"--- End Go runtime statistics ---\n",
		runtime.Version(), ms.HeapAlloc, ms.HeapInuse, ms.HeapIdle, ms.HeapReleased,
		ms.HeapObjects, ms.StackInuse, ms.Sys,
		ms.NumGC, time.Duration(ms.PauseNs[(ms.NumGC+255)%256]), ms.NextGC, debug.SetMemoryLimit(-1))
	c.W.Verbatim("txt", out)
}

// memoryPurge returns freed memory to the operating system (jemalloc's purge):
// debug.FreeOSMemory runs a collection first, so garbage is released too.
func (s *Server) memoryPurge(c *engine.Ctx) {
	debug.FreeOSMemory()
	s.e.SampleMemory()
	c.W.OK()
}
