package rdb

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"kv/engine"
)

// TestStreamMatchesSave checks that a background snapshot, which queues strings as
// copies and other values as finished records and encodes them outside the lock,
// writes the same keys, values and TTLs as SAVE, and a file of the same size (the
// same records, in another order).
func TestStreamMatchesSave(t *testing.T) {
	e := engine.New(engine.Options{Databases: 3})
	e.Lock()
	st := &e.Settings
	for db := 0; db < 3; db++ {
		d := e.DB(db)
		for i := 0; i < 500; i++ {
			key := fmt.Appendf(nil, "k:%d:%d", db, i)
			var o engine.Object
			switch i % 7 {
			case 0:
				o = engine.NewString(fmt.Appendf(nil, "%d", i*1000))
			case 1:
				o = engine.NewString(bytes.Repeat([]byte("compressible "), i%40+2))
			case 2:
				o = engine.NewHash()
				for f := 0; f < i%300; f++ {
					engine.HashSet(&o, st, fmt.Appendf(nil, "f%d", f), []byte("v"))
				}
			case 3:
				o = engine.NewIntsetSet()
				for m := 0; m < i%20+1; m++ {
					engine.SetAdd(&o, st, fmt.Appendf(nil, "%d", m))
				}
			case 4:
				o = engine.NewZSetObject()
				for m := 0; m < i%200+1; m++ {
					engine.ZSetAdd(&o, st, float64(m)/3, fmt.Appendf(nil, "m%d", m))
				}
			case 5:
				o = engine.NewListFrom(st, [][]byte{[]byte("a"), []byte("bb"), bytes.Repeat([]byte("c"), i)})
			default:
				o = engine.NewString(fmt.Appendf(nil, "value-%010d-abcdefghijklmnop", i))
			}
			at := int64(-1)
			if i%3 == 0 {
				at = 4102444800000 + int64(i)
			}
			d.Put(key, o, at)
		}
	}
	var saved bytes.Buffer
	if _, err := SaveLocked(e, &saved, SaveOptions{Compress: true, Checksum: true}); err != nil {
		t.Fatal(err)
	}
	e.Unlock()
	var streamed bytes.Buffer
	if _, err := Snapshot(context.Background(), e, &streamed, SaveOptions{Compress: true, Checksum: true, SliceKeys: 7}); err != nil {
		t.Fatal(err)
	}
	if saved.Len() != streamed.Len() {
		t.Errorf("SAVE wrote %d bytes, the background snapshot %d", saved.Len(), streamed.Len())
	}
	a, b := fileKeys(t, saved.Bytes()), fileKeys(t, streamed.Bytes())
	if len(a) != 1500 || len(a) != len(b) {
		t.Fatalf("SAVE has %d keys, the background snapshot %d", len(a), len(b))
	}
	for k, v := range a {
		if b[k] != v {
			t.Fatalf("key %s differs", k)
		}
	}
}

// fileKeys reads an RDB file into db/key -> TTL and DUMP payload of the value.
func fileKeys(t *testing.T, file []byte) map[string]string {
	c := &collector{}
	if err := Read(bytes.NewReader(file), c); err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, en := range c.entries {
		m[fmt.Sprintf("%d/%s", en.DB, en.Key)] = fmt.Sprintf("%d %x", en.Meta.ExpireMs, DumpPayload(&en.Value))
	}
	return m
}
