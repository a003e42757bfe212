package resp

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// Kind is a RESP type, named by its first byte on the wire.
type Kind byte

// The RESP2 and RESP3 types.
const (
	KindSimple    Kind = '+'
	KindError     Kind = '-'
	KindInt       Kind = ':'
	KindBulk      Kind = '$'
	KindArray     Kind = '*'
	KindMap       Kind = '%'
	KindSet       Kind = '~'
	KindPush      Kind = '>'
	KindDouble    Kind = ','
	KindBool      Kind = '#'
	KindNull      Kind = '_'
	KindBigNumber Kind = '('
	KindVerbatim  Kind = '='
	KindAttribute Kind = '|'
)

// Value is one reply as a client sees it. Null bulk strings and arrays of RESP2 have
// Null set with their own Kind; RESP3's null has KindNull.
type Value struct {
	Kind   Kind
	Null   bool
	Str    []byte  // simple, error, bulk, verbatim (without the format), big number, double text
	Int    int64   // integer; bool as 0 or 1
	Elems  []Value // array, set, push; a map's keys and values alternate
	Format string  // verbatim format such as "txt"
}

// String renders a value compactly for test failures and logs.
func (v Value) String() string {
	switch v.Kind {
	case KindInt, KindBool:
		return strconv.FormatInt(v.Int, 10)
	case KindArray, KindMap, KindSet, KindPush:
		if v.Null {
			return "(nil)"
		}
		s := "["
		for i, e := range v.Elems {
			if i > 0 {
				s += " "
			}
			s += e.String()
		}
		return s + "]"
	case KindNull:
		return "(nil)"
	case KindError:
		return "(error) " + string(v.Str)
	default:
		if v.Null {
			return "(nil)"
		}
		return string(v.Str)
	}
}

// ReplyReader reads replies from a server.
type ReplyReader struct {
	br       *bufio.Reader
	maxBulk  int64
	maxElems int64
}

// NewReplyReader reads replies from rd. Sizes are bounded so a hostile server cannot
// make a client allocate without limit.
func NewReplyReader(rd io.Reader) *ReplyReader {
	return &ReplyReader{br: bufio.NewReaderSize(rd, 32<<10), maxBulk: 1 << 32, maxElems: 1 << 32}
}

// Buffered reports whether bytes are waiting in the reader.
func (r *ReplyReader) Buffered() int { return r.br.Buffered() }

// ReadLine reads one CRLF-terminated line without the CRLF (for the replication
// handshake, where a server answers with bare lines).
func (r *ReplyReader) ReadLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	n := len(line) - 1
	if n > 0 && line[n-1] == '\r' {
		n--
	}
	out := make([]byte, n)
	copy(out, line)
	return out, nil
}

// Underlying exposes the buffered reader (to stream an RDB payload after +FULLRESYNC).
func (r *ReplyReader) Underlying() *bufio.Reader { return r.br }

// Read reads one reply. An error reply is returned as a Value of KindError, not as err.
func (r *ReplyReader) Read() (Value, error) {
	line, err := r.ReadLine()
	if err != nil {
		return Value{}, err
	}
	if len(line) == 0 {
		return Value{}, fmt.Errorf("resp: empty reply line")
	}
	kind, rest := Kind(line[0]), line[1:]
	v := Value{Kind: kind}
	switch kind {
	case KindSimple, KindError, KindBigNumber:
		v.Str = rest
	case KindDouble:
		v.Str = rest
	case KindInt:
		v.Int, err = strconv.ParseInt(string(rest), 10, 64)
	case KindBool:
		if len(rest) != 1 || (rest[0] != 't' && rest[0] != 'f') {
			return v, fmt.Errorf("resp: bad boolean %q", rest)
		}
		if rest[0] == 't' {
			v.Int = 1
		}
	case KindNull:
		v.Null = true
	case KindBulk, KindVerbatim, '!':
		n, perr := strconv.ParseInt(string(rest), 10, 64)
		if perr != nil || n < -1 || n > r.maxBulk {
			return v, fmt.Errorf("resp: bad bulk length %q", rest)
		}
		if n == -1 {
			v.Null = true
			return v, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r.br, buf); err != nil {
			return v, err
		}
		v.Str = buf[:n]
		if kind == '!' { // RESP3 blob error
			v.Kind = KindError
		}
		if kind == KindVerbatim && n >= 4 {
			v.Format, v.Str = string(v.Str[:3]), v.Str[4:]
		}
	case KindArray, KindSet, KindPush, KindMap, KindAttribute:
		n, perr := strconv.ParseInt(string(rest), 10, 64)
		if perr != nil || n < -1 || n > r.maxElems {
			return v, fmt.Errorf("resp: bad aggregate length %q", rest)
		}
		if n == -1 {
			v.Null = true
			return v, nil
		}
		if kind == KindMap || kind == KindAttribute {
			n *= 2
		}
		v.Elems = make([]Value, 0, min(n, 1024))
		for i := int64(0); i < n; i++ {
			e, err := r.Read()
			if err != nil {
				return v, err
			}
			v.Elems = append(v.Elems, e)
		}
		if kind == KindAttribute { // attributes precede the reply they describe
			return r.Read()
		}
	default:
		return v, fmt.Errorf("resp: unknown reply type %q", line[0])
	}
	return v, err
}

// AppendCommand encodes a request as a multibulk array.
func AppendCommand(b []byte, args ...[]byte) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}

// AppendCommandStrings is AppendCommand for string arguments.
func AppendCommandStrings(b []byte, args ...string) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}
