package resp

import (
	"bytes"
	"testing"
)

// loopReader serves the same bytes for ever, so a benchmark parses a steady stream.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := copy(p, l.data[l.off:])
	l.off = (l.off + n) % len(l.data)
	return n, nil
}

// BenchmarkReaderPipeline parses pipelined SET requests as the server does: one
// ReadCommand per batch, then Next until the buffer runs dry.
func BenchmarkReaderPipeline(b *testing.B) {
	var req []byte
	for i := 0; i < 16; i++ {
		req = AppendCommandStrings(req, "SET", "key:000000001234", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
	}
	r := NewReader(&loopReader{data: bytes.Repeat(req, 64)}, Limits{})
	b.SetBytes(int64(len(req) / 16))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; {
		if _, err := r.ReadCommand(); err != nil {
			b.Fatal(err)
		}
		i++
		for ; i < b.N; i++ {
			_, ok, err := r.Next()
			if err != nil {
				b.Fatal(err)
			}
			if !ok {
				break
			}
		}
	}
}

// BenchmarkWriterReplies writes the replies of a GET/INCR/LRANGE-shaped mix.
func BenchmarkWriterReplies(b *testing.B) {
	w := NewWriter()
	val := bytes.Repeat([]byte("x"), 64)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w.Bulk(val)
		w.Int(int64(i))
		w.OK()
		w.Array(3)
		w.Bulk(val)
		w.BulkInt(12345)
		w.Null()
		if w.Len() > 8<<10 {
			w.Reset()
		}
	}
}
