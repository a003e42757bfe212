package rdb

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// Listpack is Redis 7's packed list of strings and integers, the payload of small
// hashes, sorted sets and quicklist nodes in RDB files. Layout: total bytes (uint32),
// element count (uint16, 65535 when too many to count), entries, 0xFF. Each entry is an
// encoding byte, its data, and its own length written backwards (for reverse walks).

const listpackHeaderSize = 6

// ListpackBuilder appends entries to a listpack the way Redis encodes them, so a file
// we write compares byte for byte with Redis's where the values are the same.
type ListpackBuilder struct {
	buf   []byte
	count int
}

// NewListpackBuilder starts an empty listpack.
func NewListpackBuilder() *ListpackBuilder {
	return &ListpackBuilder{buf: make([]byte, listpackHeaderSize, 64)}
}

// Add appends a string; like lpAppend, a string that is a canonical integer is stored
// as an integer.
func (b *ListpackBuilder) Add(s []byte) {
	if len(s) <= 20 {
		if v, ok := parseCanonicalInt(s); ok {
			b.AddInt(v)
			return
		}
	}
	start := len(b.buf)
	n := len(s)
	switch {
	case n < 64:
		b.buf = append(b.buf, 0x80|byte(n))
	case n < 4096:
		b.buf = append(b.buf, 0xE0|byte(n>>8), byte(n))
	default:
		b.buf = append(b.buf, 0xF0, byte(n), byte(n>>8), byte(n>>16), byte(n>>24))
	}
	b.buf = append(b.buf, s...)
	b.backlen(len(b.buf) - start)
}

// AddInt appends an integer in the smallest encoding that holds it.
func (b *ListpackBuilder) AddInt(v int64) {
	start := len(b.buf)
	switch {
	case v >= 0 && v <= 127:
		b.buf = append(b.buf, byte(v))
	case v >= -4096 && v <= 4095:
		u := uint64(v) & (1<<13 - 1)
		b.buf = append(b.buf, 0xC0|byte(u>>8), byte(u))
	case v >= -32768 && v <= 32767:
		b.buf = append(b.buf, 0xF1, byte(v), byte(v>>8))
	case v >= -8388608 && v <= 8388607:
		b.buf = append(b.buf, 0xF2, byte(v), byte(v>>8), byte(v>>16))
	case v >= -2147483648 && v <= 2147483647:
		b.buf = append(b.buf, 0xF3, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
	default:
		b.buf = append(b.buf, 0xF4)
		b.buf = binary.LittleEndian.AppendUint64(b.buf, uint64(v))
	}
	b.backlen(len(b.buf) - start)
}

func (b *ListpackBuilder) backlen(l int) {
	switch {
	case l <= 127:
		b.buf = append(b.buf, byte(l))
	case l < 16383:
		b.buf = append(b.buf, byte(l>>7), byte(l&127)|128)
	case l < 2097151:
		b.buf = append(b.buf, byte(l>>14), byte(l>>7&127)|128, byte(l&127)|128)
	case l < 268435455:
		b.buf = append(b.buf, byte(l>>21), byte(l>>14&127)|128, byte(l>>7&127)|128, byte(l&127)|128)
	default:
		b.buf = append(b.buf, byte(l>>28), byte(l>>21&127)|128, byte(l>>14&127)|128, byte(l>>7&127)|128, byte(l&127)|128)
	}
	b.count++
}

// Bytes finishes the listpack and returns it; the builder must not be used after.
func (b *ListpackBuilder) Bytes() []byte {
	b.buf = append(b.buf, 0xFF)
	binary.LittleEndian.PutUint32(b.buf, uint32(len(b.buf)))
	n := b.count
	if n > 65535 {
		n = 65535
	}
	binary.LittleEndian.PutUint16(b.buf[4:], uint16(n))
	return b.buf
}

// Len is the number of entries added so far.
func (b *ListpackBuilder) Len() int { return b.count }

// ListpackEntry is one decoded entry: a string, or an integer when IsInt.
type ListpackEntry struct {
	Str   []byte
	Int   int64
	IsInt bool
}

// Bytes returns the entry as a string (formatting integers).
func (e ListpackEntry) Bytes() []byte {
	if e.IsInt {
		return strconv.AppendInt(nil, e.Int, 10)
	}
	return e.Str
}

// DecodeListpack validates lp and calls fn for each entry in order. Strings passed to fn
// alias lp. It fails, naming the offset, on any inconsistency instead of reading past
// the end.
func DecodeListpack(lp []byte, fn func(ListpackEntry) error) error {
	if len(lp) < listpackHeaderSize+1 {
		return fmt.Errorf("listpack: %d bytes is shorter than a header", len(lp))
	}
	total := int(binary.LittleEndian.Uint32(lp))
	if total != len(lp) {
		return fmt.Errorf("listpack: header says %d bytes, payload has %d", total, len(lp))
	}
	declared := int(binary.LittleEndian.Uint16(lp[4:]))
	if lp[len(lp)-1] != 0xFF {
		return fmt.Errorf("listpack: offset %d: expected terminator 0xFF, found 0x%02x", len(lp)-1, lp[len(lp)-1])
	}
	p := listpackHeaderSize
	end := len(lp) - 1
	count := 0
	for p < end {
		start := p
		c := lp[p]
		var e ListpackEntry
		need := func(n int) error {
			if p+n > end {
				return fmt.Errorf("listpack: offset %d: entry needs %d bytes, %d remain", start, n, end-p)
			}
			return nil
		}
		switch {
		case c&0x80 == 0:
			e = ListpackEntry{Int: int64(c & 0x7f), IsInt: true}
			p++
		case c&0xC0 == 0x80:
			n := int(c & 0x3f)
			if err := need(1 + n); err != nil {
				return err
			}
			e.Str = lp[p+1 : p+1+n]
			p += 1 + n
		case c&0xE0 == 0xC0:
			if err := need(2); err != nil {
				return err
			}
			u := uint64(c&0x1f)<<8 | uint64(lp[p+1])
			v := int64(u)
			if u >= 1<<12 {
				v = int64(u) - 1<<13
			}
			e = ListpackEntry{Int: v, IsInt: true}
			p += 2
		case c&0xF0 == 0xE0:
			if err := need(2); err != nil {
				return err
			}
			n := int(c&0x0f)<<8 | int(lp[p+1])
			if err := need(2 + n); err != nil {
				return err
			}
			e.Str = lp[p+2 : p+2+n]
			p += 2 + n
		case c == 0xF0:
			if err := need(5); err != nil {
				return err
			}
			n := int(binary.LittleEndian.Uint32(lp[p+1:]))
			if n < 0 || n > end-p-5 {
				return fmt.Errorf("listpack: offset %d: string of %d bytes overruns the listpack", start, n)
			}
			e.Str = lp[p+5 : p+5+n]
			p += 5 + n
		case c == 0xF1:
			if err := need(3); err != nil {
				return err
			}
			e = ListpackEntry{Int: int64(int16(binary.LittleEndian.Uint16(lp[p+1:]))), IsInt: true}
			p += 3
		case c == 0xF2:
			if err := need(4); err != nil {
				return err
			}
			u := uint32(lp[p+1]) | uint32(lp[p+2])<<8 | uint32(lp[p+3])<<16
			e = ListpackEntry{Int: int64(int32(u<<8) >> 8), IsInt: true}
			p += 4
		case c == 0xF3:
			if err := need(5); err != nil {
				return err
			}
			e = ListpackEntry{Int: int64(int32(binary.LittleEndian.Uint32(lp[p+1:]))), IsInt: true}
			p += 5
		case c == 0xF4:
			if err := need(9); err != nil {
				return err
			}
			e = ListpackEntry{Int: int64(binary.LittleEndian.Uint64(lp[p+1:])), IsInt: true}
			p += 9
		default:
			return fmt.Errorf("listpack: offset %d: unknown entry encoding 0x%02x", start, c)
		}
		// The back-length must encode the entry's size, or reverse walks would break.
		l := p - start
		bl := backlenSize(l)
		if p+bl > end {
			return fmt.Errorf("listpack: offset %d: back-length overruns the listpack", p)
		}
		if got := decodeBacklen(lp[p : p+bl]); got != uint64(l) {
			return fmt.Errorf("listpack: offset %d: back-length %d, entry is %d bytes", p, got, l)
		}
		p += bl
		count++
		if err := fn(e); err != nil {
			return err
		}
	}
	if declared != 65535 && declared != count {
		return fmt.Errorf("listpack: header says %d entries, found %d", declared, count)
	}
	return nil
}

func backlenSize(l int) int {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	default:
		return 5
	}
}

// decodeBacklen reads a back-length stored in b (first byte most significant).
func decodeBacklen(b []byte) uint64 {
	var v uint64
	for i, shift := len(b)-1, 0; i >= 0; i, shift = i-1, shift+7 {
		v |= uint64(b[i]&127) << shift
	}
	return v
}

// parseCanonicalInt accepts what Redis's string2ll accepts: no spaces, no '+', no
// leading zeros, "-0" refused, within int64.
func parseCanonicalInt(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	if len(s) == 1 && s[0] == '0' {
		return 0, true
	}
	if s[0] == '0' || s[0] == '+' || (s[0] == '-' && (len(s) == 1 || s[1] == '0')) {
		return 0, false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && c != '-' {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(string(s), 10, 64)
	return v, err == nil
}
