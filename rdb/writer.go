package rdb

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Writer writes an RDB file as a stream: header, aux fields, then databases and keys in
// any order the caller chooses, then the EOF opcode and checksum. It never seeks, so it
// can write straight to a replica's socket.
type Writer struct {
	e *Encoder
	// ListNodeBytes bounds the listpack nodes of lists (list-max-listpack-size, as bytes).
	ListNodeBytes int
	// NoChecksum writes a zero trailer, as Redis does with rdbchecksum off; loaders
	// then skip the check.
	NoChecksum bool
}

// NewWriter writes the header to w. compress is rdbcompression.
func NewWriter(w io.Writer, compress bool) *Writer {
	wr := &Writer{e: NewEncoder(w, compress), ListNodeBytes: 8 << 10}
	wr.e.Raw([]byte(fmt.Sprintf("REDIS%04d", Version)))
	return wr
}

// Aux writes an auxiliary field.
func (w *Writer) Aux(key, val string) {
	w.e.Byte(opAux)
	w.e.String([]byte(key))
	w.e.String([]byte(val))
}

// AuxInt writes an auxiliary field whose value is an integer (stored as a string, which
// the string encoder turns into an integer encoding when it fits, as Redis does).
func (w *Writer) AuxInt(key string, v int64) { w.Aux(key, strconv.FormatInt(v, 10)) }

// Function writes a function library's code (RDB_OPCODE_FUNCTION2).
func (w *Writer) Function(code []byte) {
	w.e.Byte(opFunction2)
	w.e.String(code)
}

// SelectDB starts database n, with the sizes as a hint for the loader.
func (w *Writer) SelectDB(n int, keys, expires uint64) {
	w.e.Byte(opSelectDB)
	w.e.Len(uint64(n))
	w.e.Byte(opResizeDB)
	w.e.Len(keys)
	w.e.Len(expires)
}

// KeyMeta is what precedes a key: its expiry (Unix ms, -1 none) and the eviction hint
// (idle seconds for LRU policies or the LFU counter), -1 when not written.
type KeyMeta struct {
	ExpireMs int64
	IdleSecs int64
	Freq     int
}

// NoMeta is a key with no expiry and no eviction hints.
var NoMeta = KeyMeta{ExpireMs: -1, IdleSecs: -1, Freq: -1}

// Key writes one key and its value.
func (w *Writer) Key(key []byte, v *Value, m KeyMeta) {
	if m.ExpireMs >= 0 {
		w.e.Byte(opExpireTimeMs)
		w.e.Uint64LE(uint64(m.ExpireMs))
	}
	if m.IdleSecs >= 0 {
		w.e.Byte(opIdle)
		w.e.Len(uint64(m.IdleSecs))
	}
	if m.Freq >= 0 {
		w.e.Byte(opFreq)
		w.e.Byte(byte(m.Freq))
	}
	w.writeValue(key, v)
}

// stringKey is Key for a string value given as its bytes.
func (w *Writer) stringKey(key, val []byte, m KeyMeta) {
	if m.ExpireMs >= 0 {
		w.e.Byte(opExpireTimeMs)
		w.e.Uint64LE(uint64(m.ExpireMs))
	}
	w.e.Byte(TypeString)
	w.e.String(key)
	w.e.String(val)
}

// writeValue writes type, key and value in the encoding Redis 7.0 would choose for an
// object encoded as v.Encoding.
func (w *Writer) writeValue(key []byte, v *Value) { w.value(key, v, true) }

// writeValueNoKey writes type and value (a DUMP payload).
func (w *Writer) writeValueNoKey(v *Value) { w.value(nil, v, false) }

func (w *Writer) value(key []byte, v *Value, withKey bool) {
	e := w.e
	e.withKey = withKey
	switch v.Kind {
	case KindString:
		e.Byte(TypeString)
		e.key(key)
		e.String(v.Str)
	case KindList:
		e.Byte(TypeListQuicklist2)
		e.key(key)
		w.quicklist(v.List)
	case KindSet:
		if v.Ints != nil {
			e.Byte(TypeSetIntset)
			e.key(key)
			e.String(EncodeIntset(v.Ints))
			return
		}
		e.Byte(TypeSet)
		e.key(key)
		e.Len(uint64(len(v.Set)))
		for _, m := range v.Set {
			e.String(m)
		}
	case KindHash:
		if v.Encoding == "listpack" {
			e.Byte(TypeHashListpack)
			e.key(key)
			b := NewListpackBuilder()
			for _, fv := range v.Hash {
				b.Add(fv[0])
				b.Add(fv[1])
			}
			e.String(b.Bytes())
			return
		}
		e.Byte(TypeHash)
		e.key(key)
		e.Len(uint64(len(v.Hash)))
		for _, fv := range v.Hash {
			e.String(fv[0])
			e.String(fv[1])
		}
	case KindZSet:
		if v.Encoding == "listpack" {
			e.Byte(TypeZSetListpack)
			e.key(key)
			b := NewListpackBuilder()
			for _, m := range v.ZSet {
				b.Add(m.Member)
				b.Add(formatScore(m.Score))
			}
			e.String(b.Bytes())
			return
		}
		e.Byte(TypeZSet2)
		e.key(key)
		e.Len(uint64(len(v.ZSet)))
		// Redis writes from the highest score down, so loading inserts at the head.
		for i := len(v.ZSet) - 1; i >= 0; i-- {
			e.String(v.ZSet[i].Member)
			e.Double(v.ZSet[i].Score)
		}
	}
}

// quicklist writes list elements as QUICKLIST_2 nodes: listpacks of up to ListNodeBytes,
// and elements too big for a node as plain nodes, as Redis 7.0 does.
func (w *Writer) quicklist(elems [][]byte) {
	type node struct {
		plain []byte
		lp    []byte
	}
	var nodes []node
	var b *ListpackBuilder
	size := 0
	flush := func() {
		if b != nil && b.Len() > 0 {
			nodes = append(nodes, node{lp: b.Bytes()})
		}
		b, size = nil, 0
	}
	for _, el := range elems {
		if len(el) >= w.ListNodeBytes {
			flush()
			nodes = append(nodes, node{plain: el})
			continue
		}
		if b != nil && size+len(el)+11 > w.ListNodeBytes {
			flush()
		}
		if b == nil {
			b = NewListpackBuilder()
		}
		b.Add(el)
		size += len(el) + 11
	}
	flush()
	w.e.Len(uint64(len(nodes)))
	for _, n := range nodes {
		if n.plain != nil {
			w.e.Len(quicklistPlain)
			w.e.String(n.plain)
		} else {
			w.e.Len(quicklistPacked)
			w.e.String(n.lp)
		}
	}
}

// Close writes the EOF opcode and the checksum, and flushes.
func (w *Writer) Close() error {
	w.e.Byte(opEOF)
	crc := w.e.CRC()
	if w.NoChecksum {
		crc = 0
	}
	var t [8]byte
	binary.LittleEndian.PutUint64(t[:], crc)
	w.e.Raw(t[:])
	w.e.release()
	return w.e.Flush()
}

// Flush hands buffered bytes to the underlying writer.
func (w *Writer) Flush() error { return w.e.Flush() }

// Written is the number of bytes produced.
func (w *Writer) Written() int64 { return w.e.Written() }

// Err is the first write error.
func (w *Writer) Err() error { return w.e.Err() }

// formatScore writes a listpack score the way Redis 7.0's d2string does: integral values
// strictly inside ±2^52 as integers, -0 as "-0", infinities as inf/-inf, others %.17g.
func formatScore(f float64) []byte {
	switch {
	case math.IsNaN(f):
		return []byte("nan")
	case math.IsInf(f, 1):
		return []byte("inf")
	case math.IsInf(f, -1):
		return []byte("-inf")
	case f == 0:
		if math.Signbit(f) {
			return []byte("-0")
		}
		return []byte("0")
	case f > -4503599627370495 && f < 4503599627370496 && f == float64(int64(f)):
		return strconv.AppendInt(nil, int64(f), 10)
	}
	return strconv.AppendFloat(nil, f, 'g', 17, 64)
}
