package server

import (
	"errors"
	"net"
	"strings"
	"time"

	"kv/config"
	"kv/engine"
	"kv/resp"
)

func (s *Server) configCommands() []*engine.Command {
	return []*engine.Command{container(
		&engine.Command{Name: "config", Arity: -2, Flags: 0,
			ACL: []string{"slow"}, Group: "server", Since: "2.0.0",
			Summary:    "A container for server configuration commands",
			Complexity: "Depends on subcommand.",
			Syntax:     "", Handler: nil},
		&engine.Command{Name: "config|get", Arity: -3, Flags: engine.FlagAdmin | engine.FlagNoscript | engine.FlagLoading | engine.FlagStale,
			ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "2.0.0",
			Summary:    "Get the values of configuration parameters",
			Complexity: "O(N) when N is the number of configuration parameters provided",
			Syntax:     "parameter [parameter ...]", Handler: s.configGet},
		&engine.Command{Name: "config|help", Arity: 2, Flags: engine.FlagLoading | engine.FlagStale,
			ACL: []string{"slow"}, Group: "server", Since: "5.0.0",
			Summary:    "Show helpful text about the different subcommands",
			Complexity: "O(1)",
			Syntax:     "", Handler: s.configHelp},
		&engine.Command{Name: "config|resetstat", Arity: 2, Flags: engine.FlagAdmin | engine.FlagNoscript | engine.FlagLoading | engine.FlagStale,
			ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "2.0.0",
			Summary:    "Reset the stats returned by INFO",
			Complexity: "O(1)",
			Syntax:     "", Handler: s.configResetstat},
		&engine.Command{Name: "config|rewrite", Arity: 2, Flags: engine.FlagAdmin | engine.FlagNoscript | engine.FlagLoading | engine.FlagStale,
			ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "2.8.0",
			Summary:    "Rewrite the configuration file with the in memory configuration",
			Complexity: "O(1)",
			Syntax:     "", Handler: s.configRewrite},
		&engine.Command{Name: "config|set", Arity: -4, Flags: engine.FlagAdmin | engine.FlagNoscript | engine.FlagLoading | engine.FlagStale,
			ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "2.0.0",
			Summary:    "Set configuration parameters to the given values",
			Complexity: "O(N) when N is the number of configuration parameters provided",
			Syntax:     "parameter value [parameter value ...]", Handler: s.configSet},
	)}
}

func (s *Server) configHelp(c *engine.Ctx) {
	writeHelp(c, []string{
		"GET <pattern>",
		"    Return parameters matching the glob-like <pattern> and their values.",
		"SET <directive> <value>",
		"    Set the configuration <directive> to <value>.",
		"RESETSTAT",
		"    Reset statistics reported by the INFO command.",
		"REWRITE",
		"    Rewrite the configuration file.",
	})
}

func (s *Server) configGet(c *engine.Ctx) {
	pats := make([]string, len(c.Args)-2)
	for i, a := range c.Args[2:] {
		pats[i] = string(a)
	}
	pairs := s.cfg.Get(pats...)
	c.W.Map(len(pairs))
	for _, p := range pairs {
		c.W.BulkString(p[0])
		c.W.BulkString(p[1])
	}
}

// configSet runs CONFIG SET. The change hooks run right here, with the engine lock
// held, which is what lets them write engine.Settings and server state directly.
func (s *Server) configSet(c *engine.Ctx) {
	if len(c.Args)%2 != 0 {
		c.WrongArgs()
		return
	}
	pairs := make([][2]string, 0, (len(c.Args)-2)/2)
	for i := 2; i < len(c.Args); i += 2 {
		pairs = append(pairs, [2]string{string(c.Args[i]), string(c.Args[i+1])})
		// Redacted even when the change fails, so a typo never logs a password.
		if s.cfg.Sensitive(string(c.Args[i])) {
			c.Redact(i + 1)
		}
	}
	var err error
	if isLocal(connOf(c).addr) {
		err = s.cfg.SetLocal(pairs)
	} else {
		err = s.cfg.Set(pairs)
	}
	if err != nil {
		c.Error(err.Error())
		return
	}
	c.W.OK()
}

func isLocal(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return strings.HasPrefix(addr, "unix:")
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) configRewrite(c *engine.Ctx) {
	path := s.cfg.File()
	if path == "" {
		c.Error(config.ErrNoConfigFile.Error())
		return
	}
	if err := s.cfg.Rewrite(path); err != nil {
		if errors.Is(err, config.ErrNoConfigFile) {
			c.Error(err.Error())
			return
		}
		s.log.Warn("CONFIG REWRITE failed", "err", err)
		c.Error("ERR Rewriting config file: " + err.Error())
		return
	}
	s.log.Info("CONFIG REWRITE executed with success")
	c.W.OK()
}

// configResetstat clears what INFO counts, as Redis's resetServerStats,
// resetCommandTableStats and resetErrorTableStats do.
func (s *Server) configResetstat(c *engine.Ctx) {
	st := &s.e.Stats
	*st = engine.Stats{Errors: map[string]int64{}}
	for _, cmd := range s.allCommands() {
		cmd.Stats = engine.CommandStats{}
	}
	clear(s.latency.hists)
	s.stats.totalConnections.Store(0)
	s.stats.rejected.Store(0)
	s.stats.netInput.Store(0)
	s.stats.netOutput.Store(0)
	s.stats.reads.Store(0)
	s.stats.writes.Store(0)
	s.rate = rateSample{}
	s.statsReset = time.Now()
	c.W.OK()
}

// Config returns the server's configuration.
func (s *Server) Config() *config.Config { return s.cfg }

// applyConfig copies every setting the server and the engine consult out of the
// configuration and registers hooks that copy them again on change. Hooks run where
// the change happens: CONFIG SET (engine lock held) or before Serve (nothing else
// running), so they touch engine state without locking.
func (s *Server) applyConfig() {
	cfg := s.cfg
	apply := map[string]func(){
		"requirepass": func() {
			p := cfg.Requirepass.Get()
			s.requirePass.Store(&p)
		},
		"maxclients":     func() { s.maxClients.Store(cfg.Maxclients.Get()) },
		"timeout":        func() { s.idleTimeout.Store(cfg.Timeout.Get()) },
		"protected-mode": func() { s.protectedMode.Store(cfg.ProtectedMode.Get()) },
		"enable-debug-command": func() {
			v := cfg.EnableDebugCommand.Get()
			s.enableDebug.Store(&v)
		},
		"proto-max-bulk-len": func() {
			s.e.Settings.ProtoMaxBulkLen = cfg.ProtoMaxBulkLen.Get()
			s.updateLimits()
		},
		"client-query-buffer-limit": s.updateLimits,
		"slowlog-log-slower-than":   func() { s.slowlog.slowerThan = cfg.SlowlogLogSlowerThan.Get() },
		"slowlog-max-len": func() {
			s.slowlog.maxLen = int(cfg.SlowlogMaxLen.Get())
			s.slowlog.trim()
		},
		"latency-monitor-threshold":         func() { s.latency.threshold = cfg.LatencyMonitorThreshold.Get() },
		"latency-tracking":                  func() { s.latency.tracking = cfg.LatencyTracking.Get() },
		"latency-tracking-info-percentiles": func() { s.latencyPercentiles = cfg.LatencyTrackingInfoPercentiles.Get() },
		"maxmemory":                         s.applyMaxmemory,
		"maxmemory-samples":                 func() { s.e.Settings.MaxmemorySamples = int(cfg.MaxmemorySamples.Get()) },
		"maxmemory-eviction-tenacity":       func() { s.e.Settings.MaxmemoryEvictionTenacity = int(cfg.MaxmemoryEvictionTenacity.Get()) },
		"lfu-log-factor":                    func() { s.e.Settings.LfuLogFactor = int(cfg.LFULogFactor.Get()) },
		"lfu-decay-time":                    func() { s.e.Settings.LfuDecayTime = int(cfg.LFUDecayTime.Get()) },
		"replica-ignore-maxmemory":          func() { s.e.Settings.ReplicaIgnoreMaxmemory = cfg.ReplicaIgnoreMaxmemory.Get() },
		"maxmemory-policy": func() {
			p := cfg.MaxmemoryPolicy.Get()
			s.maxmemoryPolicy.Store(&p)
			s.e.Settings.MaxmemoryPolicy = p
		},
		"hash-max-listpack-entries": func() { s.e.Settings.HashMaxListpackEntries = int(cfg.HashMaxListpackEntries.Get()) },
		"hash-max-listpack-value":   func() { s.e.Settings.HashMaxListpackValue = int(cfg.HashMaxListpackValue.Get()) },
		"set-max-intset-entries":    func() { s.e.Settings.SetMaxIntsetEntries = int(cfg.SetMaxIntsetEntries.Get()) },
		"zset-max-listpack-entries": func() { s.e.Settings.ZSetMaxListpackEntries = int(cfg.ZsetMaxListpackEntries.Get()) },
		"zset-max-listpack-value":   func() { s.e.Settings.ZSetMaxListpackValue = int(cfg.ZsetMaxListpackValue.Get()) },
		"list-max-listpack-size":    func() { s.e.Settings.ListMaxListpackSize = int(cfg.ListMaxListpackSize.Get()) },
		"list-compress-depth":       func() { s.e.Settings.ListCompressDepth = int(cfg.ListCompressDepth.Get()) },
		"active-expire-effort":      func() { s.e.Settings.ActiveExpireEffort = int(cfg.ActiveExpireEffort.Get()) },
		"lazyfree-lazy-expire":      func() { s.e.Settings.LazyfreeLazyExpire = cfg.LazyfreeLazyExpire.Get() },
		"lazyfree-lazy-user-del":    func() { s.e.Settings.LazyfreeUserDel = cfg.LazyfreeLazyUserDel.Get() },
		"lazyfree-lazy-user-flush":  func() { s.e.Settings.LazyfreeUserFlush = cfg.LazyfreeLazyUserFlush.Get() },
		"busy-reply-threshold":      func() { s.e.Settings.BusyReplyThreshold = cfg.BusyReplyThreshold.Get() },
	}
	for name, fn := range apply {
		fn()
		cfg.OnChange(name, fn)
	}
	s.configPath = cfg.File()
}

// updateLimits publishes new request limits; each connection picks them up before
// its next read.
func (s *Server) updateLimits() {
	l := resp.Limits{
		MaxBulkLen:     s.cfg.ProtoMaxBulkLen.Get(),
		MaxQueryBuffer: s.cfg.ClientQueryBufferLimit.Get(),
	}
	s.limits.Store(&l)
	s.limitsGen.Add(1)
}
