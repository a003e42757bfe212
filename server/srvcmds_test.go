package server_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"kv/engine"
	"kv/internal/kvtest"
	"kv/resp"
	"kv/server"
)

// steps runs commands on one raw connection and compares the rendered replies.
func steps(t *testing.T, r *kvtest.Raw, cases [][2]string) {
	t.Helper()
	for _, c := range cases {
		if got := r.Do(splitArgs(c[0])...).String(); got != c[1] {
			t.Errorf("%s = %q, want %q", c[0], got, c[1])
		}
	}
}

func splitArgs(s string) []string {
	args, err := resp.SplitArgs([]byte(s))
	if err != nil {
		panic(err)
	}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = string(a)
	}
	return out
}

func withDebug(o *server.Options) { o.EnableDebugCommand = "yes" }

func TestAuthHelloReset(t *testing.T) {
	s := kvtest.Start(t)
	steps(t, s.Raw(t), [][2]string{
		{"AUTH x", "(error) ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"},
		{"AUTH default anything", "OK"},
		{"AUTH nobody x", "(error) WRONGPASS invalid username-password pair or user is disabled."},
		{"AUTH a b c", "(error) ERR syntax error"},
		{"HELLO 4", "(error) NOPROTO unsupported protocol version"},
		{"HELLO 1", "(error) NOPROTO unsupported protocol version"},
		{"HELLO x", "(error) ERR Protocol version is not an integer or out of range"},
		{"HELLO 3 bogus", "(error) ERR Syntax error in HELLO option 'bogus'"},
		{"HELLO 3 SETNAME \"a b\"", "(error) ERR Client names cannot contain spaces, newlines or special characters."},
		{"HELLO 2 SETNAME conn1", "[server redis version 7.0.15 proto 2 id 1 mode standalone role master modules []]"},
		{"CLIENT GETNAME", "conn1"},
		{"RESET", "RESET"},
		{"CLIENT GETNAME", "(nil)"},
	})

	pw := kvtest.Start(t, func(o *server.Options) { o.RequirePass = "secret" })
	steps(t, pw.Raw(t), [][2]string{
		{"PING", "(error) NOAUTH Authentication required."},
		{"HELLO 3", "(error) NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"},
		{"AUTH wrong", "(error) WRONGPASS invalid username-password pair or user is disabled."},
		{"AUTH secret", "OK"},
		{"PING", "PONG"},
		{"RESET", "RESET"},
		{"PING", "(error) NOAUTH Authentication required."},
		{"HELLO 2 AUTH default secret", "[server redis version 7.0.15 proto 2 id 1 mode standalone role master modules []]"},
		{"PING", "PONG"},
	})
}

func TestHello3SwitchesToMaps(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	v := r.Do("HELLO", "3")
	if v.Kind != resp.KindMap || len(v.Elems) != 14 {
		t.Fatalf("HELLO 3 = %v (kind %c), want a 7-pair map", v, v.Kind)
	}
	if v := r.Do("CONFIG", "GET", "port"); v.Kind != resp.KindMap {
		t.Errorf("CONFIG GET under RESP3 is %c, want a map", v.Kind)
	}
	if v := r.Do("CLIENT", "INFO"); v.Kind != resp.KindVerbatim || !strings.Contains(string(v.Str), " resp=3") {
		t.Errorf("CLIENT INFO = %v", v)
	}
}

var clientLine = regexp.MustCompile(`^id=\d+ addr=127\.0\.0\.1:\d+ laddr=127\.0\.0\.1:\d+ fd=\d+ name=\S* age=\d+ idle=\d+ flags=N db=\d+ sub=0 psub=0 ssub=0 multi=-1 qbuf=26 qbuf-free=\d+ argv-mem=10 multi-mem=0 rbs=\d+ rbp=\d+ obl=0 oll=0 omem=0 tot-mem=\d+ events=r cmd=client\|(list|info) user=default redir=-1 resp=2$`)

func TestClientCommands(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	for _, sub := range []string{"LIST", "INFO"} {
		line := strings.TrimSuffix(r.Do("CLIENT", sub).String(), "\n")
		if !clientLine.MatchString(line) {
			t.Errorf("CLIENT %s = %q", sub, line)
		}
	}
	steps(t, r, [][2]string{
		{"CLIENT ID", "1"},
		{"CLIENT SETNAME foo", "OK"},
		{"CLIENT GETNAME", "foo"},
		{"CLIENT SETNAME \"a b\"", "(error) ERR Client names cannot contain spaces, newlines or special characters."},
		{"CLIENT SETINFO lib-name go-redis", "OK"},
		{"CLIENT SETINFO lib-name \"a b\"", "(error) ERR lib-name cannot contain spaces, newlines or special characters."},
		{"CLIENT SETINFO other x", "(error) ERR Unrecognized option 'other'"},
		{"CLIENT LIST TYPE bogus", "(error) ERR Unknown client type 'bogus'"},
		{"CLIENT LIST ID x", "(error) ERR Invalid client ID"},
		{"CLIENT LIST x", "(error) ERR syntax error"},
		{"CLIENT KILL", "(error) ERR wrong number of arguments for 'client|kill' command"},
		{"CLIENT KILL id 10 wrong_arg", "(error) ERR syntax error"},
		{"CLIENT KILL id str", "(error) ERR client-id should be greater than 0"},
		{"CLIENT KILL id 0", "(error) ERR client-id should be greater than 0"},
		{"CLIENT KILL type wrong_type", "(error) ERR Unknown client type 'wrong_type'"},
		{"CLIENT KILL user wrong_user", "(error) ERR No such user 'wrong_user'"},
		{"CLIENT KILL skipme yes_or_no", "(error) ERR syntax error"},
		{"CLIENT KILL 1.2.3.4:5", "(error) ERR No such client"},
		{"CLIENT NO-EVICT maybe", "(error) ERR syntax error"},
		{"CLIENT NO-EVICT on", "OK"},
		{"CLIENT PAUSE x", "(error) ERR timeout is not an integer or out of range"},
		{"CLIENT PAUSE -1", "(error) ERR timeout is negative"},
		{"CLIENT PAUSE 10 sometimes", "(error) ERR CLIENT PAUSE mode must be WRITE or ALL"},
		{"CLIENT UNPAUSE", "OK"},
		{"CLIENT REPLY maybe", "(error) ERR syntax error"},
		{"CLIENT BOGUS", "(error) ERR unknown subcommand 'BOGUS'. Try CLIENT HELP."},
		{"CLIENT", "(error) ERR wrong number of arguments for 'client' command"},
	})
	if got := r.Do("CLIENT", "LIST", "ID", "1"); !strings.Contains(got.String(), "flags=e ") {
		t.Errorf("NO-EVICT not in flags: %v", got)
	}
}

func TestClientKill(t *testing.T) {
	s := kvtest.Start(t)
	me, other := s.Raw(t), s.Raw(t)
	other.Do("CLIENT", "SETNAME", "victim")
	id := other.Do("CLIENT", "ID").String()
	if got := me.Do("CLIENT", "KILL", "ID", id).String(); got != "1" {
		t.Fatalf("CLIENT KILL ID = %s", got)
	}
	if _, err := other.ReadErr(); err == nil {
		t.Error("killed connection still open")
	}
	if got := me.Do("CLIENT", "LIST").String(); strings.Contains(got, "victim") {
		t.Errorf("killed client still listed: %s", got)
	}
	// The old form by address, and SKIPME no killing the caller after its reply.
	third := s.Raw(t)
	// The dial returns before the server's accept loop has registered the connection.
	deadline := time.Now().Add(kvtest.Timeout)
	for !strings.Contains(me.Do("CLIENT", "LIST").String(), "addr="+third.NC.LocalAddr().String()+" ") {
		if time.Now().After(deadline) {
			t.Fatal("third connection never listed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := me.Do("CLIENT", "KILL", third.NC.LocalAddr().String()).String(); got != "OK" {
		t.Errorf("CLIENT KILL addr = %s", got)
	}
	if got := me.Do("CLIENT", "KILL", "SKIPME", "no").String(); got != "1" {
		t.Errorf("CLIENT KILL SKIPME no = %s", got)
	}
	if _, err := me.ReadErr(); err == nil {
		t.Error("caller still connected after killing itself")
	}
}

func TestClientReply(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	r.Send(string(resp.AppendCommandStrings(nil, "CLIENT", "REPLY", "OFF")))
	r.Send(string(resp.AppendCommandStrings(nil, "PING", "a")))
	r.Send(string(resp.AppendCommandStrings(nil, "CLIENT", "REPLY", "ON")))
	if got := r.Read().String(); got != "OK" {
		t.Fatalf("after REPLY OFF/ON got %q", got)
	}
	r.Send(string(resp.AppendCommandStrings(nil, "CLIENT", "REPLY", "SKIP")))
	r.Send(string(resp.AppendCommandStrings(nil, "PING", "skipped")))
	if got := r.Do("PING", "seen").String(); got != "seen" {
		t.Fatalf("after REPLY SKIP got %q", got)
	}
}

func TestClientPauseWrite(t *testing.T) {
	s := kvtest.Start(t)
	// A write and a read command of our own, so the test does not depend on the
	// string commands: CLIENT PAUSE decides by flags alone.
	s.E.Lock()
	s.E.Commands().Add(
		&engine.Command{Name: "tset", Arity: 1, Flags: engine.FlagWrite, Handler: func(c *engine.Ctx) { c.W.OK() }},
		&engine.Command{Name: "tget", Arity: 1, Flags: engine.FlagReadonly, Handler: func(c *engine.Ctx) { c.W.OK() }},
	)
	s.E.Unlock()
	admin, cl := s.Raw(t), s.Raw(t)
	timed := func(cmd string) time.Duration {
		start := time.Now()
		if got := cl.Do(cmd).String(); got != "OK" {
			t.Fatalf("%s = %q", cmd, got)
		}
		return time.Since(start)
	}
	steps(t, admin, [][2]string{{"CLIENT PAUSE 300 WRITE", "OK"}})
	if d := timed("TGET"); d > 200*time.Millisecond {
		t.Errorf("read waited %v under PAUSE WRITE", d)
	}
	if d := timed("TSET"); d < 150*time.Millisecond || d > 3*time.Second {
		t.Errorf("write waited %v under a 300ms PAUSE WRITE", d)
	}
	// Inside MULTI a write waits before it is even queued, as in Redis.
	steps(t, cl, [][2]string{{"MULTI", "OK"}, {"TGET", "QUEUED"}})
	steps(t, admin, [][2]string{{"CLIENT PAUSE 300 WRITE", "OK"}})
	start := time.Now()
	steps(t, cl, [][2]string{{"TSET", "QUEUED"}})
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("write inside MULTI waited only %v", d)
	}
	steps(t, cl, [][2]string{{"EXEC", "[OK OK]"}})
	// PAUSE ALL holds reads as well; UNPAUSE from another client releases them.
	steps(t, admin, [][2]string{{"CLIENT PAUSE 10000 ALL", "OK"}})
	done := make(chan time.Duration, 1)
	go func() { done <- timed("TGET") }()
	select {
	case <-done:
		t.Fatal("read ran during PAUSE ALL")
	case <-time.After(100 * time.Millisecond):
	}
	s.E.Lock()
	s.Srv.Unpause()
	s.E.Unlock()
	select {
	case <-done:
	case <-time.After(kvtest.Timeout):
		t.Fatal("read never ran after the pause ended")
	}
}

func TestMonitor(t *testing.T) {
	s := kvtest.Start(t)
	mon, cl := s.Raw(t), s.Raw(t)
	if got := mon.Do("MONITOR").String(); got != "OK" {
		t.Fatal(got)
	}
	cl.Do("ECHO", "a \"b\"\n")
	cl.Do("AUTH", "default", "secret")
	cl.Do("CONFIG", "GET", "port") // admin: not shown
	cl.Do("SELECT", "3")
	cl.Do("PING")
	// A script is shown before the commands it calls, which come from "lua".
	cl.Do("EVAL", "return redis.call('set', KEYS[1], 'v')", "1", "k")
	want := []*regexp.Regexp{
		regexp.MustCompile(`^\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "ECHO" "a \\"b\\"\\n"$`),
		regexp.MustCompile(`^\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "AUTH" "\(redacted\)" "\(redacted\)"$`),
		regexp.MustCompile(`^\d+\.\d{6} \[3 127\.0\.0\.1:\d+\] "SELECT" "3"$`),
		regexp.MustCompile(`^\d+\.\d{6} \[3 127\.0\.0\.1:\d+\] "PING"$`),
		regexp.MustCompile(`^\d+\.\d{6} \[3 127\.0\.0\.1:\d+\] "EVAL" "return redis.call\('set', KEYS\[1\], 'v'\)" "1" "k"$`),
		regexp.MustCompile(`^\d+\.\d{6} \[3 lua\] "set" "k" "v"$`),
	}
	for _, re := range want {
		if got := mon.Read().String(); !re.MatchString(got) {
			t.Errorf("monitor line %q does not match %s", got, re)
		}
	}
}

func TestSlowlog(t *testing.T) {
	s := kvtest.Start(t, withDebug)
	r := s.Raw(t)
	steps(t, r, [][2]string{
		{"CONFIG SET slowlog-log-slower-than 0", "OK"},
		{"SLOWLOG RESET", "OK"},
		{"CLIENT SETNAME me", "OK"},
		{"ECHO " + strings.Repeat("A", 129), strings.Repeat("A", 129)},
		// RESET, SETNAME and ECHO: each command is judged after it ran.
		{"SLOWLOG LEN", "3"},
		{"SLOWLOG GET -2", "(error) ERR count should be greater than or equal to -1"},
		{"SLOWLOG GET 0", "[]"},
		{"CONFIG SET slowlog-max-len 1", "OK"},
		{"SLOWLOG LEN", "1"},
	})
	e := r.Do("SLOWLOG", "GET").Elems[0]
	if args := e.Elems[3].String(); args != "[SLOWLOG LEN]" {
		t.Errorf("entry args %s", args)
	}
	if e.Elems[5].String() != "me" || !strings.HasPrefix(e.Elems[4].String(), "127.0.0.1:") {
		t.Errorf("entry client %v", e)
	}
	steps(t, r, [][2]string{
		{"CONFIG SET slowlog-max-len 10", "OK"},
		{"SLOWLOG RESET", "OK"},
		{"ECHO " + strings.Repeat("A", 129), strings.Repeat("A", 129)},
	})
	if got := r.Do("SLOWLOG", "GET", "1").Elems[0].Elems[3].String(); got != "[ECHO "+strings.Repeat("A", 128)+"... (1 more bytes)]" {
		t.Errorf("long argument logged as %s", got)
	}
	steps(t, r, [][2]string{
		{"CONFIG SET slowlog-log-slower-than 100000", "OK"},
		{"SLOWLOG RESET", "OK"},
		{"MULTI", "OK"},
		{"DEBUG SLEEP 0.2", "QUEUED"},
		{"EXEC", "[OK]"},
		{"SLOWLOG LEN", "1"},
	})
	if got := r.Do("SLOWLOG", "GET").Elems[0].Elems[3].String(); got != "[DEBUG SLEEP 0.2]" {
		t.Errorf("EXEC logged as %s", got)
	}
}

// TestSlowlogRedactsPasswords: CONFIG SET of a password setting is logged with
// the value hidden, also when the change is refused.
func TestSlowlogRedactsPasswords(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	steps(t, r, [][2]string{
		{"CONFIG SET slowlog-log-slower-than 0", "OK"},
		{"SLOWLOG RESET", "OK"},
		{"CONFIG SET masterauth secret", "OK"},
		{"CONFIG SET masteruser u1 maxmemory nonsense", "(error) ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"},
		{"CONFIG SET slowlog-log-slower-than -1", "OK"},
	})
	got := r.Do("SLOWLOG", "GET")
	want := []string{"[CONFIG SET masteruser (redacted) maxmemory nonsense]",
		"[CONFIG SET masterauth (redacted)]", "[SLOWLOG RESET]"}
	for i, w := range want {
		if i >= len(got.Elems) || got.Elems[i].Elems[3].String() != w {
			t.Fatalf("SLOWLOG GET = %s, entry %d want %s", got, i, w)
		}
	}
}

func TestLatency(t *testing.T) {
	s := kvtest.Start(t, withDebug)
	r := s.Raw(t)
	steps(t, r, [][2]string{
		{"LATENCY LATEST", "[]"},
		{"CONFIG SET latency-monitor-threshold 50", "OK"},
		{"DEBUG SLEEP 0.1", "OK"},
		{"LATENCY RESET blabla", "0"},
		{"LATENCY HISTORY blabla", "[]"},
		{"LATENCY GRAPH blabla", "(error) ERR No samples available for event 'blabla'"},
		{"LATENCY HELP xxx", "(error) ERR wrong number of arguments for 'latency|help' command"},
	})
	latest := r.Do("LATENCY", "LATEST")
	if len(latest.Elems) != 1 || latest.Elems[0].Elems[0].String() != "command" || latest.Elems[0].Elems[2].Int < 100 {
		t.Errorf("LATENCY LATEST = %v", latest)
	}
	if h := r.Do("LATENCY", "HISTORY", "command"); len(h.Elems) != 1 {
		t.Errorf("LATENCY HISTORY = %v", h)
	}
	if d := r.Do("LATENCY", "DOCTOR").String(); !strings.Contains(d, "command: 1 latency spikes") {
		t.Errorf("LATENCY DOCTOR = %q", d)
	}
	steps(t, r, [][2]string{
		{"CONFIG RESETSTAT", "OK"},
		{"CLIENT ID", "1"},
		{"CLIENT ID", "1"},
	})
	if got := r.Do("LATENCY", "HISTOGRAM", "client").String(); !regexp.MustCompile(`^\[client\|id \[calls 2 histogram_usec \[(\d+ \d+ ?)+\]\]\]$`).MatchString(got) {
		t.Errorf("LATENCY HISTOGRAM client = %s", got)
	}
	if got := r.Do("LATENCY", "RESET").String(); got != "1" {
		t.Errorf("LATENCY RESET = %s", got)
	}
}

func TestInfo(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	r.Do("CLIENT", "ID")
	r.Do("CLIENT", "BOGUS")
	all := r.Do("INFO", "everything").String()
	// Every field redis-cli and the test suite read.
	for _, f := range []string{"redis_version:7.0.15", "redis_mode:standalone", "process_id:", "run_id:", "tcp_port:",
		"uptime_in_seconds:", "connected_clients:1", "maxclients:10000", "blocked_clients:0", "used_memory:",
		"used_memory_human:", "used_memory_rss:", "used_memory_peak:", "maxmemory:0", "maxmemory_policy:noeviction",
		"mem_fragmentation_ratio:", "loading:0", "rdb_changes_since_last_save:", "rdb_bgsave_in_progress:0",
		"aof_enabled:0", "aof_rewrite_in_progress:0", "total_connections_received:1", "total_commands_processed:",
		"instantaneous_ops_per_sec:", "rejected_connections:0", "expired_keys:0", "evicted_keys:0", "keyspace_hits:0",
		"keyspace_misses:0", "pubsub_channels:0", "total_error_replies:1", "role:master", "connected_slaves:0",
		"master_repl_offset:0", "used_cpu_sys:", "used_cpu_user:", "used_cpu_user_children:", "# Modules",
		"cmdstat_client|id:calls=1,usec=", "errorstat_ERR:count=1", "latency_percentiles_usec_client|id:p50=",
		"cluster_enabled:0", "# Keyspace"} {
		if !strings.Contains(all, f) {
			t.Errorf("INFO everything lacks %q", f)
		}
	}
	cases := []struct {
		args     []string
		has, not []string
	}{
		{nil, []string{"# Server", "# Keyspace", "# Errorstats"}, []string{"# Commandstats", "rejected_calls"}},
		{[]string{"default"}, []string{"# CPU"}, []string{"rejected_calls"}},
		{[]string{"all"}, []string{"rejected_calls", "# Latencystats"}, nil},
		{[]string{"cpu"}, []string{"used_cpu_user"}, []string{"used_memory", "# Server"}},
		{[]string{"commandSTATS"}, []string{"rejected_calls"}, []string{"used_memory"}},
		{[]string{"cpu", "sentinel"}, []string{"used_cpu_user"}, []string{"sentinel_tilt", "master_repl_offset"}},
		{[]string{"cpu", "all"}, []string{"used_memory", "master_repl_offset"}, []string{"used_cpu_user_children:0.000000\r\nused_cpu_user_children"}},
	}
	for _, c := range cases {
		got := r.Do(append([]string{"INFO"}, c.args...)...).String()
		for _, h := range c.has {
			if !strings.Contains(got, h) {
				t.Errorf("INFO %v lacks %q", c.args, h)
			}
		}
		for _, n := range c.not {
			if strings.Contains(got, n) {
				t.Errorf("INFO %v has %q", c.args, n)
			}
		}
	}
	if got := r.Do("INFO", "nosuch").String(); got != "" {
		t.Errorf("INFO nosuch = %q", got)
	}
	if got := r.Do("INFO", "keyspace").String(); got != "# Keyspace\r\n\r\n" {
		t.Errorf("INFO keyspace = %q", got)
	}
}

func TestCommandCommand(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	steps(t, r, [][2]string{
		{"COMMAND INFO client|kill", "[[client|kill -3 [admin noscript loading stale] 0 0 0 [@admin @slow @dangerous @connection] [] [] []]]"},
		{"COMMAND INFO get|key config|get|key", "[(nil) (nil)]"},
		{"COMMAND LIST FILTERBY PATTERN cl*help", "[client|help]"},
		{"COMMAND LIST FILTERBY MODULE x", "[]"},
		{"COMMAND LIST FILTERBY ACLCAT nonexistent", "[]"},
		{"COMMAND LIST bad_arg", "(error) ERR syntax error"},
		{"COMMAND LIST FILTERBY bad_arg bad_arg2", "(error) ERR syntax error"},
		{"COMMAND GETKEYS nope x", "(error) ERR Invalid command specified"},
		{"COMMAND GETKEYS ping x", "(error) ERR The command has no key arguments"},
		{"COMMAND GETKEYS watch", "(error) ERR wrong number of arguments for 'command|getkeys' command"},
		{"COMMAND GETKEYS multi x", "(error) ERR The command has no key arguments"},
		{"COMMAND GETKEYS watch a b", "[a b]"},
		{"COMMAND DOCS time", "[time [summary Return the current server time since 2.6.0 group server complexity O(1)]]"},
		{"COMMAND BOGUS", "(error) ERR unknown subcommand 'BOGUS'. Try COMMAND HELP."},
	})
	count := r.Do("COMMAND", "COUNT").Int
	if all := r.Do("COMMAND"); int64(len(all.Elems)) != count {
		t.Errorf("COMMAND has %d entries, COUNT says %d", len(all.Elems), count)
	}
	list := r.Do("COMMAND", "LIST").String()
	for _, n := range []string{"client|list", "config|get", "slowlog|get", "hello"} {
		if !strings.Contains(list, n) {
			t.Errorf("COMMAND LIST lacks %s", n)
		}
	}
}

func TestServerMisc(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	if tm := r.Do("TIME"); len(tm.Elems) != 2 || tm.Elems[0].String() != fmt.Sprint(time.Now().Unix()) && tm.Elems[0].String() != fmt.Sprint(time.Now().Unix()-1) {
		t.Errorf("TIME = %v", tm)
	}
	steps(t, r, [][2]string{
		{"LOLWUT", "Redis ver. 7.0.15\n"},
		{"LOLWUT VERSION x", "(error) ERR value is not an integer or out of range"},
		{"DEBUG SLEEP 0", "(error) ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."},
		{"SHUTDOWN bogus", "(error) ERR syntax error"},
		{"SHUTDOWN ABORT", "(error) ERR No shutdown in progress."},
		{"SHUTDOWN SAVE NOSAVE", "(error) ERR syntax error"},
		{"CONFIG SET foo bar", "(error) ERR Unknown option or number of arguments for CONFIG SET - 'foo'"},
		{"CONFIG SET maxmemory", "(error) ERR wrong number of arguments for 'config|set' command"},
		{"CONFIG SET maxmemory 1gb", "OK"},
		{"CONFIG GET maxmemory", "[maxmemory 1073741824]"},
		{"CONFIG REWRITE", "(error) ERR The server is running without a config file"},
	})
	if _, err := r.ReadErr(); err == nil {
		// nothing pending: fine
	}
	r2 := s.Raw(t)
	r2.Send(string(resp.AppendCommandStrings(nil, "SHUTDOWN", "NOSAVE")))
	if _, err := r2.ReadErr(); err == nil {
		t.Error("SHUTDOWN replied instead of closing")
	}
	select {
	case <-s.Srv.Done():
	case <-time.After(kvtest.Timeout):
		t.Error("server still running after SHUTDOWN")
	}
}

func TestDebugAndTimeout(t *testing.T) {
	s := kvtest.Start(t, withDebug)
	r := s.Raw(t)
	steps(t, r, [][2]string{
		{"DEBUG SET-ACTIVE-EXPIRE 0", "OK"},
		{"DEBUG OBJECT nokey", "(error) ERR no such key"},
		{"DEBUG BOGUS", "(error) ERR unknown subcommand 'BOGUS'. Try DEBUG HELP."},
		{"CONFIG SET timeout 1", "OK"},
	})
	idle := s.Raw(t)
	idle.Do("PING")
	start := time.Now()
	if _, err := idle.ReadErr(); err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("idle client not closed by timeout (err %v after %v)", err, time.Since(start))
	}
}

func TestProtoMaxBulkLenApplies(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	steps(t, r, [][2]string{{"CONFIG SET proto-max-bulk-len 1mb", "OK"}})
	r.Send("*2\r\n$4\r\nECHO\r\n$2000000\r\n")
	if got := r.Read().String(); got != "(error) ERR Protocol error: invalid bulk length" {
		t.Errorf("over-long bulk = %q", got)
	}
}

// TestServeProcess builds the kv binary, starts it with a TOML file on a free port
// and checks CONFIG GET sees the file and the flags.
func TestServeProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "kv")
	build := exec.Command("go", "build", "-o", bin, "kv")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	conf := filepath.Join(dir, "kv.toml")
	// port 0 disables plain TCP, as in Redis, so take a port that is free now.
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := probe.Addr().(*net.TCPAddr).Port
	probe.Close()
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("port = %d\nmaxmemory = \"2mb\"\nhash-max-ziplist-entries = 7\n", port)), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.toml")
	_ = os.WriteFile(bad, []byte("port = 0\nnosuch = 1\n"), 0o644)
	if out, err := exec.Command(bin, "serve", bad).CombinedOutput(); err == nil || !strings.Contains(string(out), "bad.toml:2") || !strings.Contains(string(out), "nosuch") {
		t.Errorf("bad config: err %v, output %q", err, out)
	}

	cmd := exec.Command(bin, "serve", conf, "--slowlog-max-len", "77", "--appendonly", "no")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addrc := make(chan string, 1)
	go func() {
		buf := make([]byte, 4096)
		var acc string
		re := regexp.MustCompile(`addr=(127\.0\.0\.1:\d+)`)
		for {
			n, err := stderr.Read(buf)
			acc += string(buf[:n])
			if m := re.FindStringSubmatch(acc); m != nil {
				addrc <- m[1]
				return
			}
			if err != nil {
				return
			}
		}
	}()
	var addr string
	select {
	case addr = <-addrc:
	case <-time.After(kvtest.Timeout):
		t.Fatal("kv serve did not report its address")
	}
	r := (&kvtest.Server{Addr: addr}).Raw(t)
	steps(t, r, [][2]string{
		{"CONFIG GET maxmemory", "[maxmemory 2097152]"},
		{"CONFIG GET hash-max-listpack-entries", "[hash-max-listpack-entries 7]"},
		{"CONFIG GET slowlog-max-len", "[slowlog-max-len 77]"},
		{"CONFIG GET bind", "[bind 127.0.0.1 -::1]"},
		{"CONFIG GET protected-mode", "[protected-mode yes]"},
		{"CONFIG SET maxmemory 3mb", "OK"},
		{"CONFIG REWRITE", "OK"},
	})
	data, _ := os.ReadFile(conf)
	if !strings.Contains(string(data), "3mb") {
		t.Errorf("CONFIG REWRITE left %q", data)
	}
}
