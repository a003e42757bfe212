package engine_test

import (
	"fmt"
	"runtime"
	"testing"
)

// memoryDatasets are the small-collection shapes whose memory per key is
// compared with Redis 7.0.15's used_memory delta for the same commands
// (see memoryCommands; run `go test -run TestMemory -v ./engine/`).
var memoryDatasets = []struct {
	name string
	enc  string
	args func(i int) []string
	// maxBytesPerKey is a loose ceiling, a regression alarm rather than the
	// measurement (which the log reports).
	maxBytesPerKey float64
}{
	{"hash 5 fields", "listpack", func(i int) []string {
		args := []string{"HSET", fmt.Sprintf("hash:%06d", i)}
		for j := 1; j <= 5; j++ {
			args = append(args, fmt.Sprint("field", j), fmt.Sprintf("value:%d", i*5+j))
		}
		return args
	}, 400},
	{"set 5 integers", "intset", func(i int) []string {
		args := []string{"SADD", fmt.Sprintf("iset:%06d", i)}
		for j := 1; j <= 5; j++ {
			args = append(args, fmt.Sprint(i*5+j))
		}
		return args
	}, 300},
	{"set 5 strings", "hashtable", func(i int) []string {
		args := []string{"SADD", fmt.Sprintf("sset:%06d", i)}
		for j := 1; j <= 5; j++ {
			args = append(args, fmt.Sprintf("member:%d", i*5+j))
		}
		return args
	}, 800},
	{"zset 5 members", "listpack", func(i int) []string {
		args := []string{"ZADD", fmt.Sprintf("zset:%06d", i)}
		for j := 1; j <= 5; j++ {
			args = append(args, fmt.Sprint(i*5+j), fmt.Sprintf("member:%d", i*5+j))
		}
		return args
	}, 300},
	{"zset 5 members, fractional scores", "listpack", func(i int) []string {
		args := []string{"ZADD", fmt.Sprintf("zfset:%06d", i)}
		for j := 1; j <= 5; j++ {
			args = append(args, fmt.Sprint(float64(i*5+j)/7), fmt.Sprintf("member:%d", i*5+j))
		}
		return args
	}, 350},
}

func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestMemory measures Go heap bytes per key for 100k small hashes and sets.
func TestMemory(t *testing.T) {
	const keys = 100_000
	n := keys
	if testing.Short() {
		n = 10_000
	}
	for _, ds := range memoryDatasets {
		t.Run(ds.name, func(t *testing.T) {
			h := newHarness(t, 2)
			h.e.SetPropagator(nil)
			h.e.SetNotifier(nil)
			before := heapInUse()
			for i := 0; i < n; i++ {
				h.run(ds.args(i)...)
			}
			after := heapInUse()
			if enc := h.encoding(ds.args(0)[1]); enc != ds.enc {
				t.Fatalf("encoding %s, want %s", enc, ds.enc)
			}
			perKey := float64(after-before) / float64(n)
			t.Logf("%s (%s): %.1f bytes/key over %d keys", ds.name, ds.enc, perKey, n)
			if perKey > ds.maxBytesPerKey {
				t.Errorf("%.1f bytes/key, above %v", perKey, ds.maxBytesPerKey)
			}
			runtime.KeepAlive(h)
		})
	}
}
