package engine

import (
	"encoding/binary"
	"math/bits"
	"strconv"
)

// Bitmap commands (Redis's bitops.c): strings seen as arrays of bits, bit 0 being the
// most significant bit of the first byte.

func bitmapCommands() []*Command {
	return []*Command{
		{Name: "bitcount", Arity: -2, Flags: FlagReadonly, ACL: []string{"read", "bitmap", "slow"},
			Keys: KeySpec{1, 1, 1}, Group: "bitmap", Since: "2.6.0",
			Summary:    "Count set bits in a string",
			Syntax:     "key [start end [BYTE|BIT]]",
			Complexity: "O(N)",
			Handler:    cmdBitCount},
		{Name: "bitfield", Arity: -2, Flags: FlagWrite | FlagDenyOOM, ACL: []string{"write", "bitmap", "slow"},
			Keys: KeySpec{1, 1, 1}, Group: "bitmap", Since: "3.2.0",
			Summary:    "Perform arbitrary bitfield integer operations on strings",
			Syntax:     "key [GET encoding offset|[OVERFLOW WRAP|SAT|FAIL] SET encoding offset value|INCRBY encoding offset increment [GET encoding offset|[OVERFLOW WRAP|SAT|FAIL] SET encoding offset value|INCRBY encoding offset increment ...]]",
			Complexity: "O(1) for each subcommand specified",
			Handler:    cmdBitfield},
		{Name: "bitfield_ro", Arity: -2, Flags: FlagReadonly | FlagFast, ACL: []string{"read", "bitmap", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "bitmap", Since: "6.0.0",
			Summary:    "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
			Syntax:     "key [GET encoding offset [GET encoding offset ...]]",
			Complexity: "O(1) for each subcommand specified",
			Handler:    cmdBitfieldRO},
		{Name: "bitop", Arity: -4, Flags: FlagWrite | FlagDenyOOM, ACL: []string{"write", "bitmap", "slow"},
			Keys: KeySpec{2, -1, 1}, Group: "bitmap", Since: "2.6.0",
			Summary:    "Perform bitwise operations between strings",
			Syntax:     "operation destkey key [key ...]",
			Complexity: "O(N)",
			Handler:    cmdBitOp},
		{Name: "bitpos", Arity: -3, Flags: FlagReadonly, ACL: []string{"read", "bitmap", "slow"},
			Keys: KeySpec{1, 1, 1}, Group: "bitmap", Since: "2.8.7",
			Summary:    "Find first bit set or clear in a string",
			Syntax:     "key bit [start [end [BYTE|BIT]]]",
			Complexity: "O(N)",
			Handler:    cmdBitPos},
		{Name: "getbit", Arity: 3, Flags: FlagReadonly | FlagFast, ACL: []string{"read", "bitmap", "fast"},
			Keys: KeySpec{1, 1, 1}, Group: "bitmap", Since: "2.2.0",
			Summary:    "Returns the bit value at offset in the string value stored at key",
			Syntax:     "key offset",
			Complexity: "O(1)",
			Handler:    cmdGetBit},
		{Name: "setbit", Arity: 4, Flags: FlagWrite | FlagDenyOOM, ACL: []string{"write", "bitmap", "slow"},
			Keys: KeySpec{1, 1, 1}, Group: "bitmap", Since: "2.2.0",
			Summary:    "Sets or clears the bit at offset in the string value stored at key",
			Syntax:     "key offset value",
			Complexity: "O(1)",
			Handler:    cmdSetBit},
	}
}

// bitOffset parses a bit offset as Redis's getBitOffsetFromArgument: a non-negative
// integer whose byte stays below proto-max-bulk-len. With hash set and bits > 0 (the
// BITFIELD form), "#N" means N*bits.
func bitOffset(c *Ctx, arg []byte, hash bool, width int) (uint64, bool) {
	useHash := hash && width > 0 && len(arg) > 0 && arg[0] == '#'
	if useHash {
		arg = arg[1:]
	}
	off, ok := ParseInt(arg)
	if ok && useHash {
		off *= int64(width) // wraps as Redis's does; a wrapped value is refused below
	}
	if !ok || off < 0 || (!c.FromMaster && off>>3 >= c.E.Settings.ProtoMaxBulkLen) {
		c.Error(ErrBitOffset)
		return 0, false
	}
	return uint64(off), true
}

// stringBytes returns a string value's bytes; int-encoded values are formatted into
// tmp so reading them does not allocate.
func stringBytes(o *Object, tmp *[20]byte) []byte {
	if o == nil {
		return nil
	}
	if o.Enc == EncInt {
		return strconv.AppendInt(tmp[:0], o.Int, 10)
	}
	return o.Str
}

// lookupForBitWrite finds or creates the string at key with room for bit maxbit,
// zero-padding it, as Redis's lookupStringForBitCommand. grown reports the key was
// created or lengthened. A new key is stored without signalling: callers call
// c.Changed only when Redis counts a change (a BITFIELD whose writes all fail on
// overflow leaves a silent zero-filled key, exactly as Redis does).
func lookupForBitWrite(c *Ctx, key []byte, maxbit uint64) (o *Object, grown, ok bool) {
	need := int(maxbit>>3) + 1
	o = c.LookupWrite(key)
	if o != nil && o.Type != TypeString {
		c.Error(ErrWrongType)
		return nil, false, false
	}
	if o == nil {
		c.DB.Put(key, rawString(make([]byte, need)), -1)
		// Looking it up again stamps its access time as a new key's would be.
		return c.LookupWrite(key), true, true
	}
	makeRaw(o)
	old := len(o.Str)
	o.Str = growZero(o.Str, need)
	return o, len(o.Str) != old, true
}

func cmdSetBit(c *Ctx) {
	off, ok := bitOffset(c, c.Args[2], false, 0)
	if !ok {
		return
	}
	on, ok := ParseInt(c.Args[3])
	if !ok || on&^1 != 0 {
		c.Error(ErrBitValue)
		return
	}
	key := c.Args[1]
	o, grown, ok := lookupForBitWrite(c, key, off)
	if !ok {
		return
	}
	byteIdx, shift := off>>3, 7-(off&7)
	old := o.Str[byteIdx] >> shift & 1
	if grown || int64(old) != on {
		o.Str[byteIdx] = o.Str[byteIdx]&^(1<<shift) | byte(on)<<shift
		c.Changed(key)
		c.Notify(EventString, "setbit", key)
	}
	c.W.Int(int64(old))
}

func cmdGetBit(c *Ctx) {
	off, ok := bitOffset(c, c.Args[2], false, 0)
	if !ok {
		return
	}
	o := c.LookupRead(c.Args[1])
	if o == nil {
		c.W.Int(0)
		return
	}
	if o.Type != TypeString {
		c.Error(ErrWrongType)
		return
	}
	var tmp [20]byte
	s := stringBytes(o, &tmp)
	var bit byte
	if byteIdx := off >> 3; byteIdx < uint64(len(s)) {
		bit = s[byteIdx] >> (7 - off&7) & 1
	}
	c.W.Int(int64(bit))
}

// popcount counts the set bits of b.
func popcount(b []byte) int64 {
	var n int
	for len(b) >= 8 {
		n += bits.OnesCount64(binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	for _, x := range b {
		n += bits.OnesCount8(x)
	}
	return int64(n)
}

// bitRange normalises BITCOUNT/BITPOS start and end against a string of n bytes,
// counting in bits when isBit. For a bit range it returns the byte range plus masks of
// the bits of the first and last byte that fall outside it.
func bitRange(start, end, n int64, isBit bool) (s, e int64, firstMask, lastMask byte) {
	total := n
	if isBit {
		total <<= 3
	}
	if start < 0 {
		start += total
	}
	if end < 0 {
		end += total
	}
	start = max(start, 0)
	end = max(end, 0)
	if end >= total {
		end = total - 1
	}
	if isBit && start <= end {
		firstMask = ^byte((1 << (8 - start&7)) - 1)
		lastMask = byte((1 << (7 - end&7)) - 1)
		start >>= 3
		end >>= 3
	}
	return start, end, firstMask, lastMask
}

// cmdBitCount looks the key up before parsing the range, as Redis does, so a missing
// key answers 0 even with malformed arguments.
func cmdBitCount(c *Ctx) {
	o := c.LookupRead(c.Args[1])
	if o == nil {
		c.W.Int(0)
		return
	}
	if o.Type != TypeString {
		c.Error(ErrWrongType)
		return
	}
	var tmp [20]byte
	p := stringBytes(o, &tmp)
	var start, end int64
	var firstMask, lastMask byte
	switch len(c.Args) {
	case 4, 5:
		var ok bool
		if start, ok = ParseInt(c.Args[2]); !ok {
			c.Error(ErrNotInt)
			return
		}
		if end, ok = ParseInt(c.Args[3]); !ok {
			c.Error(ErrNotInt)
			return
		}
		if start < 0 && end < 0 && start > end {
			c.W.Int(0)
			return
		}
		isBit := false
		if len(c.Args) == 5 {
			switch {
			case c.Is(4, "bit"):
				isBit = true
			case c.Is(4, "byte"):
			default:
				c.Error(ErrSyntax)
				return
			}
		}
		start, end, firstMask, lastMask = bitRange(start, end, int64(len(p)), isBit)
	case 2:
		start, end = 0, int64(len(p))-1
	default:
		c.Error(ErrSyntax)
		return
	}
	if start > end {
		c.W.Int(0)
		return
	}
	count := popcount(p[start : end+1])
	// Bits of the edge bytes outside a BIT range were counted; take them back out.
	count -= int64(bits.OnesCount8(p[start]&firstMask) + bits.OnesCount8(p[end]&lastMask))
	c.W.Int(count)
}

// bitposIn returns the position of the first bit equal to bit in p, as Redis's
// redisBitpos: looking for 1 in all zeros gives -1, looking for 0 in all ones gives
// the first position past p (the string is taken as zero-padded on the right).
func bitposIn(p []byte, bit int) int64 {
	skip := byte(0)
	if bit == 0 {
		skip = 0xff
	}
	for i, x := range p {
		if x != skip {
			if bit == 0 {
				x = ^x
			}
			return int64(i)*8 + int64(bits.LeadingZeros8(x))
		}
	}
	if bit == 1 {
		return -1
	}
	return int64(len(p)) * 8
}

func cmdBitPos(c *Ctx) {
	bitArg, ok := ParseInt(c.Args[2])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	if bitArg != 0 && bitArg != 1 {
		c.Error("ERR The bit argument must be 1 or 0.")
		return
	}
	bit := int(bitArg)
	o := c.LookupRead(c.Args[1])
	if o == nil {
		// A missing key is an endless run of zeros.
		if bit == 1 {
			c.W.Int(-1)
		} else {
			c.W.Int(0)
		}
		return
	}
	if o.Type != TypeString {
		c.Error(ErrWrongType)
		return
	}
	var tmp [20]byte
	p := stringBytes(o, &tmp)
	n := int64(len(p))
	var start, end int64
	var firstMask, lastMask byte
	endGiven := false
	switch len(c.Args) {
	case 4, 5, 6:
		if start, ok = ParseInt(c.Args[3]); !ok {
			c.Error(ErrNotInt)
			return
		}
		isBit := false
		if len(c.Args) == 6 {
			switch {
			case c.Is(5, "bit"):
				isBit = true
			case c.Is(5, "byte"):
			default:
				c.Error(ErrSyntax)
				return
			}
		}
		if len(c.Args) >= 5 {
			if end, ok = ParseInt(c.Args[4]); !ok {
				c.Error(ErrNotInt)
				return
			}
			endGiven = true
		} else {
			end = n - 1
		}
		start, end, firstMask, lastMask = bitRange(start, end, n, isBit)
	case 3:
		start, end = 0, n-1
	default:
		c.Error(ErrSyntax)
		return
	}
	if start > end {
		c.W.Int(-1)
		return
	}
	bytesLeft := end - start + 1
	pos := func() int64 {
		var edge [1]byte
		if firstMask != 0 {
			// Force the bits before the range to the value not searched for.
			edge[0] = p[start] | firstMask
			if bit == 1 {
				edge[0] = p[start] &^ firstMask
			}
			if lastMask != 0 && bytesLeft == 1 {
				if bit == 1 {
					edge[0] &^= lastMask
				} else {
					edge[0] |= lastMask
				}
			}
			r := bitposIn(edge[:], bit)
			if bytesLeft == 1 || (r != -1 && r != 8) {
				return r
			}
			start++
			bytesLeft--
		}
		cur := bytesLeft
		if lastMask != 0 {
			cur--
		}
		if cur > 0 {
			r := bitposIn(p[start:start+cur], bit)
			if bytesLeft == cur || (r != -1 && r != cur<<3) {
				return r
			}
			start += cur
			bytesLeft -= cur
		}
		edge[0] = p[end] | lastMask
		if bit == 1 {
			edge[0] = p[end] &^ lastMask
		}
		return bitposIn(edge[:], bit)
	}()
	// With an explicit end, the bits past it are not zero padding: no clear bit in
	// the range means -1.
	if endGiven && bit == 0 && pos == bytesLeft<<3 {
		c.W.Int(-1)
		return
	}
	if pos != -1 {
		pos += start << 3
	}
	c.W.Int(pos)
}

const (
	bitopAnd = iota
	bitopOr
	bitopXor
	bitopNot
)

// cmdBitOp stores the bitwise combination of the sources at destkey; shorter sources
// count as zero-padded, and an all-empty result deletes destkey.
func cmdBitOp(c *Ctx) {
	var op int
	switch {
	case c.Is(1, "and"):
		op = bitopAnd
	case c.Is(1, "or"):
		op = bitopOr
	case c.Is(1, "xor"):
		op = bitopXor
	case c.Is(1, "not"):
		op = bitopNot
	default:
		c.Error(ErrSyntax)
		return
	}
	if op == bitopNot && len(c.Args) != 4 {
		c.Error("ERR BITOP NOT must be called with a single source key.")
		return
	}
	target := c.Args[2]
	srcs := make([][]byte, 0, len(c.Args)-3)
	maxLen := 0
	for _, key := range c.Args[3:] {
		o := c.LookupRead(key)
		if o == nil {
			srcs = append(srcs, nil)
			continue
		}
		if o.Type != TypeString {
			c.Error(ErrWrongType)
			return
		}
		s := o.Bytes() // a copy only for int-encoded values
		srcs = append(srcs, s)
		maxLen = max(maxLen, len(s))
	}
	if maxLen > 0 {
		res := make([]byte, maxLen)
		copy(res, srcs[0])
		switch op {
		case bitopNot:
			for i := range res {
				res[i] = ^res[i]
			}
		case bitopAnd:
			for _, s := range srcs[1:] {
				for i := range res {
					if i < len(s) {
						res[i] &= s[i]
					} else {
						res[i] = 0
					}
				}
			}
		case bitopOr:
			for _, s := range srcs[1:] {
				for i := range s {
					res[i] |= s[i]
				}
			}
		case bitopXor:
			for _, s := range srcs[1:] {
				for i := range s {
					res[i] ^= s[i]
				}
			}
		}
		c.SetKey(target, rawString(res), false)
		c.Notify(EventString, "set", target)
	} else if c.DeleteKey(target) {
		// Like Redis's dbDelete this removes the key even if its TTL has passed.
		c.Notify(EventGeneric, "del", target)
	}
	c.W.Int(int64(maxLen))
}

// BITFIELD overflow behaviours.
const (
	overflowWrap = iota
	overflowSat
	overflowFail
)

const (
	bfGet = iota
	bfSet
	bfIncrBy
)

type bitfieldOp struct {
	offset   uint64
	value    int64 // SET value or INCRBY increment
	op       int
	overflow int
	bits     int
	signed   bool
}

// bitfieldType parses i1..i64 or u1..u63 (u64 is refused: the protocol's integers are
// signed). The prefix is case-sensitive, as in Redis.
func bitfieldType(c *Ctx, arg []byte) (signed bool, width int, ok bool) {
	if len(arg) > 0 && (arg[0] == 'i' || arg[0] == 'u') {
		signed = arg[0] == 'i'
		n, ok := ParseInt(arg[1:])
		limit := int64(63)
		if signed {
			limit = 64
		}
		if ok && n >= 1 && n <= limit {
			return signed, int(n), true
		}
	}
	c.Error("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")
	return false, 0, false
}

func getUnsignedField(p []byte, offset uint64, width int) uint64 {
	var v uint64
	for j := 0; j < width; j++ {
		bit := uint64(p[offset>>3]>>(7-offset&7)) & 1
		v = v<<1 | bit
		offset++
	}
	return v
}

func getSignedField(p []byte, offset uint64, width int) int64 {
	v := int64(getUnsignedField(p, offset, width))
	if width < 64 && v&(1<<(width-1)) != 0 {
		v |= -1 << width // sign-extend
	}
	return v
}

func setUnsignedField(p []byte, offset uint64, width int, v uint64) {
	for j := 0; j < width; j++ {
		bit := byte(v>>(width-1-j)) & 1
		shift := 7 - offset&7
		p[offset>>3] = p[offset>>3]&^(1<<shift) | bit<<shift
		offset++
	}
}

// unsignedOverflow reports whether value+incr leaves [0, 2^width-1], and the value to
// store instead under WRAP (modulo) or SAT (clamped), as Redis's
// checkUnsignedBitfieldOverflow.
func unsignedOverflow(value uint64, incr int64, width, mode int) (bool, uint64) {
	maxv := uint64(1)<<width - 1
	maxIncr := int64(maxv - value)
	minIncr := -int64(value)
	wrap := func() uint64 { return (value + uint64(incr)) & maxv }
	switch {
	case value > maxv || (incr > 0 && incr > maxIncr):
		if mode == overflowWrap {
			return true, wrap()
		}
		return true, maxv
	case incr < 0 && incr < minIncr:
		if mode == overflowWrap {
			return true, wrap()
		}
		return true, 0
	}
	return false, 0
}

// signedOverflow is unsignedOverflow for two's complement fields of width bits
// (checkSignedBitfieldOverflow); WRAP wraps toward the most negative value.
func signedOverflow(value, incr int64, width, mode int) (bool, int64) {
	maxv := int64(maxInt64)
	if width < 64 {
		maxv = 1<<(width-1) - 1
	}
	minv := -maxv - 1
	maxIncr := int64(uint64(maxv) - uint64(value))
	minIncr := minv - value
	wrap := func() int64 {
		r := uint64(value) + uint64(incr)
		if width < 64 {
			mask := ^uint64(0) << width
			if r&(1<<(width-1)) != 0 {
				r |= mask
			} else {
				r &^= mask
			}
		}
		return int64(r)
	}
	switch {
	case value > maxv || (width != 64 && incr > maxIncr) || (value >= 0 && incr > 0 && incr > maxIncr):
		if mode == overflowWrap {
			return true, wrap()
		}
		return true, maxv
	case value < minv || (width != 64 && incr < minIncr) || (value < 0 && incr < 0 && incr < minIncr):
		if mode == overflowWrap {
			return true, wrap()
		}
		return true, minv
	}
	return false, 0
}

func cmdBitfield(c *Ctx)   { bitfieldGeneric(c, false) }
func cmdBitfieldRO(c *Ctx) { bitfieldGeneric(c, true) }

// bitfieldGeneric parses every operation before touching the key, so an error in any
// of them leaves the value alone; then it runs them in order, one reply each.
func bitfieldGeneric(c *Ctx, readOnly bool) {
	var ops []bitfieldOp
	mode := overflowWrap
	writes := false
	var highest uint64
	for j := 2; j < len(c.Args); j++ {
		rem := len(c.Args) - j - 1
		var op int
		switch {
		case c.Is(j, "get") && rem >= 2:
			op = bfGet
		case c.Is(j, "set") && rem >= 3:
			op = bfSet
		case c.Is(j, "incrby") && rem >= 3:
			op = bfIncrBy
		case c.Is(j, "overflow") && rem >= 1:
			j++
			switch {
			case c.Is(j, "wrap"):
				mode = overflowWrap
			case c.Is(j, "sat"):
				mode = overflowSat
			case c.Is(j, "fail"):
				mode = overflowFail
			default:
				c.Error("ERR Invalid OVERFLOW type specified")
				return
			}
			continue
		default:
			c.Error(ErrSyntax)
			return
		}
		signed, width, ok := bitfieldType(c, c.Args[j+1])
		if !ok {
			return
		}
		off, ok := bitOffset(c, c.Args[j+2], true, width)
		if !ok {
			return
		}
		var v int64
		if op != bfGet {
			writes = true
			highest = max(highest, off+uint64(width)-1)
			if v, ok = ParseInt(c.Args[j+3]); !ok {
				c.Error(ErrNotInt)
				return
			}
			j += 3
		} else {
			j += 2
		}
		ops = append(ops, bitfieldOp{offset: off, value: v, op: op, overflow: mode, bits: width, signed: signed})
	}
	key := c.Args[1]
	var o *Object
	grown := false
	if !writes {
		o = c.LookupRead(key)
		if o != nil && o.Type != TypeString {
			c.Error(ErrWrongType)
			return
		}
	} else {
		if readOnly {
			c.Error("ERR BITFIELD_RO only supports the GET subcommand")
			return
		}
		var ok bool
		if o, grown, ok = lookupForBitWrite(c, key, highest); !ok {
			return
		}
	}
	c.W.Array(len(ops))
	changes := 0
	for _, op := range ops {
		if op.op == bfGet {
			// Read through a zero-padded window of 9 bytes so fields that run past
			// the end of the string read as zeros.
			var tmp [20]byte
			src := stringBytes(o, &tmp)
			var buf [9]byte
			byteIdx := op.offset >> 3
			if byteIdx < uint64(len(src)) {
				copy(buf[:], src[byteIdx:])
			}
			rel := op.offset - byteIdx*8
			if op.signed {
				c.W.Int(getSignedField(buf[:], rel, op.bits))
			} else {
				c.W.Int(int64(getUnsignedField(buf[:], rel, op.bits)))
			}
			continue
		}
		var failed, changed bool
		if op.signed {
			oldv := getSignedField(o.Str, op.offset, op.bits)
			var newv, ret int64
			if op.op == bfIncrBy {
				over, limit := signedOverflow(oldv, op.value, op.bits, op.overflow)
				newv = oldv + op.value
				if over {
					newv = limit
				}
				ret, failed = newv, over && op.overflow == overflowFail
			} else {
				newv = op.value
				if over, limit := signedOverflow(newv, 0, op.bits, op.overflow); over {
					newv = limit
					failed = op.overflow == overflowFail
				}
				ret = oldv
			}
			if !failed {
				c.W.Int(ret)
				setUnsignedField(o.Str, op.offset, op.bits, uint64(newv))
				changed = oldv != newv
			}
		} else {
			oldv := getUnsignedField(o.Str, op.offset, op.bits)
			var newv, ret uint64
			if op.op == bfIncrBy {
				newv = oldv + uint64(op.value)
				over, limit := unsignedOverflow(oldv, op.value, op.bits, op.overflow)
				if over {
					newv = limit
				}
				ret, failed = newv, over && op.overflow == overflowFail
			} else {
				newv = uint64(op.value)
				if over, limit := unsignedOverflow(newv, 0, op.bits, op.overflow); over {
					newv = limit
					failed = op.overflow == overflowFail
				}
				ret = oldv
			}
			if !failed {
				c.W.Int(int64(ret))
				setUnsignedField(o.Str, op.offset, op.bits, newv)
				changed = oldv != newv
			}
		}
		if failed {
			c.W.Null()
			continue
		}
		if grown || changed {
			changes++
		}
	}
	if changes > 0 {
		c.Changed(key)
		c.AddDirty(changes - 1)
		c.Notify(EventString, "setbit", key)
	}
}
