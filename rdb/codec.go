package rdb

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
)

// Length and string encodings, shared by RDB files and DUMP payloads.
const (
	len6     = 0
	len14    = 1
	len32    = 0x80
	len64    = 0x81
	lenEnc   = 3
	encInt8  = 0
	encInt16 = 1
	encInt32 = 2
	encLZF   = 3
)

// Encoder writes RDB primitives to w, keeping the running CRC64 and byte count.
type Encoder struct {
	w        io.Writer
	buf      []byte
	crc      uint64
	n        int64
	err      error
	compress bool
	withKey  bool // false while writing a DUMP payload, which has no key
	lz       *lzfCompressor
	noCRC    bool // bytes that another encoder will checksum (queued records)
}

// key writes a key after a value type, unless writing a DUMP payload.
func (e *Encoder) key(k []byte) {
	if e.withKey {
		e.String(k)
	}
}

// NewEncoder writes to w; compress enables LZF for strings (rdbcompression).
func NewEncoder(w io.Writer, compress bool) *Encoder {
	return &Encoder{w: w, buf: make([]byte, 0, 64<<10), compress: compress}
}

// Err is the first write error, if any.
func (e *Encoder) Err() error { return e.err }

// Written is the number of bytes produced so far (flushed or buffered).
func (e *Encoder) Written() int64 { return e.n + int64(len(e.buf)) }

// Flush writes buffered bytes.
func (e *Encoder) Flush() error {
	if e.err != nil || len(e.buf) == 0 {
		return e.err
	}
	if !e.noCRC {
		e.crc = CRC64(e.crc, e.buf)
	}
	_, e.err = e.w.Write(e.buf)
	e.n += int64(len(e.buf))
	e.buf = e.buf[:0]
	return e.err
}

// release hands the compressor's table back to the pool once the encoder is done.
func (e *Encoder) release() {
	if e.lz != nil {
		lzfPool.Put(e.lz)
		e.lz = nil
	}
}

// CRC returns the checksum of everything written so far.
func (e *Encoder) CRC() uint64 {
	_ = e.Flush()
	return e.crc
}

func (e *Encoder) grow() {
	if len(e.buf) >= 32<<10 {
		_ = e.Flush()
	}
}

// Raw writes bytes as they are.
func (e *Encoder) Raw(b []byte) {
	if len(b) > 32<<10 {
		_ = e.Flush()
		if e.err == nil {
			if !e.noCRC {
				e.crc = CRC64(e.crc, b)
			}
			_, e.err = e.w.Write(b)
			e.n += int64(len(b))
		}
		return
	}
	e.buf = append(e.buf, b...)
	e.grow()
}

// Byte writes one byte (an opcode or type).
func (e *Encoder) Byte(b byte) {
	e.buf = append(e.buf, b)
	e.grow()
}

// Len writes a length in RDB's variable-size encoding.
func (e *Encoder) Len(n uint64) {
	switch {
	case n < 1<<6:
		e.buf = append(e.buf, byte(n))
	case n < 1<<14:
		e.buf = append(e.buf, byte(n>>8)|len14<<6, byte(n))
	case n <= math.MaxUint32:
		e.buf = append(e.buf, len32)
		e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(n))
	default:
		e.buf = append(e.buf, len64)
		e.buf = binary.BigEndian.AppendUint64(e.buf, n)
	}
	e.grow()
}

// String writes a string the way rdbSaveRawString does: as an integer encoding when it
// is a short canonical integer, LZF-compressed when that saves space, otherwise raw.
func (e *Encoder) String(s []byte) {
	if len(s) <= 11 {
		if v, ok := parseCanonicalInt(s); ok && e.intEncoding(v) {
			return
		}
	}
	if e.compress && len(s) > 20 {
		if e.lz == nil {
			e.lz = lzfPool.Get().(*lzfCompressor)
		}
		if c := e.lz.compress(s, len(s)-4); c != nil {
			e.buf = append(e.buf, lenEnc<<6|encLZF)
			e.Len(uint64(len(c)))
			e.Len(uint64(len(s)))
			e.Raw(c)
			return
		}
	}
	e.Len(uint64(len(s)))
	e.Raw(s)
}

// Int writes an integer as a string (int-encoded strings, listpack-free set members).
func (e *Encoder) Int(v int64) {
	if e.intEncoding(v) {
		return
	}
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], v, 10)
	e.Len(uint64(len(s)))
	e.Raw(s)
}

func (e *Encoder) intEncoding(v int64) bool {
	switch {
	case v >= math.MinInt8 && v <= math.MaxInt8:
		e.buf = append(e.buf, lenEnc<<6|encInt8, byte(v))
	case v >= math.MinInt16 && v <= math.MaxInt16:
		e.buf = append(e.buf, lenEnc<<6|encInt16, byte(v), byte(v>>8))
	case v >= math.MinInt32 && v <= math.MaxInt32:
		e.buf = append(e.buf, lenEnc<<6|encInt32, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
	default:
		return false
	}
	e.grow()
	return true
}

// Double writes a binary double (ZSET_2 scores).
func (e *Encoder) Double(f float64) {
	e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(f))
	e.grow()
}

// Uint64LE and Uint32LE write fixed-size little-endian integers (expire times, aux).
func (e *Encoder) Uint64LE(v uint64) {
	e.buf = binary.LittleEndian.AppendUint64(e.buf, v)
	e.grow()
}

// Decoder reads RDB primitives, tracking the offset for error messages and the CRC64.
type Decoder struct {
	r   *bufio.Reader
	off int64
	crc uint64
	// MaxAlloc bounds any single length the decoder will allocate for, so a corrupt
	// length cannot make it allocate gigabytes before failing.
	MaxAlloc uint64
}

// NewDecoder reads from r.
func NewDecoder(r io.Reader) *Decoder {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &Decoder{r: br, MaxAlloc: 1 << 32}
}

// Offset is the number of bytes consumed.
func (d *Decoder) Offset() int64 { return d.off }

// CRC is the checksum of the bytes consumed.
func (d *Decoder) CRC() uint64 { return d.crc }

// CorruptError says where a file stops making sense and what was expected there.
type CorruptError struct {
	Offset int64
	What   string
}

func (e *CorruptError) Error() string { return fmt.Sprintf("offset %d: %s", e.Offset, e.What) }

// corrupt builds a CorruptError at the given offset.
func (d *Decoder) corrupt(off int64, format string, args ...any) error {
	return &CorruptError{Offset: off, What: fmt.Sprintf(format, args...)}
}

func (d *Decoder) eof(off int64, what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return d.corrupt(off, "unexpected end of file, expected %s", what)
	}
	return fmt.Errorf("offset %d: reading %s: %w", off, what, err)
}

// Full reads exactly len(b) bytes.
func (d *Decoder) Full(b []byte, what string) error {
	start := d.off
	n, err := io.ReadFull(d.r, b)
	d.crc = CRC64(d.crc, b[:n])
	d.off += int64(n)
	if err != nil {
		return d.eof(start, what, err)
	}
	return nil
}

// Byte reads one byte.
func (d *Decoder) Byte(what string) (byte, error) {
	b, err := d.r.ReadByte()
	if err != nil {
		return 0, d.eof(d.off, what, err)
	}
	d.crc = CRC64(d.crc, []byte{b})
	d.off++
	return b, nil
}

// Len reads a length. encoded is true when the byte announced a special string
// encoding instead, in which case n is that encoding.
func (d *Decoder) Len() (n uint64, encoded bool, err error) {
	start := d.off
	b, err := d.Byte("a length")
	if err != nil {
		return 0, false, err
	}
	switch b >> 6 {
	case len6:
		return uint64(b & 0x3f), false, nil
	case len14:
		b2, err := d.Byte("the second byte of a 14-bit length")
		if err != nil {
			return 0, false, err
		}
		return uint64(b&0x3f)<<8 | uint64(b2), false, nil
	case lenEnc:
		return uint64(b & 0x3f), true, nil
	}
	switch b {
	case len32:
		var t [4]byte
		if err := d.Full(t[:], "a 32-bit length"); err != nil {
			return 0, false, err
		}
		return uint64(binary.BigEndian.Uint32(t[:])), false, nil
	case len64:
		var t [8]byte
		if err := d.Full(t[:], "a 64-bit length"); err != nil {
			return 0, false, err
		}
		return binary.BigEndian.Uint64(t[:]), false, nil
	}
	return 0, false, d.corrupt(start, "unknown length encoding 0x%02x", b)
}

// Length reads a plain length (no string encodings allowed).
func (d *Decoder) Length(what string) (uint64, error) {
	start := d.off
	n, enc, err := d.Len()
	if err != nil {
		return 0, err
	}
	if enc {
		return 0, d.corrupt(start, "expected %s, found a string encoding", what)
	}
	return n, nil
}

// String reads a string in any of its encodings, returning its bytes.
func (d *Decoder) String() ([]byte, error) { return d.appendString(nil) }

// appendString reads a string in any of its encodings and appends its bytes to dst;
// with a nil dst the result is allocated to the string's exact size.
func (d *Decoder) appendString(dst []byte) ([]byte, error) {
	start := d.off
	n, enc, err := d.Len()
	if err != nil {
		return nil, err
	}
	if !enc {
		if n > d.MaxAlloc {
			return nil, d.corrupt(start, "string length %d exceeds the limit", n)
		}
		var b []byte
		if dst == nil {
			dst = make([]byte, n)
			b = dst
		} else {
			dst = slices.Grow(dst, int(n))
			b = dst[len(dst) : len(dst)+int(n)]
			dst = dst[:len(dst)+int(n)]
		}
		return dst, d.Full(b, "string data")
	}
	switch n {
	case encInt8, encInt16, encInt32:
		size := 1 << n
		var t [4]byte
		if err := d.Full(t[:size], "an integer-encoded string"); err != nil {
			return nil, err
		}
		var v int64
		switch size {
		case 1:
			v = int64(int8(t[0]))
		case 2:
			v = int64(int16(binary.LittleEndian.Uint16(t[:])))
		default:
			v = int64(int32(binary.LittleEndian.Uint32(t[:])))
		}
		return strconv.AppendInt(dst, v, 10), nil
	case encLZF:
		clen, err := d.Length("the compressed length")
		if err != nil {
			return nil, err
		}
		ulen, err := d.Length("the uncompressed length")
		if err != nil {
			return nil, err
		}
		if clen > d.MaxAlloc || ulen > d.MaxAlloc {
			return nil, d.corrupt(start, "compressed string of %d/%d bytes exceeds the limit", clen, ulen)
		}
		c := make([]byte, clen)
		if err := d.Full(c, "compressed string data"); err != nil {
			return nil, err
		}
		out, err := lzfDecompress(c, int(ulen))
		if err != nil {
			return nil, d.corrupt(start, "%v", err)
		}
		if dst == nil {
			return out, nil
		}
		return append(dst, out...), nil
	}
	return nil, d.corrupt(start, "unknown string encoding %d", n)
}

// Double reads a binary double.
func (d *Decoder) Double() (float64, error) {
	var t [8]byte
	if err := d.Full(t[:], "a binary double"); err != nil {
		return 0, err
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(t[:])), nil
}

// OldDouble reads the string-encoded double of RDB type ZSET (version 1).
func (d *Decoder) OldDouble() (float64, error) {
	start := d.off
	n, err := d.Byte("a double length")
	if err != nil {
		return 0, err
	}
	switch n {
	case 253:
		return math.NaN(), nil
	case 254:
		return math.Inf(1), nil
	case 255:
		return math.Inf(-1), nil
	}
	b := make([]byte, n)
	if err := d.Full(b, "a double"); err != nil {
		return 0, err
	}
	f, perr := strconv.ParseFloat(string(b), 64)
	if perr != nil {
		return 0, d.corrupt(start, "expected a double, found %q", b)
	}
	return f, nil
}

// Uint64LE reads a little-endian 64-bit integer.
func (d *Decoder) Uint64LE(what string) (uint64, error) {
	var t [8]byte
	if err := d.Full(t[:], what); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(t[:]), nil
}

// Uint32LE reads a little-endian 32-bit integer.
func (d *Decoder) Uint32LE(what string) (uint32, error) {
	var t [4]byte
	if err := d.Full(t[:], what); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(t[:]), nil
}
