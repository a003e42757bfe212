package engine_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"kv/engine"
	"kv/internal/kvtest"
	"kv/resp"
)

// A sstep is one command line (split as redis-cli splits it, so "\xff" and quoted
// spaces work) and the reply rendered by resp.Value.String.
type sstep struct{ line, want string }

// runScript sends each sstep on r and compares the reply.
func runScript(t *testing.T, r *kvtest.Raw, steps []sstep) {
	t.Helper()
	for _, st := range steps {
		if got := r.Do(splitLine(t, st.line)...).String(); got != st.want {
			t.Errorf("%s\n  got  %q\n  want %q", st.line, got, st.want)
		}
	}
}

// splitLine splits a command line as redis-cli does.
func splitLine(t *testing.T, line string) []string {
	t.Helper()
	args, err := resp.SplitArgs([]byte(line))
	if err != nil {
		t.Fatalf("bad command line %q: %v", line, err)
	}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = string(a)
	}
	return out
}

// scripts runs each named script on a fresh server. With KV_REFERENCE_ADDR set to a
// real Redis 7.0 (which it flushes), each script also runs there, so the expected
// replies are Redis's own and not our reading of its source.
func scripts(t *testing.T, cases map[string][]sstep) {
	t.Helper()
	for name, steps := range cases {
		t.Run(name, func(t *testing.T) {
			s := kvtest.Start(t)
			runScript(t, s.Raw(t), steps)
		})
		if addr := os.Getenv("KV_REFERENCE_ADDR"); addr != "" {
			t.Run(name+"/reference", func(t *testing.T) {
				nc, err := net.DialTimeout("tcp", addr, kvtest.Timeout)
				if err != nil {
					t.Fatal(err)
				}
				defer nc.Close()
				_ = nc.SetDeadline(time.Now().Add(kvtest.Timeout))
				rd := resp.NewReplyReader(nc)
				do := func(args ...string) resp.Value {
					if _, err := nc.Write(resp.AppendCommandStrings(nil, args...)); err != nil {
						t.Fatal(err)
					}
					v, err := rd.Read()
					if err != nil {
						t.Fatal(err)
					}
					return v
				}
				do("FLUSHALL")
				for _, st := range steps {
					if got := do(splitLine(t, st.line)...).String(); got != st.want {
						t.Errorf("%s\n  redis %q\n  want  %q", st.line, got, st.want)
					}
				}
			})
		}
	}
}

// locked runs fn with the engine lock held, as handlers run, so tests can look at the
// keyspace without racing the server.
func locked(s *kvtest.Server, fn func()) {
	s.E.Lock()
	defer s.E.Unlock()
	fn()
}

// encoding is what OBJECT ENCODING would say for key in db 0 ("" when absent).
func encoding(s *kvtest.Server, key string) string {
	var enc string
	locked(s, func() {
		if o := s.E.DB(0).Peek([]byte(key)); o != nil {
			enc = o.Enc.String()
		}
	})
	return enc
}

func expireAt(s *kvtest.Server, key string) int64 {
	var at int64
	locked(s, func() { at = s.E.DB(0).ExpireAt([]byte(key)) })
	return at
}

const (
	errSyntax    = "(error) ERR syntax error"
	errNotInt    = "(error) ERR value is not an integer or out of range"
	errNotFloat  = "(error) ERR value is not a valid float"
	errWrongType = "(error) WRONGTYPE Operation against a key holding the wrong kind of value"
	errTooLong   = "(error) ERR string exceeds maximum allowed size (proto-max-bulk-len)"
)

func errArity(cmd string) string {
	return "(error) ERR wrong number of arguments for '" + cmd + "' command"
}

func errExpire(cmd string) string { return "(error) ERR invalid expire time in '" + cmd + "' command" }

func TestStringCommands(t *testing.T) {
	scripts(t, map[string][]sstep{
		"set get": {
			{"GET k", "(nil)"},
			{"SET k v", "OK"},
			{"GET k", "v"},
			{"SET k 123", "OK"},
			{"GET k", "123"},
			{"SET k", errArity("set")},
			{"GET k x", errArity("get")},
			{`SET k ""`, "OK"},
			{"GET k", ""},
		},
		"set nx xx get": {
			{"SET k v NX", "OK"},
			{"SET k w NX", "(nil)"},
			{"SET other w XX", "(nil)"},
			{"SET k w XX", "OK"},
			{"SET k v NX XX", errSyntax},
			{"SET k v XX NX", errSyntax},
			{"SET k x GET", "w"},
			{"SET k y GET GET", "x"},
			{"SET new z GET", "(nil)"},
			{"SET new2 a NX GET", "(nil)"},
			{"SET new2 b NX GET", "a"},
			{"GET new2", "a"},
			{"SET new3 a XX GET", "(nil)"},
			{"GET new3", "(nil)"},
			{"SET k v foo", errSyntax},
			{"SET k v PERSIST", errSyntax},
			{"set k v nx get", "y"},
			{"GET k", "y"},
		},
		"set expire syntax": {
			{"SET k v EX", errSyntax},
			{"SET k v EX 10 PX 100", errSyntax},
			{"SET k v EX 10 EXAT 100", errSyntax},
			{"SET k v PXAT 10 PX 100", errSyntax},
			{"SET k v KEEPTTL EX 10", errSyntax},
			{"SET k v EX 10 KEEPTTL", errSyntax},
			{"SET k v EX 10 EX 10", "OK"}, // Redis lets an option repeat
			{"SET k v PXAT 1", "OK"},
			{"SET k v EX abc", errNotInt},
			{"SET k v EX 0", errExpire("set")},
			{"SET k v EX -1", errExpire("set")},
			{"SET k v PX 0", errExpire("set")},
			{"SET k v EXAT 0", errExpire("set")},
			{"SET k v PXAT -5", errExpire("set")},
			{"SET k v EX 9223372036854775807", errExpire("set")},
			{"SET k v EX 9223372036854776", errExpire("set")},
			{"SET k v PX 9223372036854775807", errExpire("set")},
			{"GET k", "(nil)"},
			// The expiry is checked before GET looks at the key's type.
			{"SET k v EX 0 GET", errExpire("set")},
		},
		"setnx setex psetex": {
			{"SETNX k 1", "1"},
			{"SETNX k 2", "0"},
			{"GET k", "1"},
			{"SETEX k 0 v", errExpire("setex")},
			{"SETEX k -5 v", errExpire("setex")},
			{"SETEX k abc v", errNotInt},
			{"PSETEX k 0 v", errExpire("psetex")},
			{"SETEX k 100 v", "OK"},
			{"PSETEX k 100000 w", "OK"},
			{"GET k", "w"},
			{"SETEX k 100", errArity("setex")},
		},
		"getex": {
			{"GETEX nope", "(nil)"},
			{"GETEX nope EX 0", "(nil)"},
			{"SET k v", "OK"},
			{"GETEX k", "v"},
			{"GETEX k EX 0", errExpire("getex")},
			{"GETEX k PX -1", errExpire("getex")},
			{"GETEX k EX abc", errNotInt},
			{"GETEX k KEEPTTL", errSyntax},
			{"GETEX k NX", errSyntax},
			{"GETEX k GET", errSyntax},
			{"GETEX k EX 10 PERSIST", errSyntax},
			{"GETEX k PERSIST EX 10", errSyntax},
			{"GETEX k EX", errSyntax},
			{"GETEX k EX 100", "v"},
			{"GETEX k PERSIST", "v"},
			{"GETEX k PXAT 1", "v"},
			{"GET k", "(nil)"},
		},
		"getdel getset": {
			{"GETDEL k", "(nil)"},
			{"SET k v", "OK"},
			{"GETDEL k", "v"},
			{"GETDEL k", "(nil)"},
			{"GETSET k 1", "(nil)"},
			{"GETSET k 2", "1"},
			{"GET k", "2"},
		},
		"mset mget msetnx": {
			{"MSET a 1 b 2 c", errArity("mset")},
			{"MSET a", errArity("mset")},
			{"MSET a 1 b 2", "OK"},
			{"MGET a b nope", "[1 2 (nil)]"},
			{"MSETNX c 3 a 9", "0"},
			{"MGET a c", "[1 (nil)]"},
			{"MSETNX c 3 d 4", "1"},
			{"MSETNX e 1 e 2", "1"},
			{"MGET c d e", "[3 4 2]"},
			{"MSETNX x", errArity("msetnx")},
			{"MSETNX x 1 y", errArity("msetnx")},
			{"MGET", errArity("mget")},
		},
		"append strlen": {
			{"STRLEN k", "0"},
			{"APPEND k hello", "5"},
			{`APPEND k " world"`, "11"},
			{"GET k", "hello world"},
			{"STRLEN k", "11"},
			{"SET n 12345", "OK"},
			{"STRLEN n", "5"},
			{"APPEND n 6", "6"},
			{"GET n", "123456"},
			{"APPEND e \"\"", "0"},
			{"GET e", ""},
		},
		"getrange substr": {
			{"SET k \"hello world\"", "OK"},
			{"GETRANGE k 0 4", "hello"},
			{"GETRANGE k -5 -1", "world"},
			{"GETRANGE k -1 -5", ""},
			{"GETRANGE k 5 3", ""},
			{"GETRANGE k 0 -100", "h"},
			{"GETRANGE k -100 -100", "h"},
			{"GETRANGE k 100 200", ""},
			{"GETRANGE k 0 -1", "hello world"},
			{"GETRANGE k 0 a", errNotInt},
			{"GETRANGE nope 0 a", errNotInt},
			{"GETRANGE nope 0 1", ""},
			{"SUBSTR k 0 3", "hell"},
			{"SET i 12345", "OK"},
			{"GETRANGE i 1 2", "23"},
			{"GETRANGE i -2 -1", "45"},
			{`SET e ""`, "OK"},
			{"GETRANGE e 0 -1", ""},
		},
		"setrange": {
			{"SETRANGE k 5 abc", "8"},
			{"GET k", "\x00\x00\x00\x00\x00abc"},
			{"SETRANGE k 1 Z", "8"},
			{"GET k", "\x00Z\x00\x00\x00abc"},
			{"SETRANGE k -1 a", "(error) ERR offset is out of range"},
			{"SETRANGE k abc a", errNotInt},
			{`SETRANGE k 0 ""`, "8"},
			{`SETRANGE nope 0 ""`, "0"},
			{"GET nope", "(nil)"},
			{`SETRANGE nope 536870911 ""`, "0"},
			{"SETRANGE k 536870912 a", errTooLong},
			{"SETRANGE k 536870911 ab", errTooLong},
			{"SETRANGE k 9223372036854775807 a", errTooLong},
			{"SET i 12345", "OK"},
			{"SETRANGE i 1 Z", "5"},
			{"GET i", "1Z345"},
		},
		"incr decr": {
			{"INCR k", "1"},
			{"INCR k", "2"},
			{"INCRBY k 10", "12"},
			{"DECRBY k 3", "9"},
			{"DECR k", "8"},
			{"INCRBY k -8", "0"},
			{"INCRBY k abc", errNotInt},
			{"INCRBY k 1.5", errNotInt},
			{"DECRBY k -9223372036854775808", "(error) ERR decrement would overflow"},
			{"DECR nope", "-1"},
			{"SET k 9223372036854775807", "OK"},
			{"INCR k", "(error) ERR increment or decrement would overflow"},
			{"DECR k", "9223372036854775806"},
			{"SET k -9223372036854775808", "OK"},
			{"DECR k", "(error) ERR increment or decrement would overflow"},
			{"INCRBY k -1", "(error) ERR increment or decrement would overflow"},
			{"INCRBY k 9223372036854775807", "-1"},
			{`SET k " 1"`, "OK"},
			{"INCR k", errNotInt},
			{"SET k 1.5", "OK"},
			{"INCR k", errNotInt},
			{"SET k 01", "OK"},
			{"INCR k", errNotInt},
			{"SET k 12345678901234567890", "OK"},
			{"INCR k", errNotInt},
			{"SET k +1", "OK"},
			{"INCR k", errNotInt},
			{"INCR", errArity("incr")},
		},
		"incrbyfloat": {
			{"INCRBYFLOAT k 10.5", "10.5"},
			{"INCRBYFLOAT k 0.1", "10.6"},
			{"INCRBYFLOAT k -5.0e3", "-4989.39999999999999991"}, // as Redis: the long double sum shows at 17 places
			{"INCRBYFLOAT k abc", errNotFloat},
			{"INCRBYFLOAT k nan", errNotFloat},
			{`INCRBYFLOAT k " 1"`, errNotFloat},
			{`INCRBYFLOAT k "1 "`, errNotFloat},
			{`INCRBYFLOAT k ""`, errNotFloat},
			{"INCRBYFLOAT k inf", "(error) ERR increment would produce NaN or Infinity"},
			{"INCRBYFLOAT k 1e4933", errNotFloat},
			{"INCRBYFLOAT k 1e-4960", errNotFloat},
			{"INCRBYFLOAT f 0x1p3", "8"},
			{"INCRBYFLOAT f 0x10", "24"},
			{"INCRBYFLOAT f .5", "24.5"},
			{"INCRBYFLOAT f 5.", "29.5"},
			{"INCRBYFLOAT f +0.5", "30"},
			{"INCRBYFLOAT z -0", "0"},
			{"INCRBYFLOAT z 1.23456789012345678901234", "1.23456789012345679"},
			{"INCRBYFLOAT s 0.0000000000000000001", "0"},
			{"INCRBYFLOAT b 1e20", "100000000000000000000"},
			{"SET e 5.0e3", "OK"},
			{"INCRBYFLOAT e 2.0e2", "5200"},
			{"SET i 17", "OK"},
			{"INCRBYFLOAT i 1", "18"},
			{`SET w "1.5 "`, "OK"},
			{"INCRBYFLOAT w 1", errNotFloat},
			{"SET inf infinity", "OK"},
			{"INCRBYFLOAT inf 1", "(error) ERR increment would produce NaN or Infinity"},
			{"SET big 1e4932", "OK"},
			{"INCRBYFLOAT big 1e4932", "(error) ERR increment would produce NaN or Infinity"},
		},
		"lcs": {
			{"LCS a b", ""},
			{"MSET a ohmytext b mynewtext", "OK"},
			{"LCS a b", "mytext"},
			{"LCS a b LEN", "6"},
			{"LCS a b IDX", "[matches [[[4 7] [5 8]] [[2 3] [0 1]]] len 6]"},
			{"LCS a b IDX MINMATCHLEN 4", "[matches [[[4 7] [5 8]]] len 6]"},
			{"LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN", "[matches [[[4 7] [5 8] 4]] len 6]"},
			{"LCS a b IDX WITHMATCHLEN", "[matches [[[4 7] [5 8] 4] [[2 3] [0 1] 2]] len 6]"},
			{"LCS a b IDX MINMATCHLEN -5", "[matches [[[4 7] [5 8]] [[2 3] [0 1]]] len 6]"},
			{"LCS a b IDX LEN", "(error) ERR If you want both the length and indexes, please just use IDX."},
			{"LCS a b MINMATCHLEN", errSyntax},
			{"LCS a b MINMATCHLEN x", errNotInt},
			{"LCS a b foo", errSyntax},
			{"LCS a nope IDX", "[matches [] len 0]"},
			{"LCS a a IDX", "[matches [[[0 7] [0 7]]] len 8]"},
			{"SET i 12345", "OK"},
			{"SET j 2468", "OK"},
			{"LCS i j", "24"},
			{"LCS a", errArity("lcs")},
		},
	})
}

// putList stores a value of another type at key, as the list commands will, so every
// string command can be checked against it.
func putList(s *kvtest.Server, key string) {
	locked(s, func() {
		s.E.DB(0).Put([]byte(key), engine.Object{Type: engine.TypeList, Enc: engine.EncQuicklist, Val: []string{"x"}}, -1)
	})
}

func TestStringWrongType(t *testing.T) {
	s := kvtest.Start(t)
	putList(s, "l")
	runScript(t, s.Raw(t), []sstep{
		{"GET l", errWrongType},
		{"SET l v GET", errWrongType},
		{"GETEX l", errWrongType},
		{"GETEX l EX 0", errWrongType},
		{"GETDEL l", errWrongType},
		{"GETSET l v", errWrongType},
		{"APPEND l v", errWrongType},
		{"STRLEN l", errWrongType},
		{"GETRANGE l 0 1", errWrongType},
		{"SETRANGE l 0 v", errWrongType},
		{`SETRANGE l 0 ""`, errWrongType},
		{"INCR l", errWrongType},
		{"DECRBY l 1", errWrongType},
		{"INCRBYFLOAT l 1", errWrongType},
		{"LCS l nope", "(error) ERR The specified keys must contain string values"},
		{"LCS nope l LEN", "(error) ERR The specified keys must contain string values"},
		{"MGET l nope", "[(nil) (nil)]"},
		{"SETNX l v", "0"},
		{"MSETNX l v", "0"},
		// Plain SET replaces a value of any type.
		{"SET l v", "OK"},
		{"GET l", "v"},
	})
}

func TestStringEncodings(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	long := strings.Repeat("x", 45)
	cases := []struct {
		line, key, want string
	}{
		{"SET k 12345", "k", "int"},
		{"SET k -9223372036854775808", "k", "int"},
		{"SET k 9223372036854775808", "k", "embstr"},
		{"SET k 0123", "k", "embstr"},
		{"SET k -0", "k", "embstr"},
		{"SET k " + strings.Repeat("y", 44), "k", "embstr"},
		{"SET k " + long, "k", "raw"},
		{"SET k abc", "k", "embstr"},
		{"APPEND k d", "k", "raw"},
		{"APPEND new 123", "new", "int"},
		{"APPEND new 4", "new", "raw"},
		{"APPEND new2 abc", "new2", "embstr"},
		{"SET k 1", "k", "int"},
		{"SETRANGE k 0 2", "k", "raw"},
		{"SETRANGE sr 0 a", "sr", "raw"},
		{"INCR k", "k", "int"},
		{"SET k abc", "k", "embstr"},
		{"INCRBYFLOAT f 1", "f", "embstr"},
		{"INCRBYFLOAT f 1e50", "f", "raw"},
		{"GETSET k 42", "k", "int"},
		{"MSET a 7 b x", "a", "int"},
		{"MSET a 7 b x", "b", "embstr"},
		{"SETEX k 100 77", "k", "int"},
		{"SETBIT k 0 1", "k", "raw"},
		{"SET k 5", "k", "int"},
		{"BITFIELD k GET u8 0", "k", "int"},
		{"BITFIELD k SET u8 0 53", "k", "raw"},
		{"SET b1 1", "b1", "int"},
		{"BITOP NOT b2 b1", "b2", "raw"},
	}
	for _, c := range cases {
		if v := r.Do(splitLine(t, c.line)...); v.Kind == resp.KindError {
			t.Fatalf("%s: %s", c.line, v)
		}
		if got := encoding(s, c.key); got != c.want {
			t.Errorf("after %q: encoding of %s = %q, want %q", c.line, c.key, got, c.want)
		}
	}
}

// waitGone polls until key reads as missing, failing after a deadline instead of
// sleeping a fixed time.
func waitGone(t *testing.T, r *kvtest.Raw, key string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for r.Do("GET", key).String() != "(nil)" {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not expire", key)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStringExpiry(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	now := time.Now().UnixMilli()
	within := func(key string, lo, hi int64) {
		t.Helper()
		at := expireAt(s, key)
		if at < lo || at > hi {
			t.Errorf("%s expires at %d, want within [%d, %d]", key, at, lo, hi)
		}
	}
	abs := strconv.FormatInt(now+100000, 10)
	absSec := strconv.FormatInt(now/1000+100, 10)
	steps := []struct{ args []string }{
		{[]string{"SET", "ex", "v", "EX", "100"}},
		{[]string{"SET", "px", "v", "PX", "100000"}},
		{[]string{"SET", "pxat", "v", "PXAT", abs}},
		{[]string{"SET", "exat", "v", "EXAT", absSec}},
		{[]string{"SETEX", "setex", "100", "v"}},
		{[]string{"PSETEX", "psetex", "100000", "v"}},
		{[]string{"SET", "getex", "v"}},
		{[]string{"GETEX", "getex", "PX", "100000"}},
	}
	for _, st := range steps {
		if v := r.Do(st.args...); v.Kind == resp.KindError {
			t.Fatalf("%v: %s", st.args, v)
		}
	}
	later := time.Now().UnixMilli()
	for _, k := range []string{"ex", "px", "setex", "psetex", "getex"} {
		within(k, now+100000, later+100000)
	}
	within("pxat", now+100000, now+100000)
	within("exat", (now/1000+100)*1000, (now/1000+100)*1000)

	// KEEPTTL keeps it, a plain SET drops it, INCR and APPEND keep it, GETSET drops it.
	runScript(t, r, []sstep{
		{"SET ex w KEEPTTL", "OK"},
		{"INCRBYFLOAT px 1", errNotFloat},
		{"SET px 1 KEEPTTL", "OK"},
		{"INCR px", "2"},
		{"INCRBYFLOAT px 1.5", "3.5"},
		{"APPEND px x", "4"},
		{"SETRANGE px 0 y", "4"},
		{"SETBIT px 0 1", "0"},
		{"SET pxat w", "OK"},
		{"GETSET psetex w", "v"},
		{"GETEX getex PERSIST", "v"},
		{"GETEX getex PERSIST", "v"},
		{"MSET setex 1", "OK"},
	})
	within("ex", now+100000, later+100000)
	within("px", now+100000, later+100000)
	for _, k := range []string{"pxat", "psetex", "getex", "setex"} {
		if at := expireAt(s, k); at != -1 {
			t.Errorf("%s kept TTL %d", k, at)
		}
	}

	// Short TTLs really expire.
	runScript(t, r, []sstep{
		{"SET short v PX 30", "OK"},
		{"PSETEX short2 30 v", "OK"},
		{"SET short3 v", "OK"},
		{"GETEX short3 PX 30", "v"},
		{"SET past v PXAT 1", "OK"},
		{"GET past", "(nil)"},
	})
	for _, k := range []string{"short", "short2", "short3"} {
		waitGone(t, r, k)
	}
}

type recorder struct {
	mu     sync.Mutex
	props  []string
	events []string
}

func (r *recorder) Propagate(db int, args [][]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = string(a)
	}
	r.props = append(r.props, strings.Join(parts, " "))
}

func (r *recorder) NotifyKeyspaceEvent(class engine.EventClass, event string, key []byte, db int) {
	if class == engine.EventKeyMiss || class == engine.EventNew {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, event+":"+string(key))
}

func (r *recorder) take() (props, events []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	props, events = r.props, r.events
	r.props, r.events = nil, nil
	return props, events
}

func startRecorded(t *testing.T) (*kvtest.Server, *recorder) {
	s := kvtest.Start(t)
	rec := &recorder{}
	locked(s, func() {
		s.E.SetPropagator(rec)
		s.E.SetNotifier(rec)
	})
	return s, rec
}

// TestStringPropagation checks what replicas and the AOF would receive, and the
// keyspace events, for each command: relative expiry becomes absolute, INCRBYFLOAT
// becomes SET ... KEEPTTL, GETEX becomes PEXPIREAT/PERSIST/DEL, failed or no-op
// commands send nothing.
func TestStringPropagation(t *testing.T) {
	s, rec := startRecorded(t)
	r := s.Raw(t)
	pxat := func(key string) string {
		return "SET " + key + " v PXAT " + strconv.FormatInt(expireAt(s, key), 10)
	}
	cases := []struct {
		line   string
		props  func() []string
		events []string
	}{
		{"SET a v", func() []string { return []string{"SET a v"} }, []string{"set:a"}},
		{"SET a v NX", func() []string { return nil }, nil},
		{"SET a v XX GET", func() []string { return []string{"SET a v XX"} }, []string{"set:a"}},
		{"SET a v get GET KEEPTTL", func() []string { return []string{"SET a v KEEPTTL"} }, []string{"set:a"}},
		{"SET b v EX 100 GET", func() []string { return []string{pxat("b")} }, []string{"set:b", "expire:b"}},
		{"SET b v NX PX 100000", func() []string { return nil }, nil},
		{"SET b v XX PX 100000", func() []string { return []string{pxat("b")} }, []string{"set:b", "expire:b"}},
		{"SETEX c 100 v", func() []string { return []string{pxat("c")} }, []string{"set:c", "expire:c"}},
		{"PSETEX c 100000 v", func() []string { return []string{pxat("c")} }, []string{"set:c", "expire:c"}},
		{"SET c v PXAT 99999999999999", func() []string { return []string{"SET c v PXAT 99999999999999"} }, []string{"set:c", "expire:c"}},
		{"SET c v EXAT 99999999999", func() []string { return []string{"SET c v PXAT 99999999999000"} }, []string{"set:c", "expire:c"}},
		{"SETNX c v", func() []string { return nil }, nil},
		{"SETNX d v", func() []string { return []string{"SETNX d v"} }, []string{"set:d"}},
		{"GET d", func() []string { return nil }, nil},
		{"GETEX d", func() []string { return nil }, nil},
		{"GETEX d PERSIST", func() []string { return nil }, nil},
		{"GETEX d EXAT 99999999999", func() []string { return []string{"PEXPIREAT d 99999999999000"} }, []string{"expire:d"}},
		{"GETEX d PERSIST", func() []string { return []string{"PERSIST d"} }, []string{"persist:d"}},
		{"GETEX d PX 100000", func() []string { return []string{"PEXPIREAT d " + strconv.FormatInt(expireAt(s, "d"), 10)} }, []string{"expire:d"}},
		{"GETEX d PXAT 1", func() []string { return []string{"DEL d"} }, []string{"del:d"}},
		{"GETDEL d", func() []string { return nil }, nil},
		{"SET d v", func() []string { return []string{"SET d v"} }, []string{"set:d"}},
		{"GETDEL d", func() []string { return []string{"DEL d"} }, []string{"del:d"}},
		{"GETSET d v", func() []string { return []string{"SET d v"} }, []string{"set:d"}},
		{"MSET e 1 f 2", func() []string { return []string{"MSET e 1 f 2"} }, []string{"set:e", "set:f"}},
		{"MSETNX e 1 g 2", func() []string { return nil }, nil},
		{"MSETNX g 1 h 2", func() []string { return []string{"MSETNX g 1 h 2"} }, []string{"set:g", "set:h"}},
		{"APPEND e x", func() []string { return []string{"APPEND e x"} }, []string{"append:e"}},
		{"SETRANGE e 0 y", func() []string { return []string{"SETRANGE e 0 y"} }, []string{"setrange:e"}},
		{`SETRANGE e 0 ""`, func() []string { return nil }, nil},
		{"INCR i", func() []string { return []string{"INCR i"} }, []string{"incrby:i"}},
		{"DECRBY i 5", func() []string { return []string{"DECRBY i 5"} }, []string{"incrby:i"}},
		{"INCRBYFLOAT i 1.5", func() []string { return []string{"SET i -2.5 KEEPTTL"} }, []string{"incrbyfloat:i"}},
		{"INCRBYFLOAT i 0.1e1", func() []string { return []string{"SET i -1.5 KEEPTTL"} }, []string{"incrbyfloat:i"}},
		{"INCRBYFLOAT i x", func() []string { return nil }, nil},
		{"LCS e f", func() []string { return nil }, nil},
	}
	for _, c := range cases {
		r.Do(splitLine(t, c.line)...)
		props, events := rec.take()
		if want := c.props(); fmt.Sprint(props) != fmt.Sprint(want) {
			t.Errorf("%s propagated %q, want %q", c.line, props, want)
		}
		if fmt.Sprint(events) != fmt.Sprint(c.events) {
			t.Errorf("%s notified %q, want %q", c.line, events, c.events)
		}
	}
}

// TestStringLazyfree checks that GETDEL and GETEX propagate UNLINK under the lazyfree
// options, as Redis does.
func TestStringLazyfree(t *testing.T) {
	s, rec := startRecorded(t)
	locked(s, func() {
		s.E.Settings.LazyfreeUserDel = true
		s.E.Settings.LazyfreeLazyExpire = true
	})
	r := s.Raw(t)
	runScript(t, r, []sstep{{"MSET a 1 b 2", "OK"}, {"GETDEL a", "1"}, {"GETEX b PXAT 1", "2"}})
	props, _ := rec.take()
	if want := []string{"MSET a 1 b 2", "UNLINK a", "UNLINK b"}; fmt.Sprint(props) != fmt.Sprint(want) {
		t.Errorf("propagated %q, want %q", props, want)
	}
}

func TestStringProtoMaxBulkLen(t *testing.T) {
	s := kvtest.Start(t)
	locked(s, func() { s.E.Settings.ProtoMaxBulkLen = 10 })
	runScript(t, s.Raw(t), []sstep{
		{"SET k 12345", "OK"},
		{"APPEND k 67890", "10"},
		{"APPEND k x", errTooLong},
		{"SETRANGE k 9 x", "10"},
		{"SETRANGE k 10 x", errTooLong},
		{"SETRANGE new 8 xyz", errTooLong},
		{"SETBIT k 79 1", "0"},
		{"SETBIT k 80 1", "(error) ERR bit offset is not an integer or out of range"},
		{"LCS k k", "(error) ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"},
	})
}

// TestStringGoRedis drives the commands through go-redis's typed API, both protocols.
func TestStringGoRedis(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprint("resp", proto), func(t *testing.T) {
			s := kvtest.Start(t)
			rdb := s.Client(t, proto)
			ctx := kvtest.Ctx(t)
			if err := rdb.Set(ctx, "k", "v", time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			if v, err := rdb.Get(ctx, "k").Result(); err != nil || v != "v" {
				t.Fatalf("GET = %q, %v", v, err)
			}
			if _, err := rdb.Get(ctx, "nope").Result(); err != redis.Nil {
				t.Fatalf("GET nope err = %v, want redis.Nil", err)
			}
			if ok, err := rdb.SetNX(ctx, "k", "w", 0).Result(); err != nil || ok {
				t.Fatalf("SETNX = %v, %v", ok, err)
			}
			if v, err := rdb.SetArgs(ctx, "k", "w", redis.SetArgs{Get: true, KeepTTL: true}).Result(); err != nil || v != "v" {
				t.Fatalf("SET GET = %q, %v", v, err)
			}
			if f, err := rdb.IncrByFloat(ctx, "f", 2.5).Result(); err != nil || f != 2.5 {
				t.Fatalf("INCRBYFLOAT = %v, %v", f, err)
			}
			if n, err := rdb.IncrBy(ctx, "n", 41).Result(); err != nil || n != 41 {
				t.Fatalf("INCRBY = %v, %v", n, err)
			}
			if v, err := rdb.GetEx(ctx, "k", 2*time.Minute).Result(); err != nil || v != "w" {
				t.Fatalf("GETEX = %q, %v", v, err)
			}
			if vals, err := rdb.MGet(ctx, "k", "nope", "n").Result(); err != nil || fmt.Sprint(vals) != "[w <nil> 41]" {
				t.Fatalf("MGET = %v, %v", vals, err)
			}
			rdb.MSet(ctx, "a", "ohmytext", "b", "mynewtext")
			lcs, err := rdb.LCS(ctx, &redis.LCSQuery{Key1: "a", Key2: "b", Idx: true, WithMatchLen: true}).Result()
			if err != nil || lcs.Len != 6 || len(lcs.Matches) != 2 || lcs.Matches[0].MatchLen != 4 {
				t.Fatalf("LCS IDX = %+v, %v", lcs, err)
			}
			if err := rdb.Incr(ctx, "a").Err(); err == nil || err.Error() != strings.TrimPrefix(errNotInt, "(error) ") {
				t.Fatalf("INCR on text: %v", err)
			}
			if n, err := rdb.SetRange(ctx, "sr", 2, "x").Result(); err != nil || n != 3 {
				t.Fatalf("SETRANGE = %v, %v", n, err)
			}
			if v, err := rdb.GetRange(ctx, "sr", 0, -1).Result(); err != nil || v != "\x00\x00x" {
				t.Fatalf("GETRANGE = %q, %v", v, err)
			}
		})
	}
}

// TestIncrByFloatParsing checks strtold's syntax and long double range through
// INCRBYFLOAT on a missing key (0 + x), and long double sums on existing ones.
func TestIncrByFloatParsing(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	cases := []struct{ in, want string }{
		{"10.5", "10.5"},
		{"0.1", "0.1"},
		{"-0", "0"},
		{"0x1.8p1", "3"},
		{"0X1P-2", "0.25"},
		{"0x10", "16"},
		{".5", "0.5"},
		{"5.", "5"},
		{"+.5e-3", "0.0005"},
		{"00012", "12"},
		{"1e-4950", "0"},
		{"3.0000000000000000001", "3"},
		{"inf", "(error) ERR increment would produce NaN or Infinity"},
		{"-Infinity", "(error) ERR increment would produce NaN or Infinity"},
		{"1e4933", errNotFloat},
		{"1e-4960", errNotFloat},
		{"1e99999999999", errNotFloat},
		{"nan", errNotFloat},
		{" 1", errNotFloat},
		{"1 ", errNotFloat},
		{"1e", errNotFloat},
		{"1e+", errNotFloat},
		{"0x", errNotFloat},
		{"0x1p", errNotFloat},
		{"1_0", errNotFloat},
		{"0b1", errNotFloat},
		{"1..2", errNotFloat},
		{".", errNotFloat},
		{"", errNotFloat},
		{"-", errNotFloat},
		{"infx", errNotFloat},
		{strings.Repeat("1", 5120), errNotFloat},
	}
	for i, c := range cases {
		key := "f" + strconv.Itoa(i)
		if got := r.Do("INCRBYFLOAT", key, c.in).String(); got != c.want {
			t.Errorf("INCRBYFLOAT %s %.20q = %q, want %q", key, c.in, got, c.want)
		}
	}
	sums := []struct{ a, b, want string }{
		{"10.5", "0.1", "10.6"},
		{"0.1", "0.2", "0.3"},
		{"1", "-1", "0"},
		{"-0.1", "0.05", "-0.05"},
		{"5.0e3", "2.0e2", "5200"},
		{"9223372036854775807", "1", "9223372036854775808"},
		{"1.18973149535723176502e+4932", "1e4932", "(error) ERR increment would produce NaN or Infinity"},
		{"inf", "-inf", "(error) ERR increment would produce NaN or Infinity"},
	}
	for i, c := range sums {
		key := "s" + strconv.Itoa(i)
		r.Do("SET", key, c.a)
		if got := r.Do("INCRBYFLOAT", key, c.b).String(); got != c.want {
			t.Errorf("%s + %s = %q, want %q", c.a, c.b, got, c.want)
		}
	}
}

// BenchmarkSetGet measures the string hot path through a real connection, pipelined.
func BenchmarkSetGet(b *testing.B) {
	s := kvtest.Start(b)
	rdb := s.Client(b, 2)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i += 100 {
		p := rdb.Pipeline()
		for j := 0; j < 50; j++ {
			p.Set(ctx, "key", "value", 0)
			p.Get(ctx, "key")
		}
		if _, err := p.Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSetOverwriteInPlace: SET over a raw string of about the same size reuses its
// buffer; no other key that got those bytes (COPY, GETSET's reply, a SET ... GET reply,
// a MULTI reply) may see them change, and the encoding stays right.
func TestSetOverwriteInPlace(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	a, b, c := strings.Repeat("a", 100), strings.Repeat("b", 100), strings.Repeat("c", 90)
	runScript(t, r, []sstep{
		{"SET k " + a, "OK"},
		{"COPY k k2", "1"},
		{"SET k " + b + " GET", a},
		{"GET k2", a},
		{"GET k", b},
		{"GETSET k " + c, b},
		{"GET k", c},
		{"OBJECT ENCODING k", "raw"},
		{"APPEND k xyz", "93"},
		{"SET k " + a, "OK"},
		{"GET k", a},
		{"SET k 12345", "OK"},
		{"OBJECT ENCODING k", "int"},
		{"SET k " + b, "OK"},
		{"SET k short", "OK"},
		{"OBJECT ENCODING k", "embstr"},
		{"GET k2", a},
	})
	r.Do("MULTI")
	r.Do("GET", "k2")
	r.Do("SET", "k2", b)
	r.Do("GET", "k2")
	if got := r.Do("EXEC").String(); got != "["+a+" OK "+b+"]" {
		t.Fatalf("EXEC: %s", got)
	}
}
