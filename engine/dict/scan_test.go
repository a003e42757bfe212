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

// resizeChurns are changes made between the calls of a scan or walk that resize
// the table under its cursor.
var resizeChurns = []resizeChurn{
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

// resizeChurn is one entry of resizeChurns.
type resizeChurn = struct {
	name   string
	stable int // keys present throughout
	before int // churn keys present when the scan starts
	// churn runs between scan calls; step counts the calls so far.
	churn func(d *Dict[int], r *rand.Rand, step int, next *int)
}

// checkChurnGuarantee fills a table as tc says, then calls visit (one call of a
// scan or walk, passing entries to see and reporting whether it is over) with
// tc.churn between calls, for 20 seeds, and fails unless every stable key was
// seen. resized says, at the end, whether the visit went through a resize; the
// test proves nothing otherwise.
func checkChurnGuarantee(t *testing.T, tc resizeChurn, start func(d *Dict[int]) (visit func(see func(string, *int)) bool, resized func() bool)) {
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
		see := func(k string, _ *int) { seen[k] = true }
		visit, resized := start(d)
		for step := 0; !visit(see); step++ {
			tc.churn(d, r, step, &next)
			if step > 100000 {
				t.Fatal("the visit does not terminate")
			}
		}
		if !resized() {
			t.Fatalf("seed %d: the visit never went through a resize; the test proves nothing", seed)
		}
		for k := range stable {
			if !seen[k] {
				t.Fatalf("seed %d: stable key %q not returned", seed, k)
			}
		}
		checkInvariants(t, d)
	}
}

// TestScanGuarantee checks SCAN's promise while the table is resized under
// the cursor: every key present for the whole scan is returned.
func TestScanGuarantee(t *testing.T) {
	for _, tc := range resizeChurns {
		t.Run(tc.name, func(t *testing.T) {
			checkChurnGuarantee(t, tc, func(d *Dict[int]) (func(func(string, *int)) bool, func() bool) {
				startMain, _ := d.Buckets()
				cursor, resized := uint64(0), false
				visit := func(see func(string, *int)) bool {
					if m, _ := d.Buckets(); m != startMain || d.IsRehashing() {
						resized = true
					}
					cursor = d.Scan(cursor, see)
					return cursor == 0
				}
				return visit, func() bool { return resized }
			})
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
