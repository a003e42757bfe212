package resp

import (
	"bytes"
	"fmt"
)

// Skip consumes one reply without building a Value and reports whether it was an
// error reply. It allocates nothing, so a load generator reading millions of replies
// per second is not slowed by the garbage collector. Attributes are skipped together
// with the reply they precede; a push message counts as one reply.
func (r *ReplyReader) Skip() (isErr bool, err error) {
	line, err := r.br.ReadSlice('\n')
	if err != nil {
		return false, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return false, fmt.Errorf("resp: malformed reply line %q", line)
	}
	kind, rest := Kind(line[0]), line[1:len(line)-2]
	switch kind {
	case KindSimple, KindInt, KindDouble, KindBool, KindNull, KindBigNumber:
		return false, nil
	case KindError:
		return true, nil
	case KindBulk, KindVerbatim, '!':
		n, ok := parseLen(rest)
		if !ok || n > r.maxBulk {
			return false, fmt.Errorf("resp: bad bulk length %q", rest)
		}
		if n < 0 {
			return false, nil
		}
		if _, err := r.br.Discard(int(n) + 2); err != nil {
			return false, err
		}
		return kind == '!', nil
	case KindArray, KindSet, KindPush, KindMap, KindAttribute:
		n, ok := parseLen(rest)
		if !ok || n > r.maxElems {
			return false, fmt.Errorf("resp: bad aggregate length %q", rest)
		}
		if kind == KindMap || kind == KindAttribute {
			n *= 2
		}
		for i := int64(0); i < n; i++ {
			if _, err := r.Skip(); err != nil {
				return false, err
			}
		}
		if kind == KindAttribute {
			return r.Skip()
		}
		return false, nil
	default:
		return false, fmt.Errorf("resp: unknown reply type %q", bytes.TrimSpace(line[:1]))
	}
}

// parseLen parses a decimal length that may be -1, without allocating.
func parseLen(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	if len(b) == 2 && b[0] == '-' && b[1] == '1' {
		return -1, true
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' || n > (1<<62)/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
