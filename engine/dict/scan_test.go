package dict

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

func TestScanStaticVisitsEachOnce(t *testing.T) {
	for _, n := range []int{0, 1, 3, 4, 5, 100, 4096, 5000} {
		d := New[int]()
		for i := range n {
			d.SetString(fmt.Sprint(i), i)
		}
		for d.Rehash(100) {
		}
		seen := map[string]int{}
		cursor, calls := uint64(0), 0
		for {
			cursor = d.Scan(cursor, func(k string, _ *int) { seen[k]++ })
			calls++
			if cursor == 0 {
				break
			}
			if calls > 1<<20 {
				t.Fatal("scan does not terminate")
			}
		}
		if len(seen) != n {
			t.Fatalf("n=%d: scan saw %d keys", n, len(seen))
		}
		for k, c := range seen {
			if c != 1 {
				t.Fatalf("n=%d: key %q seen %d times on an unchanging table", n, k, c)
			}
		}
	}
}

// TestScanGuarantee checks SCAN's promise while the table is resized under
// the cursor: every key present for the whole scan is returned.
func TestScanGuarantee(t *testing.T) {
	tests := []struct {
		name   string
		stable int // keys present throughout
		before int // churn keys present when the scan starts
		// churn runs between scan calls; step counts the calls so far.
		churn func(d *Dict[int], r *rand.Rand, step int, next *int)
	}{
		{"grow", 200, 0, func(d *Dict[int], r *rand.Rand, step int, next *int) {
			if step > 40 {
				return // let the scan catch up with the table
			}
			for range 50 {
				d.SetString(fmt.Sprint("churn", *next), 0)
				*next++
			}
		}},
		{"shrink", 50, 20000, func(d *Dict[int], r *rand.Rand, step int, next *int) {
			for j := range 400 {
				d.DeleteString(fmt.Sprint("churn", step*400+j))
			}
		}},
		{"grow then shrink", 100, 0, func(d *Dict[int], r *rand.Rand, step int, next *int) {
			if step < 20 {
				for range 300 {
					d.SetString(fmt.Sprint("churn", *next), 0)
					*next++
				}
				return
			}
			if step == 20 {
				for i := range *next {
					d.DeleteString(fmt.Sprint("churn", i))
				}
			}
		}},
		{"random churn with partial rehash", 300, 1000, func(d *Dict[int], r *rand.Rand, step int, next *int) {
			for range r.IntN(400) {
				k := fmt.Sprint("churn", r.IntN(3000))
				if r.IntN(2) == 0 {
					d.SetString(k, 0)
				} else {
					d.DeleteString(k)
				}
			}
			d.Rehash(r.IntN(3))
		}},
		{"resize at every call", 64, 0, func(d *Dict[int], r *rand.Rand, step int, next *int) {
			// Alternate between far bigger and far smaller tables, so the
			// cursor crosses several doublings and halvings at once.
			if step%2 == 0 && step < 30 {
				for range 2000 {
					d.SetString(fmt.Sprint("churn", *next), 0)
					*next++
				}
			} else if step < 30 {
				for i := *next - 2000; i < *next; i++ {
					d.DeleteString(fmt.Sprint("churn", i))
				}
			}
			d.RehashFor(time.Second)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range uint64(20) {
				r := rand.New(rand.NewPCG(seed, 1))
				d := New[int]()
				stable := map[string]bool{}
				for i := range tc.stable {
					k := fmt.Sprint("stable", i)
					stable[k] = true
					d.SetString(k, i)
				}
				next := 0
				for ; next < tc.before; next++ {
					d.SetString(fmt.Sprint("churn", next), 0)
				}
				seen := map[string]bool{}
				resized := false
				startMain, _ := d.Buckets()
				cursor := uint64(0)
				for step := 0; ; step++ {
					cursor = d.Scan(cursor, func(k string, _ *int) { seen[k] = true })
					if cursor == 0 {
						break
					}
					tc.churn(d, r, step, &next)
					if m, _ := d.Buckets(); m != startMain || d.IsRehashing() {
						resized = true
					}
					if step > 100000 {
						t.Fatal("scan does not terminate")
					}
				}
				if !resized {
					t.Fatalf("seed %d: the table never resized during the scan; the test proves nothing", seed)
				}
				for k := range stable {
					if !seen[k] {
						t.Fatalf("seed %d: stable key %q not returned", seed, k)
					}
				}
				checkInvariants(t, d)
			}
		})
	}
}

func TestScanEmpty(t *testing.T) {
	var d Dict[int]
	if c := d.Scan(0, func(string, *int) { t.Fatal("callback on empty dict") }); c != 0 {
		t.Fatalf("scan of empty dict returned cursor %d", c)
	}
	// A stale cursor on a since-emptied dict must also end the scan.
	if c := d.Scan(12345, func(string, *int) {}); c != 0 {
		t.Fatalf("got cursor %d", c)
	}
}

func TestRangeStops(t *testing.T) {
	d := New[int]()
	for i := range 100 {
		d.SetString(fmt.Sprint(i), i)
	}
	n := 0
	d.Range(func(string, *int) bool { n++; return n < 10 })
	if n != 10 {
		t.Fatalf("Range went on for %d calls after fn returned false", n)
	}
	sum := 0
	d.Range(func(_ string, v *int) bool { sum += *v; return true })
	if sum != 4950 {
		t.Fatalf("Range sum %d, want 4950", sum)
	}
}
