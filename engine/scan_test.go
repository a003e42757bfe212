package engine_test

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"kv/engine"
	"kv/internal/kvtest"
	"kv/resp"
)

func TestKeys(t *testing.T) {
	s := kvtest.Start(t)
	for _, k := range []string{"foo_a", "foo_b", "foo_c", "key_x", "key_y", "key_z", "", "a*b", "hello"} {
		putStr(t, s, 0, k, "v", 0)
	}
	putStr(t, s, 0, "foo_expired", "v", time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	r := s.Raw(t)
	for _, c := range []struct{ pattern, want string }{
		{"foo*", `"foo_a" "foo_b" "foo_c"`},
		{"*", `"" "a*b" "foo_a" "foo_b" "foo_c" "hello" "key_x" "key_y" "key_z"`},
		{"key_?", `"key_x" "key_y" "key_z"`},
		{"key_[xz]", `"key_x" "key_z"`},
		{"key_[^x]", `"key_y" "key_z"`},
		{"a\\*b", `"a*b"`},
		{"h*l?o", `"hello"`},
		{"nothing*", ``},
		{"", `""`},
	} {
		v := r.Do("KEYS", c.pattern)
		if got := sortedStrings(v); got != c.want {
			t.Errorf("KEYS %q = %s, want %s", c.pattern, got, c.want)
		}
	}
	// KEYS hides the expired key without reclaiming it.
	runKeys(t, r, []kstep{{"DBSIZE", "10"}, {"KEYS", "(error) ERR wrong number of arguments for 'keys' command"}})
}

func sortedStrings(v resp.Value) string {
	var out []string
	for _, e := range v.Elems {
		out = append(out, strconv.Quote(string(e.Str)))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestScanErrors(t *testing.T) {
	s := kvtest.Start(t)
	putStr(t, s, 0, "k", "v", 0)
	steps := []kstep{
		{"SCAN", "(error) ERR wrong number of arguments for 'scan' command"},
		{"SCAN x", "(error) ERR invalid cursor"},
		{"SCAN 1x", "(error) ERR invalid cursor"},
		{"SCAN 18446744073709551616", "(error) ERR invalid cursor"},
		{"SCAN +", "(error) ERR invalid cursor"},
		{"SCAN 0 COUNT 0", "(error) ERR syntax error"},
		{"SCAN 0 COUNT -1", "(error) ERR syntax error"},
		{"SCAN 0 COUNT x", "(error) ERR value is not an integer or out of range"},
		{"SCAN 0 COUNT", "(error) ERR syntax error"},
		{"SCAN 0 MATCH", "(error) ERR syntax error"},
		{"SCAN 0 TYPE", "(error) ERR syntax error"},
		{"SCAN 0 FOO bar", "(error) ERR syntax error"},
		{"SCAN 0", "[0 [k]]"},
		{"SCAN 0 count 5 match k type string", "[0 [k]]"},
		{"SCAN 0 TYPE STRING", "[0 [k]]"},
		{"SCAN 0 TYPE list", "[0 []]"},
		{"SCAN 0 MATCH x*", "[0 []]"},
	}
	runKeys(t, s.Raw(t), steps)
	referenceCheck(t, map[string]string{"k": "v"}, steps)
	// Cursors parse as strtoul does: a sign is allowed and a negative one wraps.
	for _, cur := range []string{"+0", "-0", "00", "18446744073709551615", "-1"} {
		v := s.Raw(t).Do("SCAN", cur)
		if v.Kind == resp.KindError || len(v.Elems) != 2 {
			t.Errorf("SCAN %s = %s", cur, v.String())
		}
	}
	if got := s.Raw(t).Do("SCAN", " 0").String(); got != "(error) ERR invalid cursor" {
		t.Errorf("SCAN ' 0' = %s", got)
	}
}

// scanAll runs a SCAN to completion and returns every key it returned (with
// repeats) and the number of calls.
func scanAll(t *testing.T, r *kvtest.Raw, opts ...string) ([]string, int) {
	t.Helper()
	var keys []string
	cursor := "0"
	calls := 0
	for {
		v := r.Do(append([]string{"SCAN", cursor}, opts...)...)
		if v.Kind == resp.KindError || len(v.Elems) != 2 {
			t.Fatalf("SCAN %s: %s", cursor, v.String())
		}
		calls++
		for _, e := range v.Elems[1].Elems {
			keys = append(keys, string(e.Str))
		}
		cursor = string(v.Elems[0].Str)
		if cursor == "0" {
			return keys, calls
		}
		if calls > 100000 {
			t.Fatal("SCAN does not terminate")
		}
	}
}

func TestScanIteration(t *testing.T) {
	s := kvtest.Start(t)
	const n = 1000
	for i := range n {
		putStr(t, s, 0, "key:"+strconv.Itoa(i), "v", 0)
	}
	r := s.Raw(t)
	for _, count := range []string{"1", "10", "100", "100000"} {
		keys, calls := scanAll(t, r, "COUNT", count)
		seen := map[string]bool{}
		for _, k := range keys {
			seen[k] = true
		}
		if len(seen) != n {
			t.Errorf("COUNT %s: %d distinct keys, want %d", count, len(seen), n)
		}
		if count == "100000" && calls != 1 {
			t.Errorf("COUNT %s took %d calls", count, calls)
		}
	}
	keys, _ := scanAll(t, r, "MATCH", "key:1??", "COUNT", "50")
	if len(keys) != 100 {
		t.Errorf("MATCH key:1?? found %d keys, want 100", len(keys))
	}
}

// TestScanGuarantee: every key present for the whole scan is returned at least once,
// while another client keeps adding and removing other keys so the table grows and
// rehashes under the cursor.
func TestScanGuarantee(t *testing.T) {
	s := kvtest.Start(t)
	const n = 500
	for i := range n {
		putStr(t, s, 0, "stable:"+strconv.Itoa(i), "v", 0)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w := s.Raw(t)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			// Grow the table by inserting directly, then remove some through DEL.
			for j := range 50 {
				s.E.Lock()
				s.E.DB(0).Put([]byte(fmt.Sprintf("churn:%d:%d", i, j)), engine.NewString([]byte("x")), -1)
				s.E.Unlock()
			}
			if i%2 == 1 {
				args := []string{"DEL"}
				for j := range 50 {
					args = append(args, fmt.Sprintf("churn:%d:%d", i-1, j))
				}
				w.Do(args...)
			}
		}
	}()
	r := s.Raw(t)
	keys, _ := scanAll(t, r, "COUNT", "7")
	close(stop)
	wg.Wait()
	seen := map[string]bool{}
	for _, k := range keys {
		seen[k] = true
	}
	for i := range n {
		if k := "stable:" + strconv.Itoa(i); !seen[k] {
			t.Errorf("SCAN missed %s", k)
		}
	}
}

func TestScanSkipsExpired(t *testing.T) {
	s := kvtest.Start(t)
	rec := &propRecorder{}
	s.E.Lock()
	s.E.SetPropagator(rec)
	s.E.Unlock()
	for i := range 20 {
		putStr(t, s, 0, "live:"+strconv.Itoa(i), "v", 0)
		putStr(t, s, 0, "dead:"+strconv.Itoa(i), "v", time.Millisecond)
	}
	time.Sleep(5 * time.Millisecond)
	r := s.Raw(t)
	keys, _ := scanAll(t, r, "COUNT", "1000")
	if len(keys) != 20 {
		t.Errorf("SCAN returned %d keys, want the 20 live ones: %v", len(keys), keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "live:") {
			t.Errorf("SCAN returned %s", k)
		}
	}
	// SCAN reclaims what it finds expired, and tells replicas.
	runKeys(t, r, []kstep{{"DBSIZE", "20"}})
	if got := len(rec.take()); got != 20 {
		t.Errorf("%d DELs propagated, want 20", got)
	}
}

func TestRandomkeySkipsExpired(t *testing.T) {
	s := kvtest.Start(t)
	for i := range 50 {
		putStr(t, s, 0, "dead:"+strconv.Itoa(i), "v", time.Millisecond)
	}
	putStr(t, s, 0, "live", "v", time.Hour)
	time.Sleep(5 * time.Millisecond)
	r := s.Raw(t)
	for range 5 {
		runKeys(t, r, []kstep{{"RANDOMKEY", "live"}})
	}
	// On a replica expired keys cannot be deleted, and RANDOMKEY must still return.
	putStr(t, s, 1, "gone", "v", time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	s.E.Lock()
	s.E.Replica = true
	s.E.Unlock()
	runKeys(t, r, []kstep{{"SELECT 1", "OK"}, {"RANDOMKEY", "gone"}, {"EXISTS gone", "0"}})
}
