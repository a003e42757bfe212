package server_test

import (
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"kv/internal/kvtest"
	"kv/resp"
)

// shape renders a reply like Value.String but marks RESP3 pushes with '>', so a test
// tells a push from an array as a RESP3 client must.
func shape(v resp.Value) string {
	switch v.Kind {
	case resp.KindArray, resp.KindPush, resp.KindSet, resp.KindMap:
		if v.Null {
			return "(nil)"
		}
		parts := make([]string, len(v.Elems))
		for i, e := range v.Elems {
			parts[i] = shape(e)
		}
		prefix := ""
		if v.Kind == resp.KindPush {
			prefix = ">"
		}
		return prefix + "[" + strings.Join(parts, " ") + "]"
	}
	return v.String()
}

// step is one command sent on connection conn, followed by the replies every
// connection should then have received, in order ("*" accepts any reply).
type step struct {
	conn int
	cmd  string
	want map[int][]string
}

// runSteps drives several raw connections through steps and checks each reply. Each
// connection is a raw RESP client; "HELLO 3" switches one to RESP3.
func runSteps(t *testing.T, s *kvtest.Server, steps []step) {
	t.Helper()
	conns := map[int]*kvtest.Raw{}
	get := func(i int) *kvtest.Raw {
		if conns[i] == nil {
			conns[i] = s.Raw(t)
		}
		return conns[i]
	}
	for n, st := range steps {
		get(st.conn).Send(string(resp.AppendCommandStrings(nil, splitCmd(st.cmd)...)))
		for ci := 0; ci < 4; ci++ {
			for _, want := range st.want[ci] {
				if got := shape(get(ci).Read()); got != want && want != "*" {
					t.Fatalf("step %d (%d: %s): conn %d got %q, want %q", n, st.conn, st.cmd, ci, got, want)
				}
			}
		}
	}
	// Nothing else may be pending on any connection.
	for i, r := range conns {
		_ = r.NC.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if v, err := r.R.Read(); err == nil {
			t.Errorf("conn %d: unexpected extra reply %s", i, shape(v))
		}
	}
}

// splitCmd splits on spaces; a lone "”" is an empty argument.
func splitCmd(s string) []string {
	f := strings.Fields(s)
	for i, a := range f {
		if a == "''" {
			f[i] = ""
		}
	}
	return f
}

func TestPubsubRESP2(t *testing.T) {
	s := kvtest.Start(t)
	runSteps(t, s, []step{
		{1, "SUBSCRIBE foo bar foo", map[int][]string{1: {"[subscribe foo 1]", "[subscribe bar 2]", "[subscribe foo 2]"}}},
		{2, "PSUBSCRIBE f* *", map[int][]string{2: {"[psubscribe f* 1]", "[psubscribe * 2]"}}},
		{3, "PUBLISH foo hello", map[int][]string{
			1: {"[message foo hello]"},
			2: {"[pmessage f* foo hello]", "[pmessage * foo hello]"},
			3: {"3"}}},
		{3, "PUBLISH zap 1", map[int][]string{2: {"[pmessage * zap 1]"}, 3: {"1"}}},
		{3, "PUBSUB NUMSUB foo bar zz", map[int][]string{3: {"[foo 1 bar 1 zz 0]"}}},
		{3, "PUBSUB NUMSUB", map[int][]string{3: {"[]"}}},
		{3, "PUBSUB NUMPAT", map[int][]string{3: {"2"}}},
		{3, "PUBSUB CHANNELS f*", map[int][]string{3: {"[foo]"}}},
		{3, "PUBSUB CHANNELS a b", map[int][]string{3: {"(error) ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP."}}},
		{3, "PUBSUB NUMPAT x", map[int][]string{3: {"(error) ERR wrong number of arguments for 'pubsub|numpat' command"}}},
		{3, "PUBSUB nope", map[int][]string{3: {"(error) ERR unknown subcommand 'nope'. Try PUBSUB HELP."}}},
		// The subscribed context of RESP2.
		{1, "GET x", map[int][]string{1: {"(error) ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"}}},
		{1, "CONFIG GET maxmemory", map[int][]string{1: {"(error) ERR Can't execute 'config|get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"}}},
		{1, "GET", map[int][]string{1: {"(error) ERR wrong number of arguments for 'get' command"}}},
		{1, "PING", map[int][]string{1: {"[pong ]"}}},
		{1, "PING hi", map[int][]string{1: {"[pong hi]"}}},
		{1, "UNSUBSCRIBE foo nope", map[int][]string{1: {"[unsubscribe foo 1]", "[unsubscribe nope 1]"}}},
		{3, "PUBLISH foo x", map[int][]string{2: {"[pmessage f* foo x]", "[pmessage * foo x]"}, 3: {"2"}}},
		{1, "UNSUBSCRIBE", map[int][]string{1: {"[unsubscribe bar 0]"}}},
		{1, "UNSUBSCRIBE", map[int][]string{1: {"[unsubscribe (nil) 0]"}}},
		{1, "PUNSUBSCRIBE", map[int][]string{1: {"[punsubscribe (nil) 0]"}}},
		// Out of the subscribed context again: normal replies.
		{1, "PING", map[int][]string{1: {"PONG"}}},
		{1, "GET x", map[int][]string{1: {"(nil)"}}},
		{2, "PUNSUBSCRIBE *", map[int][]string{2: {"[punsubscribe * 1]"}}},
		{3, "PUBSUB NUMPAT", map[int][]string{3: {"1"}}},
		// Shard channels: counted apart, never matched by patterns.
		{2, "SSUBSCRIBE sh", map[int][]string{2: {"[ssubscribe sh 1]"}}},
		{3, "SPUBLISH sh m", map[int][]string{2: {"[smessage sh m]"}, 3: {"1"}}},
		{3, "PUBLISH sh m", map[int][]string{3: {"0"}}},
		{3, "PUBSUB SHARDCHANNELS", map[int][]string{3: {"[sh]"}}},
		{3, "PUBSUB SHARDNUMSUB sh x", map[int][]string{3: {"[sh 1 x 0]"}}},
		{3, "PUBSUB CHANNELS", map[int][]string{3: {"[]"}}},
		{2, "PUNSUBSCRIBE", map[int][]string{2: {"[punsubscribe f* 0]"}}},
		// Still subscribed to a shard channel, so still in the subscribed context.
		{2, "GET x", map[int][]string{2: {"(error) ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"}}},
		{2, "SUNSUBSCRIBE", map[int][]string{2: {"[sunsubscribe sh 0]"}}},
		{2, "SUNSUBSCRIBE", map[int][]string{2: {"[sunsubscribe (nil) 0]"}}},
		{3, "PUBSUB SHARDCHANNELS", map[int][]string{3: {"[]"}}},
		// RESET leaves the subscribed context and every subscription.
		{1, "SUBSCRIBE a", map[int][]string{1: {"[subscribe a 1]"}}},
		{1, "PSUBSCRIBE b*", map[int][]string{1: {"[psubscribe b* 2]"}}},
		{1, "RESET", map[int][]string{1: {"RESET"}}},
		{3, "PUBLISH a x", map[int][]string{3: {"0"}}},
		{3, "PUBSUB NUMPAT", map[int][]string{3: {"0"}}},
	})
}

func TestPubsubRESP3(t *testing.T) {
	s := kvtest.Start(t)
	runSteps(t, s, []step{
		{1, "HELLO 3", map[int][]string{1: {"*"}}},
		{1, "SUBSCRIBE foo", map[int][]string{1: {">[subscribe foo 1]"}}},
		// RESP3 has no subscribed context: any command runs.
		{1, "GET x", map[int][]string{1: {"(nil)"}}},
		{1, "PING", map[int][]string{1: {"PONG"}}},
		{2, "PUBLISH foo hi", map[int][]string{1: {">[message foo hi]"}, 2: {"1"}}},
		// A subscriber publishing to itself gets the message before PUBLISH's reply.
		{1, "PUBLISH foo me", map[int][]string{1: {">[message foo me]", "1"}}},
		{1, "PSUBSCRIBE f?o", map[int][]string{1: {">[psubscribe f?o 2]"}}},
		{2, "PUBLISH foo x", map[int][]string{1: {">[message foo x]", ">[pmessage f?o foo x]"}, 2: {"2"}}},
		{1, "SSUBSCRIBE s", map[int][]string{1: {">[ssubscribe s 1]"}}},
		{2, "SPUBLISH s y", map[int][]string{1: {">[smessage s y]"}, 2: {"1"}}},
		{1, "UNSUBSCRIBE", map[int][]string{1: {">[unsubscribe foo 1]"}}},
		{1, "UNSUBSCRIBE", map[int][]string{1: {">[unsubscribe (nil) 1]"}}},
		{1, "PUNSUBSCRIBE", map[int][]string{1: {">[punsubscribe f?o 0]"}}},
		{1, "SUNSUBSCRIBE", map[int][]string{1: {">[sunsubscribe s 0]"}}},
		{1, "PUBSUB NUMSUB foo", map[int][]string{1: {"[foo 0]"}}},
	})
}

func TestPubsubSubscribeInsideMulti(t *testing.T) {
	s := kvtest.Start(t)
	runSteps(t, s, []step{
		{1, "MULTI", map[int][]string{1: {"OK"}}},
		{1, "SSUBSCRIBE a", map[int][]string{1: {"QUEUED"}}},
		{1, "SUBSCRIBE b", map[int][]string{1: {"QUEUED"}}},
		{1, "EXEC", map[int][]string{1: {"[(error) ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client [subscribe b 1]]"}}},
		{1, "MULTI", map[int][]string{1: {"(error) ERR Can't execute 'multi': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"}}},
		{2, "PUBLISH b x", map[int][]string{1: {"[message b x]"}, 2: {"1"}}},
	})
}

// A closed subscriber leaves nothing behind: its channels and patterns are gone.
func TestPubsubCloseForgetsSubscriptions(t *testing.T) {
	s := kvtest.Start(t)
	sub := s.Raw(t)
	if got := shape(sub.Do("SUBSCRIBE", "c1", "c2")); got != "[subscribe c1 1]" {
		t.Fatal(got)
	}
	sub.Read()
	if got := shape(sub.Do("PSUBSCRIBE", "p*")); got != "[psubscribe p* 3]" {
		t.Fatal(got)
	}
	r := s.Raw(t)
	if got := shape(r.Do("PUBSUB", "NUMSUB", "c1")); got != "[c1 1]" {
		t.Fatal(got)
	}
	sub.NC.Close()
	waitFor(t, func() bool {
		return shape(r.Do("PUBSUB", "NUMSUB", "c1", "c2")) == "[c1 0 c2 0]" && shape(r.Do("PUBSUB", "NUMPAT")) == "0"
	})
	if got := shape(r.Do("PUBSUB", "CHANNELS")); got != "[]" {
		t.Errorf("channels after close: %s", got)
	}
	info := r.Do("INFO", "stats").String()
	for _, f := range []string{"pubsub_channels:0", "pubsub_patterns:0", "pubsubshard_channels:0"} {
		if !strings.Contains(info, f) {
			t.Errorf("INFO stats lacks %s", f)
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(kvtest.Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Messages from one publisher reach every kind of subscriber in publish order,
// through go-redis's PubSub API, in both protocols.
func TestPubsubGoRedisOrder(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			s := kvtest.Start(t)
			ctx := kvtest.Ctx(t)
			c := s.Client(t, proto)
			ps := c.Subscribe(ctx, "news")
			defer ps.Close()
			pps := c.PSubscribe(ctx, "n*s")
			defer pps.Close()
			for _, p := range []*redis.PubSub{ps, pps} {
				if _, err := p.Receive(ctx); err != nil {
					t.Fatal(err)
				}
			}
			const n = 2000
			pub := s.Client(t, proto)
			done := make(chan error, 1)
			go func() {
				for i := range n {
					if err := pub.Publish(ctx, "news", fmt.Sprint(i)).Err(); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			for i := range n {
				m1, err := ps.ReceiveMessage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				m2, err := pps.ReceiveMessage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				want := fmt.Sprint(i)
				if m1.Payload != want || m1.Channel != "news" || m1.Pattern != "" {
					t.Fatalf("message %d: %+v", i, m1)
				}
				if m2.Payload != want || m2.Channel != "news" || m2.Pattern != "n*s" {
					t.Fatalf("pmessage %d: %+v", i, m2)
				}
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if got := c.PubSubNumSub(ctx, "news").Val()["news"]; got != 1 {
				t.Errorf("NUMSUB news = %d", got)
			}
		})
	}
}

// Many publishers at once: each subscriber sees each publisher's messages in that
// publisher's order, and PUBLISH counts every receiver.
func TestPubsubConcurrentPublishers(t *testing.T) {
	s := kvtest.Start(t)
	ctx := kvtest.Ctx(t)
	const pubs, per, subs = 4, 300, 3
	var pss []*redis.PubSub
	for range subs {
		ps := s.Client(t).Subscribe(ctx, "ch")
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		defer ps.Close()
		pss = append(pss, ps)
	}
	var wg sync.WaitGroup
	errs := make(chan error, pubs)
	for p := range pubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := s.Client(t)
			for i := range per {
				n, err := c.Publish(ctx, "ch", fmt.Sprintf("%d:%d", p, i)).Result()
				if err == nil && n != subs {
					err = fmt.Errorf("PUBLISH reached %d, want %d", n, subs)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for _, ps := range pss {
		next := make([]int, pubs)
		for range pubs * per {
			m, err := ps.ReceiveMessage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var p, i int
			if _, err := fmt.Sscanf(m.Payload, "%d:%d", &p, &i); err != nil {
				t.Fatal(err)
			}
			if i != next[p] {
				t.Fatalf("publisher %d: got message %d, want %d", p, i, next[p])
			}
			next[p]++
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// A subscriber that never reads is dropped at the pubsub hard limit, and what was
// queued for it does not stay in memory.
func TestPubsubSlowReaderHardLimit(t *testing.T) {
	s := kvtest.Start(t)
	ctx := kvtest.Ctx(t)
	c := s.Client(t)
	if err := c.ConfigSet(ctx, "client-output-buffer-limit", "pubsub 256kb 0 0").Err(); err != nil {
		t.Fatal(err)
	}
	sub := s.Raw(t)
	// A small receive window, so the kernel does not soak up the backlog for us.
	if tc, ok := sub.NC.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	if got := shape(sub.Do("SUBSCRIBE", "flood")); got != "[subscribe flood 1]" {
		t.Fatal(got)
	}
	before := heapInUse()
	msg := strings.Repeat("x", 1024)
	const max = 64 << 10 // 64 MB of messages at most
	sent := 0
	for ; sent < max; sent += 100 {
		pipe := c.Pipeline()
		for range 100 {
			pipe.Publish(ctx, "flood", msg)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if c.PubSubNumSub(ctx, "flood").Val()["flood"] == 0 {
			break
		}
	}
	if sent >= max {
		t.Fatalf("subscriber still connected after %d MB", max>>10)
	}
	t.Logf("dropped after ~%d KB of messages", sent)
	after := heapInUse()
	if grown := after - before; grown > 8<<20 {
		t.Errorf("heap grew by %d bytes after the slow subscriber was dropped", grown)
	}
	// The server forgot the connection too, not just its subscription.
	if list := c.ClientList(ctx).Val(); strings.Contains(list, " sub=1 ") {
		t.Errorf("CLIENT LIST after the drop:\n%s", list)
	}
	if got := c.PubSubNumSub(ctx, "flood").Val()["flood"]; got != 0 {
		t.Errorf("NUMSUB after disconnect = %d", got)
	}
}

// Past the soft limit for longer than its seconds, a subscriber is dropped too.
func TestPubsubSlowReaderSoftLimit(t *testing.T) {
	s := kvtest.Start(t)
	ctx := kvtest.Ctx(t)
	c := s.Client(t)
	if err := c.ConfigSet(ctx, "client-output-buffer-limit", "pubsub 0 64kb 1").Err(); err != nil {
		t.Fatal(err)
	}
	sub := s.Raw(t)
	if tc, ok := sub.NC.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	if got := shape(sub.Do("SUBSCRIBE", "flood")); got != "[subscribe flood 1]" {
		t.Fatal(got)
	}
	msg := strings.Repeat("y", 1024)
	start := time.Now()
	deadline := start.Add(5 * time.Second)
	for c.PubSubNumSub(ctx, "flood").Val()["flood"] == 1 {
		if time.Now().After(deadline) {
			t.Fatal("subscriber over the soft limit was not dropped")
		}
		pipe := c.Pipeline()
		for range 50 {
			pipe.Publish(ctx, "flood", msg)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Redis counts whole seconds: more than 1 second over the limit means at least
	// one full second passed since the first time it was seen over it.
	if el := time.Since(start); el < time.Second {
		t.Errorf("dropped after %v, before the soft limit's second ran out", el)
	}
}

func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}
