package engine_test

import (
	"fmt"
	"testing"

	"kv/engine"
	"kv/resp"
)

// TestSnapshotWalkAcrossResizes: the walk goes in bucket order and restarts in scan
// order when the table is resized between slices (dict.Walker); either way every key
// present at the start is emitted exactly once, with its value at the start, and no
// key created afterwards is emitted.
func TestSnapshotWalkAcrossResizes(t *testing.T) {
	const keys = 3000
	tests := []struct {
		name string
		// change runs between slices; step counts the slices so far.
		change func(c *engine.Ctx, step int)
	}{
		{"no change", func(*engine.Ctx, int) {}},
		{"overwrites", func(c *engine.Ctx, step int) {
			k := fmt.Appendf(nil, "k%d", (step*37)%keys)
			c.DB.Put(k, engine.NewString([]byte("new")), -1)
		}},
		{"growth", func(c *engine.Ctx, step int) {
			if step < 20 {
				for i := range 300 {
					c.DB.Put(fmt.Appendf(nil, "g%d-%d", step, i), engine.NewString([]byte("new")), -1)
				}
			}
		}},
		{"shrink", func(c *engine.Ctx, step int) {
			// Delete 90% of the original keys early on, then the table shrinks.
			for i := step * 300; i < (step+1)*300 && i < keys*9/10; i++ {
				c.DeleteKey(fmt.Appendf(nil, "k%d", i))
			}
		}},
		{"growth then deletes", func(c *engine.Ctx, step int) {
			switch {
			case step < 10:
				for i := range 500 {
					c.DB.Put(fmt.Appendf(nil, "g%d-%d", step, i), engine.NewString([]byte("new")), -1)
				}
			case step < 20:
				for i := range 500 {
					c.DeleteKey(fmt.Appendf(nil, "g%d-%d", step-10, i))
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := engine.New(engine.Options{Databases: 1})
			e.Lock()
			defer e.Unlock()
			c := e.NewCtx(resp.NewWriter(), nil)
			c.DB = e.DB(0)
			want := map[string]string{}
			for i := range keys {
				k, v := fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i)
				c.DB.Put([]byte(k), engine.NewString([]byte(v)), -1)
				want[k] = v
			}
			// Start on a table that is not resizing, so the walk begins in bucket order.
			for c.DB.Keys().Rehash(100) {
			}
			got := map[string][]string{}
			snap, err := e.StartSnapshot(func(_ int, key []byte, o *engine.Object, _ int64) {
				got[string(key)] = append(got[string(key)], string(o.Str))
			})
			if err != nil {
				t.Fatal(err)
			}
			for step := 0; !snap.Step(16); step++ {
				tc.change(c, step)
				// Finish any resize at once, as the background tick would in time,
				// so the walk meets tables whose buckets have moved.
				for c.DB.Keys().Rehash(100) {
				}
				if step > 100000 {
					t.Fatal("the snapshot does not finish")
				}
			}
			for k, v := range want {
				if vs := got[k]; len(vs) != 1 || vs[0] != v {
					t.Fatalf("key %q emitted as %q, want once as %q", k, vs, v)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%d keys emitted, want %d", len(got), len(want))
			}
		})
	}
}
