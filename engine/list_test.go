package engine_test

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"kv/engine"
	"kv/internal/kvtest"
	"kv/resp"
)

// listStep is one command and the reply it must get, rendered by resp.Value.String.
type listStep struct {
	args string
	want string
}

func runListSteps(t *testing.T, r *kvtest.Raw, steps []listStep) {
	t.Helper()
	for _, s := range steps {
		args := splitListArgs(s.args)
		if got := r.Do(args...).String(); got != s.want {
			t.Errorf("%s\n got  %q\n want %q", s.args, got, s.want)
		}
	}
}

// splitListArgs splits on spaces; ” stands for an empty argument.
func splitListArgs(s string) []string {
	f := strings.Fields(s)
	for i, a := range f {
		if a == "''" {
			f[i] = ""
		}
	}
	return f
}

const listWrongType = "(error) WRONGTYPE Operation against a key holding the wrong kind of value"

// addListTestSet registers a tiny SET so tests can make non-list keys whatever other command
// groups are on this branch.
func addListTestSet(t *testing.T, s *kvtest.Server) {
	s.E.Lock()
	defer s.E.Unlock()
	s.E.Commands().Add(&engine.Command{Name: "tset", Arity: 3, Flags: engine.FlagWrite,
		Handler: func(c *engine.Ctx) {
			c.SetKey(c.Args[1], engine.NewString(c.Args[2]), false)
			c.W.OK()
		}})
}

func TestListCommands(t *testing.T) {
	s := kvtest.Start(t)
	addListTestSet(t, s)
	r := s.Raw(t)
	runListSteps(t, r, []listStep{
		// pushes
		{"LPUSH", "(error) ERR wrong number of arguments for 'lpush' command"},
		{"RPUSH l", "(error) ERR wrong number of arguments for 'rpush' command"},
		{"RPUSH l a b c", "3"},
		{"LPUSH l x y", "5"},
		{"LRANGE l 0 -1", "[y x a b c]"},
		{"LPUSHX nokey a", "0"},
		{"RPUSHX nokey a b", "0"},
		{"LPUSHX l p q", "7"},
		{"RPUSHX l z", "8"},
		{"LRANGE l 0 -1", "[q p y x a b c z]"},
		{"tset str v", "OK"},
		{"LPUSH str a", listWrongType},
		{"RPUSHX str a", listWrongType},
		// LLEN / LINDEX / LRANGE
		{"LLEN l", "8"},
		{"LLEN nokey", "0"},
		{"LLEN str", listWrongType},
		{"LINDEX l 0", "q"},
		{"LINDEX l -1", "z"},
		{"LINDEX l 8", "(nil)"},
		{"LINDEX l -9", "(nil)"},
		{"LINDEX l abc", "(error) ERR value is not an integer or out of range"},
		{"LINDEX nokey abc", "(nil)"},
		{"LINDEX str 0", listWrongType},
		{"LINDEX l 9223372036854775807", "(nil)"},
		{"LRANGE l 2 3", "[y x]"},
		{"LRANGE l -3 -2", "[b c]"},
		{"LRANGE l -100 1", "[q p]"},
		{"LRANGE l 6 100", "[c z]"},
		{"LRANGE l 5 2", "[]"},
		{"LRANGE l 8 10", "[]"},
		{"LRANGE nokey 0 -1", "[]"},
		{"LRANGE l a 1", "(error) ERR value is not an integer or out of range"},
		{"LRANGE nokey 0 b", "(error) ERR value is not an integer or out of range"},
		{"LRANGE str 0 -1", listWrongType},
		// LSET
		{"LSET l 1 P", "OK"},
		{"LSET l -1 Z", "OK"},
		{"LSET l 8 x", "(error) ERR index out of range"},
		{"LSET l abc x", "(error) ERR value is not an integer or out of range"},
		{"LSET nokey 0 x", "(error) ERR no such key"},
		{"LSET nokey abc x", "(error) ERR no such key"},
		{"LSET str 0 x", listWrongType},
		{"LRANGE l 0 -1", "[q P y x a b c Z]"},
		// LINSERT
		{"LINSERT l BEFORE a A1", "9"},
		{"LINSERT l after a A2", "10"},
		{"LINSERT l after nothere A2", "-1"},
		{"LINSERT nokey after a b", "0"},
		{"LINSERT l middle a b", "(error) ERR syntax error"},
		{"LINSERT nokey middle a b", "(error) ERR syntax error"},
		{"LINSERT str before a b", listWrongType},
		{"LRANGE l 0 -1", "[q P y x A1 a A2 b c Z]"},
		// LPOS
		{"RPUSH p a b c a b c a", "7"},
		{"LPOS p a", "0"},
		{"LPOS p c", "2"},
		{"LPOS p a RANK 2", "3"},
		{"LPOS p a RANK -1", "6"},
		{"LPOS p a RANK -2", "3"},
		{"LPOS p a RANK 4", "(nil)"},
		{"LPOS p a COUNT 0", "[0 3 6]"},
		{"LPOS p a COUNT 2", "[0 3]"},
		{"LPOS p a COUNT 2 RANK 2", "[3 6]"},
		{"LPOS p a COUNT 0 RANK -1", "[6 3 0]"},
		{"LPOS p a MAXLEN 3", "0"},
		{"LPOS p b MAXLEN 1", "(nil)"},
		{"LPOS p a MAXLEN 4 COUNT 0", "[0 3]"},
		{"LPOS p zz", "(nil)"},
		{"LPOS p zz COUNT 1", "[]"},
		{"LPOS nokey a", "(nil)"},
		{"LPOS nokey a COUNT 0", "[]"},
		{"LPOS str a", listWrongType},
		{"LPOS p a RANK 0", "(error) ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"},
		{"LPOS p a RANK x", "(error) ERR value is not an integer or out of range"},
		{"LPOS p a COUNT -1", "(error) ERR COUNT can't be negative"},
		{"LPOS p a COUNT x", "(error) ERR COUNT can't be negative"},
		{"LPOS p a MAXLEN -1", "(error) ERR MAXLEN can't be negative"},
		{"LPOS p a RANK", "(error) ERR syntax error"},
		{"LPOS p a FOO 1", "(error) ERR syntax error"},
		{"LPOS p a RANK -9223372036854775808", "(nil)"},
		{"LPOS", "(error) ERR wrong number of arguments for 'lpos' command"},
		// LREM
		{"LREM p 1 a", "1"},
		{"LREM p -1 b", "1"},
		{"LRANGE p 0 -1", "[b c a c a]"},
		{"LREM p 0 a", "2"},
		{"LREM p 0 zz", "0"},
		{"LREM nokey 0 a", "0"},
		{"LREM p x a", "(error) ERR value is not an integer or out of range"},
		{"LREM str 0 a", listWrongType},
		{"LREM p 0 c", "2"},
		{"LREM p -9223372036854775808 b", "1"},
		{"LLEN p", "0"},
		// LTRIM
		{"RPUSH t 0 1 2 3 4 5", "6"},
		{"LTRIM t 1 -2", "OK"},
		{"LRANGE t 0 -1", "[1 2 3 4]"},
		{"LTRIM t -100 100", "OK"},
		{"LRANGE t 0 -1", "[1 2 3 4]"},
		{"LTRIM t 2 1", "OK"},
		{"LLEN t", "0"},
		{"LTRIM nokey 0 1", "OK"},
		{"LTRIM t a 1", "(error) ERR value is not an integer or out of range"},
		{"LTRIM str 0 1", listWrongType},
		// LPOP / RPOP
		{"RPUSH q 1 2 3 4 5", "5"},
		{"LPOP q", "1"},
		{"RPOP q", "5"},
		{"LPOP q 0", "[]"},
		{"LPOP q 2", "[2 3]"},
		{"RPOP q 10", "[4]"},
		{"LLEN q", "0"},
		{"LPOP nokey", "(nil)"},
		{"LPOP nokey 2", "(nil)"},
		{"RPOP nokey 0", "(nil)"},
		{"LPOP q -1", "(error) ERR value is out of range, must be positive"},
		{"LPOP q x", "(error) ERR value is out of range, must be positive"},
		{"LPOP q 1 2", "(error) ERR wrong number of arguments for 'lpop' command"},
		{"RPOP str", listWrongType},
		{"LPOP str 0", listWrongType},
		// LMOVE / RPOPLPUSH
		{"RPUSH src a b c", "3"},
		{"LMOVE src dst LEFT RIGHT", "a"},
		{"LMOVE src dst right left", "c"},
		{"LRANGE dst 0 -1", "[c a]"},
		{"RPOPLPUSH src dst", "b"},
		{"LLEN src", "0"},
		{"RPOPLPUSH src dst", "(nil)"},
		{"LMOVE src dst up left", "(error) ERR syntax error"},
		{"LMOVE src dst left down", "(error) ERR syntax error"},
		{"LMOVE dst str left left", listWrongType},
		{"LMOVE str dst left left", listWrongType},
		{"LRANGE dst 0 -1", "[b c a]"},
		{"RPUSH one x", "1"},
		{"LMOVE one one left right", "x"},
		{"LRANGE one 0 -1", "[x]"},
		{"RPUSH one y", "2"},
		{"LMOVE one one left right", "x"},
		{"LRANGE one 0 -1", "[y x]"},
		// LMPOP
		{"RPUSH m a b c d", "4"},
		{"LMPOP 2 nokey m LEFT", "[m [a]]"},
		{"LMPOP 2 nokey m right COUNT 2", "[m [d c]]"},
		{"LMPOP 1 m left COUNT 10", "[m [b]]"},
		{"LMPOP 1 m left", "(nil)"},
		{"LMPOP 1 str left", listWrongType},
		{"LMPOP 0 m left", "(error) ERR numkeys should be greater than 0"},
		{"LMPOP x m left", "(error) ERR numkeys should be greater than 0"},
		{"LMPOP 2 m left", "(error) ERR syntax error"},
		{"LMPOP 1 m middle", "(error) ERR syntax error"},
		{"LMPOP 1 m left COUNT 0", "(error) ERR count should be greater than 0"},
		{"LMPOP 1 m left COUNT x", "(error) ERR count should be greater than 0"},
		{"LMPOP 1 m left COUNT 1 COUNT 1", "(error) ERR syntax error"},
		{"LMPOP 1 m left COUNT", "(error) ERR syntax error"},
		{"LMPOP 1 m", "(error) ERR wrong number of arguments for 'lmpop' command"},
		// Blocking commands that find data, or time out at once.
		{"RPUSH b 1 2 3", "3"},
		{"BLPOP nokey b 0", "[b 1]"},
		{"BRPOP b 0", "[b 3]"},
		{"BLMPOP 0 1 b left COUNT 5", "[b [2]]"},
		{"BLPOP nokey 0.01", "(nil)"},
		{"BRPOP nokey 0.01", "(nil)"},
		{"BLMPOP 0.01 1 nokey left", "(nil)"},
		{"BLMOVE nokey x left left 0.01", "(nil)"},
		{"BRPOPLPUSH nokey x 0.01", "(nil)"},
		{"BLPOP str 0", listWrongType},
		{"BLPOP nokey x", "(error) ERR timeout is not a float or out of range"},
		{"BLPOP nokey -1", "(error) ERR timeout is negative"},
		{"BLPOP nokey inf", "(error) ERR timeout is negative"},
		{"BLPOP nokey 1e400", "(error) ERR timeout is negative"},
		{"BRPOPLPUSH nokey x -0.5", "(error) ERR timeout is negative"},
		{"BLMOVE nokey x up left 0", "(error) ERR syntax error"},
		{"BLMOVE nokey x left left x", "(error) ERR timeout is not a float or out of range"},
		{"BLMPOP x 1 nokey left", "(error) ERR timeout is not a float or out of range"},
		{"BLMPOP 0 0 nokey left", "(error) ERR numkeys should be greater than 0"},
		{"BLMOVE str x left left 0", listWrongType},
		{"BLPOP k", "(error) ERR wrong number of arguments for 'blpop' command"},
	})
}

// exec runs one command straight on an engine with a writer of the given protocol and
// returns the raw reply.
func exec(e *engine.Engine, proto int, args ...string) string {
	w := resp.NewWriter()
	w.SetProto(proto)
	c := e.NewCtx(w, nil)
	c.Cmd = e.Commands().Lookup([]byte(args[0]))
	for _, a := range args {
		c.Args = append(c.Args, []byte(a))
	}
	e.Lock()
	e.Exec(c)
	e.Unlock()
	return string(w.Bytes())
}

func newListEngine() *engine.Engine {
	e := engine.New(engine.Options{})
	engine.RegisterAll(e)
	return e
}

func TestListNullReplies(t *testing.T) {
	e := newListEngine()
	exec(e, 2, "RPUSH", "l", "a")
	cases := []struct {
		args   []string
		resp2  string
		resp3  string
		reason string
	}{
		{[]string{"LPOP", "nokey"}, "$-1\r\n", "_\r\n", "null bulk"},
		{[]string{"LPOP", "nokey", "1"}, "*-1\r\n", "_\r\n", "null array with count"},
		{[]string{"LINDEX", "l", "5"}, "$-1\r\n", "_\r\n", "null bulk"},
		{[]string{"LPOS", "l", "zz"}, "$-1\r\n", "_\r\n", "null bulk"},
		{[]string{"LMPOP", "1", "nokey", "left"}, "*-1\r\n", "_\r\n", "null array"},
		{[]string{"RPOPLPUSH", "nokey", "x"}, "$-1\r\n", "_\r\n", "null bulk"},
		{[]string{"BLPOP", "nokey", "0"}, "*-1\r\n", "_\r\n", "cannot block without a client: null array"},
		{[]string{"BLMOVE", "nokey", "x", "left", "left", "0"}, "$-1\r\n", "_\r\n", "BLMOVE: null bulk"},
		{[]string{"LPOP", "l", "0"}, "*0\r\n", "*0\r\n", "empty array"},
	}
	for _, tc := range cases {
		if got := exec(e, 2, tc.args...); got != tc.resp2 {
			t.Errorf("RESP2 %v (%s) = %q, want %q", tc.args, tc.reason, got, tc.resp2)
		}
		if got := exec(e, 3, tc.args...); got != tc.resp3 {
			t.Errorf("RESP3 %v (%s) = %q, want %q", tc.args, tc.reason, got, tc.resp3)
		}
	}
}

type listRecorder struct {
	mu   sync.Mutex
	cmds []string
	evs  []string
}

func (r *listRecorder) Propagate(db int, args [][]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var parts []string
	for _, a := range args {
		parts = append(parts, string(a))
	}
	r.cmds = append(r.cmds, fmt.Sprintf("%d:%s", db, strings.Join(parts, " ")))
}

func (r *listRecorder) NotifyKeyspaceEvent(class engine.EventClass, event string, key []byte, db int) {
	if class == engine.EventKeyMiss || class == engine.EventNew {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, event+":"+string(key))
}

func (r *listRecorder) take() (cmds, evs []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cmds, evs = r.cmds, r.evs
	r.cmds, r.evs = nil, nil
	return cmds, evs
}

func TestListPropagationAndEvents(t *testing.T) {
	e := newListEngine()
	rec := &listRecorder{}
	e.SetPropagator(rec)
	e.SetNotifier(rec)
	cases := []struct {
		args string
		cmds string // propagated, joined by " | "
		evs  string // keyspace events, joined by " "
	}{
		{"RPUSH l a b c d", "0:RPUSH l a b c d", "rpush:l"},
		{"LPUSH l z", "0:LPUSH l z", "lpush:l"},
		{"LPUSHX nokey z", "", ""},
		{"LSET l 0 y", "0:LSET l 0 y", "lset:l"},
		{"LSET l 9 y", "", ""},
		{"LINSERT l before a x", "0:LINSERT l before a x", "linsert:l"},
		{"LINSERT l before nothere x", "", ""},
		{"LREM l 0 x", "0:LREM l 0 x", "lrem:l"},
		{"LREM l 0 nothere", "", ""},
		{"LPOP l", "0:LPOP l", "lpop:l"},
		{"LPOP l 0", "", ""},
		{"RPOP l 1", "0:RPOP l 1", "rpop:l"},
		{"LTRIM l 0 0", "0:LTRIM l 0 0", "ltrim:l"},
		{"LMOVE l dst left right", "0:LMOVE l dst left right", "rpush:dst lpop:l del:l"},
		{"RPUSH l p q r", "0:RPUSH l p q r", "rpush:l"},
		{"RPOPLPUSH l dst", "0:RPOPLPUSH l dst", "lpush:dst rpop:l"},
		{"LMPOP 2 nokey l right COUNT 5", "0:RPOP l 2", "rpop:l del:l"},
		{"BLPOP nokey dst 0", "0:LPOP dst", "lpop:dst"},
		{"BRPOP dst 0", "0:RPOP dst", "rpop:dst del:dst"},
		{"RPUSH l a b c", "0:RPUSH l a b c", "rpush:l"},
		{"BLMPOP 0 1 l left COUNT 2", "0:LPOP l 2", "lpop:l"},
		{"BLMOVE l dst right left 0", "0:LMOVE l dst right left", "lpush:dst rpop:l del:l"},
		{"BRPOPLPUSH dst l 0", "0:RPOPLPUSH dst l", "lpush:l rpop:dst del:dst"},
		{"LTRIM l 1 0", "0:LTRIM l 1 0", "ltrim:l del:l"},
		{"LTRIM nokey 1 0", "", ""},
	}
	for _, tc := range cases {
		exec(e, 2, splitListArgs(tc.args)...)
		cmds, evs := rec.take()
		if got := strings.Join(cmds, " | "); got != tc.cmds {
			t.Errorf("%s: propagated %q, want %q", tc.args, got, tc.cmds)
		}
		if got := strings.Join(evs, " "); got != tc.evs {
			t.Errorf("%s: events %q, want %q", tc.args, got, tc.evs)
		}
	}
}

func TestListDirtyCounts(t *testing.T) {
	e := newListEngine()
	dirty := func(args ...string) int64 {
		before := e.Dirty
		exec(e, 2, args...)
		return e.Dirty - before
	}
	for _, tc := range []struct {
		args []string
		want int64
	}{
		{[]string{"RPUSH", "l", "a", "b", "c"}, 3},
		{[]string{"LPUSH", "l", "x"}, 1},
		{[]string{"LPOP", "l", "2"}, 2},
		{[]string{"LTRIM", "l", "0", "0"}, 1},
		{[]string{"LREM", "l", "0", "b"}, 1},
		{[]string{"LPUSHX", "nokey", "a"}, 0},
	} {
		if got := dirty(tc.args...); got != tc.want {
			t.Errorf("%v: dirty +%d, want +%d", tc.args, got, tc.want)
		}
	}
}

// TestListLargeIndex checks LINDEX/LSET/LINSERT in the middle of a big list stay fast
// (node walks, not element walks) and correct.
func TestListLargeIndex(t *testing.T) {
	e := newListEngine()
	const n = 300000
	args := []string{"RPUSH", "big"}
	for i := 0; i < n; i++ {
		args = append(args, strconv.Itoa(i))
		if len(args) == 10002 {
			exec(e, 2, args...)
			args = args[:2]
		}
	}
	if len(args) > 2 {
		exec(e, 2, args...)
	}
	start := time.Now()
	for i := 0; i < 1000; i++ {
		idx := (i * 7919) % n
		if got, want := exec(e, 2, "LINDEX", "big", strconv.Itoa(idx)), fmt.Sprintf("$%d\r\n%d\r\n", len(strconv.Itoa(idx)), idx); got != want {
			t.Fatalf("LINDEX %d = %q, want %q", idx, got, want)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("1000 LINDEX on a %d list took %v", n, d)
	}
	exec(e, 2, "LSET", "big", "150000", "mid")
	exec(e, 2, "LINSERT", "big", "before", "mid", "before-mid")
	if got := exec(e, 2, "LRANGE", "big", "149999", "150001"); got != "*3\r\n$6\r\n149999\r\n$10\r\nbefore-mid\r\n$3\r\nmid\r\n" {
		t.Fatalf("LRANGE around the middle = %q", got)
	}
	if got := exec(e, 2, "LLEN", "big"); got != fmt.Sprintf(":%d\r\n", n+1) {
		t.Fatalf("LLEN = %q", got)
	}
}

// TestListMaxListpackSize checks the node bound follows the setting for new lists.
func TestListMaxListpackSize(t *testing.T) {
	e := newListEngine()
	e.Lock()
	e.Settings.ListMaxListpackSize = 4
	e.Unlock()
	for i := 0; i < 10; i++ {
		exec(e, 2, "RPUSH", "l", strconv.Itoa(i))
	}
	e.Lock()
	o := e.DB(0).Peek([]byte("l"))
	nodes := o.Val.(*engine.Quicklist).Nodes()
	enc := o.Enc.String()
	e.Unlock()
	if nodes != 3 || enc != "quicklist" {
		t.Fatalf("10 entries with list-max-listpack-size 4: %d nodes, encoding %s; want 3, quicklist", nodes, enc)
	}
}

func TestListCommandTable(t *testing.T) {
	e := newListEngine()
	for _, tc := range []struct {
		name  string
		arity int
		flags string
		acl   string
		keys  string
	}{
		{"lpush", -3, "write denyoom fast", "write list fast", "[1]"},
		{"lrange", 4, "readonly", "read list slow", "[1]"},
		{"llen", 2, "readonly fast", "read list fast", "[1]"},
		{"blpop", -3, "write noscript blocking", "write list slow blocking", "[1 2]"},
		{"blmove", 6, "write denyoom noscript blocking", "write list slow blocking", "[1 2]"},
		{"lmpop", -4, "write movablekeys", "write list slow", "[2 3]"},
		{"blmpop", -5, "write blocking movablekeys", "write list slow blocking", "[3 4]"},
	} {
		c := e.Commands().Lookup([]byte(tc.name))
		if c == nil {
			t.Fatalf("%s not registered", tc.name)
		}
		if c.Arity != tc.arity || strings.Join(c.Flags.Names(), " ") != tc.flags || strings.Join(c.ACL, " ") != tc.acl {
			t.Errorf("%s: arity %d flags %v acl %v", tc.name, c.Arity, c.Flags.Names(), c.ACL)
		}
		var args [][]byte
		switch tc.name {
		case "lmpop":
			args = [][]byte{[]byte("lmpop"), []byte("2"), []byte("a"), []byte("b"), []byte("left")}
		case "blmpop":
			args = [][]byte{[]byte("blmpop"), []byte("0"), []byte("2"), []byte("a"), []byte("b"), []byte("left")}
		default:
			args = [][]byte{[]byte(tc.name), []byte("a"), []byte("b"), []byte("c")}
		}
		if tc.name == "blmove" {
			args = append(args, []byte("d"), []byte("0"))
		}
		if got := fmt.Sprint(c.KeyIndexes(args)); got != tc.keys {
			t.Errorf("%s: keys %s, want %s", tc.name, got, tc.keys)
		}
	}
}
