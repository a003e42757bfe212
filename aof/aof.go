package aof

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"kv/engine"
	"kv/rdb"
)

// State is Redis's aof_state.
type State int

const (
	Off State = iota
	On
	// WaitRewrite: appendonly was just turned on; writes go to a temporary
	// incremental file until the first rewrite makes a base for them.
	WaitRewrite
)

// Options configure an AOF. The funcs are read at the moment they matter, so CONFIG
// SET changes take effect without rebuilding anything.
type Options struct {
	Dir       string // dir/appenddirname
	Filename  string // appendfilename
	Fsync     Fsync
	Preamble  func() bool // aof-use-rdb-preamble
	KeepFiles func() bool // aof-disable-auto-gc
	RDB       func() rdb.SaveOptions
	Log       *slog.Logger
	// Fatal ends the process after a write error under appendfsync always.
	Fatal func(error)
}

// AOF is the multi-part append-only file of one server: its manifest, the appender
// the engine propagates into, and background rewrites. Every method wants the
// engine lock held unless it says otherwise.
type AOF struct {
	e     *engine.Engine
	o     Options
	state State
	m     *Manifest
	app   atomic.Pointer[Appender]
	rw    *rewriteJob
	seq   int

	// Scheduled is aof_rewrite_scheduled: a rewrite starts as soon as no snapshot runs.
	Scheduled bool
	// CurrentSize is aof_current_size; BaseSize is aof_rewrite_base_size.
	CurrentSize atomic.Int64
	BaseSize    int64
	// Rewrite statistics for INFO.
	LastRewriteSecs     int64
	LastRewriteOK       bool
	Rewrites            int64
	ConsecutiveFailures int64
	nextRetry           time.Time
	retryDelay          time.Duration
}

type rewriteJob struct {
	base     *BaseStream
	cancel   context.CancelFunc
	done     chan struct{}
	start    time.Time
	preamble bool
	tmp      string
	killed   bool
}

// New prepares the AOF of e; nothing is opened until Open or Enable.
func New(e *engine.Engine, o Options) *AOF {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Preamble == nil {
		o.Preamble = func() bool { return true }
	}
	if o.KeepFiles == nil {
		o.KeepFiles = func() bool { return false }
	}
	if o.RDB == nil {
		o.RDB = func() rdb.SaveOptions { return rdb.SaveOptions{Compress: true, Checksum: true} }
	}
	return &AOF{e: e, o: o, m: &Manifest{}, LastRewriteSecs: -1, LastRewriteOK: true}
}

// State is aof_state.
func (a *AOF) State() State { return a.state }

// Appender is the running appender, nil when the AOF is off. Safe without the lock.
func (a *AOF) Appender() *Appender { return a.app.Load() }

// Manifest is the current manifest.
func (a *AOF) Manifest() *Manifest { return a.m }

// Dir is the AOF directory.
func (a *AOF) Dir() string { return a.o.Dir }

// SetFsync changes appendfsync.
func (a *AOF) SetFsync(p Fsync) {
	a.o.Fsync = p
	if ap := a.app.Load(); ap != nil {
		ap.SetPolicy(p)
	}
}

// LoadManifest reads the manifest from disk (aofLoadManifestFromDisk): an empty one
// when the directory or the manifest does not exist.
func (a *AOF) LoadManifest() error {
	a.m = &Manifest{}
	p := filepath.Join(a.o.Dir, ManifestName(a.o.Filename))
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	m, err := ReadManifest(p)
	if err != nil {
		return err
	}
	a.m = m
	return nil
}

// Load replays the files of the current manifest into the engine (no propagator
// installed), setting the sizes the rewrite trigger compares.
func (a *AOF) Load(truncated bool) (LoadStats, error) {
	st, err := Load(a.e, a.o.Dir, a.m, LoadOptions{Truncated: truncated, Logger: a.o.Log})
	if err == nil {
		a.CurrentSize.Store(st.TotalSize)
		a.BaseSize = st.BaseSize
	}
	return st, err
}

// DeleteHistory removes history files and drops them from the manifest
// (aofDelHistoryFiles), unless aof-disable-auto-gc.
func (a *AOF) DeleteHistory() error {
	if len(a.m.History) == 0 || a.o.KeepFiles() {
		return nil
	}
	m := a.m.Clone()
	for _, fi := range m.History {
		a.o.Log.Info("Removing the history file " + fi.Name)
		os.Remove(filepath.Join(a.o.Dir, fi.Name))
	}
	m.History = nil
	if err := WriteManifest(a.o.Dir, a.o.Filename, m); err != nil {
		return err
	}
	a.m = m
	return nil
}

func (a *AOF) tempName(kind string) string {
	a.seq++
	return fmt.Sprintf("temp-rewriteaof-%s-%d-%d.aof", kind, os.Getpid(), a.seq)
}

// Open is aofOpenIfNeededOnServerStart, after loading: a base is made if the AOF has
// no files yet, the last incremental file is opened for appending (or a new one
// created), the manifest is stored, and the appender is installed in the engine.
func (a *AOF) Open() error {
	if err := os.MkdirAll(a.o.Dir, 0o755); err != nil {
		return fmt.Errorf("can't open or create append-only dir %s: %w", a.o.Dir, err)
	}
	m := a.m.Clone()
	if m.Empty() {
		preamble := a.o.Preamble()
		name := m.NewBase(a.o.Filename, preamble)
		err := WriteFileAtomic(filepath.Join(a.o.Dir, name), a.tempName("start"), func(w io.Writer) error {
			return WriteBaseLocked(a.e, w, preamble, a.o.RDB())
		})
		if err != nil {
			return fmt.Errorf("creating the AOF base file %s: %w", name, err)
		}
		a.o.Log.Info("Creating AOF base file " + name + " on server start")
		if st, err := os.Stat(filepath.Join(a.o.Dir, name)); err == nil {
			a.BaseSize = st.Size()
			a.CurrentSize.Store(st.Size())
		}
	}
	name := m.LastIncr(a.o.Filename)
	f, err := os.OpenFile(filepath.Join(a.o.Dir, name), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("can't open the append-only file %s: %w", name, err)
	}
	if err := WriteManifest(a.o.Dir, a.o.Filename, m); err != nil {
		f.Close()
		return err
	}
	if err := SyncDir(a.o.Dir); err != nil {
		f.Close()
		return err
	}
	a.m = m
	st, _ := f.Stat()
	var size int64
	if st != nil {
		size = st.Size()
	}
	a.install(NewAppender(f, size, a.o.Fsync))
	a.state = On
	return nil
}

func (a *AOF) install(ap *Appender) {
	ap.Fatal = a.o.Fatal
	ap.OnWrite = func(n int64) { a.CurrentSize.Add(n) }
	a.app.Store(ap)
	a.e.SetPropagator(ap)
}

func (a *AOF) uninstall() *Appender {
	ap := a.app.Swap(nil)
	a.e.SetPropagator(nil)
	return ap
}

// Enable is startAppendOnly (CONFIG SET appendonly yes): writes go to a temporary
// incremental file while a rewrite makes the base; the rewrite is scheduled if a
// snapshot is already running.
func (a *AOF) Enable() error {
	if a.state != Off {
		return nil
	}
	a.state = WaitRewrite
	if a.e.SnapshotRunning() {
		a.Scheduled = true
		a.o.Log.Warn("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.")
		return nil
	}
	if err := a.StartRewrite(); err != nil {
		a.state = Off
		return err
	}
	return nil
}

// Disable is stopAppendOnly (CONFIG SET appendonly no): flush, fsync, close, and
// stop a running rewrite.
func (a *AOF) Disable() {
	if a.state == Off {
		return
	}
	a.killRewrite()
	if ap := a.uninstall(); ap != nil {
		if err := ap.Close(); err != nil {
			a.o.Log.Warn("Fail to fsync the AOF file", "err", err)
		}
	}
	a.state = Off
	a.Scheduled = false
}

// ErrRewriteRunning is BGREWRITEAOF's refusal while one runs.
var ErrRewriteRunning = errors.New("Background append only file rewriting already in progress")

// RewriteRunning reports whether a rewrite is in progress.
func (a *AOF) RewriteRunning() bool { return a.rw != nil }

// RewriteElapsed is how long the running rewrite has taken, -1 if none.
func (a *AOF) RewriteElapsed() int64 {
	if a.rw == nil {
		return -1
	}
	return int64(time.Since(a.rw.start).Seconds())
}

// RewriteProgress is keys written and keys at the start of the running rewrite.
func (a *AOF) RewriteProgress() (done, total int64) {
	if a.rw == nil {
		return 0, 0
	}
	return a.rw.base.Progress()
}

// StartRewrite is rewriteAppendOnlyFileBackground. At this one instant, with the lock
// held, a new incremental file starts receiving writes and a snapshot of the
// keyspace is taken; a goroutine writes the snapshot as the new base, and
// rewriteDone switches the manifest. Base + new incr is then every write.
func (a *AOF) StartRewrite() error {
	if a.rw != nil {
		return ErrRewriteRunning
	}
	if err := os.MkdirAll(a.o.Dir, 0o755); err != nil {
		a.LastRewriteOK = false
		return fmt.Errorf("can't open or create append-only dir %s: %w", a.o.Dir, err)
	}
	preamble := a.o.Preamble()
	base, err := StartBase(a.e, preamble, a.o.RDB())
	if err != nil {
		return err
	}
	if err := a.openNewIncr(); err != nil {
		base.Abort()
		a.LastRewriteOK = false
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	job := &rewriteJob{base: base, cancel: cancel, done: make(chan struct{}), start: time.Now(), preamble: preamble, tmp: a.tempName("bg")}
	a.rw = job
	a.Rewrites++
	a.Scheduled = false
	a.o.Log.Info("Background append only file rewriting started")
	go func() {
		defer close(job.done)
		tmp := filepath.Join(a.o.Dir, job.tmp)
		err := writeSynced(tmp, func(w io.Writer) error {
			_, err := base.WriteTo(ctx, w)
			return err
		})
		a.e.Lock()
		a.rewriteDone(job, err)
		a.e.Unlock()
	}()
	return nil
}

// openNewIncr is openNewIncrAofForAppend: under On, a new incremental file listed in
// the manifest at once; under WaitRewrite, the temporary one, renamed when the
// rewrite succeeds.
func (a *AOF) openNewIncr() error {
	if a.state == Off {
		return nil
	}
	var m *Manifest
	var name string
	if a.state == WaitRewrite {
		name = TempIncrName(a.o.Filename)
	} else {
		m = a.m.Clone()
		name = m.NewIncr(a.o.Filename)
	}
	f, err := os.OpenFile(filepath.Join(a.o.Dir, name), os.O_WRONLY|os.O_TRUNC|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("can't open the append-only file %s: %w", name, err)
	}
	if m != nil {
		if err := WriteManifest(a.o.Dir, a.o.Filename, m); err != nil {
			f.Close()
			os.Remove(filepath.Join(a.o.Dir, name))
			return err
		}
	}
	a.o.Log.Info("Creating AOF incr file " + name + " on background rewrite")
	if ap := a.app.Load(); ap != nil {
		if err := ap.Rotate(f); err != nil {
			a.o.Log.Warn("error flushing the previous AOF incr file", "err", err)
		}
	} else {
		a.install(NewAppender(f, 0, a.o.Fsync))
	}
	if m != nil {
		a.m = m
	}
	return nil
}

func newBufWriter(w io.Writer) *bufio.Writer { return bufio.NewWriterSize(w, 1<<20) }

// writeSynced writes path and fsyncs it (the caller renames it into place).
func writeSynced(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	bw := newBufWriter(f)
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
	return err
}

// rewriteDone is backgroundRewriteDoneHandler. Lock held.
func (a *AOF) rewriteDone(job *rewriteJob, err error) {
	if a.rw != job {
		os.Remove(filepath.Join(a.o.Dir, job.tmp))
		return
	}
	a.rw = nil
	a.LastRewriteSecs = int64(time.Since(job.start).Seconds())
	if err == nil {
		err = a.switchToRewritten(job)
	}
	switch {
	case err == nil:
		a.LastRewriteOK = true
		a.ConsecutiveFailures = 0
		a.retryDelay = 0
		a.o.Log.Info("Background AOF rewrite finished successfully")
		return
	case job.killed:
		a.o.Log.Warn("Background AOF rewrite stopped")
	default:
		a.LastRewriteOK = false
		a.ConsecutiveFailures++
		a.o.Log.Warn("Background AOF rewrite terminated with error", "err", err)
	}
	os.Remove(filepath.Join(a.o.Dir, job.tmp))
	if a.state == WaitRewrite {
		if ap := a.uninstall(); ap != nil {
			ap.Close()
		}
		os.Remove(filepath.Join(a.o.Dir, TempIncrName(a.o.Filename)))
		a.Scheduled = true
	}
}

func (a *AOF) switchToRewritten(job *rewriteJob) error {
	m := a.m.Clone()
	baseName := m.NewBase(a.o.Filename, job.preamble)
	basePath := filepath.Join(a.o.Dir, baseName)
	if err := os.Rename(filepath.Join(a.o.Dir, job.tmp), basePath); err != nil {
		return fmt.Errorf("renaming the temporary AOF base file into %s: %w", baseName, err)
	}
	var incrPath string
	if a.state == WaitRewrite {
		name := m.NewIncr(a.o.Filename)
		incrPath = filepath.Join(a.o.Dir, name)
		if err := os.Rename(filepath.Join(a.o.Dir, TempIncrName(a.o.Filename)), incrPath); err != nil {
			os.Remove(basePath)
			return fmt.Errorf("renaming the temporary AOF incr file into %s: %w", name, err)
		}
	}
	m.RewrittenIncrToHistory(a.app.Load() != nil)
	if err := WriteManifest(a.o.Dir, a.o.Filename, m); err != nil {
		os.Remove(basePath)
		if incrPath != "" {
			os.Remove(incrPath)
		}
		return err
	}
	a.m = m
	if a.state != Off {
		var size int64
		if st, err := os.Stat(basePath); err == nil {
			size = st.Size()
		}
		if ap := a.app.Load(); ap != nil {
			size += ap.IncrSize()
		}
		a.CurrentSize.Store(size)
		a.BaseSize = size
	}
	if err := a.DeleteHistory(); err != nil {
		a.o.Log.Warn("removing AOF history files", "err", err)
	}
	if a.state == WaitRewrite {
		a.state = On
	}
	return nil
}

// killRewrite stops a running rewrite (killAppendOnlyChild). Lock held.
func (a *AOF) killRewrite() {
	job := a.rw
	if job == nil {
		return
	}
	job.killed = true
	job.cancel()
	job.base.Abort()
	a.rewriteDone(job, context.Canceled)
}

// Cron is the AOF part of serverCron. Lock held: a scheduled rewrite starts once no
// snapshot runs, and an automatic one when the AOF grew by auto-aof-rewrite-percentage
// over its size after the last rewrite and exceeds minSize.
func (a *AOF) Cron(percentage, minSize int64) {
	if a.rw != nil || a.e.SnapshotRunning() {
		return
	}
	if a.Scheduled && !a.limited() {
		if err := a.StartRewrite(); err != nil {
			a.o.Log.Warn("scheduled AOF rewrite failed", "err", err)
		}
		return
	}
	cur := a.CurrentSize.Load()
	if a.state == On && percentage > 0 && cur > minSize {
		base := max(a.BaseSize, 1)
		growth := cur*100/base - 100
		if growth >= percentage && !a.limited() {
			a.o.Log.Info(fmt.Sprintf("Starting automatic rewriting of AOF on %d%% growth", growth))
			if err := a.StartRewrite(); err != nil {
				a.o.Log.Warn("automatic AOF rewrite failed", "err", err)
			}
		}
	}
}

// limited is aofRewriteLimited: after three failures in a row, automatic rewrites
// wait 1, 2, 4 ... up to 60 minutes.
func (a *AOF) limited() bool {
	if a.ConsecutiveFailures < 3 {
		a.retryDelay, a.nextRetry = 0, time.Time{}
		return false
	}
	if !a.nextRetry.IsZero() {
		if time.Now().Before(a.nextRetry) {
			return true
		}
		a.nextRetry = time.Time{}
		return false
	}
	a.retryDelay = min(max(2*a.retryDelay, time.Minute), time.Hour)
	a.nextRetry = time.Now().Add(a.retryDelay)
	a.o.Log.Warn(fmt.Sprintf("Background AOF rewrite has repeatedly failed and triggered the limit, will retry in %d minutes", int(a.retryDelay.Minutes())))
	return true
}

// Shutdown flushes and fsyncs the AOF and stops a rewrite, leaving the files as they
// are on disk. Lock held.
func (a *AOF) Shutdown() error {
	a.killRewrite()
	if ap := a.app.Load(); ap != nil {
		return ap.Flush()
	}
	return nil
}

// RewriteDone returns a channel closed when the running rewrite ends, or nil.
func (a *AOF) RewriteDone() <-chan struct{} {
	if a.rw == nil {
		return nil
	}
	return a.rw.done
}
