package server_test

import (
	"strings"
	"testing"
	"time"

	"kv/config"
	"kv/engine"
	"kv/internal/kvtest"
)

// The engine's event classes are the configuration's bits, so the server tests one
// against the other without a table.
func TestEventClassesMatchConfig(t *testing.T) {
	pairs := []struct {
		e engine.EventClass
		c int
	}{
		{engine.EventKeyspace, config.NotifyKeyspace}, {engine.EventKeyevent, config.NotifyKeyevent},
		{engine.EventGeneric, config.NotifyGeneric}, {engine.EventString, config.NotifyString},
		{engine.EventList, config.NotifyList}, {engine.EventSet, config.NotifySet},
		{engine.EventHash, config.NotifyHash}, {engine.EventZSet, config.NotifyZset},
		{engine.EventExpired, config.NotifyExpired}, {engine.EventEvicted, config.NotifyEvicted},
		{engine.EventStream, config.NotifyStream}, {engine.EventKeyMiss, config.NotifyKeyMiss},
		{engine.EventLoaded, config.NotifyLoaded}, {engine.EventModule, config.NotifyModule},
		{engine.EventNew, config.NotifyNew},
	}
	for _, p := range pairs {
		if int(p.e) != p.c {
			t.Errorf("engine class %#x != config bit %#x", p.e, p.c)
		}
	}
}

// TestKeyspaceEvents runs commands under a notify-keyspace-events setting and checks
// the events published, as "channel payload", in order.
func TestKeyspaceEvents(t *testing.T) {
	cases := []struct {
		name  string
		flags string
		needs string // a command the case needs; skipped until it exists
		cmds  []string
		want  []string
	}{
		{name: "off", flags: "", cmds: []string{"SET k v"}, want: nil},
		{name: "keyspace only", flags: "K$", cmds: []string{"SET k v"},
			want: []string{"__keyspace@0__:k set"}},
		{name: "keyevent only", flags: "E$", cmds: []string{"SET k v"},
			want: []string{"__keyevent@0__:set k"}},
		{name: "both, keyspace first", flags: "KE$", cmds: []string{"SET k v"},
			want: []string{"__keyspace@0__:k set", "__keyevent@0__:set k"}},
		{name: "class filters", flags: "Eh", cmds: []string{"SET k v", "HSET h f v"},
			want: []string{"__keyevent@0__:hset h"}},
		{name: "database number", flags: "E$", cmds: []string{"SELECT 3", "SET k v", "SELECT 0"},
			want: []string{"__keyevent@3__:set k"}},
		{name: "generic", flags: "Eg", cmds: []string{"SET k v EX 100", "GETEX k PERSIST", "GETDEL k"},
			want: []string{"__keyevent@0__:expire k", "__keyevent@0__:persist k", "__keyevent@0__:del k"}},
		{name: "strings", flags: "E$", cmds: []string{"SET s 1", "INCR s", "INCRBYFLOAT s 1.5", "APPEND s x", "SETRANGE s 0 a", "SETBIT b 1 1", "MSET m1 a m2 b"},
			want: []string{"__keyevent@0__:set s", "__keyevent@0__:incrby s", "__keyevent@0__:incrbyfloat s",
				"__keyevent@0__:append s", "__keyevent@0__:setrange s", "__keyevent@0__:setbit b",
				"__keyevent@0__:set m1", "__keyevent@0__:set m2"}},
		{name: "hashes", flags: "Egh", cmds: []string{"HSET h a 1 b 2", "HINCRBY h a 1", "HDEL h a", "HDEL h b"},
			want: []string{"__keyevent@0__:hset h", "__keyevent@0__:hincrby h", "__keyevent@0__:hdel h",
				"__keyevent@0__:hdel h", "__keyevent@0__:del h"}},
		{name: "sets", flags: "Es", cmds: []string{"SADD s a b", "SREM s a", "SREM s zz"},
			want: []string{"__keyevent@0__:sadd s", "__keyevent@0__:srem s"}},
		{name: "lists", flags: "El", needs: "lpush", cmds: []string{"LPUSH l a b", "RPOP l"},
			want: []string{"__keyevent@0__:lpush l", "__keyevent@0__:rpop l"}},
		{name: "sorted sets", flags: "Ez", needs: "zadd", cmds: []string{"ZADD z 1 a", "ZINCRBY z 1 a", "ZREM z a"},
			want: []string{"__keyevent@0__:zadd z", "__keyevent@0__:zincr z", "__keyevent@0__:zrem z"}},
		{name: "streams", flags: "Et", needs: "xadd", cmds: []string{"XADD x 1-1 f v"},
			want: []string{"__keyevent@0__:xadd x"}},
		{name: "key miss", flags: "Em", cmds: []string{"GET nokey", "SET k v", "GET k"},
			want: []string{"__keyevent@0__:keymiss nokey"}},
		{name: "new keys", flags: "En", cmds: []string{"SET k v", "SET k w", "HSET h f v"},
			want: []string{"__keyevent@0__:new k", "__keyevent@0__:new h"}},
		// A is every class but key miss and new.
		{name: "all", flags: "KEA", cmds: []string{"GET nokey", "SET k v"},
			want: []string{"__keyspace@0__:k set", "__keyevent@0__:set k"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.needs != "" && !implemented(tc.needs) {
				t.Skipf("%s is not implemented yet", strings.ToUpper(tc.needs))
			}
			// A server per case: each starts from an empty keyspace.
			s := kvtest.Start(t)
			w := s.Raw(t)
			sub := s.Raw(t)
			if got := shape(sub.Do("PSUBSCRIBE", "__key*@*__:*")); got != "[psubscribe __key*@*__:* 1]" {
				t.Fatal(got)
			}
			if got := shape(sub.Do("SUBSCRIBE", "end")); got != "[subscribe end 2]" {
				t.Fatal(got)
			}
			if got := w.Do("CONFIG", "SET", "notify-keyspace-events", tc.flags).String(); got != "OK" {
				t.Fatal(got)
			}
			for _, c := range tc.cmds {
				if v := w.Do(splitCmd(c)...); strings.HasPrefix(v.String(), "(error)") {
					t.Fatalf("%s: %s", c, v.String())
				}
			}
			if got := w.Do("CONFIG", "SET", "notify-keyspace-events", "").String(); got != "OK" {
				t.Fatal(got)
			}
			if got := collectEvents(t, w, sub); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestExpiredEvent: a key whose TTL passes publishes "expired" when it is reclaimed.
func TestExpiredEvent(t *testing.T) {
	s := kvtest.Start(t)
	w := s.Raw(t)
	sub := s.Raw(t)
	sub.Do("PSUBSCRIBE", "__key*@*__:*")
	sub.Do("SUBSCRIBE", "end")
	w.Do("CONFIG", "SET", "notify-keyspace-events", "Ex")
	w.Do("SET", "k", "v", "PX", "1")
	time.Sleep(20 * time.Millisecond)
	w.Do("GET", "k")
	got := collectEvents(t, w, sub)
	if strings.Join(got, ",") != "__keyevent@0__:expired k" {
		t.Errorf("events %q", got)
	}
}

// collectEvents publishes a marker after the commands and returns every event the
// subscriber received before it.
func collectEvents(t *testing.T, w, sub *kvtest.Raw) []string {
	t.Helper()
	w.Do("PUBLISH", "end", "x")
	var got []string
	for {
		v := sub.Read()
		if shape(v) == "[message end x]" {
			return got
		}
		if len(v.Elems) != 4 {
			t.Fatalf("unexpected %s", shape(v))
		}
		got = append(got, string(v.Elems[2].Str)+" "+string(v.Elems[3].Str))
	}
}

// implemented reports whether the engine has a command yet, for cases that wait on
// another command group.
func implemented(name string) bool {
	e := engine.New(engine.Options{})
	engine.RegisterAll(e)
	return e.Commands().Lookup([]byte(name)) != nil
}
