package rdb

import (
	"testing"
	"time"
)

func TestPacer(t *testing.T) {
	const ms = time.Millisecond
	type slice struct {
		d    time.Duration
		cmds int64
	}
	tests := []struct {
		name    string
		percent int
		slices  []slice
		want    []time.Duration // sleeps, in order
	}{
		{"idle server: never sleeps", 50, []slice{{2 * ms, 7}, {2 * ms, 7}, {5 * ms, 7}}, nil},
		{"busy server at 50%: sleeps as long as it worked", 50,
			[]slice{{300 * time.Microsecond, 1}, {600 * time.Microsecond, 2}, {600 * time.Microsecond, 3}, {2 * ms, 4}},
			[]time.Duration{1500 * time.Microsecond, 2 * ms}},
		{"busy server at 25%: sleeps three times as long", 25, []slice{{0, 1}, {ms, 2}}, []time.Duration{3 * ms}},
		{"100% never sleeps", 100, []slice{{0, 1}, {5 * ms, 2}, {5 * ms, 3}}, nil},
		// Commands counted at the start of a slice ran before it: the third
		// slice's work is what the first decision weighs, then an idle stretch.
		{"commands in one window only", 50,
			[]slice{{0, 1}, {900 * time.Microsecond, 1}, {200 * time.Microsecond, 2}, {3 * ms, 2}, {500 * time.Microsecond, 2}, {ms, 2}},
			[]time.Duration{1100 * time.Microsecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []time.Duration
			p := pacer{percent: tc.percent, sleep: func(d time.Duration) { got = append(got, d) }}
			for _, s := range tc.slices {
				p.slice(s.d, s.cmds)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("sleeps %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("sleeps %v, want %v", got, tc.want)
				}
			}
		})
	}
}
