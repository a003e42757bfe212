package rdb

import (
	"errors"
	"fmt"
	"math"
	"sync"
)

// LZF is the compression Redis applies to strings in RDB files (rdbcompression). The
// decompressor accepts any valid LZF stream; the compressor produces valid streams that
// Redis's lzf_decompress reads, though not byte-identical to Redis's own compressor.

const (
	lzfHashLog  = 14
	lzfMaxOff   = 1 << 13
	lzfMaxRef   = (1 << 8) + (1 << 3)
	lzfMaxLit   = 1 << 5
	lzfHashSize = 1 << lzfHashLog
)

// lzfCompressor keeps the compressor's hash table between calls. Zeroing a fresh
// 64 KB table for every string cost far more than compressing the 21-100 byte values
// most keys hold, so instead each call offsets the positions it stores by base, and an
// entry below base is a leftover from an earlier call: treated as empty. The output
// is what a freshly zeroed table would give. Redis's lzf_compress gets the same effect
// by not initializing its table and bounds-checking each reference.
type lzfCompressor struct {
	table [lzfHashSize]uint32 // base + position + 1 of the last occurrence of each 3-byte hash
	base  uint32
	out   []byte
}

var lzfPool = sync.Pool{New: func() any { return new(lzfCompressor) }}

// compress compresses in and returns the compressed bytes, valid until the next call,
// or nil when the result would not fit in limit bytes (not worth compressing).
func (z *lzfCompressor) compress(in []byte, limit int) []byte {
	if len(in) < 4 || limit <= 0 || len(in) > math.MaxUint32/2 {
		return nil
	}
	if uint64(z.base)+uint64(len(in))+1 > math.MaxUint32 {
		z.table = [lzfHashSize]uint32{}
		z.base = 0
	}
	base := z.base
	// Whatever this call stores lies above the new base for the next call.
	z.base += uint32(len(in)) + 1
	table := &z.table
	if cap(z.out) < limit {
		z.out = make([]byte, 0, max(limit, 256))
	}
	out := z.out[:0]
	litStart := len(out)
	out = append(out, 0) // literal run length placeholder
	lit := 0
	emitLit := func(b byte) bool {
		if len(out) >= limit {
			return false
		}
		out = append(out, b)
		lit++
		if lit == lzfMaxLit {
			out[litStart] = byte(lit - 1)
			lit = 0
			litStart = len(out)
			if len(out) >= limit {
				return false
			}
			out = append(out, 0)
		}
		return true
	}
	i := 0
	for i+2 < len(in) {
		h := (uint32(in[i])<<16 | uint32(in[i+1])<<8 | uint32(in[i+2])) * 2654435761 >> (32 - lzfHashLog)
		ref := -1
		if v := table[h]; v > base {
			ref = int(v-base) - 1
		}
		table[h] = base + uint32(i) + 1
		off := i - ref - 1
		if ref >= 0 && off < lzfMaxOff && in[ref] == in[i] && in[ref+1] == in[i+1] && in[ref+2] == in[i+2] {
			maxLen := min(len(in)-i, lzfMaxRef)
			n := 3
			for n < maxLen && in[ref+n] == in[i+n] {
				n++
			}
			// Close the literal run (drop its header if empty).
			if lit == 0 {
				out = out[:len(out)-1]
			} else {
				out[litStart] = byte(lit - 1)
			}
			l := n - 2
			if len(out)+3 > limit {
				return nil
			}
			if l < 7 {
				out = append(out, byte(off>>8)|byte(l<<5))
			} else {
				out = append(out, byte(off>>8)|7<<5, byte(l-7))
			}
			out = append(out, byte(off))
			for k := i + 1; k < i+n && k+2 < len(in); k++ {
				hk := (uint32(in[k])<<16 | uint32(in[k+1])<<8 | uint32(in[k+2])) * 2654435761 >> (32 - lzfHashLog)
				table[hk] = base + uint32(k) + 1
			}
			i += n
			lit = 0
			litStart = len(out)
			if len(out) >= limit {
				return nil
			}
			out = append(out, 0)
			continue
		}
		if !emitLit(in[i]) {
			return nil
		}
		i++
	}
	for ; i < len(in); i++ {
		if !emitLit(in[i]) {
			return nil
		}
	}
	if lit == 0 {
		out = out[:len(out)-1]
	} else {
		out[litStart] = byte(lit - 1)
	}
	z.out = out
	return out
}

var errLZFCorrupt = errors.New("corrupt LZF data")

// lzfDecompress expands in, which must decompress to exactly n bytes.
func lzfDecompress(in []byte, n int) ([]byte, error) {
	out := make([]byte, 0, n)
	i := 0
	for i < len(in) {
		ctrl := int(in[i])
		i++
		if ctrl < 1<<5 {
			l := ctrl + 1
			if i+l > len(in) || len(out)+l > n {
				return nil, errLZFCorrupt
			}
			out = append(out, in[i:i+l]...)
			i += l
			continue
		}
		l := ctrl >> 5
		if l == 7 {
			if i >= len(in) {
				return nil, errLZFCorrupt
			}
			l += int(in[i])
			i++
		}
		if i >= len(in) {
			return nil, errLZFCorrupt
		}
		ref := len(out) - (ctrl&0x1f)<<8 - int(in[i]) - 1
		i++
		l += 2
		if ref < 0 || len(out)+l > n {
			return nil, errLZFCorrupt
		}
		for k := 0; k < l; k++ { // byte by byte: the copy may overlap its own output
			out = append(out, out[ref+k])
		}
	}
	if len(out) != n {
		return nil, fmt.Errorf("%w: %d bytes expanded, header said %d", errLZFCorrupt, len(out), n)
	}
	return out, nil
}
