package engine_test

import (
	"testing"

	"kv/internal/kvtest"
)

// TestSortRedisSuite runs the cases of Redis's unit/sort.tcl through the real list,
// set, sorted set and hash commands. Until those types are registered it is skipped;
// sort_internal_test.go covers SORT itself meanwhile. With KV_REFERENCE_ADDR the
// same steps are first checked against real Redis.
func TestSortRedisSuite(t *testing.T) {
	referenceCheck(t, nil, sortSuiteSteps)
	s := kvtest.Start(t)
	for _, name := range []string{"rpush", "lpush", "sadd", "zadd", "hset", "set", "lrange", "mset"} {
		if s.E.Commands().Lookup([]byte(name)) == nil {
			t.Skipf("%s is not registered yet", name)
		}
	}
	runKeys(t, s.Raw(t), sortSuiteSteps)
}

var sortSuiteSteps = []kstep{
	{"RPUSH tosort 1 2 3 4", "4"},
	{"MSET weight_1 30 weight_2 10 weight_3 20 weight_4 40", "OK"},
	{"HSET wobj_1 weight 3", "1"}, {"HSET wobj_2 weight 4", "1"}, {"HSET wobj_3 weight 1", "1"}, {"HSET wobj_4 weight 2", "1"},
	{"SORT tosort BY weight_*", "[2 3 1 4]"},
	{"SORT tosort BY weight_* LIMIT 1 2", "[3 1]"},
	{"SORT tosort BY wobj_*->weight", "[3 4 1 2]"},
	{"SORT tosort GET #", "[1 2 3 4]"},
	{"SORT tosort GET foo", "[(nil) (nil) (nil) (nil)]"},
	{"SORT tosort GET # GET weight_* GET wobj_*->weight", "[1 30 3 2 10 4 3 20 1 4 40 2]"},
	{"SORT tosort BY weight_* STORE sort-res", "4"},
	{"LRANGE sort-res 0 -1", "[2 3 1 4]"},
	{"SORT tosort BY wobj_*->weight STORE sort-res", "4"},
	{"LRANGE sort-res 0 -1", "[3 4 1 2]"},
	{"SORT tosort DESC", "[4 3 2 1]"},

	{"LPUSH mylist 2 1 3 10", "4"},
	{"SORT mylist ALPHA", "[1 10 2 3]"},
	{"ZADD zset 1 a 5 b 2 c 10 d 3 e", "5"},
	{"SORT zset ALPHA DESC", "[e d c b a]"},
	{"SORT zset BY nosort ASC", "[a c e b d]"},
	{"SORT zset BY nosort DESC", "[d b e c a]"},
	{"SORT zset BY nosort ASC LIMIT 0 1", "[a]"},
	{"SORT zset BY nosort DESC LIMIT 0 1", "[d]"},
	{"SORT zset BY nosort ASC LIMIT 0 2", "[a c]"},
	{"SORT zset BY nosort DESC LIMIT 0 2", "[d b]"},
	{"SORT zset BY nosort LIMIT 5 10", "[]"},
	{"SORT zset BY nosort LIMIT -10 100", "[a c e b d]"},

	{"LPUSH floats 1.1 5.10 3.10 7.44 2.1 5.75 6.12 0.25 1.15", "9"},
	{"SORT floats", "[0.25 1.1 1.15 2.1 3.10 5.10 5.75 6.12 7.44]"},
	{"SORT foo{t} STORE bar{t}", "0"},
	{"LPUSH foo{t} bar", "1"},
	{"SORT foo{t} ALPHA LIMIT 10 10 STORE zap{t}", "0"},
	{"EXISTS zap{t}", "0"},
	{"SORT emptylist{t} STORE foo{t}", "0"},
	{"EXISTS foo{t}", "0"},
	{"SADD myset a b c d e f g h i l m n o p q r s t u v z aa aaa azz", "24"},
	{"SORT myset ALPHA BY _ STORE mylist2", "24"},
	{"LRANGE mylist2 0 -1", "[a aa aaa azz b c d e f g h i l m n o p q r s t u v z]"},
	{"SORT myset BY score:*", "[a aa aaa azz b c d e f g h i l m n o p q r s t u v z]"},
	{"SADD badset 1 2 3 4 not-a-double", "5"},
	{"SORT badset", "(error) ERR One or more scores can't be converted into double"},
	{"SADD goodset 1 2 3 4", "4"},
	{"MSET score:1 10 score:2 20 score:3 30 score:4 not-a-double", "OK"},
	{"SORT goodset BY score:*", "(error) ERR One or more scores can't be converted into double"},
	{"LPUSH la a", "1"},
	{"SET x:a-> 100", "OK"},
	{"SORT la BY num GET x:*->", "[100]"},
	{"SORT_RO la BY nosort GET x:*->", "[100]"},
	{"LPUSH testa 2 1 4 3 5", "5"},
	{"SORT testa BY nosort", "[5 3 4 1 2]"},
	{"SORT testa BY nosort STORE testb", "5"},
	{"LRANGE testb 0 -1", "[5 3 4 1 2]"},
	{"SORT testa BY nosort LIMIT 0 3 STORE testb", "3"},
	{"LRANGE testb 0 -1", "[5 3 4]"},
	{"SORT_RO foolist STORE bar", "(error) ERR syntax error"},
	{"SET str x", "OK"},
	{"SORT str", "(error) WRONGTYPE Operation against a key holding the wrong kind of value"},
}

// TestSortSetsAndHashes covers SORT over real sets with hash-field weights, and COPY
// of sets and hashes (each copy independent of its source, encoding kept).
func TestSortSetsAndHashes(t *testing.T) {
	steps := []kstep{
		{"SADD ints 5 3 10 1", "4"},
		{"SADD words b c a", "3"},
		{"HSET h_a w 3 name x", "2"},
		{"HSET h_b w 1", "1"},
		{"SET w_c 2", "OK"},
		{"SORT ints", "[1 3 5 10]"},
		{"SORT ints DESC LIMIT 0 2", "[10 5]"},
		{"SORT ints ALPHA", "[1 10 3 5]"},
		{"SORT words", "(error) ERR One or more scores can't be converted into double"},
		{"SORT words ALPHA", "[a b c]"},
		{"SORT words BY h_*->w", "[c b a]"},
		{"SORT words BY h_*->w GET h_*->name GET #", "[(nil) c (nil) b x a]"},
		{"SORT_RO words BY w_* ALPHA LIMIT 2 1", "[c]"},
		{"COPY ints ints2", "1"},
		{"SADD ints 99", "1"},
		{"SCARD ints2", "4"},
		{"OBJECT ENCODING ints2", "intset"},
		{"SADD words2 x", "1"},
		{"COPY words words2", "0"},
		{"COPY words words2 REPLACE", "1"},
		{"SORT words2 ALPHA", "[a b c]"},
		{"COPY h_a h2 DB 2", "1"},
		{"HSET h_a w 4", "0"},
		{"SELECT 2", "OK"},
		{"HGET h2 w", "3"},
		{"OBJECT ENCODING h2", "listpack"},
		{"TYPE h2", "hash"},
		{"SCAN 0 TYPE hash", "[0 [h2]]"},
	}
	referenceCheck(t, nil, steps)
	s := kvtest.Start(t)
	for _, name := range []string{"sadd", "hset", "set", "scard", "hget"} {
		if s.E.Commands().Lookup([]byte(name)) == nil {
			t.Skipf("%s is not registered yet", name)
		}
	}
	runKeys(t, s.Raw(t), steps)
}
