package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"kv/aof"
	"kv/engine"
)

// AOF persistence (package aof): the server decides when to load, open, rewrite and
// stop it, maps the configuration onto it, and holds each reply until the appender
// says the writes before it are as durable as appendfsync promises (conn.flush).

func (s *Server) aofDir() string {
	return filepath.Join(s.cfg.Dir.Get(), s.cfg.Appenddirname.Get())
}

// initAOF builds the AOF and registers its configuration hooks. It does not open
// anything: LoadDataset does, as Redis opens the AOF after loading.
func (s *Server) initAOF() {
	cfg := s.cfg
	s.aof = aof.New(s.e, aof.Options{
		Dir:       s.aofDir(),
		Filename:  cfg.Appendfilename.Get(),
		Fsync:     aof.ParseFsync(cfg.Appendfsync.Get()),
		Preamble:  cfg.AOFUseRDBPreamble.Get,
		KeepFiles: cfg.AOFDisableAutoGC.Get,
		RDB:       s.saveOptions,
		Log:       s.log,
		Shared:    true, // Server.Propagate feeds the appender
		Fatal: func(err error) {
			s.log.Error("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...", "err", err)
			os.Exit(1)
		},
	})
	cfg.OnChange("appendfsync", func() { s.aof.SetFsync(aof.ParseFsync(cfg.Appendfsync.Get())) })
	cfg.OnChange("appendonly", func() {
		// CONFIG SET runs with the engine lock held, as the AOF wants.
		if cfg.Appendonly.Get() {
			if err := s.aof.Enable(); err != nil {
				s.log.Warn("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation", "err", err)
			}
		} else {
			s.aof.Disable()
		}
	})
}

// loadAOFAtStart is loadDataFromDisk with appendonly yes: the AOF is the dataset (the
// RDB file is not read at all, as in Redis), then it is opened for appending.
func (s *Server) loadAOFAtStart() error {
	if err := s.aof.LoadManifest(); err != nil {
		return fmt.Errorf("AOF manifest: %w", err)
	}
	if !s.aof.Manifest().Empty() {
		start := time.Now()
		// The replay must write nothing back, to the AOF or to a backlog.
		s.e.SetPropagator(nil)
		st, err := s.aof.Load(s.cfg.AOFLoadTruncated.Get())
		s.e.SetPropagator(s)
		if err != nil && !errors.Is(err, aof.ErrNoAOF) {
			return fmt.Errorf("loading the append only file: %w", err)
		}
		if st.Truncated > 0 {
			s.log.Warn(fmt.Sprintf("AOF loaded with its torn tail cut off: %d bytes dropped at offset %d", st.Truncated, st.TruncateAt))
		}
		s.log.Info(fmt.Sprintf("DB loaded from append only file: %.3f seconds", time.Since(start).Seconds()),
			"files", st.Files, "commands", st.Commands, "rdb_keys", st.Keys)
	}
	s.e.Dirty = 0
	return s.aof.Open()
}

// aofCronLocked is serverCron's AOF part with the lock held.
func (s *Server) aofCronLocked() {
	s.aof.Cron(s.cfg.AutoAOFRewritePercentage.Get(), s.cfg.AutoAOFRewriteMinSize.Get())
	if ap := s.aof.Appender(); ap != nil {
		ap.SetNoFsync(s.cfg.NoAppendfsyncOnRewrite.Get() && (s.aof.RewriteRunning() || s.persist.bg != nil))
	}
}

// aofTick writes and fsyncs what the policy asks for; without the lock.
func (s *Server) aofTick() {
	if ap := s.aof.Appender(); ap != nil {
		ap.Tick()
	}
}

// waitDurable holds a reply until the AOF covers every write made before it.
func (s *Server) waitDurable() {
	if s.aof == nil {
		return
	}
	if ap := s.aof.Appender(); ap != nil {
		ap.WaitDurable(ap.End())
	}
}

// aofShutdown is prepareForShutdown's AOF part: stop a rewrite, flush and fsync.
func (s *Server) aofShutdown() {
	if err := s.aof.Shutdown(); err != nil {
		s.log.Warn("error flushing the AOF at shutdown", "err", err)
	}
}

func (s *Server) aofInfo(b *infoBuilder) {
	a := s.aof
	b.int("aof_enabled", boolInt(a.State() != aof.Off))
	b.int("aof_rewrite_in_progress", boolInt(a.RewriteRunning()))
	b.int("aof_rewrite_scheduled", boolInt(a.Scheduled))
	b.int("aof_last_rewrite_time_sec", a.LastRewriteSecs)
	b.int("aof_current_rewrite_time_sec", a.RewriteElapsed())
	b.str("aof_last_bgrewrite_status", okErr(a.LastRewriteOK))
	b.int("aof_rewrites", a.Rewrites)
	b.int("aof_rewrites_consecutive_failures", a.ConsecutiveFailures)
	ap := a.Appender()
	b.str("aof_last_write_status", okErr(ap == nil || ap.WriteErr() == nil))
	b.int("aof_last_cow_size", 0)
	b.int("module_fork_in_progress", 0)
	b.int("module_fork_last_cow_size", 0)
	if s.cfg.Appendonly.Get() {
		var buffered, pending, delayed int64
		if ap != nil {
			buffered, delayed = ap.Buffered(), ap.DelayedFsync.Load()
			pending = int64(boolInt(ap.FsyncInProgress()))
		}
		b.int("aof_current_size", a.CurrentSize.Load())
		b.int("aof_base_size", a.BaseSize)
		b.int("aof_pending_rewrite", boolInt(a.Scheduled))
		b.int("aof_buffer_length", buffered)
		b.int("aof_pending_bio_fsync", pending)
		b.int("aof_delayed_fsync", delayed)
	}
}

func boolInt(v bool) int64 {
	if v {
		return 1
	}
	return 0
}

func okErr(ok bool) string {
	if ok {
		return "ok"
	}
	return "err"
}

func (s *Server) aofCommands() []*engine.Command {
	return []*engine.Command{
		{Name: "bgrewriteaof", Arity: 1, Flags: engine.FlagNoAsyncLoading | engine.FlagAdmin | engine.FlagNoscript,
			ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "1.0.0",
			Summary: "Asynchronously rewrite the append-only file", Complexity: "O(1)",
			Handler: s.cmdBgrewriteaof},
	}
}

// cmdBgrewriteaof is bgrewriteaofCommand; a running snapshot (BGSAVE) plays the part
// of Redis's other child and makes the rewrite scheduled.
func (s *Server) cmdBgrewriteaof(c *engine.Ctx) {
	switch {
	case s.aof.RewriteRunning():
		c.Error("ERR " + aof.ErrRewriteRunning.Error())
	case s.e.SnapshotRunning() || c.InExec():
		s.aof.Scheduled = true
		s.aof.ConsecutiveFailures = 0
		c.W.Simple("Background append only file rewriting scheduled")
	default:
		if err := s.aof.StartRewrite(); err != nil {
			s.log.Warn("BGREWRITEAOF failed", "err", err)
			c.Error("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.")
			return
		}
		s.fitProcs()
		c.W.Simple("Background append only file rewriting started")
	}
}

// debugLoadAOF is DEBUG LOADAOF: flush the AOF, empty the dataset and load it again
// from the files, with the appender out of the way so nothing is written back.
func (s *Server) debugLoadAOF(c *engine.Ctx) {
	ap := s.aof.Appender()
	if ap != nil {
		if err := ap.Flush(); err != nil {
			c.Error("ERR " + err.Error())
			return
		}
	}
	for i := 0; i < s.e.NumDBs(); i++ {
		s.e.DB(i).Clear()
	}
	if fs := s.e.Functions(); fs != nil {
		fs.FlushLibraries()
	}
	if err := s.aof.LoadManifest(); err != nil {
		s.log.Error("DEBUG LOADAOF", "err", err)
		os.Exit(1)
	}
	_ = s.aof.DeleteHistory()
	s.e.SetPropagator(nil)
	_, err := s.aof.Load(s.cfg.AOFLoadTruncated.Get())
	s.e.SetPropagator(s)
	if err != nil && !errors.Is(err, aof.ErrNoAOF) {
		// Redis exits: the dataset is gone and the files cannot give it back.
		s.log.Error("DEBUG LOADAOF failed", "err", err)
		os.Exit(1)
	}
	s.e.Dirty = 0
	s.log.Warn("Append Only File loaded by DEBUG LOADAOF")
	c.W.OK()
}

// bgsaveBlockedByAOF is bgsaveCommand's other-child case. Lock held.
func (s *Server) bgsaveBlockedByAOF() bool { return s.aof.RewriteRunning() }
