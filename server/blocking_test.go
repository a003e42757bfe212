package server_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"kv/engine"
	"kv/internal/kvtest"
	"kv/resp"
)

// blocked waits until n clients are blocked in the engine (the only reliable way to know
// a BLPOP sent from another goroutine has registered).
func blocked(t *testing.T, s *kvtest.Server, n int) {
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

// send writes a command without reading its reply.
func send(r *kvtest.Raw, args ...string) {
	r.Send(string(resp.AppendCommandStrings(nil, args...)))
}

// noReply checks that nothing arrives on r for d.
func noReply(t *testing.T, r *kvtest.Raw, d time.Duration) {
	t.Helper()
	_ = r.NC.SetReadDeadline(time.Now().Add(d))
	if v, err := r.R.Read(); err == nil {
		t.Fatalf("unexpected reply %s", v.String())
	}
}

func TestBlockingFIFOOrder(t *testing.T) {
	s := kvtest.Start(t)
	var clients []*kvtest.Raw
	for i := 0; i < 3; i++ {
		r := s.Raw(t)
		send(r, "BLPOP", "q", "0")
		blocked(t, s, i+1)
		clients = append(clients, r)
	}
	p := s.Raw(t)
	if got := p.Do("RPUSH", "q", "a", "b").String(); got != "2" {
		t.Fatalf("RPUSH = %s", got)
	}
	for i, want := range []string{"[q a]", "[q b]"} {
		if got := clients[i].Read().String(); got != want {
			t.Fatalf("client %d got %s, want %s", i, got, want)
		}
	}
	blocked(t, s, 1)
	noReply(t, clients[2], 50*time.Millisecond)
	p.Do("LPUSH", "q", "c")
	if got := clients[2].Read().String(); got != "[q c]" {
		t.Fatalf("third client got %s", got)
	}
	if got := p.Do("LLEN", "q").String(); got != "0" {
		t.Fatalf("LLEN after serving = %s", got)
	}
}

func TestBlockingTimeouts(t *testing.T) {
	s := kvtest.Start(t)
	cases := []struct {
		args     []string
		min, max time.Duration
		want     string
	}{
		{[]string{"BLPOP", "k", "0.1"}, 100 * time.Millisecond, 400 * time.Millisecond, "(nil)"},
		{[]string{"BRPOP", "a", "b", "0.15"}, 150 * time.Millisecond, 450 * time.Millisecond, "(nil)"},
		{[]string{"BLMOVE", "k", "d", "left", "right", "0.1"}, 100 * time.Millisecond, 400 * time.Millisecond, "(nil)"},
		{[]string{"BRPOPLPUSH", "k", "d", "0.1"}, 100 * time.Millisecond, 400 * time.Millisecond, "(nil)"},
		{[]string{"BLMPOP", "0.1", "1", "k", "left"}, 100 * time.Millisecond, 400 * time.Millisecond, "(nil)"},
	}
	var wg sync.WaitGroup
	for _, tc := range cases {
		wg.Add(1)
		r := s.Raw(t)
		go func() {
			defer wg.Done()
			start := time.Now()
			send(r, tc.args...)
			v, err := r.ReadErr()
			d := time.Since(start)
			if err != nil || v.String() != tc.want || d < tc.min || d > tc.max {
				t.Errorf("%v: %s %v after %v, want %s within [%v, %v]", tc.args, v.String(), err, d, tc.want, tc.min, tc.max)
			}
		}()
	}
	wg.Wait()
	blocked(t, s, 0)
	// A RESP2 timeout is a null array, not a null bulk.
	r := s.Raw(t)
	r.Send("*3\r\n$5\r\nBLPOP\r\n$1\r\nk\r\n$4\r\n0.01\r\n")
	buf := make([]byte, 5)
	_ = r.NC.SetReadDeadline(time.Now().Add(kvtest.Timeout))
	if _, err := r.NC.Read(buf); err != nil || string(buf) != "*-1\r\n" {
		t.Fatalf("RESP2 timeout reply %q %v", buf, err)
	}
}

// TestBlockingPipelineOrder: commands pipelined after a blocking one wait for it, and
// the served reply comes before theirs.
func TestBlockingPipelineOrder(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	r.Send(string(resp.AppendCommandStrings(nil, "BLPOP", "k", "0")) + string(resp.AppendCommandStrings(nil, "ECHO", "after")))
	blocked(t, s, 1)
	noReply(t, r, 50*time.Millisecond)
	s.Raw(t).Do("RPUSH", "k", "v")
	for _, want := range []string{"[k v]", "after"} {
		if got := r.Read().String(); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
}

func TestBlockingWakeAtExec(t *testing.T) {
	s := kvtest.Start(t)
	w := s.Raw(t)
	send(w, "BRPOP", "k", "0")
	blocked(t, s, 1)
	m := s.Raw(t)
	for _, st := range []struct{ args, want string }{
		{"MULTI", "OK"},
		{"RPUSH k a b", "QUEUED"},
		{"LPUSH k c", "QUEUED"},
	} {
		if got := m.Do(splitFields(st.args)...).String(); got != st.want {
			t.Fatalf("%s = %s", st.args, got)
		}
	}
	noReply(t, w, 50*time.Millisecond)
	if got := m.Do("EXEC").String(); got != "[2 3]" {
		t.Fatalf("EXEC = %s", got)
	}
	// Served after the whole transaction: from the tail of [c a b].
	if got := w.Read().String(); got != "[k b]" {
		t.Fatalf("waiter got %s", got)
	}
	if got := m.Do("LRANGE", "k", "0", "-1").String(); got != "[c a]" {
		t.Fatalf("LRANGE = %s", got)
	}
}

func TestBlockingInsideMultiDoesNotBlock(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	for _, st := range []struct{ args, want string }{
		{"MULTI", "OK"},
		{"BLPOP k 0", "QUEUED"},
		{"BLMOVE k d left left 0", "QUEUED"},
		{"BLMPOP 0 1 k left", "QUEUED"},
		{"RPUSH k x", "QUEUED"},
		{"BRPOPLPUSH k d 0", "QUEUED"},
		{"EXEC", "[(nil) (nil) (nil) 1 x]"},
		{"LRANGE d 0 -1", "[x]"},
	} {
		if got := r.Do(splitFields(st.args)...).String(); got != st.want {
			t.Fatalf("%s = %s, want %s", st.args, got, st.want)
		}
	}
}

func TestBlockedClientDisconnects(t *testing.T) {
	s := kvtest.Start(t)
	gone := s.Raw(t)
	send(gone, "BLPOP", "k", "0")
	stay := s.Raw(t)
	send(stay, "BLPOP", "k2", "0")
	blocked(t, s, 2)
	gone.NC.Close()
	blocked(t, s, 1)
	p := s.Raw(t)
	p.Do("RPUSH", "k", "v")
	if got := p.Do("LRANGE", "k", "0", "-1").String(); got != "[v]" {
		t.Fatalf("element taken by a disconnected client: %s", got)
	}
	p.Do("RPUSH", "k2", "w")
	if got := stay.Read().String(); got != "[k2 w]" {
		t.Fatalf("remaining waiter got %s", got)
	}
}

func TestBlockingMoveChains(t *testing.T) {
	s := kvtest.Start(t)
	// Circular BRPOPLPUSH: each served push wakes the next waiter in the same pass.
	a, b := s.Raw(t), s.Raw(t)
	send(a, "BRPOPLPUSH", "l1", "l2", "0")
	blocked(t, s, 1)
	send(b, "BRPOPLPUSH", "l2", "l1", "0")
	blocked(t, s, 2)
	p := s.Raw(t)
	p.Do("RPUSH", "l1", "foo")
	if got := a.Read().String(); got != "foo" {
		t.Fatalf("first mover got %s", got)
	}
	if got := b.Read().String(); got != "foo" {
		t.Fatalf("second mover got %s", got)
	}
	if got := p.Do("LRANGE", "l1", "0", "-1").String(); got != "[foo]" {
		t.Fatalf("l1 = %s", got)
	}
	if got := p.Do("LLEN", "l2").String(); got != "0" {
		t.Fatalf("l2 = %s", got)
	}
	// BLMOVE onto the same list rotates it.
	send(a, "BLMOVE", "same", "same", "left", "right", "0")
	blocked(t, s, 1)
	p.Do("RPUSH", "same", "x")
	if got := a.Read().String(); got != "x" {
		t.Fatalf("BLMOVE same = %s", got)
	}
	if got := p.Do("LRANGE", "same", "0", "-1").String(); got != "[x]" {
		t.Fatalf("same = %s", got)
	}
	// A served BLMOVE whose destination holds another type gets WRONGTYPE, and the
	// source is left alone.
	s.E.Lock()
	s.E.Commands().Add(&engine.Command{Name: "tset", Arity: 3, Flags: engine.FlagWrite, Handler: func(c *engine.Ctx) {
		c.SetKey(c.Args[1], engine.NewString(c.Args[2]), false)
		c.W.OK()
	}})
	s.E.Unlock()
	p.Do("TSET", "str", "v")
	send(a, "BLMOVE", "src", "str", "left", "left", "0")
	blocked(t, s, 1)
	p.Do("RPUSH", "src", "e")
	if got := a.Read().String(); got != "(error) WRONGTYPE Operation against a key holding the wrong kind of value" {
		t.Fatalf("BLMOVE to a string = %s", got)
	}
	if got := p.Do("LRANGE", "src", "0", "-1").String(); got != "[e]" {
		t.Fatalf("src = %s", got)
	}
	blocked(t, s, 0)
}

// TestBlockedKeyBecomesWrongType: Redis 7.0 wakes list waiters only for lists; a key
// set to another type leaves them waiting, and a later list at the key serves them.
func TestBlockedKeyBecomesWrongType(t *testing.T) {
	s := kvtest.Start(t)
	s.E.Lock()
	s.E.Commands().Add(&engine.Command{Name: "tset", Arity: 3, Flags: engine.FlagWrite, Handler: func(c *engine.Ctx) {
		c.SetKey(c.Args[1], engine.NewString(c.Args[2]), false)
		c.W.OK()
	}}, &engine.Command{Name: "tdel", Arity: 2, Flags: engine.FlagWrite, Handler: func(c *engine.Ctx) {
		c.DeleteKey(c.Args[1])
		c.W.OK()
	}})
	s.E.Unlock()
	w := s.Raw(t)
	send(w, "BLPOP", "k", "0")
	blocked(t, s, 1)
	p := s.Raw(t)
	p.Do("TSET", "k", "string")
	noReply(t, w, 50*time.Millisecond)
	blocked(t, s, 1)
	p.Do("TDEL", "k")
	p.Do("RPUSH", "k", "v")
	if got := w.Read().String(); got != "[k v]" {
		t.Fatalf("waiter got %s", got)
	}
}

func TestBlockingMultipleKeysAndDB(t *testing.T) {
	s := kvtest.Start(t)
	w := s.Raw(t)
	if got := w.Do("SELECT", "3").String(); got != "OK" {
		t.Fatal(got)
	}
	send(w, "BLMPOP", "0", "3", "a", "b", "a", "right", "COUNT", "2")
	blocked(t, s, 1)
	p := s.Raw(t)
	p.Do("RPUSH", "b", "x") // another database: no wake-up
	noReply(t, w, 50*time.Millisecond)
	p.Do("SELECT", "3")
	p.Do("RPUSH", "b", "1", "2", "3")
	if got := w.Read().String(); got != "[b [3 2]]" {
		t.Fatalf("BLMPOP got %s", got)
	}
	s.E.Lock()
	keys := s.E.BlockedKeys()
	s.E.Unlock()
	if keys != 0 {
		t.Fatalf("%d keys still have waiters", keys)
	}
}

// TestBlockingManyWaiters stresses wake-ups from concurrent pushers under -race: every
// pushed element reaches exactly one waiter.
func TestBlockingManyWaiters(t *testing.T) {
	s := kvtest.Start(t)
	const waiters = 20
	got := make(chan string, waiters)
	var wg sync.WaitGroup
	for i := 0; i < waiters; i++ {
		r := s.Raw(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			send(r, "BRPOP", "q1", "q2", "5")
			v, err := r.ReadErr()
			if err != nil {
				t.Errorf("waiter: %v", err)
				return
			}
			got <- v.String()
		}()
	}
	blocked(t, s, waiters)
	for i := 0; i < waiters; i++ {
		p := s.Raw(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.Do("LPUSH", fmt.Sprintf("q%d", i%2+1), fmt.Sprint(i))
		}()
	}
	wg.Wait()
	close(got)
	seen := map[string]bool{}
	for v := range got {
		if seen[v] {
			t.Fatalf("element delivered twice: %s", v)
		}
		seen[v] = true
	}
	if len(seen) != waiters {
		t.Fatalf("%d of %d waiters served", len(seen), waiters)
	}
}

func splitFields(s string) []string { return strings.Fields(s) }
