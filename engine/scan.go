package engine

import (
	"strconv"

	"kv/glob"
)

// KEYS and SCAN over a database's key table (Redis's keysCommand and
// scanGenericCommand with no object).

func scanCommands() []*Command {
	return []*Command{
		{Name: "keys", Arity: 2, Flags: FlagReadonly, ACL: []string{"keyspace", "read", "slow", "dangerous"},
			Group: "generic", Since: "1.0.0", Summary: "Find all keys matching the given pattern", Syntax: "pattern",
			Complexity: "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
			Handler:    keysCommand},
		{Name: "scan", Arity: -2, Flags: FlagReadonly, ACL: aclKeyspaceReadSlow,
			Group: "generic", Since: "2.8.0", Summary: "Incrementally iterate the keys space",
			Syntax:     "cursor [MATCH pattern] [COUNT count] [TYPE type]",
			Complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
			Handler:    scanCommand},
	}
}

func keysCommand(c *Ctx) {
	pattern := string(c.Args[1])
	all := pattern == "*"
	db := c.DB
	var out []string
	db.keys.Range(func(key string, _ *Object) bool {
		if !all && !glob.MatchString(pattern, key, false) {
			return true
		}
		// Expired keys are hidden but not deleted: deleting while walking the table
		// is not allowed, and KEYS is read-only.
		if at, ok := db.expires.GetString(key); ok && isExpired(at, c.Now) {
			return true
		}
		out = append(out, key)
		return true
	})
	c.W.Array(len(out))
	for _, k := range out {
		c.W.BulkString(k)
	}
}

// ParseScanCursor parses a SCAN-family cursor as Redis's strtoul call does: an
// optional sign (a negative cursor wraps around), decimal digits, nothing after; an
// empty string is cursor 0. ok is false for Redis's "invalid cursor".
func ParseScanCursor(b []byte) (uint64, bool) {
	b = cutNUL(b)
	if len(b) == 0 {
		return 0, true
	}
	switch b[0] {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return 0, false
	}
	neg := false
	if b[0] == '+' || b[0] == '-' {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// ErrInvalidCursor is the SCAN family's reply to a cursor that does not parse.
const ErrInvalidCursor = "ERR invalid cursor"

func scanCommand(c *Ctx) {
	cursor, ok := ParseScanCursor(c.Args[1])
	if !ok {
		c.Error(ErrInvalidCursor)
		return
	}
	count := int64(10)
	var pattern, typeName []byte
	usePattern := false
	for i := 2; i < len(c.Args); i += 2 {
		left := len(c.Args) - i
		switch {
		case c.Is(i, "count") && left >= 2:
			n, ok := ParseInt(c.Args[i+1])
			if !ok {
				c.Error(ErrNotInt)
				return
			}
			if n < 1 {
				c.Error(ErrSyntax)
				return
			}
			count = n
		case c.Is(i, "match") && left >= 2:
			pattern = c.Args[i+1]
			// "*" matches everything, the empty key included: no need to match.
			usePattern = !(len(pattern) == 1 && pattern[0] == '*')
		case c.Is(i, "type") && left >= 2:
			typeName = c.Args[i+1]
		default:
			c.Error(ErrSyntax)
			return
		}
	}

	// Visit buckets until COUNT keys are found, the table is done, or ten times COUNT
	// buckets were visited (a sparse table must not stall the server).
	var keys []string
	db := c.DB
	for maxIter := count * 10; ; maxIter-- {
		cursor = db.keys.Scan(cursor, func(key string, _ *Object) { keys = append(keys, key) })
		if cursor == 0 || maxIter == 0 || int64(len(keys)) >= count {
			break
		}
	}

	out := keys[:0]
	for _, key := range keys {
		if usePattern && !glob.MatchString(string(pattern), key, false) {
			continue
		}
		if typeName != nil {
			name := "none"
			if o := c.lookupNoTouch([]byte(key), true); o != nil {
				name = o.Type.String()
			}
			if !EqualFold(typeName, name) {
				continue
			}
		}
		if c.expireIfNeeded([]byte(key)) {
			continue
		}
		out = append(out, key)
	}
	c.W.Array(2)
	c.W.Bulk(strconv.AppendUint(nil, cursor, 10))
	c.W.Array(len(out))
	for _, k := range out {
		c.W.BulkString(k)
	}
}
