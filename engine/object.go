package engine

import "strconv"

// Type is a value's Redis type, as TYPE names it.
type Type uint8

const (
	TypeString Type = iota
	TypeList
	TypeSet
	TypeZSet
	TypeHash
	TypeStream
)

var typeNames = [...]string{"string", "list", "set", "zset", "hash", "stream"}

func (t Type) String() string { return typeNames[t] }

// ParseType maps a TYPE name (SCAN ... TYPE) to a Type.
func ParseType(name string) (Type, bool) {
	for i, n := range typeNames {
		if n == name {
			return Type(i), true
		}
	}
	return 0, false
}

// Encoding is a value's in-memory representation, as OBJECT ENCODING names it.
type Encoding uint8

const (
	EncRaw Encoding = iota
	EncInt
	EncEmbstr
	EncHashtable
	EncQuicklist
	EncListpack
	EncIntset
	EncSkiplist
	EncStream
)

var encodingNames = [...]string{"raw", "int", "embstr", "hashtable", "quicklist", "listpack", "intset", "skiplist", "stream"}

func (e Encoding) String() string { return encodingNames[e] }

// embstrLimit is the longest string Redis stores embedded in its object header.
const embstrLimit = 44

// Object is one value in the keyspace. A string is Int (EncInt) or Str; every other
// type keeps its structure in Val. LRU holds the access clock, or the LFU counter and
// decay time when an LFU policy is in force, as Redis's robj.lru does.
type Object struct {
	Val  any
	Str  []byte
	Int  int64
	LRU  uint32
	Type Type
	Enc  Encoding
	// Gen is the snapshot generation the value was last stored or saved under
	// (snapshot.go). It sits in what would otherwise be padding.
	Gen uint16
}

// NewString makes a string value the way Redis's tryObjectEncoding would: a canonical
// integer of at most 20 bytes becomes EncInt; otherwise it keeps a private copy.
func NewString(b []byte) Object {
	if n, ok := canonicalInt(b); ok {
		return Object{Type: TypeString, Enc: EncInt, Int: n}
	}
	return NewRawString(append([]byte(nil), b...))
}

// NewRawString wraps b (which the caller gives up) without trying the int encoding,
// as Redis does for values built by APPEND, SETRANGE and SETBIT.
func NewRawString(b []byte) Object {
	enc := EncRaw
	if len(b) <= embstrLimit {
		enc = EncEmbstr
	}
	return Object{Type: TypeString, Enc: enc, Str: b}
}

// NewInt makes an int-encoded string.
func NewInt(n int64) Object { return Object{Type: TypeString, Enc: EncInt, Int: n} }

// Bytes returns a string value's bytes (formatting an int-encoded one).
func (o *Object) Bytes() []byte {
	if o.Enc == EncInt {
		return strconv.AppendInt(nil, o.Int, 10)
	}
	return o.Str
}

// AppendBytes appends a string value's bytes to b without allocating for ints.
func (o *Object) AppendBytes(b []byte) []byte {
	if o.Enc == EncInt {
		return strconv.AppendInt(b, o.Int, 10)
	}
	return append(b, o.Str...)
}

// StrLen is the length of a string value.
func (o *Object) StrLen() int {
	if o.Enc == EncInt {
		var tmp [20]byte
		return len(strconv.AppendInt(tmp[:0], o.Int, 10))
	}
	return len(o.Str)
}

// canonicalInt parses b as Redis's string2ll does: no leading zeros or '+', no spaces,
// "-0" rejected, within int64 and at most 20 bytes.
func canonicalInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	i, neg := 0, false
	if b[0] == '-' {
		neg = true
		i = 1
		if len(b) == 1 {
			return 0, false
		}
	}
	if b[i] < '1' || b[i] > '9' {
		return 0, false
	}
	var v uint64
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (1<<64-1)/10 {
			return 0, false
		}
		v *= 10
		if v > 1<<64-1-uint64(c-'0') {
			return 0, false
		}
		v += uint64(c - '0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > 1<<63-1 {
		return 0, false
	}
	return int64(v), true
}

// ParseInt parses an integer argument with Redis's string2ll rules.
func ParseInt(b []byte) (int64, bool) { return canonicalInt(b) }
