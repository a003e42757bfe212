package server

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"time"

	"kv/engine"
	"kv/resp"
)

var errNoPersistence = errors.New("no persistence configured to save the dataset")

// Server-level commands that fit no bigger group: TIME, DEBUG, MONITOR, SHUTDOWN,
// LOLWUT, and the machinery behind CLIENT PAUSE and MONITOR.
func (s *Server) serverCommands() []*engine.Command {
	return []*engine.Command{
		&engine.Command{Name: "time", Arity: 1, Flags: engine.FlagLoading | engine.FlagStale | engine.FlagFast,
			ACL: []string{"fast"}, Group: "server", Since: "2.6.0",
			Summary:    "Return the current server time",
			Complexity: "O(1)",
			Syntax:     "", Handler: s.cmdTime},
		&engine.Command{Name: "debug", Arity: -2, Flags: engine.FlagAdmin | engine.FlagNoscript | engine.FlagLoading | engine.FlagStale | engine.FlagProtected,
			ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "1.0.0",
			Summary:    "A container for debugging commands",
			Complexity: "Depends on subcommand.",
			Syntax:     "", Handler: s.cmdDebug},
		&engine.Command{Name: "monitor", Arity: 1, Flags: engine.FlagAdmin | engine.FlagNoscript | engine.FlagLoading | engine.FlagStale,
			ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "1.0.0",
			Summary:    "Listen for all requests received by the server in real time",
			Complexity: "",
			Syntax:     "", Handler: s.cmdMonitor},
		&engine.Command{Name: "shutdown", Arity: -1, Flags: engine.FlagAdmin | engine.FlagNoscript | engine.FlagLoading | engine.FlagStale | engine.FlagNoMulti | engine.FlagSentinel | engine.FlagAllowBusy,
			ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "1.0.0",
			Summary:    "Synchronously save the dataset to disk and then shut down the server",
			Complexity: "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
			Syntax:     "[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]", Handler: s.cmdShutdown},
		&engine.Command{Name: "lolwut", Arity: -1, Flags: engine.FlagReadonly | engine.FlagFast,
			ACL: []string{"read", "fast"}, Group: "server", Since: "5.0.0",
			Summary:    "Display some computer art and the Redis version",
			Complexity: "",
			Syntax:     "[VERSION version]", Handler: s.cmdLolwut},
	}
}

func (s *Server) cmdTime(c *engine.Ctx) {
	now := time.Now()
	c.W.Array(2)
	c.W.BulkString(strconv.FormatInt(now.Unix(), 10))
	c.W.BulkString(strconv.FormatInt(int64(now.Nanosecond()/1000), 10))
}

func (s *Server) cmdLolwut(c *engine.Ctx) {
	if len(c.Args) >= 3 && c.Is(1, "version") {
		if _, ok := engine.ParseInt(c.Args[2]); !ok {
			c.Error(engine.ErrNotInt)
			return
		}
	}
	// Redis 7.0 draws art only for VERSION 5 and 6; its own version prints this line.
	c.W.Verbatim("txt", "Redis ver. "+s.version()+"\n")
}

// --- MONITOR ---

func (s *Server) cmdMonitor(c *engine.Ctx) {
	cn := connOf(c)
	if cn.flags&(flagReplica|flagMonitor) != 0 {
		return
	}
	cn.flags |= flagMonitor
	s.monitors = append(s.monitors, cn)
	c.W.OK()
}

func (s *Server) removeMonitor(cn *conn) {
	if cn.flags&flagMonitor == 0 {
		return
	}
	cn.flags &^= flagMonitor
	for i, m := range s.monitors {
		if m == cn {
			s.monitors = append(s.monitors[:i], s.monitors[i+1:]...)
			break
		}
	}
}

// feedMonitors sends one executed command to every MONITOR client in Redis's format:
// +<unix>.<usec> [<db> <addr>] "arg" "arg"... Engine lock held.
func (s *Server) feedMonitors(c *engine.Ctx, cn *conn) {
	now := time.Now()
	b := make([]byte, 0, 64)
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = append(b, '.')
	us := strconv.Itoa(now.Nanosecond() / 1000)
	b = append(b, "000000"[len(us):]...)
	b = append(b, us...)
	b = append(b, " ["...)
	b = strconv.AppendInt(b, int64(c.DB.ID), 10)
	if cn == nil || c.Script {
		b = append(b, " lua] "...)
	} else {
		b = append(b, ' ')
		b = append(b, cn.addr...)
		b = append(b, "] "...)
	}
	for j, a := range loggedArgs(c, 0, false) {
		if j > 0 {
			b = append(b, ' ')
		}
		b = appendRepr(b, a)
	}
	line := string(b)
	for _, m := range s.monitors {
		m.push(0, func(w *resp.Writer) { w.Simple(line) })
	}
}

// appendRepr quotes a as Redis's sdscatrepr does.
func appendRepr(b, a []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, ch := range a {
		switch ch {
		case '\\', '"':
			b = append(b, '\\', ch)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\a':
			b = append(b, '\\', 'a')
		case '\b':
			b = append(b, '\\', 'b')
		default:
			if ch >= ' ' && ch <= '~' {
				b = append(b, ch)
			} else {
				b = append(b, '\\', 'x', hex[ch>>4], hex[ch&15])
			}
		}
	}
	return append(b, '"')
}

// afterExec is the engine's ExecHook: latency events, the slow log, MONITOR and the
// command latency histogram, in the order Redis's call() applies them.
func (s *Server) afterExec(c *engine.Ctx, dur time.Duration) {
	cmd := c.Cmd
	cn, _ := c.Client.(*conn)
	event := "command"
	if cmd.Flags&engine.FlagFast != 0 {
		event = "fast-command"
	}
	s.latency.addSampleIfNeeded(event, dur.Milliseconds())
	if !c.Blocked {
		s.slowlog.record(c, cn, dur)
	}
	if len(s.monitors) > 0 && cmd.Flags&(engine.FlagSkipMonitor|engine.FlagAdmin) == 0 {
		s.feedMonitors(c, cn)
	}
	if !c.Blocked {
		s.latency.observe(cmd, dur)
	}
}

// --- CLIENT PAUSE ---

// pauseState is the CLIENT PAUSE in force, if any. Engine lock.
type pauseState struct {
	end     time.Time // zero when not paused
	all     bool      // ALL rather than WRITE
	changed chan struct{}
	timer   *time.Timer
}

// pauseClients starts or extends a pause: the later end and the stricter kind win,
// as in Redis.
func (s *Server) pauseClients(end time.Time, all bool) {
	p := &s.pause
	if p.end.IsZero() {
		p.end, p.all = end, all
		p.changed = make(chan struct{})
		// The dataset must stand still while clients are paused: no evictions.
		s.e.Settings.EvictionPaused = true
	} else {
		p.all = p.all || all
		if end.After(p.end) {
			p.end = end
		}
	}
	if p.timer != nil {
		p.timer.Stop()
	}
	p.timer = time.AfterFunc(time.Until(p.end), func() {
		s.e.Lock()
		if !s.pause.end.IsZero() && !time.Now().Before(s.pause.end) {
			s.unpauseClients()
		}
		s.e.Unlock()
	})
}

// Unpause ends any CLIENT PAUSE, as CLIENT UNPAUSE does. Engine lock held.
func (s *Server) Unpause() { s.unpauseClients() }

// unpauseClients ends the pause and wakes the clients it held. Engine lock held.
func (s *Server) unpauseClients() {
	p := &s.pause
	if p.end.IsZero() {
		return
	}
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	p.end = time.Time{}
	s.e.Settings.EvictionPaused = false
	close(p.changed)
	p.changed = nil
}

// pausedFor reports whether cmd from c must wait for the current pause: every command
// under PAUSE ALL, and under PAUSE WRITE the ones that may write or propagate
// (including an EXEC whose queue holds one). Replicas are never paused.
func (s *Server) pausedFor(c *conn, cmd *engine.Command) bool {
	p := &s.pause
	if p.end.IsZero() {
		return false
	}
	if !time.Now().Before(p.end) {
		s.unpauseClients()
		return false
	}
	if c.flags&(flagReplica|flagMaster) != 0 {
		return false
	}
	if p.all {
		return true
	}
	const mayWrite = engine.FlagWrite | engine.FlagMayReplicate
	if cmd.Flags&mayWrite != 0 {
		return true
	}
	if cmd.Name == "exec" && c.multi != nil {
		for _, q := range c.multi.queued {
			if q.cmd.Flags&mayWrite != 0 {
				return true
			}
		}
	}
	return false
}

// --- protected mode ---

// protectedModeRefusal is the error Redis sends a non-loopback client when protected
// mode is on and the default user has no password; "" lets the client in.
func (s *Server) protectedModeRefusal(nc net.Conn) string {
	if protectedModeDenies(s.protectedMode.Load(), s.acl.DefaultNoPass(), nc.RemoteAddr()) {
		return deniedMessage
	}
	return ""
}

const deniedMessage = "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. " +
	"In this mode connections are only accepted from the loopback interface. " +
	"If you want to connect from external computers to Redis you may adopt one of the following solutions: " +
	"1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. " +
	"2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. " +
	"3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. " +
	"4) Setup a an authentication password for the default user. " +
	"NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside."

// --- SHUTDOWN ---

// SetShutdownSaver installs what SHUTDOWN calls to save the dataset (persistence
// provides it); save is true when SAVE was given.
func (s *Server) SetShutdownSaver(f func(save bool) error) {
	s.e.Lock()
	s.shutdownSaver = f
	s.e.Unlock()
}

func (s *Server) cmdShutdown(c *engine.Ctx) {
	var nosave, save, force, abort bool
	for i := 1; i < len(c.Args); i++ {
		switch {
		case c.Is(i, "nosave"):
			nosave = true
		case c.Is(i, "save"):
			save = true
		case c.Is(i, "now"):
		case c.Is(i, "force"):
			force = true
		case c.Is(i, "abort"):
			abort = true
		default:
			c.Error(engine.ErrSyntax)
			return
		}
	}
	if abort && len(c.Args) > 2 || nosave && save {
		c.Error(engine.ErrSyntax)
		return
	}
	if abort {
		// kv shuts down at once, so there is never a shutdown to abort.
		c.Error("ERR No shutdown in progress.")
		return
	}
	if !nosave {
		var err error
		if s.shutdownSaver != nil {
			err = s.shutdownSaver(save)
		} else if save {
			err = errNoPersistence
		}
		if err != nil && !force {
			s.log.Warn("error trying to save the DB, can't exit", "err", err)
			c.Error("ERR Errors trying to SHUTDOWN. Check logs.")
			return
		}
	}
	s.log.Info("shutdown requested by a client", "addr", connOf(c).addr)
	connOf(c).closeAfter = true
	// Close waits for every connection goroutine, this one included, so it runs apart.
	go s.Close()
}

// --- DEBUG ---

func (s *Server) cmdDebug(c *engine.Ctx) {
	switch {
	case c.Is(1, "help"):
		writeHelp(c, []string{
			"DIGEST",
			"    Output a hex signature representing the current DB content.",
			"DIGEST-VALUE <key> [<key> ...]",
			"    Output a hex signature of the values of all the specified keys.",
			"OBJECT <key>",
			"    Show low level info about the `key` and associated value.",
			"RELOAD [option ...]",
			"    Save the RDB on disk and reload it back to memory. Valid <option> values:",
			"    * MERGE: conflicting keys will be loaded from RDB.",
			"    * NOFLUSH: the existing database will not be removed before load, but",
			"      conflicting keys will generate an exception and kill the server.",
			"    * NOSAVE: the database will be loaded from an existing RDB file.",
			"    Examples:",
			"    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
			"      the database.",
			"    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
			"      existing RDB file.",
			"    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
			"      file to the database.",
			"SET-ACTIVE-EXPIRE <0|1>",
			"    Setting it to 0 disables expiring keys in background when they are not",
			"    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
			"    default.",
			"SLEEP <seconds>",
			"    Stop the server for <seconds>. Decimals allowed.",
		})
	case c.Is(1, "sleep") && len(c.Args) == 3:
		secs, err := strconv.ParseFloat(string(c.Args[2]), 64)
		if err != nil {
			c.Error(engine.ErrNotFloat)
			return
		}
		// Like Redis, the whole server stops: the engine lock stays held.
		time.Sleep(time.Duration(secs * float64(time.Second)))
		c.W.OK()
	case c.Is(1, "set-active-expire") && len(c.Args) == 3:
		n, ok := engine.ParseInt(c.Args[2])
		if !ok {
			c.Error(engine.ErrNotInt)
			return
		}
		s.e.Settings.ActiveExpireDisabled = n == 0
		c.W.OK()
	case c.Is(1, "object") && len(c.Args) == 3:
		o := c.DB.Peek(c.Args[2])
		if o == nil {
			c.Error(engine.ErrNoSuchKey)
			return
		}
		// Only the fields kv tracks: no pointer, refcount or serialized length.
		lruClock := uint32(c.E.NowMs()/1000) & (1<<24 - 1)
		idle := int64(lruClock) - int64(o.LRU)
		if idle < 0 {
			idle += 1 << 24
		}
		c.W.Simple("Value at:0x0 refcount:1 encoding:" + o.Enc.String() +
			" lru:" + strconv.FormatUint(uint64(o.LRU), 10) +
			" lru_seconds_idle:" + strconv.FormatInt(idle, 10))
	case c.Is(1, "reload"):
		s.debugReload(c)
	case c.Is(1, "loadaof"):
		s.debugLoadAOF(c)
	case c.Is(1, "digest") && len(c.Args) == 2:
		s.debugDigest(c)
	case c.Is(1, "digest-value"):
		s.debugDigestValue(c)
	default:
		c.Error("ERR unknown subcommand '" + truncate128(c.Args[1]) + "'. Try DEBUG HELP.")
	}
}

// debugAllowed applies enable-debug-command: "yes", "no", or "local" (loopback
// clients only), as Redis's allowProtectedAction.
func (s *Server) debugAllowed(cn *conn) bool {
	switch strings.ToLower(*s.enableDebug.Load()) {
	case "yes":
		return true
	case "local":
		ip := net.ParseIP(strings.Trim(cn.addr[:max(strings.LastIndexByte(cn.addr, ':'), 0)], "[]"))
		return ip != nil && ip.IsLoopback()
	}
	return false
}
