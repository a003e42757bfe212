package rdb

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// DUMP payloads captured from redis-server 7.0.15: value bytes, RDB version (2 bytes),
// then the CRC64 of everything before it. They pin our primitives to Redis's bytes.
var redisDumps = map[string]string{
	// HSET h a 1 b hello c -5000 d 100000 e 5000000000 f -1 g 70000 h 9000000
	"hash": "10404949000000100081610201018162028568656c6c6f06816302f178ec03816402f2a0860104816502f400f2052a0100000009816602dfff02816702f270110104816802f34054890005ff0a00f2edf9609d54d44a",
	// SADD s 3 1 2 70000
	"intset": "0b180400000004000000010000000200000003000000701101000a00ef2e6521e385a22a",
	// SET str ("abcabcabcabc" x 10 + "xyz")
	"lzf": "00c30c407b0361626361e06b020278797a0a003ba4c9d731830d29",
}

func dumpBytes(t *testing.T, name string) []byte {
	t.Helper()
	b, err := hex.DecodeString(redisDumps[name])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCRC64(t *testing.T) {
	if got := CRC64(0, []byte("123456789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("crc64(123456789) = %x", got)
	}
	for name := range redisDumps {
		b := dumpBytes(t, name)
		body, trailer := b[:len(b)-8], binary.LittleEndian.Uint64(b[len(b)-8:])
		if got := CRC64(0, body); got != trailer {
			t.Errorf("%s: crc %x, Redis wrote %x", name, got, trailer)
		}
	}
}

func TestListpackMatchesRedis(t *testing.T) {
	b := dumpBytes(t, "hash")
	d := NewDecoder(bytes.NewReader(b[1:]))
	lp, err := d.String()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := DecodeListpack(lp, func(e ListpackEntry) error {
		got = append(got, string(e.Bytes()))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := "a 1 b hello c -5000 d 100000 e 5000000000 f -1 g 70000 h 9000000"
	if strings.Join(got, " ") != want {
		t.Fatalf("decoded %q", got)
	}
	bld := NewListpackBuilder()
	for _, s := range strings.Fields(want) {
		bld.Add([]byte(s))
	}
	if mine := bld.Bytes(); !bytes.Equal(mine, lp) {
		t.Fatalf("builder bytes differ from Redis's:\n%x\n%x", mine, lp)
	}
}

func TestIntsetMatchesRedis(t *testing.T) {
	b := dumpBytes(t, "intset")
	d := NewDecoder(bytes.NewReader(b[1:]))
	is, err := d.String()
	if err != nil {
		t.Fatal(err)
	}
	vals, err := DecodeIntset(is)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(vals) != "[1 2 3 70000]" {
		t.Fatalf("decoded %v", vals)
	}
	if mine := EncodeIntset(vals); !bytes.Equal(mine, is) {
		t.Fatalf("intset bytes differ: %x vs %x", mine, is)
	}
}

func TestLZFMatchesRedis(t *testing.T) {
	b := dumpBytes(t, "lzf")
	d := NewDecoder(bytes.NewReader(b[1:]))
	s, err := d.String()
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat("abcabcabcabc", 10) + "xyz"; string(s) != want {
		t.Fatalf("decompressed %q", s)
	}
}

func TestLZFRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	z := new(lzfCompressor)
	for i := 0; i < 2000; i++ {
		n := r.IntN(3000) + 5
		in := make([]byte, n)
		alpha := r.IntN(255) + 1
		for j := range in {
			if j > 10 && r.IntN(3) == 0 {
				in[j] = in[j-r.IntN(10)-1]
			} else {
				in[j] = byte(r.IntN(alpha))
			}
		}
		c := z.compress(in, len(in)-4)
		if c == nil {
			continue
		}
		out, err := lzfDecompress(c, len(in))
		if err != nil || !bytes.Equal(out, in) {
			t.Fatalf("round trip %d failed: %v", i, err)
		}
	}
}

func TestStringEncodings(t *testing.T) {
	cases := []struct {
		in  string
		hex string
	}{
		{"0", "c000"}, {"-1", "c0ff"}, {"127", "c07f"}, {"128", "c18000"}, {"-32768", "c10080"},
		{"70000", "c270110100"}, {"2147483648", "0a32313437343833363438"}, {"007", "03303037"},
		{"hello", "0568656c6c6f"},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		e := NewEncoder(&buf, true)
		e.String([]byte(c.in))
		e.Flush()
		if got := hex.EncodeToString(buf.Bytes()); got != c.hex {
			t.Errorf("%q: encoded %s, want %s", c.in, got, c.hex)
		}
		back, err := NewDecoder(&buf).String()
		if err != nil || string(back) != c.in {
			t.Errorf("%q: decoded %q, %v", c.in, back, err)
		}
	}
}

func TestDecoderErrorsNameOffsets(t *testing.T) {
	cases := []struct{ hex, want string }{
		{"05616263", "offset 1: unexpected end of file, expected string data"},
		{"c3", "offset 1: unexpected end of file, expected a length"},
		{"c30205ffff", "offset 0: corrupt LZF data"},
		{"c7", "offset 0: unknown string encoding 7"},
	}
	for _, c := range cases {
		b, _ := hex.DecodeString(c.hex)
		_, err := NewDecoder(bytes.NewReader(b)).String()
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.hex, err, c.want)
		}
	}
}

func FuzzPacked(f *testing.F) {
	for name := range redisDumps {
		b, _ := hex.DecodeString(redisDumps[name])
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = DecodeListpack(b, func(ListpackEntry) error { return nil })
		_ = DecodeZiplist(b, func(ListpackEntry) error { return nil })
		_ = DecodeZipmap(b, func(_, _ []byte) error { return nil })
		_, _ = DecodeIntset(b)
		d := NewDecoder(bytes.NewReader(b))
		d.MaxAlloc = 1 << 20
		for {
			if _, err := d.String(); err != nil {
				break
			}
		}
		if len(b) > 4 {
			_, _ = lzfDecompress(b[1:], int(b[0])*4)
		}
	})
}

// TestLZFReusedTable checks that a compressor reused across strings, including across
// the wrap of its position offset, compresses each exactly as a fresh one would.
func TestLZFReusedTable(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	z := new(lzfCompressor)
	for i := 0; i < 500; i++ {
		if i == 250 {
			z.base = math.MaxUint32 - 100 // the next few calls cross the wrap
		}
		n := r.IntN(400) + 4
		in := make([]byte, n)
		for j := range in {
			if j > 3 && r.IntN(2) == 0 {
				in[j] = in[j-r.IntN(4)-1]
			} else {
				in[j] = byte('a' + r.IntN(4))
			}
		}
		got := append([]byte(nil), z.compress(in, n-4)...)
		want := new(lzfCompressor).compress(in, n-4)
		if !bytes.Equal(got, want) {
			t.Fatalf("string %d: reused table gave %x, fresh %x", i, got, want)
		}
	}
}
