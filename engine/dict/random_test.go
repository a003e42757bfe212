package dict

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// dictStates builds dicts in the shapes random access must cope with.
func dictStates() map[string]*Dict[int] {
	states := map[string]*Dict[int]{}

	d := New[int]()
	d.SetString("only", 0)
	states["single"] = d

	d = New[int]()
	for i := range 1000 {
		d.SetString(fmt.Sprint(i), i)
	}
	for d.Rehash(100) {
	}
	states["settled"] = d

	d = New[int]()
	for i := range 1025 {
		d.SetString(fmt.Sprint(i), i)
	}
	states["growing"] = d

	d = New[int]()
	for i := range 5000 {
		d.SetString(fmt.Sprint(i), i)
	}
	for d.Rehash(100) {
	}
	for i := range 4900 {
		d.DeleteString(fmt.Sprint(i))
	}
	states["shrinking"] = d
	return states
}

func TestRandomEntryLive(t *testing.T) {
	for name, d := range dictStates() {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			live := map[string]bool{}
			d.Range(func(k string, _ *int) bool { live[k] = true; return true })
			hits := map[string]int{}
			for range 20 * len(live) {
				for _, src := range []*rand.Rand{r, nil} {
					k, v, ok := d.RandomEntry(src)
					if !ok || v == nil || !live[k] {
						t.Fatalf("RandomEntry gave %q ok=%v, not a live entry", k, ok)
					}
					if got, _ := d.GetString(k); got != *v {
						t.Fatalf("value for %q is %d, dict has %d", k, *v, got)
					}
					hits[k]++
				}
			}
			if len(live) <= 1000 && len(hits) < len(live)*9/10 {
				t.Fatalf("only %d of %d entries ever drawn", len(hits), len(live))
			}
		})
	}
	var empty Dict[int]
	if _, _, ok := empty.RandomEntry(nil); ok {
		t.Fatal("RandomEntry on empty dict reported ok")
	}
}

func TestRandomBucketEntryLive(t *testing.T) {
	for name, d := range dictStates() {
		r := rand.New(rand.NewPCG(3, 4))
		for range 1000 {
			e := d.randomBucketEntry(r)
			if got, ok := d.GetString(e.key); !ok || got != e.val {
				t.Fatalf("%s: fallback draw gave dead entry %q", name, e.key)
			}
		}
	}
}

func TestSample(t *testing.T) {
	for name, d := range dictStates() {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(5, 6))
			for _, n := range []int{-1, 0, 1, 5, 20, 33, 100, 10000} {
				seen := map[string]bool{}
				d.Sample(r, n, func(k string, v *int) {
					if seen[k] {
						t.Fatalf("n=%d: %q sampled twice", n, k)
					}
					seen[k] = true
					if got, ok := d.GetString(k); !ok || got != *v {
						t.Fatalf("n=%d: sampled dead entry %q", n, k)
					}
				})
				if len(seen) > max(n, 0) || len(seen) > d.Len() {
					t.Fatalf("n=%d: sampled %d entries from %d", n, len(seen), d.Len())
				}
				if n > 0 && len(seen) == 0 && name == "settled" {
					t.Fatalf("n=%d: sampled nothing from a dense table", n)
				}
			}
		})
	}
}

func TestSampleNoAllocs(t *testing.T) {
	d := dictStates()["settled"]
	r := rand.New(rand.NewPCG(7, 8))
	fn := func(string, *int) {}
	if n := testing.AllocsPerRun(100, func() { d.Sample(r, 5, fn) }); n != 0 {
		t.Fatalf("Sample(5) allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { d.RandomEntry(r) }); n != 0 {
		t.Fatalf("RandomEntry allocates %v times", n)
	}
}
