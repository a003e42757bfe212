package sentinel_test

import (
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kv/sentinel"
)

// TestCommandsMatchRedisSentinel sends the same commands to a kv sentinel and to
// redis-sentinel 7.0 watching the same master, and compares the replies.
func TestCommandsMatchRedisSentinel(t *testing.T) {
	m := startRedis(t, freePort(t))
	kv, stopKV := startKVSentinel(t, t.TempDir(), m.addr(), 2, 5000, false)
	defer stopKV()
	rs, stopRS := startRedisSentinel(t, t.TempDir(), m.addr(), 2, 5000)
	defer stopRS()
	for _, a := range []string{kv, rs} {
		waitFor(t, 15*time.Second, "INFO from the master on "+a, func() bool { return masterField(a, "role-reported") == "master" && masterField(a, "runid") != "" })
	}
	host, port, _ := net.SplitHostPort(m.addr())
	tests := [][]any{
		{"PING"},
		{"PING", "hello"},
		{"ROLE"},
		{"SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"},
		{"SENTINEL", "GET-MASTER-ADDR-BY-NAME", "nosuch"},
		{"SENTINEL", "MASTER", "nosuch"},
		{"SENTINEL", "REPLICAS", "nosuch"},
		{"SENTINEL", "SENTINELS", "nosuch"},
		{"SENTINEL", "NOSUCH"},
		{"SENTINEL", "MASTERS", "extra"},
		{"SENTINEL", "MASTER"},
		{"SENTINEL", "IS-MASTER-DOWN-BY-ADDR", host, port, "0", "*"},
		{"SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "10.1.2.3", "1", "0", "*"},
		{"SENTINEL", "IS-MASTER-DOWN-BY-ADDR", host, "x", "0", "*"},
		{"SENTINEL", "CKQUORUM", "mymaster"},
		{"SENTINEL", "CONFIG", "GET", "resolve-*"},
		{"SENTINEL", "CONFIG", "GET", "announce-port"},
		{"SENTINEL", "CONFIG", "SET", "nosuch", "1"},
		{"SENTINEL", "CONFIG", "SET", "announce-port", "99999"},
		{"SENTINEL", "CONFIG", "FOO", "x"},
		{"SENTINEL", "SET", "mymaster", "quorum", "0"},
		{"SENTINEL", "SET", "mymaster", "nosuch", "1"},
		{"SENTINEL", "SET", "mymaster", "notification-script", "/bin/true"},
		{"SENTINEL", "SET", "nosuch", "quorum", "1"},
		{"SENTINEL", "MONITOR", "other", "127.0.0.1", "1", "0"},
		{"SENTINEL", "MONITOR", "other", "127.0.0.1", "x", "1"},
		{"SENTINEL", "MONITOR", "mymaster", "127.0.0.1", "1", "1"},
		{"SENTINEL", "REMOVE", "nosuch"},
		{"SENTINEL", "SIMULATE-FAILURE", "nosuch"},
		{"SENTINEL", "SIMULATE-FAILURE", "help"},
		{"SENTINEL", "RESET", "nomatch*"},
		{"SENTINEL", "FAILOVER", "mymaster"},
		{"PUBLISH", "chan", "msg"},
		{"CLIENT", "NOSUCH"},
		{"CLIENT", "SETNAME", "a b"},
		{"CLIENT", "GETNAME"},
		{"GET", "x"},
		{"INFO", "nosuch"},
	}
	for _, args := range tests {
		want, err := do(rs, args...)
		if err != nil {
			t.Fatalf("redis-sentinel %v: %v", args, err)
		}
		got, err := do(kv, args...)
		if err != nil {
			t.Fatalf("kv sentinel %v: %v", args, err)
		}
		if testing.Verbose() {
			t.Logf("%v -> %s", args, got.String())
		}
		if got.String() != want.String() {
			t.Errorf("%v:\n kv:    %s\n redis: %s", args, got.String(), want.String())
		}
	}
	// Instance replies carry the same fields in the same order.
	keys := func(addr string) string {
		v, _ := do(addr, "SENTINEL", "MASTER", "mymaster")
		var ks []string
		for i := 0; i < len(v.Elems); i += 2 {
			ks = append(ks, string(v.Elems[i].Str))
		}
		return strings.Join(ks, " ")
	}
	if k, r := keys(kv), keys(rs); k != r {
		t.Errorf("SENTINEL MASTER fields:\n kv:    %s\n redis: %s", k, r)
	}
	// INFO sentinel has the same lines.
	sect := func(addr string) []string {
		v, _ := do(addr, "INFO", "sentinel")
		var names []string
		for _, l := range strings.Split(string(v.Str), "\r\n") {
			n, _, _ := strings.Cut(l, ":")
			names = append(names, n)
		}
		return names
	}
	if k, r := strings.Join(sect(kv), ","), strings.Join(sect(rs), ","); k != r {
		t.Errorf("INFO sentinel:\n kv:    %s\n redis: %s", k, r)
	}
}

func newSentinelFromFile(t *testing.T, path string) *sentinel.Sentinel {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := sentinel.New(sentinel.Options{ConfigPath: path, Listener: ln, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStateFileRoundTrip: both formats keep what the sentinel learned across a
// restart, and a sentinel.conf keeps its other lines and comments.
func TestStateFileRoundTrip(t *testing.T) {
	const id = "0123456789abcdef0123456789abcdef01234567"
	const peer = "fedcba9876543210fedcba9876543210fedcba98"
	tests := []struct {
		name, file, text string
		keep             []string
	}{
		{"conf", "sentinel.conf", "# my deployment\nlogfile \"\"\nsentinel myid " + id + "\n" +
			"sentinel monitor mymaster 127.0.0.1 6390 2\nsentinel down-after-milliseconds mymaster 1500\n" +
			"sentinel parallel-syncs mymaster 2\nsentinel auth-pass mymaster secret\nsentinel config-epoch mymaster 7\n" +
			"sentinel leader-epoch mymaster 8\nsentinel known-replica mymaster 127.0.0.1 6391\n" +
			"sentinel known-sentinel mymaster 127.0.0.1 26380 " + peer + "\nsentinel current-epoch 9\n",
			[]string{"# my deployment", "logfile \"\"", "sentinel myid " + id, "sentinel monitor mymaster 127.0.0.1 6390 2",
				"sentinel down-after-milliseconds mymaster 1500", "sentinel parallel-syncs mymaster 2",
				"sentinel auth-pass mymaster secret", "sentinel config-epoch mymaster 7", "sentinel leader-epoch mymaster 8",
				"sentinel known-replica mymaster 127.0.0.1 6391", "sentinel known-sentinel mymaster 127.0.0.1 26380 " + peer,
				"sentinel current-epoch 9"}},
		{"toml", "sentinel.toml", "myid = \"" + id + "\"\ncurrent-epoch = 9\n[masters.mymaster]\nhost = \"127.0.0.1\"\nport = 6390\nquorum = 2\n" +
			"down-after-milliseconds = 1500\nparallel-syncs = 2\nauth-pass = \"secret\"\nconfig-epoch = 7\nleader-epoch = 8\n" +
			"known-replicas = [\"127.0.0.1:6391\"]\nknown-sentinels = [{host = \"127.0.0.1\", port = 26380, runid = \"" + peer + "\"}]\n",
			[]string{"myid = '" + id + "'", "current-epoch = 9", "down-after-milliseconds = 1500", "parallel-syncs = 2",
				"config-epoch = 7", "leader-epoch = 8", "known-replicas = ['127.0.0.1:6391']", "runid = '" + peer + "'"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.file)
			if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			for round := 0; round < 2; round++ { // load, write, and load what was written
				s := newSentinelFromFile(t, path)
				if s.MyID() != id {
					t.Fatalf("myid %s", s.MyID())
				}
				for field, want := range map[string]string{"down-after-milliseconds": "1500", "parallel-syncs": "2",
					"config-epoch": "7", "num-slaves": "1", "num-other-sentinels": "1", "quorum": "2"} {
					if got := masterField(s.Addr(), field); got != want {
						t.Errorf("round %d: %s = %q, want %q", round, field, got, want)
					}
				}
				if v, _ := do(s.Addr(), "SENTINEL", "FLUSHCONFIG"); v.String() != "OK" {
					t.Fatalf("FLUSHCONFIG: %s", v.String())
				}
				s.Close()
			}
			data, _ := os.ReadFile(path)
			for _, l := range tc.keep {
				if !strings.Contains(string(data), l+"\n") {
					t.Errorf("rewritten file lacks %q:\n%s", l, data)
				}
			}
		})
	}
}
