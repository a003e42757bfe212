package resp

import (
	"math"
	"testing"
)

func TestWriterTypes(t *testing.T) {
	cases := []struct {
		name         string
		write        func(w *Writer)
		resp2, resp3 string
	}{
		{"null", func(w *Writer) { w.Null() }, "$-1\r\n", "_\r\n"},
		{"null array", func(w *Writer) { w.NullArray() }, "*-1\r\n", "_\r\n"},
		{"map", func(w *Writer) { w.Map(1); w.BulkString("a"); w.Int(1) }, "*2\r\n$1\r\na\r\n:1\r\n", "%1\r\n$1\r\na\r\n:1\r\n"},
		{"set", func(w *Writer) { w.Set(0) }, "*0\r\n", "~0\r\n"},
		{"push", func(w *Writer) { w.Push(1); w.BulkString("m") }, "*1\r\n$1\r\nm\r\n", ">1\r\n$1\r\nm\r\n"},
		{"double", func(w *Writer) { w.Double(1.5) }, "$3\r\n1.5\r\n", ",1.5\r\n"},
		{"double 17g", func(w *Writer) { w.Double(0.1) }, "$19\r\n0.10000000000000001\r\n", ",0.10000000000000001\r\n"},
		{"inf", func(w *Writer) { w.Double(math.Inf(-1)) }, "$4\r\n-inf\r\n", ",-inf\r\n"},
		{"bool", func(w *Writer) { w.Bool(true) }, ":1\r\n", "#t\r\n"},
		{"verbatim", func(w *Writer) { w.Verbatim("txt", "hi") }, "$2\r\nhi\r\n", "=6\r\ntxt:hi\r\n"},
		{"error newline", func(w *Writer) { w.Error("ERR a\r\nb") }, "-ERR a  b\r\n", "-ERR a  b\r\n"},
		{"deferred", func(w *Writer) { d := w.DeferLen(); w.Int(1); w.Int(2); w.SetMap(d, 1) }, "*2\r\n:1\r\n:2\r\n", "%1\r\n:1\r\n:2\r\n"},
	}
	for _, c := range cases {
		for proto, want := range map[int]string{2: c.resp2, 3: c.resp3} {
			w := NewWriter()
			w.SetProto(proto)
			c.write(w)
			if got := string(w.Bytes()); got != want {
				t.Errorf("%s RESP%d: got %q, want %q", c.name, proto, got, want)
			}
		}
	}
}

func TestReplyReaderRoundTrip(t *testing.T) {
	w := NewWriter()
	w.SetProto(3)
	w.Array(4)
	w.Map(1)
	w.BulkString("k")
	w.Double(2.5)
	w.Null()
	w.Verbatim("txt", "v")
	w.Bool(false)
	v, err := NewReplyReader(bytesReader(w.Bytes())).Read()
	if err != nil {
		t.Fatal(err)
	}
	if got := v.String(); got != "[[k 2.5] (nil) v 0]" {
		t.Fatalf("got %s", got)
	}
}

func FuzzReplyReader(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "*2\r\n:1\r\n$1\r\nx\r\n", "%1\r\n+a\r\n#t\r\n", "=5\r\ntxt:x\r\n", "|1\r\n+a\r\n+b\r\n:1\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReplyReader(bytesReader(in))
		r.maxBulk, r.maxElems = 1<<16, 1<<16
		for i := 0; i < 100; i++ {
			if _, err := r.Read(); err != nil {
				return
			}
		}
	})
}
