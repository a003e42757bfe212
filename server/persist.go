package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"kv/engine"
	"kv/rdb"
)

// RDB persistence: SAVE, BGSAVE, save points, loading at start, saving at shutdown.
// A background save is a snapshot without fork (engine/snapshot.go) written by a
// goroutine that takes the engine lock one slice at a time.

// persistState is guarded by the engine lock.
type persistState struct {
	lastSave     int64 // Unix seconds of the last successful save
	lastStatusOK bool
	lastBgTry    int64 // Unix seconds of the last BGSAVE attempt
	lastBgSecs   int64 // duration of the last BGSAVE, -1 before the first
	saves        int64
	bg           *bgSave
	scheduled    bool
	// dirtyAtBg is engine.Dirty when the running BGSAVE started: a successful BGSAVE
	// leaves the changes made since then as still unsaved.
	dirtyAtBg   int64
	loadKeys    int64
	loadExpired int64
	seq         int
}

type bgSave struct {
	stream *rdb.Stream
	cancel context.CancelFunc
	done   chan struct{}
	start  time.Time
	killed bool
}

var errBgsaveRunning = errors.New("Background save already in progress")

// rdbPath is dir/dbfilename.
func (s *Server) rdbPath() string {
	return filepath.Join(s.cfg.Dir.Get(), s.cfg.Dbfilename.Get())
}

func (s *Server) saveOptions() rdb.SaveOptions {
	return rdb.SaveOptions{
		Compress: s.cfg.Rdbcompression.Get(),
		Checksum: s.cfg.Rdbchecksum.Get(),
		Version:  s.version(),
		Aux:      s.replAux(),
	}
}

// writeFileAtomic writes a file as DESIGN.md "Durability" asks: a temporary name in
// the same directory, fsync, rename over the target, fsync of the directory, so a
// crash leaves the old file or the new one, never a torn one.
func writeFileAtomic(path, tmpName string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp := filepath.Join(dir, tmpName)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("failed opening the temp RDB file %s for saving: %w", tmpName, err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("fsync of %s: %w", dir, err)
		}
	}
	return nil
}

func (s *Server) tempName(bg bool) string {
	s.persist.seq++
	if bg {
		return fmt.Sprintf("temp-%d-%d.rdb", os.Getpid(), s.persist.seq)
	}
	return fmt.Sprintf("temp-%d.rdb", os.Getpid())
}

// saveLocked is rdbSave: the whole dataset written with the lock held. A running
// BGSAVE makes it fail, as it would race for the same file.
func (s *Server) saveLocked() error {
	if s.persist.bg != nil {
		return errBgsaveRunning
	}
	start := time.Now()
	var st rdb.SaveStats
	err := writeFileAtomic(s.rdbPath(), s.tempName(false), func(w io.Writer) error {
		var err error
		st, err = rdb.SaveLocked(s.e, w, s.saveOptions())
		return err
	})
	if err != nil {
		s.log.Warn("error saving DB on disk", "err", err)
		return err
	}
	s.e.Dirty = 0
	s.persist.lastSave = time.Now().Unix()
	s.persist.lastStatusOK = true
	s.persist.saves++
	s.log.Info("DB saved on disk", "keys", st.Keys, "bytes", st.Bytes, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// startBgsave is rdbSaveBackground. Lock held.
func (s *Server) startBgsave() error {
	if s.persist.bg != nil {
		return errBgsaveRunning
	}
	now := time.Now()
	s.persist.lastBgTry = now.Unix()
	stream, err := rdb.StartStream(s.e, s.saveOptions())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	bg := &bgSave{stream: stream, cancel: cancel, done: make(chan struct{}), start: now}
	s.persist.bg = bg
	s.fitProcs()
	s.persist.dirtyAtBg = s.e.Dirty
	s.persist.scheduled = false
	path, tmp := s.rdbPath(), s.tempName(true)
	s.log.Info("background saving started")
	go func() {
		defer close(bg.done)
		var st rdb.SaveStats
		err := writeFileAtomic(path, tmp, func(w io.Writer) error {
			var err error
			st, err = stream.WriteTo(ctx, w)
			return err
		})
		s.e.Lock()
		s.bgsaveDone(bg, st, err)
		s.e.Unlock()
	}()
	return nil
}

// bgsaveDone records the outcome of a BGSAVE. Lock held.
func (s *Server) bgsaveDone(bg *bgSave, st rdb.SaveStats, err error) {
	if s.persist.bg != bg {
		return
	}
	s.persist.bg = nil
	s.fitProcs()
	s.persist.lastBgSecs = int64(time.Since(bg.start).Seconds())
	switch {
	case err == nil:
		s.e.Dirty -= s.persist.dirtyAtBg
		s.persist.lastSave = time.Now().Unix()
		s.persist.lastStatusOK = true
		s.persist.saves++
		s.log.Info("background saving terminated with success", "keys", st.Keys, "bytes", st.Bytes)
	case bg.killed:
		// Like a child killed with SIGUSR1: not an error.
		s.log.Info("background saving stopped", "err", err)
	default:
		s.persist.lastStatusOK = false
		s.log.Warn("background saving error", "err", err)
	}
}

// killBgsave stops a running BGSAVE at once (killRDBChild). Lock held.
func (s *Server) killBgsave() {
	bg := s.persist.bg
	if bg == nil {
		return
	}
	bg.killed = true
	bg.cancel()
	bg.stream.Abort()
	s.bgsaveDone(bg, rdb.SaveStats{}, context.Canceled)
}

// persistCron is the part of serverCron that starts saves: a scheduled BGSAVE, or one
// a save point asks for, retrying a failed one only after 5 seconds as Redis does.
func (s *Server) persistCron() {
	defer s.wg.Done()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			s.e.Lock()
			s.killBgsave()
			s.e.Unlock()
			return
		case <-t.C:
		}
		s.e.Lock()
		s.persistTick(time.Now().Unix())
		s.e.Unlock()
	}
}

func (s *Server) persistTick(now int64) {
	p := &s.persist
	if p.bg != nil || s.bgsaveBlockedByAOF() {
		return
	}
	if p.scheduled {
		if err := s.startBgsave(); err != nil {
			s.log.Warn("scheduled BGSAVE failed", "err", err)
		}
		return
	}
	for _, sp := range s.cfg.Save.Get() {
		if s.e.Dirty >= sp.Changes && now-p.lastSave > sp.Seconds &&
			(now-p.lastBgTry > 5 || p.lastStatusOK) {
			s.log.Info(fmt.Sprintf("%d changes in %d seconds. Saving...", sp.Changes, sp.Seconds))
			if err := s.startBgsave(); err != nil {
				s.log.Warn("BGSAVE failed", "err", err)
			}
			return
		}
	}
}

// LoadDataset loads dir/dbfilename into the engine if it exists, dropping keys that
// have already expired (unless this server is a replica). Call it before Serve.
func (s *Server) LoadDataset() error {
	defer bulkLoadGC()()
	s.e.Lock()
	defer s.e.Unlock()
	if s.cfg.Appendonly.Get() {
		return s.loadAOFAtStart()
	}
	return s.loadLocked()
}

func (s *Server) loadLocked() error {
	path := s.rdbPath()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	st, err := rdb.Load(f, s.e, rdb.LoadOptions{Master: !s.e.Replica})
	if err != nil {
		return fmt.Errorf("loading %s: %w", path, err)
	}
	s.persist.loadKeys, s.persist.loadExpired = st.Keys, st.Expired
	s.replLoaded(st.Aux)
	if st.SkippedFunctions > 0 {
		s.log.Warn("function libraries in the RDB file were skipped: no function engine", "count", st.SkippedFunctions)
	}
	s.log.Info("DB loaded from disk", "keys", st.Keys, "expired", st.Expired,
		"seconds", fmt.Sprintf("%.3f", time.Since(start).Seconds()))
	return nil
}

// ShutdownSave is prepareForShutdown's part for RDB: a running BGSAVE is stopped,
// then the dataset is saved if save points are configured or save is set, unless
// nosave. Lock held.
func (s *Server) ShutdownSave(save, nosave bool) error {
	s.aofShutdown()
	s.killBgsave()
	if nosave || (!save && len(s.cfg.Save.Get()) == 0) {
		return nil
	}
	s.log.Info("saving the final RDB snapshot before exiting")
	return s.saveLocked()
}

// FlushAllSave is what FLUSHALL does for persistence in Redis 7.0
// (flushAllDataAndResetRDB): stop a running BGSAVE and, with save points configured,
// save the now empty dataset without resetting the change counter, so FLUSHALL is
// still propagated. Lock held.
func (s *Server) FlushAllSave() {
	s.killBgsave()
	if len(s.cfg.Save.Get()) == 0 {
		return
	}
	dirty := s.e.Dirty
	_ = s.saveLocked()
	s.e.Dirty = dirty
}

// PersistenceInfo is INFO's persistence section for RDB, in Redis's order.
// Lock held.
func (s *Server) PersistenceInfo() [][2]string {
	p := &s.persist
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	status := "ok"
	if !p.lastStatusOK {
		status = "err"
	}
	cur := int64(-1)
	var keysDone, keysTotal int64
	if p.bg != nil {
		cur = int64(time.Since(p.bg.start).Seconds())
		keysDone, keysTotal = p.bg.stream.Progress()
	}
	return [][2]string{
		{"loading", "0"},
		{"async_loading", "0"},
		{"current_cow_peak", "0"},
		{"current_cow_size", "0"},
		{"current_cow_size_age", "0"},
		{"current_fork_perc", "0.00"},
		{"current_save_keys_processed", i(keysDone)},
		{"current_save_keys_total", i(keysTotal)},
		{"rdb_changes_since_last_save", i(s.e.Dirty)},
		{"rdb_bgsave_in_progress", b(p.bg != nil)},
		{"rdb_last_save_time", i(p.lastSave)},
		{"rdb_last_bgsave_status", status},
		{"rdb_last_bgsave_time_sec", i(p.lastBgSecs)},
		{"rdb_current_bgsave_time_sec", i(cur)},
		{"rdb_saves", i(p.saves)},
		{"rdb_last_cow_size", "0"},
		{"rdb_last_load_keys_expired", i(p.loadExpired)},
		{"rdb_last_load_keys_loaded", i(p.loadKeys)},
	}
}

// --- commands ---

func (s *Server) persistCommands() []*engine.Command {
	return []*engine.Command{
		{Name: "save", Arity: 1, Flags: engine.FlagNoAsyncLoading | engine.FlagAdmin | engine.FlagNoscript | engine.FlagNoMulti,
			ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "1.0.0",
			Summary: "Synchronously save the dataset to disk", Complexity: "O(N) where N is the total number of keys in all databases",
			Handler: s.cmdSave},
		{Name: "bgsave", Arity: -1, Flags: engine.FlagNoAsyncLoading | engine.FlagAdmin | engine.FlagNoscript,
			ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "1.0.0",
			Summary: "Asynchronously save the dataset to disk", Complexity: "O(1)", Syntax: "[SCHEDULE]",
			Handler: s.cmdBgsave},
		{Name: "lastsave", Arity: 1, Flags: engine.FlagLoading | engine.FlagStale | engine.FlagFast,
			ACL: []string{"admin", "fast", "dangerous"}, Group: "server", Since: "1.0.0",
			Summary: "Get the UNIX time stamp of the last successful save to disk", Complexity: "O(1)",
			Handler: func(c *engine.Ctx) { c.W.Int(s.persist.lastSave) }},
		{Name: "dump", Arity: 2, Flags: engine.FlagReadonly, Keys: engine.KeySpec{FirstKey: 1, LastKey: 1, Step: 1},
			ACL: []string{"keyspace", "read", "slow"}, Group: "generic", Since: "2.6.0",
			Summary:    "Return a serialized version of the value stored at the specified key.",
			Complexity: "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).",
			Syntax:     "key", Handler: s.cmdDump},
		{Name: "restore", Arity: -4, Flags: engine.FlagWrite | engine.FlagDenyOOM, Keys: engine.KeySpec{FirstKey: 1, LastKey: 1, Step: 1},
			ACL: []string{"keyspace", "write", "slow", "dangerous"}, Group: "generic", Since: "2.6.0",
			Summary:    "Create a key using the provided serialized value, previously obtained using DUMP.",
			Complexity: "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).",
			Syntax:     "key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]",
			Handler:    s.cmdRestore},
	}
}

func (s *Server) cmdSave(c *engine.Ctx) {
	if s.persist.bg != nil {
		c.Error("ERR " + errBgsaveRunning.Error())
		return
	}
	if err := s.saveLocked(); err != nil {
		c.Error("ERR")
		return
	}
	c.W.OK()
}

func (s *Server) cmdBgsave(c *engine.Ctx) {
	if len(c.Args) > 1 {
		if len(c.Args) != 2 || !c.Is(1, "schedule") {
			c.Error(engine.ErrSyntax)
			return
		}
	}
	switch {
	case s.persist.bg != nil:
		c.Error("ERR " + errBgsaveRunning.Error())
	case s.bgsaveBlockedByAOF() && len(c.Args) == 1 && !c.InExec():
		c.Error("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")
	case c.InExec() || s.bgsaveBlockedByAOF():
		// Inside MULTI/EXEC Redis schedules rather than saves mid-transaction; SCHEDULE
		// otherwise only matters while another child (an AOF rewrite) runs.
		s.persist.scheduled = true
		c.W.Simple("Background saving scheduled")
	default:
		if err := s.startBgsave(); err != nil {
			c.Error("ERR")
			return
		}
		c.W.Simple("Background saving started")
	}
}

func (s *Server) cmdDump(c *engine.Ctx) {
	o := c.LookupRead(c.Args[1])
	if o == nil {
		c.W.Null()
		return
	}
	v, err := rdb.ToValue(o)
	if err != nil {
		c.Error("ERR " + err.Error())
		return
	}
	c.W.Bulk(rdb.DumpPayload(&v))
}

func (s *Server) cmdRestore(c *engine.Ctx) {
	replace, absttl := false, false
	idle, freq := int64(-1), int64(-1)
	for j := 4; j < len(c.Args); j++ {
		more := len(c.Args) - j - 1
		switch {
		case c.Is(j, "replace"):
			replace = true
		case c.Is(j, "absttl"):
			absttl = true
		case c.Is(j, "idletime") && more >= 1 && freq == -1:
			n, ok := engine.ParseInt(c.Args[j+1])
			if !ok {
				c.Error(engine.ErrNotInt)
				return
			}
			if n < 0 {
				c.Error("ERR Invalid IDLETIME value, must be >= 0")
				return
			}
			idle = n
			j++
		case c.Is(j, "freq") && more >= 1 && idle == -1:
			n, ok := engine.ParseInt(c.Args[j+1])
			if !ok {
				c.Error(engine.ErrNotInt)
				return
			}
			if n < 0 || n > 255 {
				c.Error("ERR Invalid FREQ value, must be >= 0 and <= 255")
				return
			}
			freq = n
			j++
		default:
			c.Error(engine.ErrSyntax)
			return
		}
	}
	key := c.Args[1]
	if !replace && c.LookupWrite(key) != nil {
		c.Error("BUSYKEY Target key name already exists.")
		return
	}
	ttl, ok := engine.ParseInt(c.Args[2])
	if !ok {
		c.Error(engine.ErrNotInt)
		return
	}
	if ttl < 0 {
		c.Error("ERR Invalid TTL value, must be >= 0")
		return
	}
	v, err := rdb.ParseDumpPayload(c.Args[3])
	if err != nil {
		c.Error("ERR " + err.Error())
		return
	}
	o, err := rdb.FromValue(&v, &s.e.Settings)
	if err != nil {
		c.Error("ERR Bad data format")
		return
	}
	deleted := false
	if replace {
		deleted = c.DeleteKey(key)
	}
	if ttl > 0 && !absttl {
		ttl += c.Now
	}
	if ttl > 0 && ttl <= c.Now && !s.e.Replica && !c.FromMaster {
		// Already expired: the key is not created, and a replaced one is deleted.
		if deleted {
			del := "DEL"
			if s.e.Settings.LazyfreeUserDel {
				del = "UNLINK"
			}
			c.Propagate([]byte(del), key)
			c.Notify(engine.EventGeneric, "del", key)
		}
		c.W.OK()
		return
	}
	c.AddKey(key, o)
	if ttl > 0 {
		c.DB.SetExpire(key, ttl)
		if !absttl {
			args := append([][]byte{}, c.Args...)
			args[2] = strconv.AppendInt(nil, ttl, 10)
			args = append(args, []byte("ABSTTL"))
			c.Propagate(args...)
		}
	}
	if p := c.DB.Peek(key); p != nil {
		s.e.SetEvictionHint(p, idle, int(freq))
	}
	c.Notify(engine.EventGeneric, "restore", key)
	c.W.OK()
}

// SaveOnSignal saves before exiting on SIGTERM/SIGINT when save points are
// configured, as Redis's prepareForShutdown does.
func (s *Server) SaveOnSignal() error {
	s.e.Lock()
	defer s.e.Unlock()
	return s.ShutdownSave(false, false)
}

// debugReload is DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty, load again.
func (s *Server) debugReload(c *engine.Ctx) {
	flush, save, merge := true, true, false
	for j := 2; j < len(c.Args); j++ {
		switch {
		case c.Is(j, "merge"):
			merge = true
		case c.Is(j, "noflush"):
			flush = false
		case c.Is(j, "nosave"):
			save = false
		default:
			c.Error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
			return
		}
	}
	if save {
		// A BGSAVE would race for the file; Redis's child would, too, but kv can
		// simply stop it first.
		s.killBgsave()
		if err := s.saveLocked(); err != nil {
			c.Error("ERR")
			return
		}
	}
	if flush {
		for i := 0; i < s.e.NumDBs(); i++ {
			s.e.DB(i).Clear()
		}
		if fs := s.e.Functions(); fs != nil {
			fs.FlushLibraries()
		}
	}
	f, err := os.Open(s.rdbPath())
	if err == nil {
		loaded := bulkLoadGC()
		_, err = rdb.Load(f, s.e, rdb.LoadOptions{Master: !s.e.Replica, Merge: merge})
		loaded()
		f.Close()
	}
	if err != nil {
		s.log.Warn("DEBUG RELOAD failed", "err", err)
		c.Error("ERR Error trying to load the RDB dump")
		return
	}
	s.log.Warn("DB reloaded by DEBUG RELOAD")
	c.W.OK()
}

// debugDigest is DEBUG DIGEST: Redis's dataset digest (rdb/digest.go), so equal
// datasets give equal digests in kv and in Redis.
func (s *Server) debugDigest(c *engine.Ctx) {
	var dd rdb.DatasetDigest
	for i := 0; i < s.e.NumDBs(); i++ {
		db := s.e.DB(i)
		var err error
		db.Keys().Range(func(k string, o *engine.Object) bool {
			v, e := rdb.ToValue(o)
			if e != nil {
				err = e
				return false
			}
			dd.Add(i, []byte(k), &v, db.ExpireAt([]byte(k)) >= 0)
			return true
		})
		if err != nil {
			c.Error("ERR " + err.Error())
			return
		}
	}
	c.W.Simple(dd.Sum().String())
}

// debugDigestValue is DEBUG DIGEST-VALUE key...: each value's digest, all zeros for a
// missing key; logically expired keys still count, as in Redis.
func (s *Server) debugDigestValue(c *engine.Ctx) {
	c.W.Array(len(c.Args) - 2)
	for _, k := range c.Args[2:] {
		var d rdb.Digest
		if o := c.DB.Peek(k); o != nil {
			if v, err := rdb.ToValue(o); err == nil {
				d = rdb.ValueDigest(&v, c.DB.ExpireAt(k) >= 0)
			}
		}
		c.W.Simple(d.String())
	}
}
