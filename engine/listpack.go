package engine

import "encoding/binary"

// A listpack is kv's compact form for small collections (hashes below
// hash-max-listpack-entries/value): the elements, in insertion order, packed into
// one byte slice, each as a uvarint length followed by its bytes. A small hash of
// five short fields is then one allocation instead of a table and ten strings,
// which is what keeps memory per key close to Redis's own listpack. Every
// operation is a linear walk; the thresholds keep that walk short.
//
// The functions take and return the slice so the caller stores it back (the
// object's Str field); they never keep a reference to element arguments.

// lpEntrySize is the encoded size of an element of n bytes.
func lpEntrySize(n int) int {
	size := 1
	for v := uint64(n); v >= 0x80; v >>= 7 {
		size++
	}
	return size + n
}

// lpNext decodes the element that starts at pos and returns it with the position
// of the next element. The slice aliases lp.
func lpNext(lp []byte, pos int) (elem []byte, next int) {
	n, w := binary.Uvarint(lp[pos:])
	start := pos + w
	end := start + int(n)
	return lp[start:end:end], end
}

// lpAppend appends elements to lp.
func lpAppend(lp []byte, elems ...[]byte) []byte {
	need := 0
	for _, e := range elems {
		need += lpEntrySize(len(e))
	}
	lp = lpGrow(lp, need)
	for _, e := range elems {
		lp = binary.AppendUvarint(lp, uint64(len(e)))
		lp = append(lp, e...)
	}
	return lp
}

// lpGrow makes room for n more bytes. Unlike append it grows by an eighth rather
// than doubling: a small collection is written a few times and then kept for a
// long time, so slack costs more than the occasional copy. The first
// allocation is exact, since most small hashes are written by one command.
func lpGrow(lp []byte, n int) []byte {
	if cap(lp)-len(lp) >= n {
		return lp
	}
	need := len(lp) + n
	if len(lp) == 0 {
		return make([]byte, 0, need)
	}
	nb := make([]byte, len(lp), need+need/8)
	copy(nb, lp)
	return nb
}

// lpReplace replaces the element occupying lp[start:end] with elem.
func lpReplace(lp []byte, start, end int, elem []byte) []byte {
	size := lpEntrySize(len(elem))
	old := end - start
	switch {
	case size > old:
		lp = lpGrow(lp, size-old)
		lp = lp[:len(lp)+size-old]
		copy(lp[start+size:], lp[end:len(lp)-(size-old)])
	case size < old:
		copy(lp[start+size:], lp[end:])
		lp = lp[:len(lp)-(old-size)]
	}
	w := binary.PutUvarint(lp[start:], uint64(len(elem)))
	copy(lp[start+w:], elem)
	return lpShrink(lp)
}

// lpDelete removes the bytes lp[start:end] (whole elements).
func lpDelete(lp []byte, start, end int) []byte {
	copy(lp[start:], lp[end:])
	return lpShrink(lp[:len(lp)-(end-start)])
}

// lpShrink gives back a buffer that deletions left mostly empty, as Redis's
// listpack shrinks with every removal.
func lpShrink(lp []byte) []byte {
	if cap(lp) > 64 && len(lp) < cap(lp)/2 {
		nb := make([]byte, len(lp), len(lp)+len(lp)/8)
		copy(nb, lp)
		return nb
	}
	return lp
}

// lpFindPair looks for field among the fields of a field/value listpack. It
// returns where the field's entry starts and where its value's entry starts and
// ends.
func lpFindPair(lp []byte, field []byte) (fpos, vpos, vend int, ok bool) {
	for pos := 0; pos < len(lp); {
		f, next := lpNext(lp, pos)
		_, after := lpNext(lp, next)
		if string(f) == string(field) {
			return pos, next, after, true
		}
		pos = after
	}
	return 0, 0, 0, false
}

// lpOffsets appends the start of every element of lp to dst, so random picks
// can index instead of walking.
func lpOffsets(lp []byte, dst []int32) []int32 {
	for pos := 0; pos < len(lp); {
		dst = append(dst, int32(pos))
		_, pos = lpNext(lp, pos)
	}
	return dst
}
