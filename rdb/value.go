package rdb

// RDB value types (the byte before each key) and opcodes of Redis 7.0.
const (
	TypeString           = 0
	TypeList             = 1
	TypeSet              = 2
	TypeZSet             = 3
	TypeHash             = 4
	TypeZSet2            = 5
	TypeModule           = 6
	TypeModule2          = 7
	TypeHashZipmap       = 9
	TypeListZiplist      = 10
	TypeSetIntset        = 11
	TypeZSetZiplist      = 12
	TypeHashZiplist      = 13
	TypeListQuicklist    = 14
	TypeStreamListpacks  = 15
	TypeHashListpack     = 16
	TypeZSetListpack     = 17
	TypeListQuicklist2   = 18
	TypeStreamListpacks2 = 19

	opFunction2    = 245
	opFunction     = 246
	opModuleAux    = 247
	opIdle         = 248
	opFreq         = 249
	opAux          = 250
	opResizeDB     = 251
	opExpireTimeMs = 252
	opExpireTime   = 253
	opSelectDB     = 254
	opEOF          = 255

	// Version is the RDB version Redis 7.0 writes.
	Version = 10

	quicklistPlain  = 1
	quicklistPacked = 2
)

// Kind is the data type of a decoded value, independent of its encoding.
type Kind uint8

const (
	KindString Kind = iota
	KindList
	KindSet
	KindZSet
	KindHash
)

var kindNames = [...]string{"string", "list", "set", "zset", "hash"}

func (k Kind) String() string { return kindNames[k] }

// ZMember is one sorted-set member.
type ZMember struct {
	Member []byte
	Score  float64
}

// Value is a decoded value in a neutral form: exactly one of the fields matching Kind is
// set. Encoding names the RDB encoding it was read from or should be written as
// ("listpack", "intset", "quicklist", "hashtable", "skiplist", "ziplist", "zipmap",
// "raw"/"int" for strings), so tools can report it and writers can keep it.
type Value struct {
	Kind     Kind
	Encoding string
	Str      []byte
	List     [][]byte
	Set      [][]byte
	Ints     []int64 // a set that is an intset
	Hash     [][2][]byte
	ZSet     []ZMember
}

// Len is the number of elements (1 for a string).
func (v *Value) Len() int {
	switch v.Kind {
	case KindList:
		return len(v.List)
	case KindSet:
		if v.Ints != nil {
			return len(v.Ints)
		}
		return len(v.Set)
	case KindZSet:
		return len(v.ZSet)
	case KindHash:
		return len(v.Hash)
	}
	return 1
}
