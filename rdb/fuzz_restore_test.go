package rdb

import (
	"encoding/hex"
	"testing"

	"kv/engine"
)

// FuzzRestorePayload feeds RESTORE's path (payload check and decode, then building the
// engine value) arbitrary bytes: no panic, and whatever is accepted survives DUMP and
// RESTORE again with the same content.
func FuzzRestorePayload(f *testing.F) {
	for _, h := range redisDumps {
		if b, err := hex.DecodeString(h); err == nil {
			f.Add(b)
		}
	}
	for _, v := range sampleValues() {
		f.Add(DumpPayload(&v))
	}
	st := engine.DefaultSettings()
	st.HashMaxListpackEntries, st.SetMaxIntsetEntries = 4, 4
	f.Fuzz(func(t *testing.T, p []byte) {
		v, err := ParseDumpPayload(p)
		if err != nil {
			return
		}
		want := ValueDigest(&v, false)
		o, err := FromValue(&v, &st)
		if err != nil {
			return
		}
		v2, err := ToValue(&o)
		if err != nil {
			return // a type kv does not hold yet
		}
		if got := ValueDigest(&v2, false); got != want {
			t.Fatalf("content changed building the value: %s vs %s", got, want)
		}
		v3, err := ParseDumpPayload(DumpPayload(&v2))
		if err != nil {
			t.Fatalf("our own DUMP does not restore: %v", err)
		}
		if got := ValueDigest(&v3, false); got != want {
			t.Fatalf("content changed through DUMP: %s vs %s", got, want)
		}
	})
}
