package dict

import (
	"fmt"
	"testing"
)

// TestWalkerStaticBucketOrder: on a table that keeps its size, the walk stays in
// bucket order and passes each entry exactly once, whatever the slice size.
func TestWalkerStaticBucketOrder(t *testing.T) {
	for _, n := range []int{0, 1, 5, 100, 5000} {
		for _, slice := range []int{1, 7, 128, 1 << 20} {
			d := New[int]()
			for i := range n {
				d.SetString(fmt.Sprint(i), i)
			}
			for d.Rehash(100) {
			}
			w := d.Walk()
			seen := map[string]int{}
			total := 0
			for calls := 0; ; calls++ {
				k, done := w.Next(slice, func(k string, _ *int) { seen[k]++ })
				total += k
				if k < slice && !done {
					t.Fatalf("n=%d slice=%d: passed %d entries before the end", n, slice, k)
				}
				if done {
					break
				}
				// Updates and lookups between slices do not change the layout.
				d.SetString("0", 1)
				if calls > n+10 {
					t.Fatal("walk does not terminate")
				}
			}
			if w.Scanning() {
				t.Fatalf("n=%d slice=%d: fell back to scan order on an unresized table", n, slice)
			}
			if len(seen) != n || total != n {
				t.Fatalf("n=%d slice=%d: saw %d keys in %d visits", n, slice, len(seen), total)
			}
			if k, done := w.Next(slice, func(string, *int) { t.Fatal("visit after the end") }); k != 0 || !done {
				t.Fatalf("Next after the end = %d, %v", k, done)
			}
		}
	}
}

// TestWalkerGuarantee checks Scan's promise for the Walker while the table is
// resized between slices: every key present throughout is passed.
func TestWalkerGuarantee(t *testing.T) {
	for _, tc := range resizeChurns {
		t.Run(tc.name, func(t *testing.T) {
			checkChurnGuarantee(t, tc, func(d *Dict[int]) (func(func(string, *int)) bool, func() bool) {
				w := d.Walk()
				// A slice of a few entries, so the walk is still under way when
				// the churn resizes the table.
				visit := func(see func(string, *int)) bool { _, done := w.Next(3, see); return done }
				return visit, w.Scanning
			})
		})
	}
}

// TestWalkerStartsWhileRehashing: a walk that begins during a resize goes in scan
// order from the start and still passes every entry.
func TestWalkerStartsWhileRehashing(t *testing.T) {
	d := New[int]()
	for i := range 1000 {
		d.SetString(fmt.Sprint(i), i)
	}
	for !d.IsRehashing() {
		d.SetString(fmt.Sprint("x", d.Len()), 0)
	}
	want := d.Len()
	seen := map[string]bool{}
	w := d.Walk()
	for {
		if _, done := w.Next(10, func(k string, _ *int) { seen[k] = true }); done {
			break
		}
	}
	if !w.Scanning() || len(seen) != want {
		t.Fatalf("scanning %v, saw %d of %d", w.Scanning(), len(seen), want)
	}
}
