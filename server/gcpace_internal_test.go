package server

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestPaceGC raises GOGC while collections are frequent on a steady heap and puts
// the configured value back once they stop. Times are far in the future so the
// crons of servers started by other tests (real time) are ignored meanwhile.
func TestPaceGC(t *testing.T) {
	paceGC(time.Now()) // starts the pacer if no cron did
	gcPace.mu.Lock()
	base := gcPace.base
	now := gcPace.at.Add(1000 * time.Hour)
	gcPace.mu.Unlock()
	if base < 0 {
		t.Skip("GOGC=off")
	}
	current := func() int {
		v := debug.SetGCPercent(base)
		debug.SetGCPercent(v)
		return v
	}
	runtime.GC() // the live heap the next tick compares with
	now = now.Add(time.Second)
	paceGC(now)
	for i := 0; i < 20; i++ {
		runtime.GC()
	}
	now = now.Add(time.Second)
	paceGC(now)
	if got := current(); got <= base {
		t.Fatalf("GOGC %d after 20 collections in a second, want above %d", got, base)
	}
	now = now.Add(gcCalmAfter + time.Second)
	paceGC(now)
	if got := current(); got != base {
		t.Fatalf("GOGC %d after a calm period, want %d", got, base)
	}
}
