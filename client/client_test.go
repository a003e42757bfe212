package client_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"kv/client"
	"kv/internal/kvtest"
	"kv/internal/redistest"
	"kv/resp"
)

func dial(t *testing.T, o client.Options) *client.Conn {
	t.Helper()
	o.ReadTimeout, o.WriteTimeout = 10*time.Second, 10*time.Second
	c, err := client.Dial(kvtest.Ctx(t), o)
	if err != nil {
		t.Fatalf("dial %s: %v", o.Addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestDoAndPipelineAgainstKV(t *testing.T) {
	s := kvtest.Start(t)
	c := dial(t, client.Options{Addr: s.Addr})
	v, err := c.Do("PING")
	if err != nil || string(v.Str) != "PONG" {
		t.Fatalf("PING = %v, %v", v, err)
	}
	v, _ = c.Do("NOSUCH")
	if client.ReplyErr(v) == nil {
		t.Fatalf("error reply not reported: %v", v)
	}
	// Pipelining: many commands, one flush, replies in order.
	for i := 0; i < 1000; i++ {
		if err := c.Send("ECHO", i); err != nil {
			t.Fatal(err)
		}
	}
	if c.Pending() != 1000 {
		t.Fatalf("pending %d", c.Pending())
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		v, err := c.Receive()
		if err != nil || string(v.Str) != strconv.Itoa(i) {
			t.Fatalf("reply %d = %v, %v", i, v, err)
		}
	}
	if c.Pending() != 0 {
		t.Fatalf("pending %d after receiving all", c.Pending())
	}
}

func TestHandshake(t *testing.T) {
	srv := redistest.Start(t, "--requirepass", "pw")
	ctx := kvtest.Ctx(t)
	if _, err := client.Dial(ctx, client.Options{Addr: srv.Addr, Password: "wrong"}); err == nil {
		t.Fatal("wrong password accepted")
	} else {
		var he *client.HandshakeError
		if !errors.As(err, &he) || he.Step != "AUTH" {
			t.Fatalf("err = %v; want an AUTH HandshakeError", err)
		}
	}
	c := dial(t, client.Options{Addr: srv.Addr, Password: "pw", DB: 3, Protocol: 3, ClientName: "kvtest"})
	if c.Proto() != 3 {
		t.Fatalf("proto %d", c.Proto())
	}
	v, _ := c.Do("CLIENT", "INFO")
	for _, want := range []string{" db=3 ", " resp=3", " name=kvtest "} {
		if !containsStr(string(v.Str), want) {
			t.Fatalf("CLIENT INFO %q lacks %q", v.Str, want)
		}
	}
	v, _ = c.Do("HGETALL", "none")
	if v.Kind != resp.KindMap {
		t.Fatalf("RESP3 HGETALL kind %c", v.Kind)
	}
}

func containsStr(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// Push messages (client-side caching invalidations) go to OnPush, and the reply
// that follows still reaches Do.
func TestPushMessages(t *testing.T) {
	srv := redistest.Start(t)
	var pushes []resp.Value
	c := dial(t, client.Options{Addr: srv.Addr, Protocol: 3, OnPush: func(v resp.Value) { pushes = append(pushes, v) }})
	other := dial(t, client.Options{Addr: srv.Addr})
	if v, _ := c.Do("CLIENT", "TRACKING", "on"); client.ReplyErr(v) != nil {
		t.Fatal(v)
	}
	c.Do("GET", "k")
	other.Do("SET", "k", "v")
	time.Sleep(50 * time.Millisecond)
	v, err := c.Do("PING")
	if err != nil || string(v.Str) != "PONG" {
		t.Fatalf("PING after push = %v, %v", v, err)
	}
	if len(pushes) != 1 || string(pushes[0].Elems[0].Str) != "invalidate" {
		t.Fatalf("pushes = %v", pushes)
	}
	// In subscribed mode ReceiveAny hands pushes to the caller; in RESP3 even the
	// SUBSCRIBE confirmation is a push, so it is read with ReceiveAny too.
	if err := c.Send("SUBSCRIBE", "ch"); err != nil || c.Flush() != nil {
		t.Fatal(err)
	}
	if v, err := c.ReceiveAny(); err != nil || string(v.Elems[0].Str) != "subscribe" {
		t.Fatalf("confirmation = %v, %v", v, err)
	}
	other.Do("PUBLISH", "ch", "hi")
	m, err := c.ReceiveAny()
	if err != nil || m.Kind != resp.KindPush || string(m.Elems[2].Str) != "hi" {
		t.Fatalf("message = %v, %v", m, err)
	}
}

func TestCloseUnblocksReader(t *testing.T) {
	s := kvtest.Start(t)
	c, err := client.Dial(kvtest.Ctx(t), client.Options{Addr: s.Addr})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.ReceiveAny()
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	c.Close()
	select {
	case err := <-done:
		if !client.IsConnError(err) {
			t.Fatalf("err = %v; want a connection error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock the reader")
	}
}

func TestSentinelDial(t *testing.T) {
	master := redistest.Start(t)
	bin := redistest.Bin(t, "redis-sentinel")
	port := redistest.FreePort(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	cfg := "port " + strconv.Itoa(port) + "\nbind 127.0.0.1\ndir " + dir + "\nsentinel monitor mymaster 127.0.0.1 " +
		strconv.Itoa(master.Port) + " 1\n"
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sentinel := "127.0.0.1:" + strconv.Itoa(port)
	dead := "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))
	so := client.SentinelOptions{Sentinels: []string{dead, sentinel}, Master: "mymaster"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var c *client.Conn
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err = client.DialSentinel(ctx, so, client.Options{DialTimeout: time.Second}); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("DialSentinel: %v", err)
	}
	defer c.Close()
	if c.Addr() != master.Addr {
		t.Fatalf("connected to %s; the master is %s", c.Addr(), master.Addr)
	}
	if _, err := client.MasterAddr(ctx, client.SentinelOptions{Sentinels: []string{sentinel}, Master: "nosuch"}, client.Options{DialTimeout: time.Second}); !errors.Is(err, client.ErrNoMaster) {
		t.Fatalf("unknown master: err = %v", err)
	}
}
