package config

import (
	"bufio"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
)

// goldenFile is `redis-cli CONFIG GET '*'` from a stock redis-server 7.0.15
// started as `redis-server --port 17379` in a scratch directory, one
// "name<TAB>value" line per setting, sorted.
const goldenFile = "../testdata/config/redis-7.0.15-config-get.txt"

// machineDependent lists settings whose golden value reflects how and where
// that server was started rather than Redis's defaults: dir is the
// directory it ran in, port was given on its command line so it would not
// clash. pidfile, logfile and unixsocket also depend on the launch (a
// daemonized server writes a pidfile, etc.); they were unset in the
// capture, so they are compared.
var machineDependent = map[string]bool{"dir": true, "port": true}

func TestDefaultsMatchRedis(t *testing.T) {
	f, err := os.Open(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("bad golden line %q", sc.Text())
		}
		want[name] = val
	}
	c := New()
	got := map[string]string{}
	for _, kv := range c.Get("*") {
		got[kv[0]] = kv[1]
	}
	for name, w := range want {
		g, ok := got[name]
		switch {
		case !ok:
			t.Errorf("%s: missing (Redis default %q)", name, w)
		case machineDependent[name]:
		case g != w:
			t.Errorf("%s = %q, Redis default %q", name, g, w)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: not a Redis 7.0.15 setting", name)
		}
	}
	if p := c.Port.Get(); p != 6379 {
		t.Errorf("port default %d", p)
	}
}

// Every handle field of Config must be registered: a field nothing
// registers would silently keep its zero value.
func TestEveryHandleRegistered(t *testing.T) {
	c := New()
	handles := map[any]bool{}
	for _, e := range c.entries {
		handles[e.h] = true
	}
	v := reflect.ValueOf(c).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		if !handles[v.Field(i).Addr().Interface()] {
			t.Errorf("field %s is not registered", f.Name)
		}
	}
	if len(c.entries) != v.NumField()-1 {
		t.Errorf("%d settings registered for %d handle fields", len(c.entries), v.NumField()-1)
	}
}

func TestGetPatterns(t *testing.T) {
	c := New()
	tests := []struct {
		patterns []string
		want     [][2]string
	}{
		{[]string{"port"}, [][2]string{{"port", "6379"}}},
		{[]string{"PORT"}, [][2]string{{"PORT", "6379"}}}, // Redis echoes the spelling
		{[]string{"slaveof"}, [][2]string{{"slaveof", ""}}},
		{[]string{"hash-max-*-entries"}, [][2]string{{"hash-max-listpack-entries", "512"}, {"hash-max-ziplist-entries", "512"}}},
		{[]string{"maxmemory", "max*ory"}, [][2]string{{"maxmemory", "0"}}},
		{[]string{"re[pq]l-timeout", "?z"}, [][2]string{{"hz", "10"}, {"repl-timeout", "60"}}},
		{[]string{"[^a-y]set-max-intset-entries"}, [][2]string{}},
		{[]string{"nosuch"}, [][2]string{}},
	}
	for _, tt := range tests {
		got := c.Get(tt.patterns...)
		if len(got) == 0 && len(tt.want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Get(%q) = %q, want %q", tt.patterns, got, tt.want)
		}
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"a*c", "abbbc", true}, {"a*c", "abd", false},
		{"?", "", false}, {"[a-c]x", "Bx", true}, {"[^a-c]x", "dx", true},
		{"[^a-c]x", "ax", false}, {`\*`, "*", true}, {`\*`, "a", false},
		{"[abc", "a", true}, {"**a", "ba", true},
	}
	for _, tt := range tests {
		if got := globMatch(tt.p, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v", tt.p, tt.s, got)
		}
	}
}

// The expected texts were produced by redis-server 7.0.15.
func TestSetErrors(t *testing.T) {
	tests := []struct {
		pairs [][2]string
		want  string
	}{
		{[][2]string{{"maxmemory", "kb1"}}, "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"},
		{[][2]string{{"maxmemory", "-1"}}, "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"},
		{[][2]string{{"port", "70000"}}, "ERR CONFIG SET failed (possibly related to argument 'port') - argument must be between 0 and 65535 inclusive"},
		{[][2]string{{"foo", "bar"}}, "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"},
		{[][2]string{{"maxmemory", "1gb"}, {"foo", "2"}}, "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"},
		{[][2]string{{"daemonize", "yes"}}, "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"},
		{[][2]string{{"unixsocketperm", "999"}}, "ERR CONFIG SET failed (possibly related to argument 'unixsocketperm') - can't set immutable config"},
		{[][2]string{{"maxmemory", "1gb"}, {"maxmemory", "2gb"}}, "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter"},
		{[][2]string{{"hz", "abc"}}, "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"},
		{[][2]string{{"hz", "01"}}, "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"},
		{[][2]string{{"hz", "+1"}}, "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"},
		{[][2]string{{"maxclients", "-1"}}, "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive"},
		{[][2]string{{"maxmemory-policy", "bad"}}, "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"},
		{[][2]string{{"dbfilename", "x"}}, "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config"},
		{[][2]string{{"dir", "/"}}, "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"},
		{[][2]string{{"save", "1 2 3"}}, "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"},
		{[][2]string{{"client-output-buffer-limit", "normal 1 2"}}, "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Wrong number of arguments in buffer limit configuration."},
		{[][2]string{{"client-output-buffer-limit", "master 1 2 3"}}, "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Invalid client class specified in buffer limit configuration."},
		{[][2]string{{"notify-keyspace-events", "Q"}}, "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'."},
		{[][2]string{{"list-max-ziplist-size", "x"}}, "ERR CONFIG SET failed (possibly related to argument 'list-max-ziplist-size') - argument couldn't be parsed into an integer"},
		{[][2]string{{"slave-read-only", "maybe"}}, "ERR CONFIG SET failed (possibly related to argument 'slave-read-only') - argument must be 'yes' or 'no'"},
		{[][2]string{{"shutdown-on-sigint", "save nosave"}}, "ERR CONFIG SET failed (possibly related to argument 'shutdown-on-sigint') - shutdown options SAVE and NOSAVE can't be used simultaneously"},
		{[][2]string{{"proto-max-bulk-len", "1k"}}, "ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive"},
		{[][2]string{{"maxmemory-clients", "101%"}}, "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100"},
		{[][2]string{{"maxmemory-clients", "x%"}}, "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - argument must be a memory or percent value"},
		{[][2]string{{"oom-score-adj-values", "0 200"}}, "ERR CONFIG SET failed (possibly related to argument 'oom-score-adj-values') - wrong number of arguments"},
		{[][2]string{{"oom-score-adj-values", "0 200 3000"}}, "ERR CONFIG SET failed (possibly related to argument 'oom-score-adj-values') - Invalid oom-score-adj-values, elements must be between -2000 and 2000."},
		{[][2]string{{"latency-tracking-info-percentiles", "50 101"}}, "ERR CONFIG SET failed (possibly related to argument 'latency-tracking-info-percentiles') - latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"},
		{[][2]string{{"cluster-announce-hostname", "a_b"}}, "ERR CONFIG SET failed (possibly related to argument 'cluster-announce-hostname') - Hostnames may only contain alphanumeric characters, hyphens or dots"},
		{[][2]string{{"proc-title-template", "{nope}"}}, "ERR CONFIG SET failed (possibly related to argument 'proc-title-template') - template format is invalid or contains unknown variables"},
		{[][2]string{{"slaveof", "127.0.0.1 6379"}}, "ERR CONFIG SET failed (possibly related to argument 'slaveof') - can't set immutable config"},
	}
	for _, tt := range tests {
		c := New()
		before := c.Get("*")
		err := c.Set(tt.pairs)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Set(%q) = %v\n want %s", tt.pairs, err, tt.want)
		}
		if after := c.Get("*"); !reflect.DeepEqual(before, after) {
			t.Errorf("Set(%q) failed but changed settings", tt.pairs)
		}
	}
}

func TestSetValues(t *testing.T) {
	tests := []struct{ name, value, get string }{
		{"maxmemory", "1gb", "1073741824"},
		{"maxmemory", "100mb", "104857600"},
		{"maxmemory", "1k", "1000"},
		{"maxmemory", "", "0"}, // Redis's memtoull takes "" as 0
		{"maxmemory", "01", "1"},
		{"maxmemory-clients", "10%", "10%"},
		{"maxmemory-clients", "1mb", "1048576"},
		{"notify-keyspace-events", "KEA", "AKE"},
		{"notify-keyspace-events", "Kgx$", "g$xK"},
		{"notify-keyspace-events", "Em", "Em"},
		{"oom-score-adj", "relative", "yes"}, // Redis prints the first name of the value
		{"shutdown-on-sigint", "NOW nosave", "nosave now"},
		{"latency-tracking-info-percentiles", "50 99.99 100.0", "50 99.99 100"},
		{"latency-tracking-info-percentiles", "", ""},
		{"save", "", ""},
		{"save", "900 1 300 10", "900 1 300 10"},
		{"client-output-buffer-limit", "replica 256mb 64mb 60 pubsub 1gb 0 0", "normal 0 0 0 slave 268435456 67108864 60 pubsub 1073741824 0 0"},
		{"client-output-buffer-limit", "", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"},
		{"bind", "127.0.0.1 -::1", "127.0.0.1 -::1"},
		{"bind", "", ""},
		{"slave-priority", "5", "5"},
		{"appendonly", "YES", "yes"},
		{"loglevel", "WARNING", "warning"},
		{"slowlog-log-slower-than", "-1", "-1"},
		{"requirepass", "s3cret", "s3cret"},
	}
	for _, tt := range tests {
		c := New()
		if err := c.Set([][2]string{{tt.name, tt.value}}); err != nil {
			t.Errorf("Set %s %q: %v", tt.name, tt.value, err)
			continue
		}
		if got := c.Get(tt.name); len(got) != 1 || got[0][1] != tt.get {
			t.Errorf("after Set %s %q, Get = %q, want %q", tt.name, tt.value, got, tt.get)
		}
	}
}

func TestTypedHandles(t *testing.T) {
	c := New()
	err := c.Set([][2]string{
		{"maxmemory", "2gb"}, {"hash-max-ziplist-entries", "64"}, {"save", "60 5"},
		{"client-output-buffer-limit", "pubsub 1mb 512kb 10"}, {"notify-keyspace-events", "Ex"},
		{"maxmemory-policy", "allkeys-lru"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Maxmemory.Get() != 2<<30 || c.HashMaxListpackEntries.Get() != 64 || c.ProtoMaxBulkLen.Get() != 512<<20 {
		t.Error("numeric handles")
	}
	if got := c.Save.Get(); !reflect.DeepEqual(got, []SavePoint{{60, 5}}) {
		t.Errorf("Save = %v", got)
	}
	if got := c.ClientOutputBufferLimit.Get().PubSub; got != (OutputBufferLimit{1 << 20, 512 << 10, 10}) {
		t.Errorf("pubsub limit = %v", got)
	}
	if got := c.NotifyKeyspaceEvents.Get(); got != NotifyKeyevent|NotifyExpired {
		t.Errorf("notify = %b", got)
	}
	if c.MaxmemoryPolicy.Get() != "allkeys-lru" {
		t.Error("policy")
	}
}

func TestSetAtomic(t *testing.T) {
	c := New()
	err := c.Set([][2]string{{"maxmemory", "1gb"}, {"hz", "20"}, {"port", "99999"}})
	if err == nil {
		t.Fatal("want error")
	}
	if c.Maxmemory.Get() != 0 || c.Hz.Get() != 10 {
		t.Error("a failed CONFIG SET stored some values")
	}
}

func TestProtectedConfigs(t *testing.T) {
	c := New()
	if err := c.SetFromFlag("enable-protected-configs", "local"); err != nil {
		t.Fatal(err)
	}
	if err := c.Set([][2]string{{"dbfilename", "x.rdb"}}); err == nil {
		t.Error("remote client set a protected config")
	}
	if err := c.SetLocal([][2]string{{"dbfilename", "x.rdb"}}); err != nil {
		t.Error(err)
	}
	err := c.SetLocal([][2]string{{"dbfilename", "a/b"}})
	if want := "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - dbfilename can't be a path, just a filename"; err == nil || err.Error() != want {
		t.Errorf("got %v", err)
	}
	err = c.SetLocal([][2]string{{"dir", "/nonexistent-kv-dir"}})
	if want := "ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory"; err == nil || err.Error() != want {
		t.Errorf("got %v", err)
	}
}

func TestOnChange(t *testing.T) {
	c := New()
	var calls atomic.Int32
	c.OnChange("maxmemory", func() {
		calls.Add(1)
		_ = c.Get("maxmemory") // hooks may read settings
	})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Set([][2]string{{"maxmemory", "1mb"}}))
	must(c.Set([][2]string{{"maxmemory", "1048576"}})) // same value: no hook
	must(c.SetFromFlag("maxmemory", "2mb"))
	if n := calls.Load(); n != 2 {
		t.Errorf("hook ran %d times, want 2", n)
	}
}

func TestSetFromFlag(t *testing.T) {
	c := New()
	for _, f := range [][2]string{{"maxmemory", "1gb"}, {"appendonly", "yes"}, {"save", "3600 1 300 100"}, {"daemonize", "yes"}, {"slaveof", "10.0.0.1 6380"}, {"unixsocketperm", "700"}} {
		if err := c.SetFromFlag(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	if c.Replicaof.Get() != (Master{"10.0.0.1", 6380}) || c.Unixsocketperm.Get() != 0o700 || !c.Daemonize.Get() {
		t.Error("flags not applied")
	}
	if err := c.SetFromFlag("port", "70000"); err == nil || err.Error() != `port: value "70000": argument must be between 0 and 65535 inclusive` {
		t.Errorf("got %v", err)
	}
	if err := c.SetFromFlag("nope", "1"); err == nil {
		t.Error("unknown flag accepted")
	}
}

func TestMemtoull(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"1", 1, true}, {"1b", 1, true}, {"1k", 1000, true}, {"1kb", 1024, true},
		{"1K", 1000, true}, {"1KB", 1024, true}, {"1m", 1000000, true}, {"1mb", 1 << 20, true},
		{"1g", 1000000000, true}, {"1gb", 1 << 30, true}, {"1Gb", 1 << 30, true}, {"", 0, true},
		{"kb", 0, true}, {"-1", 0, false}, {"1tb", 0, false}, {"1 gb", 0, false}, {"1.5gb", 0, false},
		{"+1", 0, false}, {" 1", 0, false}, {"18446744073709551615", 1<<64 - 1, true},
	}
	for _, tt := range tests {
		got, ok := memtoull(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("memtoull(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFormatMemory(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 1: "1", 1024: "1kb", 1 << 20: "1mb", 3 << 30: "3gb", 1500: "1500"} {
		if got := formatMemory(n); got != want {
			t.Errorf("formatMemory(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestSettingsListing(t *testing.T) {
	c := New()
	ss := c.Settings()
	if len(ss) != len(c.Names()) {
		t.Fatal("Settings and Names disagree")
	}
	for _, s := range ss {
		if s.Usage == "" || strings.Contains(s.Usage, "\n") {
			t.Errorf("%s: usage must be one line", s.Name)
		}
		// replicaof's default (none) is spelled "no one" on input, as in Redis.
		if err := New().SetFromFlag(s.Name, s.Default); err != nil && s.Name != "replicaof" {
			t.Errorf("%s: default %q does not parse: %v", s.Name, s.Default, err)
		}
	}
}

// Handles are read without the lock while CONFIG SET writes; -race checks
// that this is safe.
func TestConcurrentReadWrite(t *testing.T) {
	c := New()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			_ = c.Maxmemory.Get() + int64(len(c.Save.Get())) + int64(c.ClientOutputBufferLimit.Get().PubSub.Hard)
			_ = c.Get("max*")
		}
	}()
	for i := 0; i < 200; i++ {
		v := []string{"1mb", "2mb"}[i%2]
		if err := c.Set([][2]string{{"maxmemory", v}, {"save", "60 " + v[:1]}}); err != nil {
			t.Fatal(err)
		}
	}
	<-done
}
