package rdb

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// EncodeIntset packs sorted, distinct integers as Redis's intset: encoding width
// (uint32: 2, 4 or 8 bytes), count (uint32), then the values little-endian.
func EncodeIntset(vals []int64) []byte {
	width := 2
	for _, v := range vals {
		switch {
		case v < -2147483648 || v > 2147483647:
			width = 8
		case (v < -32768 || v > 32767) && width < 4:
			width = 4
		}
	}
	out := make([]byte, 8, 8+width*len(vals))
	binary.LittleEndian.PutUint32(out, uint32(width))
	binary.LittleEndian.PutUint32(out[4:], uint32(len(vals)))
	for _, v := range vals {
		switch width {
		case 2:
			out = binary.LittleEndian.AppendUint16(out, uint16(v))
		case 4:
			out = binary.LittleEndian.AppendUint32(out, uint32(v))
		default:
			out = binary.LittleEndian.AppendUint64(out, uint64(v))
		}
	}
	return out
}

// DecodeIntset unpacks an intset, checking its size and that values are sorted and
// distinct (a corrupt intset would otherwise break binary search later).
func DecodeIntset(b []byte) ([]int64, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("intset: %d bytes is shorter than a header", len(b))
	}
	width := int(binary.LittleEndian.Uint32(b))
	n := int(binary.LittleEndian.Uint32(b[4:]))
	if width != 2 && width != 4 && width != 8 {
		return nil, fmt.Errorf("intset: offset 0: expected encoding 2, 4 or 8, found %d", width)
	}
	if n < 0 || len(b)-8 != n*width {
		return nil, fmt.Errorf("intset: header says %d values of %d bytes, payload has %d bytes", n, width, len(b)-8)
	}
	out := make([]int64, n)
	for i := range out {
		p := b[8+i*width:]
		switch width {
		case 2:
			out[i] = int64(int16(binary.LittleEndian.Uint16(p)))
		case 4:
			out[i] = int64(int32(binary.LittleEndian.Uint32(p)))
		default:
			out[i] = int64(binary.LittleEndian.Uint64(p))
		}
		if i > 0 && out[i] <= out[i-1] {
			return nil, fmt.Errorf("intset: offset %d: values not strictly increasing", 8+i*width)
		}
	}
	return out, nil
}

// SortInts sorts values for EncodeIntset.
func SortInts(v []int64) { sort.Slice(v, func(i, j int) bool { return v[i] < v[j] }) }

// DecodeZiplist walks a ziplist, the packed encoding of Redis before 7.0 (RDB types 10,
// 12, 13 and quicklist version 1), calling fn for each entry.
func DecodeZiplist(zl []byte, fn func(ListpackEntry) error) error {
	if len(zl) < 11 {
		return fmt.Errorf("ziplist: %d bytes is shorter than a header", len(zl))
	}
	if int(binary.LittleEndian.Uint32(zl)) != len(zl) {
		return fmt.Errorf("ziplist: header says %d bytes, payload has %d", binary.LittleEndian.Uint32(zl), len(zl))
	}
	declared := int(binary.LittleEndian.Uint16(zl[8:]))
	end := len(zl) - 1
	if zl[end] != 0xFF {
		return fmt.Errorf("ziplist: offset %d: expected terminator 0xFF", end)
	}
	p, count, prevLen := 10, 0, 0
	for p < end {
		start := p
		// Previous entry length: one byte, or 0xFE and four more.
		var pl int
		if zl[p] < 0xFE {
			pl = int(zl[p])
			p++
		} else if zl[p] == 0xFE {
			if p+5 > end {
				return fmt.Errorf("ziplist: offset %d: truncated previous-entry length", p)
			}
			pl = int(binary.LittleEndian.Uint32(zl[p+1:]))
			p += 5
		} else {
			return fmt.Errorf("ziplist: offset %d: unexpected end marker inside entries", p)
		}
		if pl != prevLen {
			return fmt.Errorf("ziplist: offset %d: previous-entry length %d, expected %d", start, pl, prevLen)
		}
		if p >= end {
			return fmt.Errorf("ziplist: offset %d: entry has no encoding byte", p)
		}
		c := zl[p]
		var e ListpackEntry
		need := func(n int) error {
			if p+n > end {
				return fmt.Errorf("ziplist: offset %d: entry needs %d bytes, %d remain", start, n, end-p)
			}
			return nil
		}
		switch {
		case c>>6 == 0:
			n := int(c & 0x3f)
			if err := need(1 + n); err != nil {
				return err
			}
			e.Str = zl[p+1 : p+1+n]
			p += 1 + n
		case c>>6 == 1:
			if err := need(2); err != nil {
				return err
			}
			n := int(c&0x3f)<<8 | int(zl[p+1])
			if err := need(2 + n); err != nil {
				return err
			}
			e.Str = zl[p+2 : p+2+n]
			p += 2 + n
		case c == 0x80:
			if err := need(5); err != nil {
				return err
			}
			n := int(binary.BigEndian.Uint32(zl[p+1:]))
			if n < 0 || n > end-p-5 {
				return fmt.Errorf("ziplist: offset %d: string of %d bytes overruns the ziplist", start, n)
			}
			e.Str = zl[p+5 : p+5+n]
			p += 5 + n
		case c == 0xC0:
			if err := need(3); err != nil {
				return err
			}
			e = ListpackEntry{Int: int64(int16(binary.LittleEndian.Uint16(zl[p+1:]))), IsInt: true}
			p += 3
		case c == 0xD0:
			if err := need(5); err != nil {
				return err
			}
			e = ListpackEntry{Int: int64(int32(binary.LittleEndian.Uint32(zl[p+1:]))), IsInt: true}
			p += 5
		case c == 0xE0:
			if err := need(9); err != nil {
				return err
			}
			e = ListpackEntry{Int: int64(binary.LittleEndian.Uint64(zl[p+1:])), IsInt: true}
			p += 9
		case c == 0xF0:
			if err := need(4); err != nil {
				return err
			}
			u := uint32(zl[p+1]) | uint32(zl[p+2])<<8 | uint32(zl[p+3])<<16
			e = ListpackEntry{Int: int64(int32(u<<8) >> 8), IsInt: true}
			p += 4
		case c == 0xFE:
			if err := need(2); err != nil {
				return err
			}
			e = ListpackEntry{Int: int64(int8(zl[p+1])), IsInt: true}
			p += 2
		case c >= 0xF1 && c <= 0xFD:
			e = ListpackEntry{Int: int64(c&0x0f) - 1, IsInt: true}
			p++
		default:
			return fmt.Errorf("ziplist: offset %d: unknown entry encoding 0x%02x", p, c)
		}
		prevLen = p - start
		count++
		if err := fn(e); err != nil {
			return err
		}
	}
	if declared != 65535 && declared != count {
		return fmt.Errorf("ziplist: header says %d entries, found %d", declared, count)
	}
	return nil
}

// DecodeZipmap walks a zipmap (RDB type 9, Redis before 2.6), calling fn for each
// field/value pair.
func DecodeZipmap(zm []byte, fn func(field, value []byte) error) error {
	if len(zm) < 2 {
		return fmt.Errorf("zipmap: %d bytes is too short", len(zm))
	}
	p := 1
	readLen := func() (int, error) {
		if p >= len(zm) {
			return 0, fmt.Errorf("zipmap: offset %d: expected a length, found the end", p)
		}
		if zm[p] < 254 {
			p++
			return int(zm[p-1]), nil
		}
		if zm[p] == 254 {
			if p+5 > len(zm) {
				return 0, fmt.Errorf("zipmap: offset %d: truncated length", p)
			}
			n := int(binary.LittleEndian.Uint32(zm[p+1:]))
			p += 5
			return n, nil
		}
		return -1, nil // 255: end
	}
	for {
		if p >= len(zm) {
			return fmt.Errorf("zipmap: offset %d: missing end marker", p)
		}
		if zm[p] == 255 {
			if p != len(zm)-1 {
				return fmt.Errorf("zipmap: offset %d: data after the end marker", p)
			}
			return nil
		}
		kl, err := readLen()
		if err != nil {
			return err
		}
		if kl < 0 || kl > len(zm)-p {
			return fmt.Errorf("zipmap: offset %d: field of %d bytes overruns the zipmap", p, kl)
		}
		field := zm[p : p+kl]
		p += kl
		vl, err := readLen()
		if err != nil {
			return err
		}
		if vl < 0 || p >= len(zm) {
			return fmt.Errorf("zipmap: offset %d: expected a value", p)
		}
		free := int(zm[p])
		p++
		if vl+free > len(zm)-p {
			return fmt.Errorf("zipmap: offset %d: value of %d bytes overruns the zipmap", p, vl)
		}
		value := zm[p : p+vl]
		p += vl + free
		if err := fn(field, value); err != nil {
			return err
		}
	}
}
