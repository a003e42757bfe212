package aof

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"kv/engine"
	"kv/rdb"
	"kv/resp"
)

// countingReader counts the bytes read from the file, so the offset of what a
// bufio.Reader on top has handed out is count - Buffered().
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// openAOF opens one AOF file for reading and tells whether it starts with an RDB
// preamble ("REDIS").
func openAOF(r io.Reader) (*bufio.Reader, *countingReader, bool) {
	cr := &countingReader{r: r}
	br := bufio.NewReaderSize(cr, 64<<10)
	sig, _ := br.Peek(5)
	return br, cr, string(sig) == "REDIS"
}

// nopHandler validates an RDB preamble without keeping anything.
type nopHandler struct{}

func (nopHandler) Header(int) error           { return nil }
func (nopHandler) Aux(_, _ []byte) error      { return nil }
func (nopHandler) SelectDB(int) error         { return nil }
func (nopHandler) ResizeDB(_, _ uint64) error { return nil }
func (nopHandler) Function([]byte) error      { return nil }
func (nopHandler) Key(*rdb.Entry) error       { return nil }

// FileReport is what checking one file found.
type FileReport struct {
	File     string
	Size     int64
	Preamble bool // starts with an RDB snapshot
	// PreambleEnd is the offset where the commands after the preamble begin.
	PreambleEnd int64
	Commands    int64
	// ValidUpTo is the end of the last whole command (outside any unfinished
	// MULTI): everything before it loads. It equals Size when Err is nil.
	ValidUpTo int64
	// Err is the first problem: an *Error for the command part, or the RDB reader's
	// error for the preamble.
	Err error
}

// CheckFile scans an AOF file (base or incremental) without loading it, as
// redis-check-aof does: RDB preamble, then commands, with MULTI/EXEC balanced.
func CheckFile(path string) FileReport {
	rep := FileReport{File: filepath.Base(path)}
	f, err := os.Open(path)
	if err != nil {
		rep.Err = err
		return rep
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil {
		rep.Size = st.Size()
	}
	br, cr, preamble := openAOF(f)
	if preamble {
		rep.Preamble = true
		if err := rdb.Read(br, nopHandler{}); err != nil {
			rep.Err = fmt.Errorf("%s: RDB preamble: %w", rep.File, err)
			return rep
		}
		rep.PreambleEnd = cr.n - int64(br.Buffered())
		rep.ValidUpTo = rep.PreambleEnd
	}
	r := NewReader(br, rep.File, rep.PreambleEnd)
	multiAt := int64(-1)
	for {
		args, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var ae *Error
			if errors.As(err, &ae) && multiAt >= 0 {
				ae.ValidUpTo = multiAt
			}
			rep.ValidUpTo = validUpTo(err, rep.ValidUpTo)
			rep.Err = err
			return rep
		}
		rep.Commands++
		switch {
		case engine.EqualFold(args[0], "multi"):
			if multiAt >= 0 {
				rep.Err = &Error{File: rep.File, Offset: r.CommandStart(), Expected: "EXEC before another MULTI", ValidUpTo: multiAt}
				rep.ValidUpTo = multiAt
				return rep
			}
			multiAt = r.CommandStart()
		case engine.EqualFold(args[0], "exec"):
			if multiAt < 0 {
				rep.Err = &Error{File: rep.File, Offset: r.CommandStart(), Expected: "MULTI before EXEC", ValidUpTo: r.CommandStart()}
				rep.ValidUpTo = r.CommandStart()
				return rep
			}
			multiAt = -1
		}
		if multiAt < 0 {
			rep.ValidUpTo = r.Offset()
		}
	}
	if multiAt >= 0 {
		rep.Err = &Error{File: rep.File, Offset: rep.Size, Expected: fmt.Sprintf("EXEC for the MULTI at offset %d", multiAt), Truncated: true, ValidUpTo: multiAt}
		rep.ValidUpTo = multiAt
	}
	return rep
}

func validUpTo(err error, def int64) int64 {
	var ae *Error
	if errors.As(err, &ae) {
		return ae.ValidUpTo
	}
	return def
}

// LoadOptions say how to load an AOF.
type LoadOptions struct {
	// Truncated is aof-load-truncated: a torn tail of the last file is cut off (the
	// file is truncated there) and the rest loads; otherwise loading fails.
	Truncated bool
	Logger    *slog.Logger
}

// LoadStats describe a finished load.
type LoadStats struct {
	Files      int
	Commands   int64
	Keys       int64 // keys loaded from RDB preambles
	TotalSize  int64 // base + incr files, after any truncation
	BaseSize   int64
	Truncated  int64 // bytes cut from a torn tail
	TruncateAt int64
}

// ErrNoAOF means the manifest names no files: there is nothing to load.
var ErrNoAOF = errors.New("no AOF files in the manifest")

// Load replays the AOF of dir (with manifest m) into e: the base, then each
// incremental file. The engine lock must be held and no propagator installed, so
// the replay writes nothing back. A truncated tail is only forgiven in the last file.
func Load(e *engine.Engine, dir string, m *Manifest, o LoadOptions) (LoadStats, error) {
	var st LoadStats
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if m.Empty() {
		return st, ErrNoAOF
	}
	var files []FileInfo
	if m.Base != nil {
		files = append(files, *m.Base)
	}
	files = append(files, m.Incr...)
	for _, fi := range files {
		if _, err := os.Stat(filepath.Join(dir, fi.Name)); err != nil {
			return st, fmt.Errorf("the AOF file %s named in the manifest: %w", fi.Name, err)
		}
	}
	x := NewExecutor(e)
	for i, fi := range files {
		last := i == len(files)-1
		n, size, err := x.loadFile(filepath.Join(dir, fi.Name), fi.Name, last && o.Truncated, o.Logger, &st)
		st.Commands += n
		st.TotalSize += size
		if fi.Type == TypeBase {
			st.BaseSize = size
		}
		st.Files++
		if err != nil {
			return st, err
		}
	}
	return st, nil
}

// loadFile replays one file. On a torn tail with allowTrunc it truncates the file to
// the last whole command, as Redis does, and reports how much was dropped.
func (x *Executor) loadFile(path, name string, allowTrunc bool, log *slog.Logger, st *LoadStats) (int64, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	fst, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	size := fst.Size()
	if size == 0 {
		return 0, 0, nil
	}
	br, cr, preamble := openAOF(f)
	var base int64
	if preamble {
		ls, err := rdb.Load(br, x.e, rdb.LoadOptions{Master: !x.e.Replica})
		if err != nil {
			return 0, size, fmt.Errorf("%s: reading the RDB base: %w", name, err)
		}
		st.Keys += ls.Keys
		base = cr.n - int64(br.Buffered())
	}
	r := NewReader(br, name, base)
	var n int64
	validBeforeMulti := int64(-1)
	for {
		args, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return x.torn(path, name, size, err, allowTrunc, validBeforeMulti, log, st, n)
		}
		if engine.EqualFold(args[0], "multi") {
			validBeforeMulti = r.CommandStart()
		}
		if err := x.Run(args); err != nil {
			return n, size, fmt.Errorf("%s at offset %d: %w", name, r.CommandStart(), err)
		}
		n++
		if !x.InMulti() {
			validBeforeMulti = -1
		}
	}
	if x.InMulti() {
		// A transaction without its EXEC is a torn tail too: it is dropped whole.
		x.Discard()
		err := &Error{File: name, Offset: size, Expected: "EXEC closing the transaction", Truncated: true, ValidUpTo: validBeforeMulti}
		log.Warn("Revert incomplete MULTI/EXEC transaction in AOF file " + name)
		return x.torn(path, name, size, err, allowTrunc, validBeforeMulti, log, st, n)
	}
	return n, size, nil
}

func (x *Executor) torn(path, name string, size int64, err error, allowTrunc bool, validBeforeMulti int64, log *slog.Logger, st *LoadStats, n int64) (int64, int64, error) {
	var ae *Error
	if !errors.As(err, &ae) || !ae.Truncated {
		return n, size, fmt.Errorf("bad file format reading the append only file: %w (make a backup, then use kv aof check --fix)", err)
	}
	at := ae.ValidUpTo
	if validBeforeMulti >= 0 {
		at = validBeforeMulti
	}
	x.Discard()
	if !allowTrunc {
		return n, size, fmt.Errorf("%w; the last whole command ends at offset %d: run kv aof check --fix, or set aof-load-truncated yes", err, at)
	}
	if terr := os.Truncate(path, at); terr != nil {
		return n, size, fmt.Errorf("%w; truncating it at offset %d failed: %v", err, at, terr)
	}
	st.Truncated = size - at
	st.TruncateAt = at
	log.Warn(fmt.Sprintf("!!! Warning: short read while loading the AOF file %s!!!", name))
	log.Warn(fmt.Sprintf("!!! Truncating the AOF %s at offset %d, dropping %d bytes !!!", name, at, size-at))
	log.Warn(fmt.Sprintf("AOF %s loaded anyway because aof-load-truncated is enabled", name))
	return n, at, nil
}

// Executor runs AOF commands against an engine as Redis's fake AOF client: replies
// are discarded, nothing blocks, expired keys stay visible as for a master link, and
// MULTI ... EXEC is queued and run at EXEC. The engine lock must be held.
type Executor struct {
	e      *engine.Engine
	ctx    *engine.Ctx
	w      *resp.Writer
	queued [][][]byte
	multi  bool
}

// NewExecutor prepares a fake client on e.
func NewExecutor(e *engine.Engine) *Executor {
	w := resp.NewWriter()
	ctx := e.NewCtx(w, nil)
	ctx.FromMaster = true
	ctx.DenyBlocking = true
	return &Executor{e: e, ctx: ctx, w: w}
}

// InMulti reports whether a MULTI is waiting for its EXEC.
func (x *Executor) InMulti() bool { return x.multi }

// Discard drops a pending transaction.
func (x *Executor) Discard() { x.multi, x.queued = false, nil }

// Run applies one command. Only an unknown command is an error (as in Redis, which
// refuses to load such a file); a command that fails is ignored like Redis ignores
// the fake client's error replies.
func (x *Executor) Run(args [][]byte) error {
	switch {
	case engine.EqualFold(args[0], "multi"):
		x.multi, x.queued = true, x.queued[:0]
		return nil
	case engine.EqualFold(args[0], "exec"):
		if !x.multi {
			return nil
		}
		q := x.queued
		x.multi, x.queued = false, nil
		x.ctx.FixTime(x.e.NowMs())
		defer x.ctx.UnfixTime()
		for _, a := range q {
			if err := x.exec(a); err != nil {
				return err
			}
		}
		return nil
	}
	if x.multi {
		if _, err := x.lookup(args); err != nil {
			return err
		}
		x.queued = append(x.queued, args)
		return nil
	}
	return x.exec(args)
}

func (x *Executor) lookup(args [][]byte) (*engine.Command, error) {
	if engine.EqualFold(args[0], "select") {
		return nil, nil
	}
	cmd := x.e.Commands().Lookup(args[0])
	if cmd == nil {
		return nil, fmt.Errorf("unknown command '%s' in the append only file", strings.ToValidUTF8(string(args[0]), "?"))
	}
	if len(cmd.Subcommands) > 0 && len(args) >= 2 {
		if sub := cmd.LookupSub(args[1]); sub != nil && sub.Handler != nil {
			cmd = sub
		}
	}
	return cmd, nil
}

func (x *Executor) exec(args [][]byte) error {
	if engine.EqualFold(args[0], "select") {
		if len(args) == 2 {
			if n, ok := engine.ParseInt(args[1]); ok {
				if db := x.e.DB(int(n)); db != nil {
					x.ctx.DB = db
					return nil
				}
			}
		}
		return fmt.Errorf("invalid SELECT %q in the append only file", bytes.Join(args[1:], []byte(" ")))
	}
	cmd, err := x.lookup(args)
	if err != nil {
		return err
	}
	if cmd.Handler == nil || !cmd.ArityOK(len(args)) {
		return nil
	}
	x.ctx.Cmd, x.ctx.Args = cmd, args
	x.e.Exec(x.ctx)
	x.w.Reset()
	return nil
}
