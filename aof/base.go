package aof

import (
	"context"
	"math"
	"strconv"

	"io"

	"kv/engine"
	"kv/rdb"
)

// itemsPerCmd is AOF_REWRITE_ITEMS_PER_CMD: a collection is rebuilt with variadic
// commands of at most this many elements each.
const itemsPerCmd = 64

// BaseStream is a base file being written from a point-in-time snapshot of the
// engine: an RDB preamble (aof-use-rdb-preamble yes) or the commands Redis's
// rewriteAppendOnlyFileRio writes. Start it with the lock held at the instant the
// new incremental file begins, so base + incr is exactly every write.
type BaseStream struct {
	e     *engine.Engine
	rdbs  *rdb.Stream
	snap  *engine.Snapshot
	buf   []byte
	db    int
	err   error
	slice int
}

// StartBase takes the snapshot. Lock held. WriteTo or Abort must follow.
func StartBase(e *engine.Engine, preamble bool, ro rdb.SaveOptions) (*BaseStream, error) {
	b := &BaseStream{e: e, db: -1, slice: 1000}
	if preamble {
		ro.AOFBase = true
		s, err := rdb.StartStream(e, ro)
		if err != nil {
			return nil, err
		}
		b.rdbs = s
		return b, nil
	}
	snap, err := e.StartSnapshot(b.emit)
	if err != nil {
		return nil, err
	}
	b.snap = snap
	if fs := e.Functions(); fs != nil {
		for _, lib := range fs.Libraries() {
			b.buf = AppendCommand(b.buf, [][]byte{[]byte("FUNCTION"), []byte("LOAD"), []byte(lib.Code)})
		}
	}
	return b, nil
}

// Abort drops the snapshot. Lock held.
func (b *BaseStream) Abort() {
	if b.rdbs != nil {
		b.rdbs.Abort()
	} else {
		b.snap.Abort()
	}
}

// Progress is keys emitted so far and keys at the start. Lock held.
func (b *BaseStream) Progress() (done, total int64) {
	if b.rdbs != nil {
		return b.rdbs.Progress()
	}
	for _, sz := range b.snap.Sizes {
		total += int64(sz[0])
	}
	return b.snap.Emitted, total
}

// WriteTo writes the base to w, taking the engine lock a slice of keys at a time.
// The caller must not hold the lock.
func (b *BaseStream) WriteTo(ctx context.Context, w io.Writer) (int64, error) {
	if b.rdbs != nil {
		st, err := b.rdbs.WriteTo(ctx, w)
		return st.Bytes, err
	}
	var written int64
	var spare []byte
	for {
		b.e.Lock()
		done := b.snap.Step(b.slice)
		cancelled := ctx.Err() != nil
		if cancelled || b.err != nil {
			b.snap.Abort()
		}
		chunk := b.buf
		b.buf = spare[:0]
		b.e.Unlock()
		if cancelled {
			return written, ctx.Err()
		}
		if b.err != nil {
			return written, b.err
		}
		if len(chunk) > 0 {
			if _, err := w.Write(chunk); err != nil {
				b.e.Lock()
				b.snap.Abort()
				b.e.Unlock()
				return written, err
			}
			written += int64(len(chunk))
		}
		spare = chunk
		if done {
			return written, nil
		}
	}
}

// WriteBaseLocked writes a whole base with the lock held throughout (a base made at
// start-up, or offline by kv aof rewrite).
func WriteBaseLocked(e *engine.Engine, w io.Writer, preamble bool, ro rdb.SaveOptions) error {
	if preamble {
		ro.AOFBase = true
		_, err := rdb.SaveLocked(e, w, ro)
		return err
	}
	b, err := StartBase(e, false, ro)
	if err != nil {
		return err
	}
	for !b.snap.Step(1 << 30) {
	}
	if b.err != nil {
		return b.err
	}
	_, err = w.Write(b.buf)
	return err
}

// emit turns one key into the commands that rebuild it. Lock held.
func (b *BaseStream) emit(db int, key []byte, o *engine.Object, expireAt int64) {
	v, err := rdb.ToValue(o)
	if err != nil {
		if b.err == nil {
			b.err = err
		}
		return
	}
	if db != b.db {
		b.buf = AppendSelect(b.buf, db)
		b.db = db
	}
	b.buf = AppendValueCommands(b.buf, key, &v)
	if expireAt >= 0 {
		b.buf = AppendCommand(b.buf, [][]byte{[]byte("PEXPIREAT"), key, strconv.AppendInt(nil, expireAt, 10)})
	}
}

// AppendValueCommands appends the commands rewriteAppendOnlyFileRio uses for one
// value: SET, or RPUSH/SADD/ZADD/HMSET in batches of 64 elements.
func AppendValueCommands(dst, key []byte, v *rdb.Value) []byte {
	var name string
	var items [][]byte
	per := 1
	switch v.Kind {
	case rdb.KindString:
		return AppendCommand(dst, [][]byte{[]byte("SET"), key, v.Str})
	case rdb.KindList:
		name, items = "RPUSH", v.List
	case rdb.KindSet:
		name = "SADD"
		if v.Ints != nil {
			items = make([][]byte, len(v.Ints))
			for i, n := range v.Ints {
				items[i] = strconv.AppendInt(nil, n, 10)
			}
		} else {
			items = v.Set
		}
	case rdb.KindZSet:
		name, per = "ZADD", 2
		items = make([][]byte, 0, 2*len(v.ZSet))
		for _, m := range v.ZSet {
			items = append(items, FormatScore(m.Score), m.Member)
		}
	case rdb.KindHash:
		name, per = "HMSET", 2
		items = make([][]byte, 0, 2*len(v.Hash))
		for _, fv := range v.Hash {
			items = append(items, fv[0], fv[1])
		}
	}
	args := make([][]byte, 0, 2+itemsPerCmd*per)
	for len(items) > 0 {
		n := min(len(items), itemsPerCmd*per)
		args = append(args[:0], []byte(name), key)
		args = append(args, items[:n]...)
		dst = AppendCommand(dst, args)
		items = items[n:]
	}
	return dst
}

// FormatScore is printf("%.17g"), as Redis 7.0's rioWriteBulkDouble.
func FormatScore(d float64) []byte {
	switch {
	case math.IsInf(d, 1):
		return []byte("inf")
	case math.IsInf(d, -1):
		return []byte("-inf")
	case math.IsNaN(d):
		return []byte("nan")
	}
	return strconv.AppendFloat(nil, d, 'g', 17, 64)
}
