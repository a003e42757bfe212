package resp

import (
	"math"
	"strconv"
)

// Writer builds replies in a reusable buffer; the owner writes Bytes() to the socket
// and calls Reset. Each method writes the RESP3 type when the protocol is 3 and Redis's
// RESP2 fallback otherwise, so command code writes one reply for both protocols.
type Writer struct {
	buf   []byte
	proto int
}

// NewWriter returns a RESP2 writer.
func NewWriter() *Writer { return &Writer{buf: make([]byte, 0, 16<<10), proto: 2} }

// SetProto selects RESP2 or RESP3 (HELLO).
func (w *Writer) SetProto(p int) { w.proto = p }

// Proto is the protocol in use, 2 or 3.
func (w *Writer) Proto() int { return w.proto }

// Bytes is what has been written since the last Reset.
func (w *Writer) Bytes() []byte { return w.buf }

// Len is the number of bytes written since the last Reset.
func (w *Writer) Len() int { return len(w.buf) }

// Reset empties the buffer, giving back a large one so one big reply does not pin memory.
func (w *Writer) Reset() {
	if cap(w.buf) > 1<<20 {
		w.buf = make([]byte, 0, 16<<10)
		return
	}
	w.buf = w.buf[:0]
}

// Truncate drops what was written after n bytes (used to discard a partial reply).
func (w *Writer) Truncate(n int) { w.buf = w.buf[:n] }

// Raw appends bytes that are already RESP.
func (w *Writer) Raw(b []byte) { w.buf = append(w.buf, b...) }

// Simple writes a status reply such as +OK.
func (w *Writer) Simple(s string) {
	w.buf = append(w.buf, '+')
	w.buf = appendLine(w.buf, s)
	w.buf = append(w.buf, '\r', '\n')
}

// OK writes +OK.
func (w *Writer) OK() { w.buf = append(w.buf, "+OK\r\n"...) }

// Error writes an error reply. msg starts with its code ("ERR ...", "WRONGTYPE ...");
// newlines are replaced so the reply cannot break the protocol, as Redis does.
func (w *Writer) Error(msg string) {
	w.buf = append(w.buf, '-')
	w.buf = appendLine(w.buf, msg)
	w.buf = append(w.buf, '\r', '\n')
}

func appendLine(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		b = append(b, c)
	}
	return b
}

// Int writes an integer reply.
func (w *Writer) Int(n int64) {
	w.buf = append(w.buf, ':')
	w.buf = strconv.AppendInt(w.buf, n, 10)
	w.buf = append(w.buf, '\r', '\n')
}

// Bulk writes a bulk string.
func (w *Writer) Bulk(b []byte) {
	w.buf = append(w.buf, '$')
	w.buf = strconv.AppendInt(w.buf, int64(len(b)), 10)
	w.buf = append(w.buf, '\r', '\n')
	w.buf = append(w.buf, b...)
	w.buf = append(w.buf, '\r', '\n')
}

// BulkString writes a bulk string from a string.
func (w *Writer) BulkString(s string) {
	w.buf = append(w.buf, '$')
	w.buf = strconv.AppendInt(w.buf, int64(len(s)), 10)
	w.buf = append(w.buf, '\r', '\n')
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, '\r', '\n')
}

// BulkInt writes an integer as a bulk string (GET of an int-encoded value).
func (w *Writer) BulkInt(n int64) {
	var tmp [20]byte
	w.Bulk(strconv.AppendInt(tmp[:0], n, 10))
}

// Null writes the null bulk string ($-1 in RESP2, _ in RESP3).
func (w *Writer) Null() {
	if w.proto >= 3 {
		w.buf = append(w.buf, "_\r\n"...)
		return
	}
	w.buf = append(w.buf, "$-1\r\n"...)
}

// NullArray writes the null array (*-1 in RESP2, _ in RESP3).
func (w *Writer) NullArray() {
	if w.proto >= 3 {
		w.buf = append(w.buf, "_\r\n"...)
		return
	}
	w.buf = append(w.buf, "*-1\r\n"...)
}

func (w *Writer) header(c byte, n int) {
	w.buf = append(w.buf, c)
	w.buf = strconv.AppendInt(w.buf, int64(n), 10)
	w.buf = append(w.buf, '\r', '\n')
}

// Array writes an array header for n elements.
func (w *Writer) Array(n int) { w.header('*', n) }

// Map writes a map header for n key/value pairs (a flat array of 2n in RESP2).
func (w *Writer) Map(n int) {
	if w.proto >= 3 {
		w.header('%', n)
		return
	}
	w.header('*', 2*n)
}

// Set writes a set header (an array in RESP2).
func (w *Writer) Set(n int) {
	if w.proto >= 3 {
		w.header('~', n)
		return
	}
	w.header('*', n)
}

// Push writes an out-of-band push header (an array in RESP2, as pub/sub messages are).
func (w *Writer) Push(n int) {
	if w.proto >= 3 {
		w.header('>', n)
		return
	}
	w.header('*', n)
}

// Bool writes a boolean (:1 or :0 in RESP2).
func (w *Writer) Bool(b bool) {
	if w.proto >= 3 {
		if b {
			w.buf = append(w.buf, "#t\r\n"...)
		} else {
			w.buf = append(w.buf, "#f\r\n"...)
		}
		return
	}
	if b {
		w.buf = append(w.buf, ":1\r\n"...)
	} else {
		w.buf = append(w.buf, ":0\r\n"...)
	}
}

// Double writes a double as Redis 7.0 does: %.17g, inf/-inf/nan; a bulk string in RESP2.
func (w *Writer) Double(f float64) {
	var tmp [32]byte
	s := AppendDouble(tmp[:0], f)
	if w.proto >= 3 {
		w.buf = append(w.buf, ',')
		w.buf = append(w.buf, s...)
		w.buf = append(w.buf, '\r', '\n')
		return
	}
	w.Bulk(s)
}

// AppendDouble formats f like C's printf("%.17g"), with inf, -inf and nan spelled as
// Redis spells them.
func AppendDouble(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	case math.IsNaN(f):
		return append(b, "nan"...)
	}
	return strconv.AppendFloat(b, f, 'g', 17, 64)
}

// Verbatim writes a verbatim string with a three-letter format ("txt"), a bulk string in RESP2.
func (w *Writer) Verbatim(format, s string) {
	if w.proto < 3 {
		w.BulkString(s)
		return
	}
	w.buf = append(w.buf, '=')
	w.buf = strconv.AppendInt(w.buf, int64(len(s)+4), 10)
	w.buf = append(w.buf, '\r', '\n')
	w.buf = append(w.buf, format...)
	w.buf = append(w.buf, ':')
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, '\r', '\n')
}

// BigNumber writes a big number (a bulk string in RESP2).
func (w *Writer) BigNumber(s string) {
	if w.proto < 3 {
		w.BulkString(s)
		return
	}
	w.buf = append(w.buf, '(')
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, '\r', '\n')
}

// Deferred marks a collection header whose length is not known yet.
type Deferred struct{ pos int }

// DeferLen reserves the place of a header; SetArray/SetMap/SetSet fill it later.
func (w *Writer) DeferLen() Deferred { return Deferred{pos: len(w.buf)} }

// SetArray fills a deferred header as an array of n elements.
func (w *Writer) SetArray(d Deferred, n int) { w.fill(d, '*', n) }

// SetMap fills a deferred header as a map of n pairs.
func (w *Writer) SetMap(d Deferred, n int) {
	if w.proto >= 3 {
		w.fill(d, '%', n)
		return
	}
	w.fill(d, '*', 2*n)
}

// SetSet fills a deferred header as a set of n elements.
func (w *Writer) SetSet(d Deferred, n int) {
	if w.proto >= 3 {
		w.fill(d, '~', n)
		return
	}
	w.fill(d, '*', n)
}

func (w *Writer) fill(d Deferred, c byte, n int) {
	var tmp [24]byte
	h := append(tmp[:0], c)
	h = strconv.AppendInt(h, int64(n), 10)
	h = append(h, '\r', '\n')
	w.buf = append(w.buf, h...) // grow by len(h)
	copy(w.buf[d.pos+len(h):], w.buf[d.pos:len(w.buf)-len(h)])
	copy(w.buf[d.pos:], h)
}

// Swap exchanges the writer's buffer for b (emptied) and returns the old one, so a
// finished batch of replies can be handed to the socket without a copy.
func (w *Writer) Swap(b []byte) []byte {
	old := w.buf
	w.buf = b[:0]
	return old
}
