package engine_test

import (
	"slices"
	"testing"
	"time"

	"kv/internal/kvtest"
	"kv/resp"
)

// zsWaitBlocked waits until n clients are blocked in the engine: the only reliable sign
// that a blocking pop sent from another connection has registered.
func zsWaitBlocked(t *testing.T, s *kvtest.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(kvtest.Timeout)
	for time.Now().Before(deadline) {
		s.E.Lock()
		got := s.E.BlockedClients()
		s.E.Unlock()
		if got == n {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("blocked clients never reached %d", n)
}

func zsSend(r *kvtest.Raw, args ...string) {
	r.Send(string(resp.AppendCommandStrings(nil, args...)))
}

// TestBZPopFIFO checks that waiters are served in the order they blocked, each with
// its own command's reply shape, and that the rest keep waiting.
func TestBZPopFIFO(t *testing.T) {
	s := kvtest.Start(t)
	cmds := [][]string{
		{"BZPOPMIN", "z", "0"},
		{"BZPOPMAX", "other", "z", "0"},
		{"BZMPOP", "0", "1", "z", "MIN", "COUNT", "2"},
		{"BZPOPMIN", "z", "0"},
	}
	var clients []*kvtest.Raw
	for i, c := range cmds {
		r := s.Raw(t)
		zsSend(r, c...)
		zsWaitBlocked(t, s, i+1)
		clients = append(clients, r)
	}
	p := s.Raw(t)
	if got := p.Do("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d").String(); got != "4" {
		t.Fatalf("ZADD = %s", got)
	}
	for i, want := range []string{"[z a 1]", "[z d 4]", "[z [[b 2] [c 3]]]"} {
		if got := clients[i].Read().String(); got != want {
			t.Fatalf("client %d (%v) got %s, want %s", i, cmds[i], got, want)
		}
	}
	zsWaitBlocked(t, s, 1)
	if got := p.Do("ZCARD", "z").String(); got != "0" {
		t.Fatalf("ZCARD after serving = %s", got)
	}
	// A key created by a store command wakes the last waiter too.
	p.Do("ZADD", "src", "7", "x")
	p.Do("ZUNIONSTORE", "z", "1", "src")
	if got := clients[3].Read().String(); got != "[z x 7]" {
		t.Fatalf("last client got %s", got)
	}
	zsWaitBlocked(t, s, 0)
}

func TestBZPopImmediateAndTimeout(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	r.Do("ZADD", "z", "1", "a", "2", "b")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"BZPOPMAX", "nokey", "z", "0"}, "[z b 2]"},
		{[]string{"BZMPOP", "0", "2", "nokey", "z", "MAX", "COUNT", "10"}, "[z [[a 1]]]"},
		{[]string{"BZPOPMIN", "z", "abc"}, "(error) ERR timeout is not a float or out of range"},
		{[]string{"BZPOPMIN", "z", "-1"}, "(error) ERR timeout is negative"},
		{[]string{"BZMPOP", "0", "0", "z", "MIN"}, "(error) ERR numkeys should be greater than 0"},
		{[]string{"BZMPOP", "x", "1", "z", "MIN", "COUNT", "0"}, "(error) ERR count should be greater than 0"},
		{[]string{"BZMPOP", "x", "1", "z", "MIN"}, "(error) ERR timeout is not a float or out of range"},
	}
	for _, tc := range cases {
		if got := r.Do(tc.args...).String(); got != tc.want {
			t.Errorf("%v = %s, want %s", tc.args, got, tc.want)
		}
	}
	for _, args := range [][]string{{"BZPOPMIN", "z", "0.05"}, {"BZMPOP", "0.05", "1", "z", "MIN"}} {
		start := time.Now()
		if got := r.Do(args...).String(); got != "(nil)" {
			t.Errorf("%v timed out with %s", args, got)
		}
		if d := time.Since(start); d < 50*time.Millisecond || d > 5*time.Second {
			t.Errorf("%v timed out after %v", args, d)
		}
	}
	// Inside MULTI an empty pop answers at once as a timeout would.
	r.Do("MULTI")
	r.Do("BZPOPMIN", "z", "0")
	if got := r.Do("EXEC").String(); got != "[(nil)]" {
		t.Errorf("BZPOPMIN in MULTI = %s", got)
	}
}

// TestBZPopPropagation checks a served waiter propagates the pop it did, after the
// write that woke it.
func TestBZPopPropagation(t *testing.T) {
	s := kvtest.Start(t)
	rec := &zsetRecorder{}
	s.E.Lock()
	s.E.SetPropagator(rec)
	s.E.SetNotifier(rec)
	s.E.Unlock()
	w1, w2 := s.Raw(t), s.Raw(t)
	zsSend(w1, "BZPOPMIN", "z", "0")
	zsWaitBlocked(t, s, 1)
	zsSend(w2, "BZMPOP", "0", "1", "z", "MAX", "COUNT", "5")
	zsWaitBlocked(t, s, 2)
	p := s.Raw(t)
	p.Do("ZADD", "z", "1", "a", "2", "b", "3", "c")
	if got := w1.Read().String(); got != "[z a 1]" {
		t.Fatalf("BZPOPMIN got %s", got)
	}
	if got := w2.Read().String(); got != "[z [[c 3] [b 2]]]" {
		t.Fatalf("BZMPOP got %s", got)
	}
	events, props := rec.take()
	wantProps := []string{"ZADD z 1 a 2 b 3 c", "ZPOPMIN z", "ZPOPMAX z 2"}
	if !slices.Equal(props, wantProps) {
		t.Errorf("propagated %q, want %q", props, wantProps)
	}
	wantEvents := []string{"zadd z", "zpopmin z", "zpopmax z", "del z"}
	if !slices.Equal(events, wantEvents) {
		t.Errorf("events %q, want %q", events, wantEvents)
	}
	// An immediate BZPOP propagates as the plain pop too.
	p.Do("ZADD", "y", "1", "a")
	p.Do("BZPOPMAX", "y", "0")
	if _, props := rec.take(); !slices.Equal(props, []string{"ZADD y 1 a", "ZPOPMAX y"}) {
		t.Errorf("immediate BZPOPMAX propagated %q", props)
	}
}
