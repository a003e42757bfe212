package rdb

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestInspectGolden renders the Redis-made fixture in every format and compares with
// testdata/rdb/inspect/*.golden (go test -run TestInspectGolden -update rewrites them).
func TestInspectGolden(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		o    InspectOptions
	}{
		{"summary.table", InspectOptions{Top: 3, DB: -1, Format: "table"}},
		{"summary.json", InspectOptions{Top: 3, DB: -1, Format: "json"}},
		{"summary.csv", InspectOptions{DB: -1, Format: "csv"}},
		{"keys.table", InspectOptions{Keys: true, DB: -1, Format: "table"}},
		{"keys-db0-hash.csv", InspectOptions{Keys: true, DB: 0, Type: "hash", Format: "csv"}},
		{"keys-match.json", InspectOptions{Keys: true, DB: -1, Match: "*list*", Format: "json"}},
		{"rebuild.resp", InspectOptions{DB: -1, Format: "resp"}},
	}
	src, err := os.ReadFile("../testdata/rdb/redis-7.0.15-all-types.rdb")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.o.Now = now
			var out bytes.Buffer
			if err := Inspect(bytes.NewReader(src), &out, c.o); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("../testdata/rdb/inspect", c.name+".golden")
			if *update {
				_ = os.MkdirAll(filepath.Dir(path), 0o755)
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("output differs from %s:\n%s", path, out.String())
			}
		})
	}
}

// TestInspectCorrupt: a truncated file reports what it read, then where it stopped.
func TestInspectCorrupt(t *testing.T) {
	src, err := os.ReadFile("../testdata/rdb/redis-7.0.15-all-types.rdb")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = Inspect(bytes.NewReader(src[:len(src)/2]), &out, InspectOptions{DB: -1, Format: "table"})
	if err == nil {
		t.Fatal("no error for a truncated file")
	}
	if s := out.String(); !strings.Contains(s, "ERROR at offset") || !strings.Contains(s, "redis-ver") {
		t.Errorf("report:\n%s", s)
	}
}
