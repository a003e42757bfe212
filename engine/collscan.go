package engine

import (
	"strconv"

	"kv/glob"
)

// HSCAN, SSCAN and ZSCAN share Redis's scanGenericCommand: a cursor, then MATCH
// and COUNT (TYPE belongs to SCAN only). A collection in a compact encoding is
// returned whole with cursor 0; a hashtable is walked with the dict's cursor.

const errCollCursor = "ERR invalid cursor"

// parseCollCursor parses a cursor as strtoul does: optional sign (a negative
// cursor wraps around), decimal digits, no leading space and nothing after,
// and an empty string is 0.
func parseCollCursor(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, true
	}
	switch b[0] {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return 0, false
	}
	i, neg := 0, false
	if b[0] == '+' || b[0] == '-' {
		neg = b[0] == '-'
		i++
	}
	if i == len(b) {
		return 0, false
	}
	var v uint64
	for ; i < len(b); i++ {
		ch := b[i]
		if ch < '0' || ch > '9' {
			return 0, false
		}
		d := uint64(ch - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	if neg {
		v = -v
	}
	return v, true
}

type collScanOptions struct {
	count      int
	pattern    []byte
	usePattern bool
}

// parseCollScanOptions parses the options from argument i on, replying with the
// error when they are wrong.
func parseCollScanOptions(c *Ctx, i int) (collScanOptions, bool) {
	opts := collScanOptions{count: 10}
	for i < len(c.Args) {
		more := len(c.Args) - i
		switch {
		case c.Is(i, "count") && more >= 2:
			n, ok := ParseInt(c.Args[i+1])
			if !ok {
				c.Error(ErrNotInt)
				return opts, false
			}
			if n < 1 {
				c.Error(ErrSyntax)
				return opts, false
			}
			// Bounded so count*2*10 (hash pairs, the iteration cap) cannot overflow.
			opts.count = int(min(n, 1<<40))
			i += 2
		case c.Is(i, "match") && more >= 2:
			opts.pattern = c.Args[i+1]
			// "*" matches everything, so it is the same as no pattern.
			opts.usePattern = !(len(opts.pattern) == 1 && opts.pattern[0] == '*')
			i += 2
		default:
			c.Error(ErrSyntax)
			return opts, false
		}
	}
	return opts, true
}

func (o *collScanOptions) matches(s []byte) bool {
	return !o.usePattern || glob.Match(o.pattern, s, false)
}

// writeCollScan writes the [cursor, elements] reply.
func writeCollScan(c *Ctx, cursor uint64, elems [][]byte) {
	c.W.Array(2)
	var tmp [20]byte
	c.W.Bulk(strconv.AppendUint(tmp[:0], cursor, 10))
	c.W.Array(len(elems))
	for _, e := range elems {
		c.W.Bulk(e)
	}
}
