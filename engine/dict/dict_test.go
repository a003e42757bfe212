package dict

import (
	"fmt"
	"hash/maphash"
	"testing"
	"time"
)

// checkInvariants verifies the table's internal structure against what the
// rest of the package assumes.
func checkInvariants[V any](t testing.TB, d *Dict[V]) {
	t.Helper()
	seen := map[string]bool{}
	for ti, table := range d.tables {
		if table == nil {
			if d.used[ti] != 0 {
				t.Fatalf("table %d is nil but used=%d", ti, d.used[ti])
			}
			continue
		}
		if len(table) < minSize || len(table)&(len(table)-1) != 0 {
			t.Fatalf("table %d has %d buckets, want a power of two >= %d", ti, len(table), minSize)
		}
		n := 0
		for i, e := range table {
			if ti == 0 && d.tables[1] != nil && i < d.rehashIdx && e != nil {
				t.Fatalf("bucket %d below rehashIdx %d is not empty", i, d.rehashIdx)
			}
			for ; e != nil; e = e.next {
				if got := int(maphash.String(d.seed, e.key) & uint64(len(table)-1)); got != i {
					t.Fatalf("key %q in bucket %d of table %d, hashes to %d", e.key, i, ti, got)
				}
				if seen[e.key] {
					t.Fatalf("key %q stored twice", e.key)
				}
				seen[e.key] = true
				n++
			}
		}
		if n != d.used[ti] {
			t.Fatalf("table %d holds %d entries, used says %d", ti, n, d.used[ti])
		}
	}
	if d.tables[0] == nil && d.tables[1] != nil {
		t.Fatal("rehash target without a source table")
	}
}

func TestBasicOps(t *testing.T) {
	type op struct {
		do    string // set, get, del
		key   string
		val   int
		want  int
		found bool // set: added; get/del: present
	}
	tests := []struct {
		name string
		ops  []op
	}{
		{"get missing", []op{{do: "get", key: "a"}}},
		{"set then get", []op{
			{do: "set", key: "a", val: 1, found: true},
			{do: "get", key: "a", want: 1, found: true},
		}},
		{"overwrite", []op{
			{do: "set", key: "a", val: 1, found: true},
			{do: "set", key: "a", val: 2, found: false},
			{do: "get", key: "a", want: 2, found: true},
		}},
		{"delete", []op{
			{do: "set", key: "a", val: 1, found: true},
			{do: "del", key: "a", want: 1, found: true},
			{do: "get", key: "a"},
			{do: "del", key: "a"},
		}},
		{"empty key", []op{
			{do: "set", key: "", val: 7, found: true},
			{do: "get", key: "", want: 7, found: true},
			{do: "del", key: "", want: 7, found: true},
		}},
		{"binary keys", []op{
			{do: "set", key: "a\x00b", val: 1, found: true},
			{do: "set", key: "a\x00c", val: 2, found: true},
			{do: "get", key: "a\x00b", want: 1, found: true},
			{do: "get", key: "a", found: false},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, newDict := range []func() *Dict[int]{New[int], func() *Dict[int] { return new(Dict[int]) }} {
				d := newDict()
				for i, o := range tc.ops {
					var got int
					var found bool
					switch o.do {
					case "set":
						found = d.Set([]byte(o.key), o.val)
					case "get":
						got, found = d.Get([]byte(o.key))
						if g2, f2 := d.GetString(o.key); g2 != got || f2 != found {
							t.Fatalf("op %d: GetString=%v,%v Get=%v,%v", i, g2, f2, got, found)
						}
					case "del":
						got, found = d.Delete([]byte(o.key))
					}
					if got != o.want || found != o.found {
						t.Fatalf("op %d %s %q: got %v,%v want %v,%v", i, o.do, o.key, got, found, o.want, o.found)
					}
					checkInvariants(t, d)
				}
			}
		})
	}
}

func TestSetCopiesKey(t *testing.T) {
	d := New[int]()
	buf := []byte("key")
	d.Set(buf, 1)
	buf[0] = 'x'
	if _, ok := d.GetString("key"); !ok {
		t.Fatal("key changed with the caller's buffer")
	}
	if _, ok := d.GetString("xey"); ok {
		t.Fatal("caller's buffer aliased into the dict")
	}
}

func TestRef(t *testing.T) {
	d := New[[]string]()
	if d.Ref([]byte("k")) != nil {
		t.Fatal("Ref of a missing key is not nil")
	}
	d.SetString("k", nil)
	p := d.Ref([]byte("k"))
	*p = append(*p, "x")
	if v, _ := d.GetString("k"); len(v) != 1 || v[0] != "x" {
		t.Fatalf("update through Ref lost: %v", v)
	}
}

func TestGrowAndShrink(t *testing.T) {
	d := New[int]()
	const n = 10000
	for i := range n {
		d.SetString(fmt.Sprint(i), i)
	}
	for d.Rehash(1000) {
	}
	checkInvariants(t, d)
	if main, _ := d.Buckets(); main < n || main > 2*n {
		t.Fatalf("%d entries in %d buckets: want load factor <= 1 and >= 1/2", n, main)
	}
	for i := range n - 10 {
		if _, ok := d.DeleteString(fmt.Sprint(i)); !ok {
			t.Fatalf("key %d missing", i)
		}
	}
	for d.Rehash(1000) {
	}
	checkInvariants(t, d)
	if main, _ := d.Buckets(); main != 16 {
		t.Fatalf("10 entries left in %d buckets, want 16", main)
	}
	for i := n - 10; i < n; i++ {
		if v, ok := d.GetString(fmt.Sprint(i)); !ok || v != i {
			t.Fatalf("key %d: got %v,%v", i, v, ok)
		}
	}
	for i := n - 10; i < n; i++ {
		d.DeleteString(fmt.Sprint(i))
	}
	for d.Rehash(1000) {
	}
	if main, _ := d.Buckets(); main != minSize || d.Len() != 0 {
		t.Fatalf("empty dict has %d buckets and %d entries", main, d.Len())
	}
}

func TestIncrementalRehash(t *testing.T) {
	d := New[int]()
	const n = 1 << 16
	for i := range n {
		d.SetString(fmt.Sprint(i), i)
	}
	for d.Rehash(100) {
	}
	d.SetString("one more", 0) // crosses load factor 1
	if !d.IsRehashing() {
		t.Fatal("growth did not start an incremental rehash")
	}
	// One mutation moves a bucket, not the table.
	if d.used[0] < n-10 {
		t.Fatalf("a single Set moved %d entries", n-d.used[0])
	}
	// Every key stays reachable while the rehash is half done.
	for range 1000 {
		d.SetString("one more", 1)
	}
	checkInvariants(t, d)
	for i := range n {
		if v, ok := d.GetString(fmt.Sprint(i)); !ok || v != i {
			t.Fatalf("key %d lost during rehash", i)
		}
	}
	if d.RehashFor(time.Minute) || d.IsRehashing() {
		t.Fatal("RehashFor did not finish the rehash")
	}
	checkInvariants(t, d)
	if main, _ := d.Buckets(); main != 2*n {
		t.Fatalf("grew to %d buckets, want %d", main, 2*n)
	}
}

func TestClearAndReserve(t *testing.T) {
	d := New[int]()
	for i := range 100 {
		d.SetString(fmt.Sprint(i), i)
	}
	d.Clear()
	if d.Len() != 0 {
		t.Fatal("Clear left entries")
	}
	if _, ok := d.GetString("1"); ok {
		t.Fatal("Clear left a key reachable")
	}
	d.Reserve(1000)
	if main, _ := d.Buckets(); main != 1024 {
		t.Fatalf("Reserve(1000) on an empty dict gave %d buckets", main)
	}
	for i := range 1000 {
		d.SetString(fmt.Sprint(i), i)
	}
	if d.IsRehashing() {
		t.Fatal("a reserved dict resized during the load")
	}
	checkInvariants(t, d)
}

func TestNoAllocs(t *testing.T) {
	d := New[int]()
	for i := range 1000 {
		d.SetString(fmt.Sprint(i), i)
	}
	key := []byte("500")
	missing := []byte("nope")
	for _, tc := range []struct {
		name string
		fn   func()
	}{
		{"Get", func() { d.Get(key) }},
		{"Get missing", func() { d.Get(missing) }},
		{"GetString", func() { d.GetString("500") }},
		{"Ref", func() { *d.Ref(key)++ }},
		{"Set existing", func() { d.Set(key, 1) }},
		{"Delete missing", func() { d.Delete(missing) }},
	} {
		if n := testing.AllocsPerRun(100, tc.fn); n != 0 {
			t.Errorf("%s allocates %v times", tc.name, n)
		}
	}
}

// TestWarmChangesNothing: Warm only reads, on an empty table and after every insert
// (so during the growth rehashes too), with keys present and absent.
func TestWarmChangesNothing(t *testing.T) {
	d := New[int]()
	var keys [][]byte
	for i := range 100 {
		keys = append(keys, []byte(fmt.Sprint("w", i)))
	}
	d.Warm(keys)
	for i, k := range keys {
		if i%2 == 0 {
			d.Set(k, i)
		}
		d.Warm(keys)
	}
	for i, k := range keys {
		v, ok := d.Get(k)
		if ok != (i%2 == 0) || (ok && v != i) {
			t.Fatalf("key %s: %d %v after Warm", k, v, ok)
		}
	}
	if d.Len() != 50 {
		t.Fatalf("Len %d after Warm, want 50", d.Len())
	}
}
