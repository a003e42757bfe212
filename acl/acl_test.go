package acl

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kv/engine"
)

func newTestACL(t *testing.T) *ACL {
	t.Helper()
	e := engine.New(engine.Options{Databases: 16})
	engine.RegisterAll(e)
	// Server-level commands the rules below mention, with Redis 7.0's categories.
	e.Commands().Add(
		&engine.Command{Name: "select", Arity: 2, ACL: []string{"fast", "connection"}},
		&engine.Command{Name: "flushall", Arity: -1, Flags: engine.FlagWrite, ACL: []string{"keyspace", "write", "slow", "dangerous"}},
		&engine.Command{Name: "publish", Arity: 3, Flags: engine.FlagPubsub, ACL: []string{"pubsub", "fast"}},
		&engine.Command{Name: "copy", Arity: -3, Flags: engine.FlagWrite, ACL: []string{"keyspace", "write", "slow"}},
		&engine.Command{Name: "auth", Arity: -2, Flags: engine.FlagNoAuth, ACL: []string{"fast", "connection"}},
	)
	return New(e.Commands())
}

func args(s ...string) [][]byte {
	out := make([][]byte, len(s))
	for i, a := range s {
		out[i] = []byte(a)
	}
	return out
}

func TestRulesRoundTrip(t *testing.T) {
	tests := []struct {
		rules []string
		want  string
	}{
		{nil, "off resetchannels -@all"},
		{[]string{"on", ">pw"}, "on #" + HashPassword([]byte("pw")) + " resetchannels -@all"},
		{[]string{"on", "nopass", "~app:*", "+@read", "-get"}, "on nopass ~app:* resetchannels -@all +@read -get"},
		{[]string{"allkeys", "allchannels", "allcommands"}, "off ~* &* +@all"},
		{[]string{"%R~r*", "%W~w*", "%RW~rw*"}, "off %R~r* %W~w* ~rw* resetchannels -@all"},
		{[]string{"%R~k", "%W~k"}, "off ~k resetchannels -@all"},
		{[]string{"&a", "&b", "&a"}, "off resetchannels &a &b -@all"},
		{[]string{"+@all", "-@hash"}, "off resetchannels +@all -@hash"},
		{[]string{"+select|0"}, "off resetchannels -@all +select|0"},
		{[]string{"(~x* +get)", "(+set ~y)"}, "off resetchannels -@all (~x* resetchannels -@all +get) (~y resetchannels -@all +set)"},
		{[]string{"(~x*", "+get)"}, "off resetchannels -@all (~x* resetchannels -@all +get)"},
		{[]string{"on", "reset"}, "off sanitize-payload resetchannels -@all"},
		{[]string{"nopass", "resetpass"}, "off resetchannels -@all"},
		{[]string{"#" + strings.Repeat("a", 64)}, "off #" + strings.Repeat("a", 64) + " resetchannels -@all"},
		{[]string{">a", "<a"}, "off resetchannels -@all"},
		{[]string{"(+get)", "clearselectors"}, "off resetchannels -@all"},
		{[]string{"skip-sanitize-payload"}, "off skip-sanitize-payload resetchannels -@all"},
		{[]string{""}, "off resetchannels -@all"},
	}
	for _, tc := range tests {
		a := newTestACL(t)
		if err := a.SetUser("u", tc.rules); err != nil {
			t.Errorf("%q: %v", tc.rules, err)
			continue
		}
		got := a.Rules(a.User("u"))
		if got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.rules, got, tc.want)
		}
		// What ACL LIST prints must parse back to the same user.
		b := newTestACL(t)
		if err := b.SetUser("u", strings.Split(got, " ")); err != nil {
			t.Errorf("%q: reparse: %v", got, err)
		} else if again := b.Rules(b.User("u")); again != got {
			t.Errorf("%q: reparse gives %q", got, again)
		}
	}
}

func TestRuleErrors(t *testing.T) {
	tests := []struct {
		rules []string
		want  string
	}{
		{[]string{"~a", "allkeys", "~b"}, "Error in ACL SETUSER modifier '~b': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"},
		{[]string{"allchannels", "&x"}, "Error in ACL SETUSER modifier '&x': Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"},
		{[]string{"#abc"}, "Error in ACL SETUSER modifier '#abc': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"},
		{[]string{"#" + strings.Repeat("A", 64)}, "Error in ACL SETUSER modifier '#" + strings.Repeat("A", 64) + "': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"},
		{[]string{"<nope"}, "Error in ACL SETUSER modifier '<nope': The password you are trying to remove from the user does not exist"},
		{[]string{"+nosuch"}, "Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL"},
		{[]string{"-@nosuch"}, "Error in ACL SETUSER modifier '-@nosuch': Unknown command or category name in ACL"},
		{[]string{"-select|0"}, "Error in ACL SETUSER modifier '-select|0': Unknown command or category name in ACL"},
		{[]string{"+get|"}, "Error in ACL SETUSER modifier '+get|': Syntax error"},
		{[]string{"bogus"}, "Error in ACL SETUSER modifier 'bogus': Syntax error"},
		{[]string{"%X~a"}, "Error in ACL SETUSER modifier '%X~a': Syntax error"},
		{[]string{"%RR~a"}, "Error in ACL SETUSER modifier '%RR~a': Syntax error"},
		{[]string{"(~a", "b"}, "Unmatched parenthesis in acl selector starting at '(~a'."},
		{[]string{"(~a bogus)"}, "Error in ACL SETUSER modifier '(~a bogus)': Syntax error"},
	}
	for _, tc := range tests {
		a := newTestACL(t)
		err := a.SetUser("u", tc.rules)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: got %v\nwant %s", tc.rules, err, tc.want)
		}
		if a.User("u") != nil {
			t.Errorf("%q: a failed SETUSER created the user", tc.rules)
		}
	}
}

func TestSetUserIsAllOrNothing(t *testing.T) {
	a := newTestACL(t)
	if err := a.SetUser("u", []string{"on", "~a"}); err != nil {
		t.Fatal(err)
	}
	before := a.Rules(a.User("u"))
	if err := a.SetUser("u", []string{"off", "~b", "+nosuch"}); err == nil {
		t.Fatal("want error")
	}
	if got := a.Rules(a.User("u")); got != before {
		t.Fatalf("partial change: %q, was %q", got, before)
	}
}

func TestCheckCommand(t *testing.T) {
	a := newTestACL(t)
	table := a.cmds
	cmd := func(name string) *engine.Command { return lookup(table, name) }
	tests := []struct {
		rules  []string
		args   []string
		reason int // 0 allowed
		pos    int
	}{
		{[]string{"+@all", "~app:*"}, []string{"get", "app:1"}, 0, 0},
		{[]string{"+@all", "~app:*"}, []string{"get", "other"}, DeniedKey, 1},
		{[]string{"+@all", "~app:*"}, []string{"mset", "app:1", "v", "x", "v"}, DeniedKey, 3},
		{[]string{"+@read", "~*"}, []string{"set", "k", "v"}, DeniedCommand, 0},
		{[]string{"+@read", "~*"}, []string{"get", "k"}, 0, 0},
		{[]string{"+@all", "-@string", "~*"}, []string{"get", "k"}, DeniedCommand, 0},
		{[]string{"+@all", "-get", "~*"}, []string{"getrange", "k", "0", "1"}, 0, 0},
		{[]string{"+select|0"}, []string{"select", "0"}, 0, 0},
		{[]string{"+select|0"}, []string{"select", "1"}, DeniedCommand, 0},
		{[]string{"+@all", "%R~r*", "%W~w*"}, []string{"copy", "r1", "w1"}, 0, 0},
		{[]string{"+@all", "%R~r*", "%W~w*"}, []string{"copy", "w1", "r1"}, DeniedKey, 1},
		{[]string{"+@all", "%R~r*"}, []string{"set", "r1", "v"}, DeniedKey, 1},
		{[]string{"+@all", "%W~w*"}, []string{"set", "w1", "v"}, 0, 0},
		{[]string{"+@all", "%W~w*"}, []string{"set", "w1", "v", "get"}, DeniedKey, 1},
		{[]string{"+@all", "%R~r*"}, []string{"bitfield", "r1", "get", "u8", "0"}, 0, 0},
		{[]string{"+@all", "%R~r*"}, []string{"bitfield", "r1", "set", "u8", "0", "1"}, DeniedKey, 1},
		{[]string{"+@all", "%R~r*", "%W~w*"}, []string{"smove", "r1", "w1", "m"}, DeniedKey, 1},
		{[]string{"+@all", "~k*"}, []string{"sintercard", "2", "k1", "x", "limit", "1"}, DeniedKey, 3},
		{[]string{"-@all", "(+get ~a*)", "(+set ~b*)"}, []string{"set", "a1", "v"}, DeniedKey, 1},
		{[]string{"-@all", "(+get ~a*)", "(+set ~b*)"}, []string{"set", "b1", "v"}, 0, 0},
		{[]string{"-@all"}, []string{"auth", "x"}, 0, 0},
	}
	for _, tc := range tests {
		if err := a.SetUser("t", append([]string{"reset"}, tc.rules...)); err != nil {
			t.Fatalf("%q: %v", tc.rules, err)
		}
		c := cmd(tc.args[0])
		if c == nil {
			t.Fatalf("no command %s", tc.args[0])
		}
		err := CheckCommand(a.User("t"), c, args(tc.args...))
		var d *Denied
		switch {
		case tc.reason == 0 && err != nil:
			t.Errorf("%q %q: denied: %v", tc.rules, tc.args, err)
		case tc.reason != 0 && !errors.As(err, &d):
			t.Errorf("%q %q: allowed, want reason %d", tc.rules, tc.args, tc.reason)
		case tc.reason != 0 && (d.Reason != tc.reason || d.ArgPos != tc.pos):
			t.Errorf("%q %q: reason %d pos %d, want %d %d", tc.rules, tc.args, d.Reason, d.ArgPos, tc.reason, tc.pos)
		}
	}
}

func TestErrorTexts(t *testing.T) {
	for _, tc := range []struct {
		d    Denied
		want string
	}{
		{Denied{Reason: DeniedCommand, Cmd: "get"}, "NOPERM this user has no permissions to run the 'get' command"},
		{Denied{Reason: DeniedKey}, "NOPERM this user has no permissions to access one of the keys used as arguments"},
		{Denied{Reason: DeniedChannel}, "NOPERM this user has no permissions to access one of the channels used as arguments"},
	} {
		if got := tc.d.Error(); got != tc.want {
			t.Errorf("got %q want %q", got, tc.want)
		}
	}
}

func TestChannels(t *testing.T) {
	a := newTestACL(t)
	if err := a.SetUser("u", []string{"&news.*", "&exact"}); err != nil {
		t.Fatal(err)
	}
	u := a.User("u")
	for _, tc := range []struct {
		ch      string
		pattern bool
		want    bool
	}{
		{"news.1", false, true}, {"other", false, false}, {"exact", false, true},
		{"news.*", true, true}, {"news.1*", true, false}, {"*", true, false},
	} {
		if got := CheckChannel(u, []byte(tc.ch), tc.pattern); got != tc.want {
			t.Errorf("%s pattern=%v: %v", tc.ch, tc.pattern, got)
		}
	}
	if err := a.SetUser("u", []string{"+publish"}); err != nil {
		t.Fatal(err)
	}
	pub := lookup(a.cmds, "publish")
	err := CheckCommand(u, pub, args("publish", "other", "m"))
	var d *Denied
	if !errors.As(err, &d) || d.Reason != DeniedChannel || d.ArgPos != 1 {
		t.Fatalf("publish other: %v", err)
	}
	if err := CheckCommand(u, pub, args("publish", "news.x", "m")); err != nil {
		t.Fatalf("publish news.x: %v", err)
	}
}

func TestAuthenticate(t *testing.T) {
	a := newTestACL(t)
	if a.DefaultNeedsAuth() || !a.DefaultNoPass() {
		t.Fatal("default user must start nopass")
	}
	a.SetDefaultPassword("secret")
	if !a.DefaultNeedsAuth() || a.DefaultNoPass() {
		t.Fatal("requirepass must make the default user need a password")
	}
	if a.Authenticate([]byte("default"), []byte("bad")) != nil || a.Authenticate([]byte("default"), []byte("secret")) != a.Default {
		t.Fatal("default password")
	}
	_ = a.SetUser("u", []string{">p1", ">p2"})
	if a.Authenticate([]byte("u"), []byte("p1")) != nil {
		t.Fatal("a user that is off must not log in")
	}
	_ = a.SetUser("u", []string{"on"})
	if a.Authenticate([]byte("u"), []byte("p2")) == nil || a.Authenticate([]byte("nobody"), []byte("p2")) != nil {
		t.Fatal("passwords")
	}
}

func TestLogGrouping(t *testing.T) {
	a := newTestACL(t)
	a.SetLogMaxLen(3)
	e := LogEntry{Reason: DeniedCommand, Context: CtxToplevel, Object: "get", Username: "u", CTime: 1000}
	a.AddLog(e)
	e.CTime = 2000
	a.AddLog(e)
	if l := a.Log(10); len(l) != 1 || l[0].Count != 2 || l[0].CTime != 2000 {
		t.Fatalf("similar entries must group: %+v", l)
	}
	e.CTime = 2000 + groupWindow + 1
	a.AddLog(e)
	for i := 0; i < 5; i++ {
		e.Object = string(rune('a' + i))
		a.AddLog(e)
	}
	l := a.Log(10)
	if len(l) != 3 || l[0].Object != "e" {
		t.Fatalf("max len and order: %+v", l)
	}
	a.ResetLog()
	if len(a.Log(10)) != 0 {
		t.Fatal("reset")
	}
}

func TestFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "users.acl")
	a := newTestACL(t)
	_ = a.SetUser("alice", []string{"on", ">pw", "~app:*", "&chan", "+@read", "(%W~w* +set)"})
	_ = a.SetUser("default", []string{"resetpass", ">dpw"})
	if err := a.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	b := newTestACL(t)
	def := b.Default
	if err := b.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if b.Default != def {
		t.Fatal("the default user must keep its identity across LOAD")
	}
	for _, name := range []string{"alice", "default"} {
		if got, want := b.Rules(b.User(name)), a.Rules(a.User(name)); got != want {
			t.Errorf("%s: %q, saved %q", name, got, want)
		}
	}
	if b.Authenticate([]byte("default"), []byte("dpw")) == nil {
		t.Fatal("default password lost")
	}

	bad := filepath.Join(dir, "bad.acl")
	os.WriteFile(bad, []byte("user x on +nosuch\nuser x on\nfoo bar\n"), 0o644)
	err := b.LoadFile(bad)
	want := bad + ":1: Error in applying operation '+nosuch': Unknown command or category name in ACL. " +
		"WARNING: Duplicate user 'x' found on line 2. " + bad + ":3 should start with user keyword followed by the username. " +
		"WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	if b.User("alice") == nil {
		t.Fatal("a failed LOAD must keep the old users")
	}
	err = b.LoadFile(filepath.Join(dir, "missing.acl"))
	if err == nil || !strings.Contains(err.Error(), "No such file or directory") {
		t.Fatalf("missing file: %v", err)
	}
}
