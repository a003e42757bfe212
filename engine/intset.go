package engine

import (
	"encoding/binary"
	"math"
)

// An intset is the compact form of a set whose members are all integers (below
// set-max-intset-entries): the values sorted ascending in one byte slice, each
// stored little-endian in the narrowest width (2, 4 or 8 bytes) that fits every
// member, as Redis's intset. Lookups are binary searches; adding or removing
// shifts the tail. The width only ever grows, as in Redis.
type intset struct {
	data  []byte
	width int
}

// intsetWidth is the narrowest width that holds v.
func intsetWidth(v int64) int {
	switch {
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return 2
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return 4
	}
	return 8
}

// Len is the number of members.
func (s intset) Len() int {
	if s.width == 0 {
		return 0
	}
	return len(s.data) / s.width
}

// At returns the i-th smallest member.
func (s intset) At(i int) int64 {
	p := s.data[i*s.width:]
	switch s.width {
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(p)))
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(p)))
	}
	return int64(binary.LittleEndian.Uint64(p))
}

func (s intset) put(i int, v int64) {
	p := s.data[i*s.width:]
	switch s.width {
	case 2:
		binary.LittleEndian.PutUint16(p, uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(p, uint32(v))
	default:
		binary.LittleEndian.PutUint64(p, uint64(v))
	}
}

// search returns v's index, or where it would be inserted.
func (s intset) search(v int64) (int, bool) {
	lo, hi := 0, s.Len()
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if s.At(mid) < v {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, lo < s.Len() && s.At(lo) == v
}

// Contains reports whether v is a member.
func (s intset) Contains(v int64) bool {
	if s.width == 0 || intsetWidth(v) > s.width {
		return false
	}
	_, ok := s.search(v)
	return ok
}

// Add inserts v and reports whether it was new.
func (s *intset) Add(v int64) bool {
	if w := intsetWidth(v); w > s.width {
		s.upgrade(w)
	}
	i, ok := s.search(v)
	if ok {
		return false
	}
	n := s.Len()
	s.data = lpGrow(s.data, s.width)
	s.data = s.data[:len(s.data)+s.width]
	copy(s.data[(i+1)*s.width:], s.data[i*s.width:n*s.width])
	s.put(i, v)
	return true
}

// upgrade re-encodes every member in width w.
func (s *intset) upgrade(w int) {
	n := s.Len()
	nb := intset{data: make([]byte, n*w, (n+1)*w), width: w}
	for i := 0; i < n; i++ {
		nb.put(i, s.At(i))
	}
	*s = nb
}

// Remove deletes v and reports whether it was a member.
func (s *intset) Remove(v int64) bool {
	if !s.Contains(v) {
		return false
	}
	i, _ := s.search(v)
	copy(s.data[i*s.width:], s.data[(i+1)*s.width:])
	s.data = lpShrink(s.data[:len(s.data)-s.width])
	return true
}
