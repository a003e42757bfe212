package rdb

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"testing"

	"kv/engine"
)

// benchFile is an RDB file to benchmark loading with (KV_BENCH_RDB), else 100k keys
// made here.
func benchFile(b *testing.B) []byte {
	if p := os.Getenv("KV_BENCH_RDB"); p != "" {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		return data
	}
	e := engine.New(engine.Options{Databases: 1})
	e.Lock()
	db := e.DB(0)
	for i := range 100000 {
		db.Put([]byte(fmt.Sprint("key:", i)), engine.NewString([]byte("value")), -1)
	}
	var buf bytes.Buffer
	if _, err := SaveLocked(e, &buf, SaveOptions{Compress: true, Checksum: true}); err != nil {
		b.Fatal(err)
	}
	e.Unlock()
	return buf.Bytes()
}

func BenchmarkLoad(b *testing.B) {
	data := benchFile(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		e := engine.New(engine.Options{Databases: 16})
		e.Lock()
		if _, err := Load(bufio.NewReader(bytes.NewReader(data)), e, LoadOptions{Master: true}); err != nil {
			b.Fatal(err)
		}
		e.Unlock()
	}
}

func BenchmarkSave(b *testing.B) {
	data := benchFile(b)
	e := engine.New(engine.Options{Databases: 16})
	e.Lock()
	defer e.Unlock()
	if _, err := Load(bytes.NewReader(data), e, LoadOptions{Master: true}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := SaveLocked(e, io.Discard, SaveOptions{Compress: true, Checksum: true}); err != nil {
			b.Fatal(err)
		}
	}
}
