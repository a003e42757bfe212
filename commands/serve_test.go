package commands

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"kv/config"
)

// TestServeUnixSocket starts kv serve on a Unix socket only (port 0 disables TCP, as
// in Redis) and checks a client reaches it, CLIENT LIST shows it as Redis does, the
// permissions are applied and the socket is removed at shutdown.
func TestServeUnixSocket(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "kv.sock")
	cfg := config.New()
	for name, val := range map[string]string{"port": "0", "unixsocket": sock, "unixsocketperm": "700", "dir": dir, "save": ""} {
		if err := cfg.SetFromFlag(name, val); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	stop, _ := startServe(t, cfg)
	defer func() {
		stop()
		if _, err := os.Stat(sock); !os.IsNotExist(err) {
			t.Errorf("socket file left behind: %v", err)
		}
	}()
	c := redis.NewClient(&redis.Options{Network: "unix", Addr: sock, Protocol: 2, DialTimeout: time.Second, MaxRetries: 50})
	defer c.Close()
	tctx, tcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer tcancel()
	if err := c.Set(tctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET over the unix socket: %v", err)
	}
	list, err := c.ClientList(tctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if want := "addr=" + sock + ":0 laddr=" + sock + ":0"; !strings.Contains(list, want) || !strings.Contains(list, "flags=U") {
		t.Errorf("CLIENT LIST %q, want %q and flags=U", list, want)
	}
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("socket permissions %v, %v; want 0700", fi.Mode().Perm(), err)
	}
}

// freeTCPPort returns a port nothing listens on right now.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestConfigSetPort moves the listener with CONFIG SET port, and a port that is
// taken fails the whole CONFIG SET, every setting in it rolled back, with the
// server still on its old port (Redis's "CONFIG SET rollback on apply error").
func TestConfigSetPort(t *testing.T) {
	cfg := config.New()
	first := freeTCPPort(t)
	for name, val := range map[string]string{"port": strconv.Itoa(first), "bind": "127.0.0.1", "dir": t.TempDir(), "save": ""} {
		if err := cfg.SetFromFlag(name, val); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	stop, exited := startServe(t, cfg)
	defer stop()
	tctx, tcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer tcancel()
	client := func(port int) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), Protocol: 2, DialTimeout: time.Second, MaxRetries: 50})
		t.Cleanup(func() { c.Close() })
		return c
	}
	c := client(first)
	if err := c.Ping(tctx).Err(); err != nil {
		t.Fatal(err)
	}

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := strconv.Itoa(taken.Addr().(*net.TCPAddr).Port)
	err = c.ConfigSet(tctx, "maxmemory", "10000001").Err()
	if err != nil {
		t.Fatal(err)
	}
	err = c.Do(tctx, "CONFIG", "SET", "maxmemory", "20000002", "port", takenPort, "client-query-buffer-limit", "10mb").Err()
	want := "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs."
	if err == nil || err.Error() != want {
		t.Fatalf("CONFIG SET on a taken port: %v, want %s", err, want)
	}
	for name, val := range map[string]string{"maxmemory": "10000001", "port": strconv.Itoa(first), "client-query-buffer-limit": "1073741824"} {
		if got := c.ConfigGet(tctx, name).Val()[name]; got != val {
			t.Errorf("%s = %q after the failed CONFIG SET, want %q", name, got, val)
		}
	}
	// A new connection still reaches the old port, and kv serve is still serving.
	if err := client(first).Ping(tctx).Err(); err != nil {
		t.Fatalf("old port after the failed move: %v", err)
	}
	select {
	case err := <-exited:
		t.Fatalf("serve returned after the failed move: %v", err)
	case <-time.After(100 * time.Millisecond):
	}

	second := freeTCPPort(t)
	if err := c.ConfigSet(tctx, "port", strconv.Itoa(second)).Err(); err != nil {
		t.Fatalf("CONFIG SET port: %v", err)
	}
	if err := client(second).Set(tctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("new port: %v", err)
	}
	// The connection that moved the port stays open, as in Redis; the old port is closed.
	if got := c.Get(tctx, "k").Val(); got != "v" {
		t.Errorf("GET on the old connection: %q", got)
	}
	if nc, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(first), time.Second); err == nil {
		nc.Close()
		t.Errorf("the old port still accepts connections")
	}
}

// startServe runs kv serve with cfg in the test process; the returned func stops
// it and checks it stopped cleanly. done receives serve's result if it returns
// on its own.
func startServe(t *testing.T, cfg *config.Config) (stop func(), done <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- serve(ctx, cfg) }()
	return func() {
		done := errc
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("serve did not stop")
		}
	}, errc
}
