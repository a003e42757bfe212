package dict

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestSampleFindsEveryEntryOfASmallDict: asking for at least as many entries as a
// small dict holds must return all of them, also while it is rehashing after a grow
// or a shrink (eviction relies on this to compare every key of a tiny keyspace).
func TestSampleFindsEveryEntryOfASmallDict(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	for trial := 0; trial < 2000; trial++ {
		d := New[int]()
		total := 5 + r.IntN(60)
		for i := 0; i < total; i++ {
			d.SetString(fmt.Sprint("k", i), i)
		}
		keep := 1 + r.IntN(5)
		for i := keep; i < total; i++ {
			d.DeleteString(fmt.Sprint("k", i))
		}
		got := map[string]bool{}
		d.Sample(r, 64, func(k string, _ *int) { got[k] = true })
		if len(got) != d.Len() {
			t.Fatalf("trial %d: sampled %d of %d entries (rehashing %v)", trial, len(got), d.Len(), d.IsRehashing())
		}
	}
}
