package rdb

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

// collector keeps everything a Reader reports.
type collector struct {
	version int
	aux     map[string]string
	dbs     []int
	entries []*Entry
	funcs   []string
}

func (c *collector) Header(v int) error { c.version = v; return nil }
func (c *collector) Aux(k, v []byte) error {
	if c.aux == nil {
		c.aux = map[string]string{}
	}
	c.aux[string(k)] = string(v)
	return nil
}
func (c *collector) SelectDB(db int) error      { c.dbs = append(c.dbs, db); return nil }
func (c *collector) ResizeDB(_, _ uint64) error { return nil }
func (c *collector) Function(code []byte) error { c.funcs = append(c.funcs, string(code)); return nil }
func (c *collector) Key(e *Entry) error         { c.entries = append(c.entries, e); return nil }

func sampleValues() map[string]Value {
	long := bytes.Repeat([]byte("0123456789"), 2000)
	var bigList [][]byte
	for i := 0; i < 3000; i++ {
		bigList = append(bigList, []byte(fmt.Sprintf("element-%d", i)))
	}
	bigList = append(bigList, long)
	return map[string]Value{
		"str":         {Kind: KindString, Str: []byte("hello")},
		"int":         {Kind: KindString, Str: []byte("12345")},
		"long":        {Kind: KindString, Str: long},
		"bin\x00\xff": {Kind: KindString, Str: []byte{0, 1, 2, 255}},
		"list":        {Kind: KindList, List: [][]byte{[]byte("a"), []byte("1"), []byte("-70000"), []byte("")}},
		"biglist":     {Kind: KindList, List: bigList},
		"intset":      {Kind: KindSet, Ints: []int64{-5, 1, 70000, math.MaxInt64}},
		"set":         {Kind: KindSet, Set: [][]byte{[]byte("x"), []byte("y")}},
		"lphash":      {Kind: KindHash, Encoding: "listpack", Hash: [][2][]byte{{[]byte("f"), []byte("v")}, {[]byte("n"), []byte("42")}}},
		"hthash":      {Kind: KindHash, Encoding: "hashtable", Hash: [][2][]byte{{[]byte("f"), long}}},
		"lpzset":      {Kind: KindZSet, Encoding: "listpack", ZSet: []ZMember{{[]byte("a"), -1}, {[]byte("b"), 0.5}, {[]byte("c"), math.Inf(1)}}},
		"slzset":      {Kind: KindZSet, Encoding: "skiplist", ZSet: []ZMember{{[]byte("a"), math.Inf(-1)}, {[]byte("b"), 1e300}}},
	}
}

func writeSample(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, true)
	w.Aux("redis-ver", "7.0.15")
	w.AuxInt("redis-bits", 64)
	w.Function([]byte("#!lua name=lib\nredis.register_function('f', function() return 1 end)"))
	vals := sampleValues()
	w.SelectDB(0, uint64(len(vals)), 1)
	for k, v := range vals {
		m := NoMeta
		if k == "str" {
			m.ExpireMs = 4102444800000
		}
		w.Key([]byte(k), &v, m)
	}
	w.SelectDB(3, 1, 0)
	one := Value{Kind: KindString, Str: []byte("in db 3")}
	w.Key([]byte("k"), &one, KeyMeta{ExpireMs: -1, IdleSecs: 10, Freq: -1})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWriteReadRoundTrip(t *testing.T) {
	file := writeSample(t)
	var c collector
	if err := Read(bytes.NewReader(file), &c); err != nil {
		t.Fatal(err)
	}
	if c.version != Version || c.aux["redis-bits"] != "64" || len(c.funcs) != 1 {
		t.Fatalf("header/aux/functions: %d %v %d", c.version, c.aux, len(c.funcs))
	}
	want := sampleValues()
	if len(c.entries) != len(want)+1 {
		t.Fatalf("%d entries", len(c.entries))
	}
	for _, e := range c.entries {
		if e.DB == 3 {
			if string(e.Value.Str) != "in db 3" || e.Meta.IdleSecs != 10 {
				t.Errorf("db 3 entry: %+v", e)
			}
			continue
		}
		w := want[string(e.Key)]
		if !sameValue(w, e.Value) {
			t.Errorf("%q: read back %v, wrote %v", e.Key, summarize(e.Value), summarize(w))
		}
		if (string(e.Key) == "str") != (e.Meta.ExpireMs == 4102444800000) {
			t.Errorf("%q: expire %d", e.Key, e.Meta.ExpireMs)
		}
	}
}

func sameValue(a, b Value) bool {
	if a.Kind != b.Kind {
		return false
	}
	norm := func(v Value) string { return summarize(v) }
	return norm(a) == norm(b)
}

func summarize(v Value) string {
	switch v.Kind {
	case KindString:
		return fmt.Sprintf("%q", v.Str)
	case KindList:
		return fmt.Sprintf("%q", v.List)
	case KindSet:
		if v.Ints != nil {
			return fmt.Sprint(v.Ints)
		}
		return fmt.Sprintf("%q", v.Set)
	case KindHash:
		return fmt.Sprintf("%q", v.Hash)
	default:
		return fmt.Sprint(v.ZSet)
	}
}

func TestTruncatedFileReportsOffset(t *testing.T) {
	file := writeSample(t)
	for _, cut := range []int{3, 9, 20, len(file) / 2, len(file) - 9, len(file) - 1} {
		var c collector
		err := Read(bytes.NewReader(file[:cut]), &c)
		var ce *CorruptError
		if err == nil || !strings.Contains(err.Error(), "unexpected end of file") {
			t.Errorf("cut at %d: %v", cut, err)
		} else if !errorsAs(err, &ce) || ce.Offset > int64(cut) {
			t.Errorf("cut at %d: offset in %v", cut, err)
		}
	}
	bad := append([]byte(nil), file...)
	bad[len(bad)-3] ^= 0xff
	if err := Read(bytes.NewReader(bad), &collector{}); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("flipped checksum byte: %v", err)
	}
}

func TestDumpPayloadMatchesRedis(t *testing.T) {
	// Our LZF compressor is not Redis's, so compressed strings differ in bytes while both
	// sides decode each other's; the lzf case checks decoding in both directions.
	lzfValue := Value{Kind: KindString, Str: []byte(strings.Repeat("abcabcabcabc", 10) + "xyz")}
	if back, err := ParseDumpPayload(DumpPayload(&lzfValue)); err != nil || !sameValue(back, lzfValue) {
		t.Errorf("our LZF payload does not decode: %v", err)
	}
	if back, err := ParseDumpPayload(dumpBytes(t, "lzf")); err != nil || !sameValue(back, lzfValue) {
		t.Errorf("Redis's LZF payload does not decode: %v", err)
	}
	// A run of one byte compresses about 87 times (the suite's "List ziplist of various
	// encodings" dumps 64 KB of "x"): the payload's own size must not refuse it.
	for _, n := range []int{65535, 1 << 20} {
		run := Value{Kind: KindString, Str: bytes.Repeat([]byte("x"), n)}
		if back, err := ParseDumpPayload(DumpPayload(&run)); err != nil || !sameValue(back, run) {
			t.Errorf("%d repeated bytes: payload does not decode: %v", n, err)
		}
	}
	cases := map[string]Value{
		"intset": {Kind: KindSet, Ints: []int64{1, 2, 3, 70000}},
	}
	for name, v := range cases {
		if got := hex.EncodeToString(DumpPayload(&v)); got != redisDumps[name] {
			t.Errorf("%s: DUMP payload\n got %s\nwant %s", name, got, redisDumps[name])
		}
		back, err := ParseDumpPayload(dumpBytes(t, name))
		if err != nil || !sameValue(back, v) {
			t.Errorf("%s: parse Redis payload: %v %v", name, err, summarize(back))
		}
	}
	hash := dumpBytes(t, "hash")
	v, err := ParseDumpPayload(hash)
	if err != nil || v.Encoding != "listpack" || len(v.Hash) != 8 {
		t.Fatalf("hash payload: %v %+v", err, v)
	}
	if !bytes.Equal(DumpPayload(&v), hash) {
		t.Errorf("hash payload not byte-identical to Redis's")
	}
	hash[3] ^= 1
	if _, err := ParseDumpPayload(hash); err == nil || err.Error() != "DUMP payload version or checksum are wrong" {
		t.Errorf("corrupt payload: %v", err)
	}
}

func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	w := NewWriter(&buf, true)
	w.SelectDB(0, 2, 0)
	for k, v := range map[string]Value{"a": {Kind: KindString, Str: []byte("x")}, "l": {Kind: KindList, List: [][]byte{[]byte("1")}}} {
		w.Key([]byte(k), &v, NoMeta)
	}
	w.Close()
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDecoder(bytes.NewReader(b))
		d.MaxAlloc = 1 << 20
		_ = d.readFile(&collector{})
		_, _ = ParseDumpPayload(b)
	})
}

func errorsAs(err error, target **CorruptError) bool {
	for err != nil {
		if ce, ok := err.(*CorruptError); ok {
			*target = ce
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

var _ = reflect.DeepEqual
