package engine

import (
	"testing"
	"time"
)

// TestExecClockWall checks the derived wall time against time.Now around rebases,
// and that durations between readings are monotonic.
func TestExecClockWall(t *testing.T) {
	var k execClock
	k.init()
	prev := k.mono()
	for i := 0; i < 40; i++ {
		before := time.Now().UnixMilli()
		d := k.mono()
		got := k.wallMs(d)
		after := time.Now().UnixMilli()
		if got < before-1 || got > after+1 {
			t.Fatalf("reading %d: wall %d ms outside [%d, %d]", i, got, before, after)
		}
		if d < prev {
			t.Fatalf("reading %d went back: %v after %v", i, d, prev)
		}
		prev = d
		time.Sleep(time.Duration(i%4) * 15 * time.Millisecond) // crosses rebaseAfter now and then
	}
}
