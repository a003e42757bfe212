package commands

import (
	"context"
	"os"
	"path/filepath"
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
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("serve did not stop")
		}
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
