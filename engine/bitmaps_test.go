package engine_test

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"kv/internal/kvtest"
)

const (
	errBitOffset = "(error) ERR bit offset is not an integer or out of range"
	errBitValue  = "(error) ERR bit is not an integer or out of range"
	errBFType    = "(error) ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
)

func TestBitmapCommands(t *testing.T) {
	scripts(t, map[string][]sstep{
		"setbit getbit": {
			{"SETBIT k 7 1", "0"},
			{"SETBIT k 7 1", "1"},
			{"SETBIT k 7 0", "1"},
			{"SETBIT k 1 1", "0"},
			{"GET k", "@"},
			{"SETBIT k 20 1", "0"},
			{"GET k", "@\x00\x08"},
			{"GETBIT k 1", "1"},
			{"GETBIT k 20", "1"},
			{"GETBIT k 21", "0"},
			{"GETBIT k 100000", "0"},
			{"GETBIT nope 3", "0"},
			{"SETBIT k -1 1", errBitOffset},
			{"SETBIT k abc 1", errBitOffset},
			{"SETBIT k 4294967296 1", errBitOffset},
			{"SETBIT k 1 2", errBitValue},
			{"SETBIT k 1 -1", errBitValue},
			{"SETBIT k 1 abc", errBitValue},
			{"GETBIT k -1", errBitOffset},
			{"GETBIT nope -1", errBitOffset},
			{"GETBIT k 4294967296", errBitOffset},
			{"SET i 12", "OK"},
			{"GETBIT i 2", "1"},
			{"GETBIT i 3", "1"},
			{"GETBIT i 4", "0"},
			{"SETBIT i 0 1", "0"},
			{"GET i", "\xb12"},
		},
		"bitcount": {
			{"BITCOUNT nope", "0"},
			{"BITCOUNT nope a b", "0"},
			{"BITCOUNT nope 0", "0"},
			{"SET s foobar", "OK"},
			{"BITCOUNT s", "26"},
			{"BITCOUNT s 0 0", "4"},
			{"BITCOUNT s 1 1", "6"},
			{"BITCOUNT s 1 1 BYTE", "6"},
			{"BITCOUNT s 5 30 BIT", "17"},
			{"BITCOUNT s 5 30 bit", "17"},
			{"BITCOUNT s 3 3 BIT", "0"},
			{"BITCOUNT s 0 -1 BIT", "26"},
			{"BITCOUNT s 0 1000 BIT", "26"},
			{"BITCOUNT s -5 -1", "22"},
			{"BITCOUNT s -5 -1 BIT", "2"},
			{"BITCOUNT s 1 -100", "0"},
			{"BITCOUNT s -1 -5", "0"},
			{"BITCOUNT s -1 -5 foo", "0"},
			{"BITCOUNT s 5 30 foo", errSyntax},
			{"BITCOUNT s 0", errSyntax},
			{"BITCOUNT s 0 1 bit extra", errSyntax},
			{"BITCOUNT s a b", errNotInt},
			{"SET i 12", "OK"},
			{"BITCOUNT i", "6"},
			{"BITCOUNT i 1 1 BIT", "0"},
		},
		"bitpos": {
			{"BITPOS nope 1", "-1"},
			{"BITPOS nope 0", "0"},
			{"BITPOS nope 0 5 6", "0"},
			{`SET p "\xff\xf0\x00"`, "OK"},
			{"BITPOS p 0", "12"},
			{"BITPOS p 1", "0"},
			{"BITPOS p 2", "(error) ERR The bit argument must be 1 or 0."},
			{"BITPOS p a", errNotInt},
			{"BITPOS p 0 2", "16"},
			{"BITPOS p 0 1 1", "12"},
			{"BITPOS p 0 0 0", "-1"},
			{"BITPOS p 0 0 -1", "12"},
			{"BITPOS p 1 1", "8"},
			{"BITPOS p 1 2", "-1"},
			{"BITPOS p 0 7 15 BIT", "12"},
			{"BITPOS p 0 7 11 BIT", "-1"},
			{"BITPOS p 1 7 15 bit", "7"},
			{"BITPOS p 1 12 20 BIT", "-1"},
			{"BITPOS p 0 12 20 BIT", "12"},
			{"BITPOS p 0 0 3 BIT", "-1"},
			{"BITPOS p 1 3 5 BIT", "3"},
			{"BITPOS p 0 3 5 BYTE", "-1"},
			{"BITPOS p 0 3 5 foo", errSyntax},
			{"BITPOS p 0 1 2 3 4", errSyntax},
			{"BITPOS p 0 a", errNotInt},
			{"BITPOS p 0 0 a", errNotInt},
			{"BITPOS p 1 -1", "-1"},
			{"BITPOS p 0 -1", "16"},
			{"BITPOS p 0 -100 -90", "-1"},
			{`SET ones "\xff\xff\xff"`, "OK"},
			{"BITPOS ones 0", "24"},
			{"BITPOS ones 0 0 -1", "-1"},
			{"BITPOS ones 0 0 23 BIT", "-1"},
			{"BITPOS ones 1 3 23 BIT", "3"},
			{`SET zero "\x00\x00\x00"`, "OK"},
			{"BITPOS zero 1", "-1"},
			{"BITPOS zero 1 0 -1 BIT", "-1"},
			{"BITPOS zero 0 5 17 BIT", "5"},
			{"SET i 12", "OK"},
			{"BITPOS i 1", "2"},
			{"BITPOS i 0 1 1 BIT", "1"},
		},
		"bitop": {
			{`SET x1 "\x0f\xf0"`, "OK"},
			{`SET x2 "\xff"`, "OK"},
			{"BITOP AND d x1 x2", "2"},
			{"GET d", "\x0f\x00"},
			{"BITOP OR d x1 x2", "2"},
			{"GET d", "\xff\xf0"},
			{"BITOP XOR d x1 x2 nope", "2"},
			{"GET d", "\xf0\xf0"},
			{"BITOP NOT d x1", "2"},
			{"GET d", "\xf0\x0f"},
			{"BITOP not d x1 x2", "(error) ERR BITOP NOT must be called with a single source key."},
			{"BITOP foo d x1", errSyntax},
			{"BITOP and d", errArity("bitop")},
			{"BITOP and d nope nope2", "0"},
			{"GET d", "(nil)"},
			{"SET i 12", "OK"},
			{"BITOP and d i x1", "2"},
			{"GET d", "\x010"},
			{"BITOP or d d", "2"},
			{"GET d", "\x010"},
		},
		"bitfield": {
			{"BITFIELD bf SET i8 0 100 GET i8 0", "[0 100]"},
			{"BITFIELD bf INCRBY i8 0 100", "[-56]"},
			{"BITFIELD bf OVERFLOW SAT INCRBY i8 0 -100", "[-128]"},
			{"BITFIELD bf OVERFLOW FAIL INCRBY i8 0 -1", "[(nil)]"},
			{"BITFIELD bf OVERFLOW WRAP INCRBY i8 0 -1", "[127]"},
			{"BITFIELD bf OVERFLOW SAT INCRBY i8 0 100 OVERFLOW FAIL INCRBY i8 0 1 OVERFLOW WRAP INCRBY i8 0 1", "[127 (nil) -128]"},
			{"BITFIELD bf SET u8 #1 255 GET u8 8 GET u4 8 GET i4 8", "[0 255 15 -1]"},
			{"BITFIELD bf SET u8 #1 256 OVERFLOW SAT SET u8 #1 256 OVERFLOW FAIL SET u8 #1 256", "[255 0 (nil)]"},
			{"BITFIELD bf SET u8 8 -1", "[255]"},
			{"BITFIELD bf OVERFLOW SAT SET u8 8 -1", "[255]"},
			{"BITFIELD bf OVERFLOW SAT SET i8 8 -1000", "[-1]"},
			{"BITFIELD bf OVERFLOW wrap SET i8 8 -1000", "[-128]"},
			{"BITFIELD bf SET i64 0 -1 GET u63 0 GET u63 1 GET i64 0", "[-9216616637413720064 9223372036854775807 9223372036854775807 -1]"},
			{"BITFIELD bf SET i64 0 9223372036854775807 INCRBY i64 0 1", "[-1 -9223372036854775808]"},
			{"BITFIELD bf OVERFLOW SAT SET i64 0 9223372036854775807 INCRBY i64 0 1", "[-9223372036854775808 9223372036854775807]"},
			{"BITFIELD bf OVERFLOW SAT INCRBY i64 0 -9223372036854775808 INCRBY i64 0 -9223372036854775808", "[-1 -9223372036854775808]"},
			{"BITFIELD bf SET u63 0 0 OVERFLOW SAT INCRBY u63 0 9223372036854775807 INCRBY u63 0 5", "[4611686018427387904 9223372036854775807 9223372036854775807]"},
			{"BITFIELD bf OVERFLOW WRAP INCRBY u63 0 1 INCRBY u63 0 -1", "[0 9223372036854775807]"},
			{"BITFIELD bf OVERFLOW SAT INCRBY u2 100 -9223372036854775808", "[0]"},
			{"BITFIELD bf GET u64 0", errBFType},
			{"BITFIELD bf GET I8 0", errBFType},
			{"BITFIELD bf GET i0 0", errBFType},
			{"BITFIELD bf GET i65 0", errBFType},
			{"BITFIELD bf GET i 0", errBFType},
			{"BITFIELD bf GET i8 -1", errBitOffset},
			{"BITFIELD bf GET i8 #-1", errBitOffset},
			{"BITFIELD bf GET i8 #a", errBitOffset},
			{"BITFIELD bf GET i8 #", errBitOffset},
			{"BITFIELD bf GET i8 4294967296", errBitOffset},
			{"BITFIELD bf GET i8 #536870912", errBitOffset},
			{"BITFIELD bf GET i8 #536870911", "[0]"},
			{"BITFIELD bf SET i8 0", errSyntax},
			{"BITFIELD bf SET i8 0 a", errNotInt},
			{"BITFIELD bf OVERFLOW", errSyntax},
			{"BITFIELD bf OVERFLOW foo GET i8 0", "(error) ERR Invalid OVERFLOW type specified"},
			{"BITFIELD bf FOO", errSyntax},
			{"BITFIELD bf", "[]"},
			{"BITFIELD bf OVERFLOW SAT", "[]"},
			{"BITFIELD nope GET u8 0", "[0]"},
			{"GET nope", "(nil)"},
			// Every write failing on a new key still leaves it, zero-filled.
			{"BITFIELD bf3 OVERFLOW FAIL INCRBY u2 10 10", "[(nil)]"},
			{"GET bf3", "\x00\x00"},
			{"BITFIELD bf3 SET i5 3 100 GET i5 3 GET u13 7 INCRBY i3 1 5 INCRBY u7 4 70", "[0 4 0 -3 102]"},
			{"GET bf3", "\\\xc0"},
			{"SET i 12", "OK"},
			{"BITFIELD i GET u8 0 SET u8 0 0", "[49 49]"},
			{"GET i", "\x002"},
			{"BITFIELD_RO bf GET u8 0 GET i5 3", "[255 -1]"},
			{"BITFIELD_RO bf SET u8 0 1", "(error) ERR BITFIELD_RO only supports the GET subcommand"},
			{"BITFIELD_RO bf OVERFLOW SAT INCRBY u8 0 1", "(error) ERR BITFIELD_RO only supports the GET subcommand"},
			{"BITFIELD_RO bf", "[]"},
			{"BITFIELD_RO bf OVERFLOW SAT GET u8 0", "[255]"},
			{"BITFIELD_RO nope GET u8 0", "[0]"},
		},
	})
}

func TestBitmapWrongType(t *testing.T) {
	s := kvtest.Start(t)
	putList(s, "l")
	runScript(t, s.Raw(t), []sstep{
		{"SETBIT l 0 1", errWrongType},
		{"GETBIT l 0", errWrongType},
		{"BITCOUNT l", errWrongType},
		{"BITPOS l 1", errWrongType},
		{"BITOP AND d l", errWrongType},
		{"BITOP NOT d l", errWrongType},
		{"BITFIELD l GET u8 0", errWrongType},
		{"BITFIELD l SET u8 0 1", errWrongType},
		{"BITFIELD_RO l GET u8 0", errWrongType},
		// Argument errors come before the type check.
		{"SETBIT l -1 1", errBitOffset},
		{"BITFIELD l GET u64 0", errBFType},
		// An empty BITOP result deletes the destination whatever its type.
		{"BITOP OR l nope", "0"},
		{"BITFIELD l GET u8 0", "[0]"},
	})
}

func TestBitmapPropagation(t *testing.T) {
	s, rec := startRecorded(t)
	r := s.Raw(t)
	cases := []struct {
		line          string
		props, events []string
	}{
		{"SETBIT a 3 1", []string{"SETBIT a 3 1"}, []string{"setbit:a"}},
		{"SETBIT a 3 1", nil, nil},
		{"SETBIT a 30 0", []string{"SETBIT a 30 0"}, []string{"setbit:a"}},
		{"GETBIT a 3", nil, nil},
		{"BITOP OR d a", []string{"BITOP OR d a"}, []string{"set:d"}},
		{"BITOP OR d nope", []string{"BITOP OR d nope"}, []string{"del:d"}},
		{"BITOP OR d nope", nil, nil},
		{"BITFIELD a GET u8 0", nil, nil},
		{"BITFIELD a SET u8 0 16", nil, nil},
		{"BITFIELD a SET u8 0 17 INCRBY u8 0 1", []string{"BITFIELD a SET u8 0 17 INCRBY u8 0 1"}, []string{"setbit:a"}},
		{"BITFIELD a OVERFLOW FAIL INCRBY u8 0 255", nil, nil},
		// A key created only to fail is not signalled, as in Redis.
		{"BITFIELD n OVERFLOW FAIL INCRBY u2 0 9", nil, nil},
		{"BITFIELD_RO a GET u8 0", nil, nil},
	}
	for _, c := range cases {
		r.Do(splitLine(t, c.line)...)
		props, events := rec.take()
		if fmt.Sprint(props) != fmt.Sprint(c.props) {
			t.Errorf("%s propagated %q, want %q", c.line, props, c.props)
		}
		if fmt.Sprint(events) != fmt.Sprint(c.events) {
			t.Errorf("%s notified %q, want %q", c.line, events, c.events)
		}
	}
	var dirty int64
	locked(s, func() { dirty = s.E.Dirty })
	// SETBIT x2, BITOP set and del, BITFIELD with two changing writes.
	if dirty != 6 {
		t.Errorf("dirty = %d, want 6", dirty)
	}
}

// TestBitcountBitposModel checks BITCOUNT and BITPOS over random strings and ranges,
// in BYTE and BIT units, against a bit-by-bit model of their documented meaning.
func TestBitcountBitposModel(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	rng := rand.New(rand.NewPCG(1, 2))
	bitAt := func(b []byte, i int64) int { return int(b[i>>3]>>(7-i&7)) & 1 }
	for iter := 0; iter < 300; iter++ {
		n := rng.IntN(12) + 1
		b := make([]byte, n)
		for i := range b {
			switch rng.IntN(3) {
			case 0:
				b[i] = 0
			case 1:
				b[i] = 0xff
			default:
				b[i] = byte(rng.IntN(256))
			}
		}
		r.Do("SET", "k", string(b))
		unit := []string{"BYTE", "BIT"}[rng.IntN(2)]
		total := int64(n)
		if unit == "BIT" {
			total *= 8
		}
		start := rng.Int64N(2*total+4) - total - 2
		end := rng.Int64N(2*total+4) - total - 2
		// The model: normalise like GETRANGE, then look at each bit in range.
		ns, ne := start, end
		if ns < 0 {
			ns += total
		}
		if ne < 0 {
			ne += total
		}
		ns, ne = max(ns, 0), max(ne, 0)
		ne = min(ne, total-1)
		lo, hi := ns, ne
		if unit == "BYTE" {
			lo, hi = ns*8, ne*8+7
		}
		var count int64
		first := map[int]int64{0: -1, 1: -1}
		for i := lo; i <= hi && lo <= hi; i++ {
			v := bitAt(b, i)
			count += int64(v)
			if first[v] == -1 {
				first[v] = i
			}
		}
		if start < 0 && end < 0 && start > end {
			count = 0
		}
		args := []string{"BITCOUNT", "k", strconv.FormatInt(start, 10), strconv.FormatInt(end, 10), unit}
		if got := r.Do(args...).String(); got != strconv.FormatInt(count, 10) {
			t.Fatalf("%q on %x = %s, want %d", args, b, got, count)
		}
		for bit := 0; bit <= 1; bit++ {
			args := []string{"BITPOS", "k", strconv.Itoa(bit), strconv.FormatInt(start, 10), strconv.FormatInt(end, 10), unit}
			if got := r.Do(args...).String(); got != strconv.FormatInt(first[bit], 10) {
				t.Fatalf("%q on %x = %s, want %d", args, b, got, first[bit])
			}
		}
	}
}

// TestBitfieldRoundTrip writes random fields of every width and reads them back as
// the same type, with GETBIT agreeing bit by bit.
func TestBitfieldRoundTrip(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := 0; iter < 200; iter++ {
		signed := rng.IntN(2) == 0
		width := rng.IntN(63) + 1
		typ := "u" + strconv.Itoa(width)
		var v int64
		if signed {
			width = rng.IntN(64) + 1
			typ = "i" + strconv.Itoa(width)
			v = int64(rng.Uint64()) >> (64 - width) // sign-extended random value
		} else {
			v = int64(rng.Uint64() >> (64 - width))
		}
		off := rng.IntN(100)
		val := strconv.FormatInt(v, 10)
		r.Do("BITFIELD", "k", "SET", typ, strconv.Itoa(off), val)
		if got := r.Do("BITFIELD", "k", "GET", typ, strconv.Itoa(off)).String(); got != "["+val+"]" {
			t.Fatalf("SET/GET %s at %d: wrote %s, read %s", typ, off, val, got)
		}
		for j := 0; j < width; j++ {
			want := strconv.FormatUint((uint64(v)>>(width-1-j))&1, 10)
			if got := r.Do("GETBIT", "k", strconv.Itoa(off+j)).String(); got != want {
				t.Fatalf("%s=%s at %d: bit %d = %s, want %s", typ, val, off, j, got, want)
			}
		}
	}
}
