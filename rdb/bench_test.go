package rdb

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"kv/engine"
)

// benchKeys is how many keys the benchmarks' dataset has: KV_BENCH_KEYS, else 100k
// (set it to 1000000 for the size cmd/kvcompare measures).
func benchKeys(b *testing.B) int {
	if s := os.Getenv("KV_BENCH_KEYS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("KV_BENCH_KEYS=%q", s)
		}
		return n
	}
	return 100000
}

// benchEngine holds the dataset cmd/kvcompare saves and loads: keys named as
// redis-benchmark's, 32-byte string values that are not integers, no TTLs.
func benchEngine(b *testing.B) *engine.Engine {
	e := engine.New(engine.Options{Databases: 16})
	e.Lock()
	defer e.Unlock()
	db := e.DB(0)
	for i := range benchKeys(b) {
		db.Put(fmt.Appendf(nil, "key:%012d", i), engine.NewString(fmt.Appendf(nil, "value-%010d-abcdefghijklmnop", i)), -1)
	}
	return e
}

// benchFile is an RDB file to benchmark loading with (KV_BENCH_RDB), else
// benchEngine's dataset saved.
func benchFile(b *testing.B) []byte {
	if p := os.Getenv("KV_BENCH_RDB"); p != "" {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		return data
	}
	e := benchEngine(b)
	var buf bytes.Buffer
	e.Lock()
	defer e.Unlock()
	if _, err := SaveLocked(e, &buf, SaveOptions{Compress: true, Checksum: true}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// cpuTime is the process's user+system CPU time so far. On a shared machine it is
// steadier than wall time, which also counts waiting for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the CPU time per iteration since start as cpu-ms/op.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

func BenchmarkLoad(b *testing.B) {
	data := benchFile(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	defer reportCPU(b, cpuTime())
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
	e := benchEngine(b)
	e.Lock()
	defer e.Unlock()
	b.ReportAllocs()
	defer reportCPU(b, cpuTime())
	var n int64
	for b.Loop() {
		st, err := SaveLocked(e, io.Discard, SaveOptions{Compress: true, Checksum: true})
		if err != nil {
			b.Fatal(err)
		}
		n = st.Bytes
	}
	b.SetBytes(n)
}

// BenchmarkSnapshot is a background save's walk and encoding with no clients
// running: the cost BGSAVE adds to the engine lock, slice by slice.
func BenchmarkSnapshot(b *testing.B) {
	e := benchEngine(b)
	b.ReportAllocs()
	defer reportCPU(b, cpuTime())
	for b.Loop() {
		if _, err := Snapshot(b.Context(), e, io.Discard, SaveOptions{Compress: true, Checksum: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSnapshotLockWait runs background snapshots while a probe takes the engine
// lock every 50µs, as a client's command would, and reports how long the probe waited
// for it: the latency a background save adds to commands (p99-wait-µs, max-wait-µs).
func BenchmarkSnapshotLockWait(b *testing.B) {
	e := benchEngine(b)
	stop := make(chan struct{})
	waits := make(chan []time.Duration)
	go func() {
		var w []time.Duration
		for {
			select {
			case <-stop:
				waits <- w
				return
			default:
			}
			t0 := time.Now()
			e.Lock()
			w = append(w, time.Since(t0))
			e.Unlock()
			time.Sleep(50 * time.Microsecond)
		}
	}()
	for b.Loop() {
		if _, err := Snapshot(b.Context(), e, io.Discard, SaveOptions{Compress: true, Checksum: true}); err != nil {
			b.Fatal(err)
		}
	}
	close(stop)
	w := <-waits
	slices.Sort(w)
	if len(w) > 0 {
		b.ReportMetric(float64(w[len(w)*99/100].Microseconds()), "p99-wait-µs")
		b.ReportMetric(float64(w[len(w)-1].Microseconds()), "max-wait-µs")
	}
}
