package rdb

import (
	"bytes"
	"fmt"
	"testing"

	"kv/engine"
)

// TestZSetConversionKeepsRedisEncodings round-trips sorted sets through the RDB writer
// and reader and checks the encoding each comes back with is the one Redis 7.0's
// loader would choose.
func TestZSetConversionKeepsRedisEncodings(t *testing.T) {
	st := engine.DefaultSettings()
	long := bytes.Repeat([]byte("w"), st.ZSetMaxListpackValue+1)
	cases := []struct {
		name    string
		members int
		member  []byte
		want    engine.Encoding
	}{
		{"small", 3, nil, engine.EncListpack},
		{"many members", st.ZSetMaxListpackEntries + 1, nil, engine.EncSkiplist},
		{"long member", 1, long, engine.EncSkiplist},
	}
	for _, c := range cases {
		o := engine.NewZSetObject()
		for i := 0; i < c.members; i++ {
			m := c.member
			if m == nil {
				m = []byte(fmt.Sprintf("m%d", i))
			}
			engine.ZSetAdd(&o, &st, float64(i)+0.5, m)
		}
		v, err := ToValue(&o)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var buf bytes.Buffer
		w := NewWriter(&buf, true)
		w.SelectDB(0, 1, 0)
		w.Key([]byte("z"), &v, NoMeta)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var col collector
		if err := Read(&buf, &col); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		back, err := FromValue(&col.entries[0].Value, &st)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if back.Enc != c.want || engine.ZSetLen(&back) != c.members {
			t.Errorf("%s: came back %s with %d members, want %s with %d", c.name, back.Enc, engine.ZSetLen(&back), c.want, c.members)
		}
	}
	dup := Value{Kind: KindZSet, Encoding: "skiplist", ZSet: []ZMember{{[]byte("a"), 1}, {[]byte("a"), 2}}}
	if _, err := FromValue(&dup, &st); err != ErrDuplicate {
		t.Errorf("duplicate member: %v", err)
	}
}
