package rdb

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kv/engine"
	"kv/resp"
)

// TestSnapshotPointInTime is DESIGN.md's test of snapshots without fork, on the engine:
// a writer keeps pairs of keys (a:i, b:i) equal in every atomic step (as a MULTI would),
// changing them by replacement, in place, by deletion, TTL changes, encoding
// conversions, FLUSHDB and SWAPDB, while snapshots run again and again. In every dump
// the pairs must be equal: each dump is the keyspace at one instant.
func TestSnapshotPointInTime(t *testing.T) {
	const dbs, pairs = 3, 60
	e := engine.New(engine.Options{Databases: dbs})
	c := e.NewCtx(resp.NewWriter(), nil)
	rng := rand.New(rand.NewPCG(1, 2))
	st := &e.Settings
	step := func() {
		c.DB = e.DB(rng.IntN(dbs))
		i := rng.IntN(pairs)
		val := fmt.Sprint(rng.IntN(1000))
		names := func(p string) [2][]byte {
			return [2][]byte{[]byte(fmt.Sprintf("%s:a:%d", p, i)), []byte(fmt.Sprintf("%s:b:%d", p, i))}
		}
		switch op := rng.IntN(100); {
		case op < 30: // SET both
			for _, k := range names("s") {
				c.SetKey(k, engine.NewString([]byte(val)), false)
			}
		case op < 50: // HSET both, in place; long values convert the encoding midway
			fv := []byte(val)
			if rng.IntN(20) == 0 {
				fv = bytes.Repeat([]byte("x"), 100)
			}
			for _, k := range names("h") {
				o := c.LookupWrite(k)
				if o == nil {
					h := engine.NewHash()
					engine.HashSet(&h, st, []byte("f"+val), fv)
					c.AddKey(k, h)
					continue
				}
				if o.Type == engine.TypeHash {
					engine.HashSet(o, st, []byte("f"+val), fv)
				}
			}
		case op < 65: // SADD both, in place; a non-integer converts the intset
			m := []byte(val)
			if rng.IntN(10) == 0 {
				m = []byte("m" + val)
			}
			for _, k := range names("t") {
				o := c.LookupWrite(k)
				if o == nil {
					s := engine.NewSetFor(m)
					engine.SetAdd(&s, st, m)
					c.AddKey(k, s)
					continue
				}
				if o.Type == engine.TypeSet {
					engine.SetAdd(o, st, m)
				}
			}
		case op < 75: // DEL both
			p := []string{"s", "h", "t"}[rng.IntN(3)]
			for _, k := range names(p) {
				c.DeleteKey(k)
			}
		case op < 90: // EXPIRE / PERSIST both
			p := []string{"s", "h", "t"}[rng.IntN(3)]
			at := time.Now().Add(time.Hour).UnixMilli() + int64(rng.IntN(1000))
			persist := rng.IntN(2) == 0
			for _, k := range names(p) {
				if c.DB.Peek(k) == nil {
					continue
				}
				if persist {
					c.DB.Persist(k)
				} else {
					c.DB.SetExpire(k, at)
				}
			}
		case op < 95: // SWAPDB
			e.SwapDB(rng.IntN(dbs), rng.IntN(dbs))
		default: // FLUSHDB, rarely
			if rng.IntN(4) == 0 {
				c.DB.Clear()
			}
		}
	}
	e.Lock()
	for range 5000 {
		step()
	}
	e.Unlock()

	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			e.Lock()
			for range 5 {
				step()
			}
			e.Unlock()
		}
	}()
	defer func() { stop.Store(true); wg.Wait() }()

	deadline := time.Now().Add(3 * time.Second)
	for round := 0; round < 300 && time.Now().Before(deadline); round++ {
		var buf bytes.Buffer
		var model map[string]string
		st, err := Snapshot(context.Background(), e, &buf, SaveOptions{Compress: round%2 == 0, Checksum: true, SliceKeys: 7,
			AtStart: func() { model = keyspaceModel(t, e) }})
		if err != nil {
			t.Fatal(err)
		}
		var col collector
		if err := Read(bytes.NewReader(buf.Bytes()), &col); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if int64(len(col.entries)) != st.Keys {
			t.Fatalf("round %d: %d keys read, %d written", round, len(col.entries), st.Keys)
		}
		seen := map[string]string{}
		for _, en := range col.entries {
			id := fmt.Sprintf("%d/%s", en.DB, en.Key)
			if _, dup := seen[id]; dup {
				t.Fatalf("round %d: key %s twice", round, id)
			}
			line := CanonicalLine(en)
			// Compare values and TTLs, not the key name.
			f := strings.SplitN(line, "\t", 3)
			ttl := fmt.Sprint(en.Meta.ExpireMs)
			seen[id] = f[2] + "\t" + ttl
		}
		if len(seen) != len(model) {
			t.Fatalf("round %d: dump has %d keys, keyspace had %d", round, len(seen), len(model))
		}
		for id, v := range model {
			if seen[id] != v {
				t.Fatalf("round %d: %s is %q in the dump, was %q at the start", round, id, seen[id], v)
			}
		}
		for id, v := range seen {
			if !strings.Contains(id, ":a:") {
				continue
			}
			other := strings.Replace(id, ":a:", ":b:", 1)
			if seen[other] != v {
				t.Fatalf("round %d: %s = %q but %s = %q", round, id, v, other, seen[other])
			}
		}
		for id := range seen {
			if strings.Contains(id, ":b:") {
				if _, ok := seen[strings.Replace(id, ":b:", ":a:", 1)]; !ok {
					t.Fatalf("round %d: %s without its pair", round, id)
				}
			}
		}
		_ = st
	}
}

// keyspaceModel renders every key as the dump comparison does. Lock held.
func keyspaceModel(t *testing.T, e *engine.Engine) map[string]string {
	m := map[string]string{}
	for i := 0; i < e.NumDBs(); i++ {
		db := e.DB(i)
		db.Keys().Range(func(k string, o *engine.Object) bool {
			v, err := ToValue(o)
			if err != nil {
				t.Fatal(err)
			}
			en := &Entry{DB: i, Key: []byte(k), Value: v, Meta: NoMeta}
			en.Meta.ExpireMs = db.ExpireAt([]byte(k))
			f := strings.SplitN(CanonicalLine(en), "\t", 3)
			m[fmt.Sprintf("%d/%s", i, k)] = f[2] + "\t" + fmt.Sprint(en.Meta.ExpireMs)
			return true
		})
	}
	return m
}
