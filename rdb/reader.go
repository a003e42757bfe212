package rdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Entry is one key as the reader found it.
type Entry struct {
	DB    int
	Key   []byte
	Value Value
	Meta  KeyMeta
	// RDBType is the value's type byte; Offset and Size locate its serialized form
	// (from the first opcode of the key to the end of its value).
	RDBType byte
	Offset  int64
	Size    int64
}

// Handler receives what a Reader finds, in file order. Returning an error stops the
// read with that error. Entry values are freshly allocated and may be kept.
type Handler interface {
	Header(version int) error
	Aux(key, val []byte) error
	SelectDB(db int) error
	ResizeDB(keys, expires uint64) error
	Function(code []byte) error
	Key(e *Entry) error
}

// entryReuser is a Handler that keeps nothing of an Entry but its Value's contents
// past Key: the reader then hands it the same Entry, and a reused key buffer, for
// every key, saving two allocations per key.
type entryReuser interface {
	reusesEntries()
}

// ErrChecksum means the trailer does not match the file's content.
var ErrChecksum = errors.New("checksum mismatch")

// Read parses a whole RDB stream from r, calling h for each item. On corruption it
// returns a *CorruptError naming the offset and what was expected, after h has seen
// everything readable before it.
func Read(r io.Reader, h Handler) error {
	d := NewDecoder(r)
	return d.readFile(h)
}

// readFile is Read on an existing decoder (so DUMP payloads and AOF preambles share it).
func (d *Decoder) readFile(h Handler) error {
	var magic [9]byte
	if err := d.Full(magic[:], "the RDB header \"REDIS00XX\""); err != nil {
		return err
	}
	if string(magic[:5]) != "REDIS" {
		return d.corrupt(0, "expected the RDB header \"REDIS\", found %q", magic[:5])
	}
	ver, err := strconv.Atoi(string(magic[5:]))
	if err != nil || ver < 1 {
		return d.corrupt(5, "expected a 4-digit RDB version, found %q", magic[5:])
	}
	if ver > Version {
		return d.corrupt(5, "RDB version %d is newer than the %d this reader supports", ver, Version)
	}
	if err := h.Header(ver); err != nil {
		return err
	}
	db := 0
	meta := NoMeta
	keyStart := int64(-1)
	var reused *Entry
	if _, ok := h.(entryReuser); ok {
		reused = &Entry{}
	}
	for {
		opOff := d.off
		op, err := d.Byte("an opcode or value type")
		if err != nil {
			return err
		}
		if keyStart < 0 {
			keyStart = opOff
		}
		switch op {
		case opExpireTimeMs:
			t, err := d.Uint64LE("an expire time in ms")
			if err != nil {
				return err
			}
			meta.ExpireMs = int64(t)
			continue
		case opExpireTime:
			t, err := d.Uint32LE("an expire time in seconds")
			if err != nil {
				return err
			}
			meta.ExpireMs = int64(t) * 1000
			continue
		case opIdle:
			n, err := d.Length("an idle time")
			if err != nil {
				return err
			}
			meta.IdleSecs = int64(n)
			continue
		case opFreq:
			b, err := d.Byte("an LFU frequency")
			if err != nil {
				return err
			}
			meta.Freq = int(b)
			continue
		}
		if meta != NoMeta && !isValueType(op) {
			return d.corrupt(opOff, "expected a value type after key metadata, found opcode %d", op)
		}
		switch op {
		case opEOF:
			if ver >= 5 {
				sum := d.crc
				stored, err := d.Uint64LE("the checksum")
				if err != nil {
					return err
				}
				if stored != 0 && stored != sum {
					return fmt.Errorf("offset %d: %w: file says %016x, content is %016x", d.off-8, ErrChecksum, stored, sum)
				}
			}
			return nil
		case opSelectDB:
			n, err := d.Length("a database number")
			if err != nil {
				return err
			}
			if n > 1<<20 {
				return d.corrupt(opOff+1, "database number %d out of range", n)
			}
			db = int(n)
			if err := h.SelectDB(db); err != nil {
				return err
			}
		case opResizeDB:
			a, err := d.Length("the db size hint")
			if err != nil {
				return err
			}
			b, err := d.Length("the expires size hint")
			if err != nil {
				return err
			}
			if err := h.ResizeDB(a, b); err != nil {
				return err
			}
		case opAux:
			k, err := d.String()
			if err != nil {
				return err
			}
			v, err := d.String()
			if err != nil {
				return err
			}
			if err := h.Aux(k, v); err != nil {
				return err
			}
		case opFunction2:
			code, err := d.String()
			if err != nil {
				return err
			}
			if err := h.Function(code); err != nil {
				return err
			}
		case opFunction:
			return d.corrupt(opOff, "pre-release function format of Redis 7.0 rc1/rc2 is not supported")
		case opModuleAux:
			return d.corrupt(opOff, "module data is not supported (RDB_OPCODE_MODULE_AUX)")
		default:
			if !isValueType(op) {
				return d.corrupt(opOff, "unknown opcode or value type %d", op)
			}
			var e *Entry
			if reused != nil {
				key, err := d.appendString(reused.Key[:0])
				if err != nil {
					return err
				}
				e = reused
				*e = Entry{DB: db, Key: key, Meta: meta, RDBType: op, Offset: keyStart}
			} else {
				key, err := d.String()
				if err != nil {
					return err
				}
				e = &Entry{DB: db, Key: key, Meta: meta, RDBType: op, Offset: keyStart}
			}
			if err := d.readValue(op, &e.Value); err != nil {
				return err
			}
			e.Size = d.off - keyStart
			if err := h.Key(e); err != nil {
				return err
			}
		}
		meta = NoMeta
		keyStart = -1
	}
}

func isValueType(t byte) bool { return t <= 7 || (t >= 9 && t <= 19) }

// readValue decodes a value of RDB type t into v.
func (d *Decoder) readValue(t byte, v *Value) error {
	start := d.off
	count := func(what string) (int, error) {
		n, err := d.Length(what)
		if err != nil {
			return 0, err
		}
		// Every element takes at least one byte, so a count above the allocation bound is
		// corrupt; checking here keeps a bad count from reserving huge slices.
		if n > d.MaxAlloc {
			return 0, d.corrupt(start, "%s %d exceeds the limit", what, n)
		}
		return int(n), nil
	}
	switch t {
	case TypeString:
		s, err := d.String()
		if err != nil {
			return err
		}
		*v = Value{Kind: KindString, Str: s, Encoding: "raw"}
		if _, ok := parseCanonicalInt(s); ok {
			v.Encoding = "int"
		}
	case TypeList, TypeSet:
		n, err := count("an element count")
		if err != nil {
			return err
		}
		elems := make([][]byte, 0, min(n, 1<<16))
		for i := 0; i < n; i++ {
			s, err := d.String()
			if err != nil {
				return err
			}
			elems = append(elems, s)
		}
		if t == TypeList {
			*v = Value{Kind: KindList, List: elems, Encoding: "quicklist"}
		} else {
			*v = Value{Kind: KindSet, Set: elems, Encoding: "hashtable"}
		}
	case TypeZSet, TypeZSet2:
		n, err := count("a sorted set size")
		if err != nil {
			return err
		}
		zs := make([]ZMember, 0, min(n, 1<<16))
		for i := 0; i < n; i++ {
			m, err := d.String()
			if err != nil {
				return err
			}
			var f float64
			if t == TypeZSet2 {
				f, err = d.Double()
			} else {
				f, err = d.OldDouble()
			}
			if err != nil {
				return err
			}
			zs = append(zs, ZMember{Member: m, Score: f})
		}
		if t == TypeZSet2 {
			// Redis 5+ writes skiplists from the highest score down; restore ascending order.
			for i, j := 0, len(zs)-1; i < j; i, j = i+1, j-1 {
				zs[i], zs[j] = zs[j], zs[i]
			}
		}
		*v = Value{Kind: KindZSet, ZSet: zs, Encoding: "skiplist"}
	case TypeHash:
		n, err := count("a hash size")
		if err != nil {
			return err
		}
		h := make([][2][]byte, 0, min(n, 1<<16))
		for i := 0; i < n; i++ {
			f, err := d.String()
			if err != nil {
				return err
			}
			val, err := d.String()
			if err != nil {
				return err
			}
			h = append(h, [2][]byte{f, val})
		}
		*v = Value{Kind: KindHash, Hash: h, Encoding: "hashtable"}
	case TypeSetIntset:
		b, err := d.String()
		if err != nil {
			return err
		}
		ints, err := DecodeIntset(b)
		if err != nil {
			return d.corrupt(start, "%v", err)
		}
		*v = Value{Kind: KindSet, Ints: ints, Encoding: "intset"}
	case TypeHashListpack, TypeHashZiplist, TypeZSetListpack, TypeZSetZiplist, TypeListZiplist:
		b, err := d.String()
		if err != nil {
			return err
		}
		var entries []ListpackEntry
		collect := func(e ListpackEntry) error {
			entries = append(entries, ListpackEntry{Str: e.Str, Int: e.Int, IsInt: e.IsInt})
			return nil
		}
		enc := "listpack"
		if t == TypeHashListpack || t == TypeZSetListpack {
			err = DecodeListpack(b, collect)
		} else {
			enc = "ziplist"
			err = DecodeZiplist(b, collect)
		}
		if err != nil {
			return d.corrupt(start, "%v", err)
		}
		switch t {
		case TypeListZiplist:
			*v = Value{Kind: KindList, Encoding: "quicklist"}
			for _, e := range entries {
				v.List = append(v.List, e.Bytes())
			}
		case TypeHashListpack, TypeHashZiplist:
			if len(entries)%2 != 0 {
				return d.corrupt(start, "hash %s has an odd number of entries", enc)
			}
			*v = Value{Kind: KindHash, Encoding: "listpack"}
			for i := 0; i < len(entries); i += 2 {
				v.Hash = append(v.Hash, [2][]byte{entries[i].Bytes(), entries[i+1].Bytes()})
			}
		default:
			if len(entries)%2 != 0 {
				return d.corrupt(start, "sorted set %s has an odd number of entries", enc)
			}
			*v = Value{Kind: KindZSet, Encoding: "listpack"}
			for i := 0; i < len(entries); i += 2 {
				sc := entries[i+1]
				score := float64(sc.Int)
				if !sc.IsInt {
					f, err := strconv.ParseFloat(string(sc.Str), 64)
					if err != nil {
						return d.corrupt(start, "sorted set score %q is not a number", sc.Str)
					}
					score = f
				}
				v.ZSet = append(v.ZSet, ZMember{Member: entries[i].Bytes(), Score: score})
			}
		}
	case TypeHashZipmap:
		b, err := d.String()
		if err != nil {
			return err
		}
		*v = Value{Kind: KindHash, Encoding: "listpack"}
		if err := DecodeZipmap(b, func(f, val []byte) error {
			v.Hash = append(v.Hash, [2][]byte{append([]byte(nil), f...), append([]byte(nil), val...)})
			return nil
		}); err != nil {
			return d.corrupt(start, "%v", err)
		}
	case TypeListQuicklist, TypeListQuicklist2:
		n, err := count("a quicklist node count")
		if err != nil {
			return err
		}
		*v = Value{Kind: KindList, Encoding: "quicklist"}
		for i := 0; i < n; i++ {
			container := uint64(quicklistPacked)
			if t == TypeListQuicklist2 {
				if container, err = d.Length("a quicklist container type"); err != nil {
					return err
				}
				if container != quicklistPacked && container != quicklistPlain {
					return d.corrupt(d.off-1, "expected quicklist container 1 or 2, found %d", container)
				}
			}
			nodeOff := d.off
			b, err := d.String()
			if err != nil {
				return err
			}
			if container == quicklistPlain {
				v.List = append(v.List, b)
				continue
			}
			add := func(e ListpackEntry) error {
				v.List = append(v.List, e.Bytes())
				return nil
			}
			if t == TypeListQuicklist2 {
				err = DecodeListpack(b, add)
			} else {
				err = DecodeZiplist(b, add)
			}
			if err != nil {
				return d.corrupt(nodeOff, "quicklist node: %v", err)
			}
		}
	case TypeStreamListpacks, TypeStreamListpacks2:
		return d.corrupt(start-1, "stream values are not supported yet (RDB type %d)", t)
	case TypeModule, TypeModule2:
		return d.corrupt(start-1, "module values are not supported (RDB type %d)", t)
	default:
		return d.corrupt(start-1, "unknown value type %d", t)
	}
	return nil
}

// ReadValue decodes one value of RDB type t from b (a DUMP payload without its trailer).
func ReadValue(t byte, b []byte) (Value, error) {
	d := NewDecoder(bytesReader(b))
	var v Value
	err := d.readValue(t, &v)
	return v, err
}

// DumpPayload serializes v as DUMP does: type, value, RDB version, CRC64.
func DumpPayload(v *Value) []byte {
	var buf writeBuffer
	w := &Writer{e: NewEncoder(&buf, true), ListNodeBytes: 8 << 10}
	w.writeValueNoKey(v)
	w.e.Raw([]byte{Version, 0})
	crc := w.e.CRC()
	_ = w.e.Flush()
	w.e.release()
	return binary.LittleEndian.AppendUint64(buf.b, crc)
}

// lzfMaxExpansion bounds how many times larger LZF data can become (264 / 3, rounded
// up with room for the literal runs around the references).
const lzfMaxExpansion = 90

// ParseDumpPayload checks a DUMP payload's version and checksum and decodes it, with
// Redis's RESTORE error text on failure.
func ParseDumpPayload(p []byte) (Value, error) {
	bad := errors.New("DUMP payload version or checksum are wrong")
	if len(p) < 11 {
		return Value{}, bad
	}
	body := p[:len(p)-8]
	ver := binary.LittleEndian.Uint16(p[len(p)-10:])
	if ver > Version {
		return Value{}, bad
	}
	if stored := binary.LittleEndian.Uint64(p[len(p)-8:]); stored != 0 && stored != CRC64(0, body) {
		return Value{}, bad
	}
	d := NewDecoder(bytesReader(p[1 : len(p)-10]))
	// No length in a valid payload exceeds what its bytes can describe: LZF, the
	// best-compressing part, expands a 3-byte back-reference to at most 264 bytes.
	d.MaxAlloc = uint64(len(p)) * lzfMaxExpansion
	if !isValueType(p[0]) {
		return Value{}, errors.New("Bad data format")
	}
	var v Value
	if err := d.readValue(p[0], &v); err != nil || d.off != int64(len(p)-11) {
		return Value{}, errors.New("Bad data format")
	}
	return v, nil
}
