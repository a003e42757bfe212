package server_test

import (
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"kv/internal/kvtest"
)

func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func heapFreeUnreleased() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/free:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestMemoryReleasedAfterWrites: once a burst of writes that left garbage behind
// stops, the server collects and returns free pages on its own, once; an idle server
// does not keep collecting.
func TestMemoryReleasedAfterWrites(t *testing.T) {
	s := kvtest.Start(t)
	rc := s.Client(t)
	ctx := kvtest.Ctx(t)
	val := strings.Repeat("v", 1024)
	// About 40 MB of overwritten values over 500 keys: mostly garbage.
	for b := 0; b < 40; b++ {
		p := rc.Pipeline()
		for i := 0; i < 1000; i++ {
			p.Set(ctx, "k"+strconv.Itoa(i%500), val+strconv.Itoa(b), 0)
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	before := gcCycles()
	deadline := time.Now().Add(5 * time.Second)
	for gcCycles() == before {
		if time.Now().After(deadline) {
			t.Fatal("no collection within 5s after the writes stopped")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The release returns the free pages along with the collection.
	for heapFreeUnreleased() > 4<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes of free heap still held 5s after the writes stopped", heapFreeUnreleased())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// With no more writes there is nothing to release again.
	settled := gcCycles()
	time.Sleep(600 * time.Millisecond)
	if n := gcCycles() - settled; n > 1 {
		t.Errorf("%d collections while idle", n)
	}
}

// TestPropagatingOnlyWithConsumers: the engine skips copying write arguments while
// nothing reads the propagated stream, and must see it wanted as soon as a replica
// attaches (the backlog is created then).
func TestPropagatingOnlyWithConsumers(t *testing.T) {
	s := kvtest.Start(t)
	propagating := func() bool {
		s.E.Lock()
		defer s.E.Unlock()
		return s.Srv.Propagating()
	}
	if propagating() {
		t.Fatal("propagating with no AOF, backlog or replica")
	}
	s.Raw(t).Send("SYNC\r\n")
	deadline := time.Now().Add(5 * time.Second)
	for !propagating() {
		if time.Now().After(deadline) {
			t.Fatal("not propagating 5s after a replica sent SYNC")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
