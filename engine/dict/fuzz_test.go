package dict

import (
	"math/rand/v2"
	"testing"
)

// FuzzDict applies an operation sequence to a Dict and to a Go map and
// requires them to agree after every step, with the table's invariants intact
// and a full scan returning every key.
func FuzzDict(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 2, 1, 3, 0})
	f.Add([]byte{0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 2, 1, 2, 2, 2, 3, 5, 0})
	seq := make([]byte, 0, 600)
	for i := range 200 {
		seq = append(seq, 0, byte(i))
	}
	for i := range 190 {
		seq = append(seq, 2, byte(i))
	}
	f.Add(seq)
	f.Fuzz(func(t *testing.T, ops []byte) {
		d := New[int]()
		model := map[string]int{}
		r := rand.New(rand.NewPCG(1, 1))
		for n := 0; n+1 < len(ops); n += 2 {
			op, arg := ops[n]%8, ops[n+1]
			// Keys of one and two bytes: few enough to collide and to delete
			// what was set, many enough to resize repeatedly.
			key := []byte{arg}
			if arg >= 128 {
				key = append(key, arg%7)
			}
			switch op {
			case 0, 1:
				_, had := model[string(key)]
				if added := d.Set(key, n); added == had {
					t.Fatalf("op %d: Set(%q) added=%v, model had=%v", n, key, added, had)
				}
				model[string(key)] = n
			case 2, 3:
				want, had := model[string(key)]
				got, ok := d.Delete(key)
				if ok != had || got != want {
					t.Fatalf("op %d: Delete(%q)=%v,%v model %v,%v", n, key, got, ok, want, had)
				}
				delete(model, string(key))
			case 4:
				want, had := model[string(key)]
				got, ok := d.Get(key)
				if ok != had || got != want {
					t.Fatalf("op %d: Get(%q)=%v,%v model %v,%v", n, key, got, ok, want, had)
				}
				if p := d.Ref(key); (p != nil) != had || (p != nil && *p != want) {
					t.Fatalf("op %d: Ref(%q) disagrees with the model", n, key)
				}
			case 5:
				d.Rehash(int(arg % 4))
			case 6:
				k, v, ok := d.RandomEntry(r)
				if want, had := model[k]; ok != (len(model) > 0) || (ok && (!had || *v != want)) {
					t.Fatalf("op %d: RandomEntry gave %q,%v", n, k, ok)
				}
				d.Sample(r, int(arg%40), func(k string, v *int) {
					if want, had := model[k]; !had || *v != want {
						t.Fatalf("op %d: Sample gave dead entry %q", n, k)
					}
				})
			case 7:
				if arg == 0 {
					d.Clear()
					clear(model)
				} else {
					d.Reserve(int(arg))
				}
			}
			if d.Len() != len(model) {
				t.Fatalf("op %d: Len=%d, model %d", n, d.Len(), len(model))
			}
		}
		checkInvariants(t, d)
		seen := map[string]bool{}
		for c := d.Scan(0, func(k string, _ *int) { seen[k] = true }); c != 0; {
			c = d.Scan(c, func(k string, _ *int) { seen[k] = true })
		}
		for k := range model {
			if !seen[k] {
				t.Fatalf("scan missed %q", k)
			}
		}
		if len(seen) != len(model) {
			t.Fatalf("scan saw %d keys, model has %d", len(seen), len(model))
		}
	})
}
