package engine

import (
	"bytes"
	"strings"
	"testing"

	"kv/resp"
)

// These tests drive SORT through its hooks with stand-in collection values on their
// own engine, so SORT is tested apart from the list, set, zset and hash types;
// sort_test.go covers SORT through the real commands.

// fakeColl is a stand-in collection: its elements in natural order.
type fakeColl [][]byte

// fakeHooks make SORT see stand-in values on one engine.
func fakeHooks(e *Engine) {
	e.hooks.sortElements = func(o *Object) ([][]byte, bool) {
		v, ok := o.Val.(fakeColl)
		return v, ok
	}
	e.hooks.sortHashField = func(o *Object, field []byte) ([]byte, bool) {
		v, ok := o.Val.(map[string]string)[string(field)]
		return []byte(v), ok
	}
	e.hooks.sortNewList = func(_ *Settings, elems [][]byte) Object {
		return Object{Type: TypeList, Enc: EncQuicklist, Val: fakeColl(elems)}
	}
}

type sortEnv struct {
	t *testing.T
	e *Engine
	c *Ctx
	w *resp.Writer
}

func newSortEnv(t *testing.T) *sortEnv {
	e := New(Options{Databases: 2})
	RegisterAll(e)
	fakeHooks(e)
	w := resp.NewWriter()
	return &sortEnv{t: t, e: e, c: e.NewCtx(w, nil), w: w}
}

func (s *sortEnv) coll(typ Type, key string, elems ...string) {
	var v fakeColl
	for _, e := range elems {
		v = append(v, []byte(e))
	}
	s.c.DB.Put([]byte(key), Object{Type: typ, Val: v}, -1)
}

func (s *sortEnv) str(key, val string) {
	s.c.DB.Put([]byte(key), NewString([]byte(val)), -1)
}

func (s *sortEnv) hash(key string, fields map[string]string) {
	s.c.DB.Put([]byte(key), Object{Type: TypeHash, Val: fields}, -1)
}

// do runs one command as the connection loop would and renders its reply.
func (s *sortEnv) do(cmdline string) string {
	s.t.Helper()
	args := bytes.Fields([]byte(cmdline))
	cmd := s.e.Commands().Lookup(args[0])
	if cmd == nil {
		s.t.Fatalf("no command %s", args[0])
	}
	s.w.Reset()
	if !cmd.ArityOK(len(args)) {
		return "(error) " + errWrongArgs(cmd.Name)
	}
	s.c.Cmd, s.c.Args = cmd, args
	s.e.Exec(s.c)
	v, err := resp.NewReplyReader(bytes.NewReader(s.w.Bytes())).Read()
	if err != nil {
		s.t.Fatalf("%s: bad reply %q: %v", cmdline, s.w.Bytes(), err)
	}
	return v.String()
}

func (s *sortEnv) list(key string) string {
	o := s.c.DB.Peek([]byte(key))
	if o == nil {
		return "(none)"
	}
	var parts []string
	for _, e := range o.Val.(fakeColl) {
		parts = append(parts, string(e))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func TestSortCases(t *testing.T) {
	s := newSortEnv(t)
	// The natural order of these stand-ins is the order given: lists head to tail,
	// zsets by score.
	s.coll(TypeList, "nums", "3", "10", "2", "1", "2.5", "-4")
	s.coll(TypeList, "words", "b", "a", "c", "10", "1")
	s.coll(TypeZSet, "zset", "a", "c", "e", "b", "d")
	s.coll(TypeSet, "set", "z", "a", "aaa", "aa", "azz", "b")
	s.coll(TypeList, "ids", "1", "2", "3", "4")
	s.coll(TypeList, "bad", "1", "2", "x")
	s.coll(TypeList, "floats", "1.1", "5.10", "3.10", "7.44", "2.1", "5.75", "6.12", "0.25", "1.15")
	s.coll(TypeList, "odd", "", " 7", "0x10", "inf", "-inf", "1e2")
	for k, v := range map[string]string{"w_1": "30", "w_2": "10", "w_3": "20", "w_4": "10", "o_1": "one", "o_2": "two", "o_4": "four"} {
		s.str(k, v)
	}
	s.hash("h_1", map[string]string{"f": "3", "name": "h1"})
	s.hash("h_2", map[string]string{"f": "1", "name": "h2"})
	s.hash("h_3", map[string]string{"f": "2"})
	s.str("x:a->", "100")
	s.coll(TypeList, "la", "a")
	s.str("s", "string")

	for _, c := range []sortStep{
		{"SORT nums", "[-4 1 2 2.5 3 10]"},
		{"SORT nums DESC", "[10 3 2.5 2 1 -4]"},
		{"SORT nums LIMIT 1 2", "[1 2]"},
		{"SORT nums LIMIT -5 2", "[-4 1]"},
		{"SORT nums LIMIT 4 100", "[3 10]"},
		{"SORT nums LIMIT 6 1", "[]"},
		{"SORT nums LIMIT 0 0", "[]"},
		{"SORT nums LIMIT 0 -1", "[-4 1 2 2.5 3 10]"},
		{"SORT words ALPHA", "[1 10 a b c]"},
		{"SORT words ALPHA DESC LIMIT 0 2", "[c b]"},
		{"SORT words", "(error) ERR One or more scores can't be converted into double"},
		{"SORT bad", "(error) ERR One or more scores can't be converted into double"},
		{"SORT floats", "[0.25 1.1 1.15 2.1 3.10 5.10 5.75 6.12 7.44]"},
		{"SORT odd", "[-inf   7 0x10 1e2 inf]"},
		{"SORT zset ALPHA DESC", "[e d c b a]"},
		{"SORT zset BY nosort", "[a c e b d]"},
		{"SORT zset BY nosort DESC", "[d b e c a]"},
		{"SORT zset BY nosort ASC LIMIT 0 2", "[a c]"},
		{"SORT zset BY nosort DESC LIMIT 0 2", "[d b]"},
		{"SORT zset BY nosort LIMIT 5 10", "[]"},
		{"SORT zset BY nosort LIMIT -10 100", "[a c e b d]"},
		{"SORT words BY nosort", "[b a c 10 1]"},
		{"SORT words BY nosort DESC LIMIT 1 2", "[10 c]"},
		{"SORT ids BY w_*", "[2 4 3 1]"},
		{"SORT ids BY w_* DESC", "[1 3 4 2]"},
		{"SORT ids BY w_* LIMIT 1 2", "[4 3]"},
		{"SORT ids BY h_*->f", "[4 2 3 1]"},
		{"SORT ids BY o_* ALPHA", "[3 4 1 2]"},
		{"SORT ids GET #", "[1 2 3 4]"},
		{"SORT ids GET o_* GET # GET h_*->name", "[one 1 h1 two 2 h2 (nil) 3 (nil) four 4 (nil)]"},
		{"SORT ids GET nothing LIMIT 0 2", "[(nil) (nil)]"},
		{"SORT ids BY w_* GET o_*", "[two four (nil) one]"},
		{"SORT ids BY nosort GET h_*->", "[(nil) (nil) (nil) (nil)]"},
		{"SORT la BY num GET x:*->", "[100]"},
		{"SORT_RO la BY nosort GET x:*->", "[100]"},
		{"SORT set BY score:*", "[a aa aaa azz b z]"},
		{"SORT nope", "[]"},
		{"SORT nope BY x GET #", "[]"},
		{"SORT s", "(error) WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"SORT nums foo", "(error) ERR syntax error"},
		{"SORT nums LIMIT 1", "(error) ERR syntax error"},
		{"SORT nums LIMIT a 1", "(error) ERR value is not an integer or out of range"},
		{"SORT nums BY", "(error) ERR syntax error"},
		{"SORT_RO nums STORE x", "(error) ERR syntax error"},
		{"SORT_RO nums DESC", "[10 3 2.5 2 1 -4]"},
	} {
		if got := s.do(c.cmd); got != c.want {
			t.Errorf("%s = %q, want %q", c.cmd, got, c.want)
		}
	}
}

type sortStep struct{ cmd, want string }

func TestSortStore(t *testing.T) {
	s := newSortEnv(t)
	s.coll(TypeList, "l", "2", "1", "4", "3", "5")
	s.coll(TypeSet, "set", "c", "a", "b")
	s.coll(TypeList, "foo", "bar")
	for _, c := range []struct{ cmd, want, key, list string }{
		{"SORT l STORE dst", "5", "dst", "[1 2 3 4 5]"},
		{"SORT l BY nosort STORE dst", "5", "dst", "[2 1 4 3 5]"},
		{"SORT l BY nosort LIMIT 0 3 STORE dst", "3", "dst", "[2 1 4]"},
		{"SORT l GET # GET nope STORE dst LIMIT 0 2", "4", "dst", "[1  2 ]"},
		// A set has no order of its own: with STORE it is sorted even BY a constant.
		{"SORT set BY nosort STORE dst", "3", "dst", "[a b c]"},
		{"SORT l LIMIT 10 10 STORE new", "0", "new", "(none)"},
		{"SORT nope STORE foo", "0", "foo", "(none)"},
		{"SORT l STORE a STORE b", "5", "b", "[1 2 3 4 5]"},
	} {
		if got := s.do(c.cmd); got != c.want {
			t.Errorf("%s = %q, want %q", c.cmd, got, c.want)
		}
		if got := s.list(c.key); got != c.list {
			t.Errorf("after %s: %s = %s, want %s", c.cmd, c.key, got, c.list)
		}
	}
	if s.c.DB.Peek([]byte("a")) != nil {
		t.Errorf("SORT ... STORE a STORE b wrote a")
	}
}

func TestSortGetKeys(t *testing.T) {
	cmd := sortCommands()[0]
	for _, c := range []struct {
		args string
		want []int
	}{
		{"sort abc store def", []int{1, 3}},
		{"sort abc store invalid store stillbad store def", []int{1, 7}},
		{"sort abc limit store x 1 get store by store", []int{1}},
		{"sort abc store", []int{1}},
	} {
		got := cmd.KeyIndexes(bytes.Fields([]byte(c.args)))
		if len(got) != len(c.want) || (len(got) == 2 && got[1] != c.want[1]) {
			t.Errorf("%s: keys at %v, want %v", c.args, got, c.want)
		}
	}
}

func TestParseSortScore(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"", 0, true}, {"1", 1, true}, {"-2.5", -2.5, true}, {" \t3", 3, true}, {"3 ", 0, false},
		{"  ", 0, false}, {"0x10", 16, true}, {"0x1p4", 16, true}, {"inf", 0, true}, {"-Infinity", 0, true},
		{"nan", 0, false}, {"1e400", 0, false}, {"1e-400", 0, false}, {"0e-400", 0, true},
		{"1_000", 0, false}, {"+-1", 0, false}, {"1\x00junk", 1, true}, {"abc", 0, false}, {".5", 0.5, true},
		{"1e", 0, false}, {"0x", 0, false},
	} {
		got, ok := parseSortScore([]byte(c.in))
		if ok != c.ok || (ok && c.want != 0 && got != c.want) {
			t.Errorf("parseSortScore(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
