package server_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"kv/internal/kvtest"
	"kv/server"
)

// TestClientProcsAddOneForBackgroundSave: with ClientProcs set, the server runs on that
// many processors, on one more while a BGSAVE walks the dataset, and back after it.
func TestClientProcsAddOneForBackgroundSave(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	s := kvtest.Start(t, func(o *server.Options) {
		o.ClientProcs = 1
	})
	c := s.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), kvtest.Timeout)
	defer cancel()

	waitProcs := func(want int) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Second)
		for runtime.GOMAXPROCS(0) != want {
			if time.Now().After(deadline) {
				t.Fatalf("GOMAXPROCS = %d, want %d", runtime.GOMAXPROCS(0), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitProcs(1)

	pipe := c.Pipeline()
	for i := 0; i < 150; i++ {
		kvs := make([]any, 0, 2000)
		for j := 0; j < 1000; j++ {
			kvs = append(kvs, fmt.Sprintf("key:%d:%d", i, j), "value")
		}
		pipe.MSet(ctx, kvs...)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.BgSave(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	// The save was running before the first reading and still is at INFO's, so the
	// reading was taken while it ran.
	during := runtime.GOMAXPROCS(0)
	info, err := c.Info(ctx, "persistence").Result()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(info, "rdb_bgsave_in_progress:1") {
		t.Fatal("the BGSAVE of 150k keys ended before INFO; the test needs a longer save")
	}
	if want := min(2, runtime.NumCPU()); during != want {
		t.Errorf("GOMAXPROCS during BGSAVE = %d, want %d", during, want)
	}

	for {
		info, err := c.Info(ctx, "persistence").Result()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(info, "rdb_bgsave_in_progress:0") {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	waitProcs(1)
}
