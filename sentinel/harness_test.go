package sentinel_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"kv/client"
	"kv/internal/redistest"
	"kv/resp"
	"kv/sentinel"
)

// redisProc is a data node (redis-server, or kv serve: see startData) we can
// kill -9, pause and restart on the same port with the same dir.
type redisProc struct {
	t     testing.TB
	port  int
	dir   string
	extra []string
	cmd   *exec.Cmd
	impl  dataImpl
}

func startRedis(t testing.TB, port int, extra ...string) *redisProc {
	t.Helper()
	p := &redisProc{t: t, port: port, dir: t.TempDir(), extra: extra}
	p.start()
	t.Cleanup(func() { p.kill() })
	return p
}

func (p *redisProc) addr() string { return "127.0.0.1:" + strconv.Itoa(p.port) }

func (p *redisProc) start() {
	p.t.Helper()
	args := append([]string{"--port", strconv.Itoa(p.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", p.dir, "--daemonize", "no", "--logfile", filepath.Join(p.dir, "log")}, p.extra...)
	var bin string
	if p.impl == implKV {
		bin, args = kvBin(p.t), kvServeArgs(p.port, p.dir, p.extra)
	} else {
		bin = redistest.Bin(p.t, "redis-server")
	}
	p.cmd = exec.Command(bin, args...)
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", p.impl, err)
	}
	waitFor(p.t, 10*time.Second, p.impl.String()+" on "+p.addr(), func() bool {
		v, err := do(p.addr(), "PING")
		return err == nil && string(v.Str) == "PONG"
	})
}

func (p *redisProc) kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(syscall.SIGCONT)
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
		p.cmd = nil
	}
}

func (p *redisProc) signal(sig syscall.Signal) {
	if p.cmd != nil {
		_ = p.cmd.Process.Signal(sig)
	}
}

// do sends one command on a fresh connection.
func do(addr string, args ...any) (resp.Value, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Options{Addr: addr, DialTimeout: time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: time.Second})
	if err != nil {
		return resp.Value{}, err
	}
	defer c.Close()
	return c.Do(args...)
}

func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// role returns ROLE's first element and, for a replica, the master port it follows.
func role(addr string) (string, int) {
	v, err := do(addr, "ROLE")
	if err != nil || len(v.Elems) == 0 {
		return "", 0
	}
	r := string(v.Elems[0].Str)
	if r == "slave" && len(v.Elems) >= 3 {
		return r, int(v.Elems[2].Int)
	}
	return r, 0
}

func freePort(t testing.TB) int { return redistest.FreePort(t) }

// group is a set of sentinels of one implementation watching one master.
type group struct {
	addrs []string
	stop  []func()
}

func (g *group) close() {
	for _, f := range g.stop {
		f()
	}
}

// startKVSentinel runs a kv sentinel in-process with a sentinel.conf or TOML state file.
func startKVSentinel(t testing.TB, dir, masterAddr string, quorum int, downAfter int, toml bool) (string, func()) {
	t.Helper()
	host, port, _ := net.SplitHostPort(masterAddr)
	var path, text string
	if toml {
		path = filepath.Join(dir, "sentinel.toml")
		text = fmt.Sprintf("[masters.mymaster]\nhost = %q\nport = %s\nquorum = %d\ndown-after-milliseconds = %d\nfailover-timeout = 10000\n",
			host, port, quorum, downAfter)
	} else {
		path = filepath.Join(dir, "sentinel.conf")
		text = fmt.Sprintf("sentinel monitor mymaster %s %s %d\nsentinel down-after-milliseconds mymaster %d\nsentinel failover-timeout mymaster 10000\n",
			host, port, quorum, downAfter)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The log is kept and shown only if the test fails.
	level := slog.LevelInfo
	logBuf := &syncBuffer{}
	var out io.Writer = logBuf
	if os.Getenv("KV_SENTINEL_LOG") != "" {
		out = os.Stderr
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log of the kv sentinel with %s:\n%s", path, logBuf.String())
		}
	})
	s, err := sentinel.New(sentinel.Options{ConfigPath: path, Listener: ln,
		Logger: slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level}))})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	return s.Addr(), func() { s.Close() }
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startRedisSentinel runs Debian's redis-sentinel 7.0 as a process.
func startRedisSentinel(t testing.TB, dir, masterAddr string, quorum, downAfter int) (string, func()) {
	t.Helper()
	host, port, _ := net.SplitHostPort(masterAddr)
	sp := freePort(t)
	path := filepath.Join(dir, "sentinel.conf")
	text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\nsentinel monitor mymaster %s %s %d\nsentinel down-after-milliseconds mymaster %d\nsentinel failover-timeout mymaster 10000\n",
		sp, dir, filepath.Join(dir, "log"), host, port, quorum, downAfter)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(redistest.Bin(t, "redis-server"), path, "--sentinel")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(sp)
	t.Cleanup(func() {
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(dir, "log")); err == nil {
				t.Logf("log of redis-sentinel %s:\n%s", addr, tail(b, 60))
			}
		}
	})
	stop := func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	waitFor(t, 10*time.Second, "redis-sentinel on "+addr, func() bool {
		v, err := do(addr, "PING")
		return err == nil && string(v.Str) == "PONG"
	})
	return addr, stop
}

// setup is one master with two replicas.
type setup struct {
	master   *redisProc
	replicas []*redisProc
}

func startReplicationGroup(t testing.TB) *setup {
	t.Helper()
	m := startRedis(t, freePort(t))
	su := &setup{master: m}
	for i := 0; i < 2; i++ {
		su.replicas = append(su.replicas, startRedis(t, freePort(t), "--replicaof", "127.0.0.1", strconv.Itoa(m.port)))
	}
	for _, r := range su.replicas {
		waitFor(t, 10*time.Second, "replica "+r.addr()+" in sync", func() bool {
			v, err := do(r.addr(), "INFO", "replication")
			return err == nil && strings.Contains(string(v.Str), "master_link_status:up")
		})
	}
	return su
}

// masterField returns a field of SENTINEL MASTER mymaster.
func masterField(addr, field string) string {
	v, err := do(addr, "SENTINEL", "MASTER", "mymaster")
	if err != nil {
		return ""
	}
	for i := 0; i+1 < len(v.Elems); i += 2 {
		if string(v.Elems[i].Str) == field {
			return string(v.Elems[i+1].Str)
		}
	}
	return ""
}

// waitDiscovery waits until every sentinel knows both replicas and all peers.
func waitDiscovery(t testing.TB, g *group) {
	t.Helper()
	for _, a := range g.addrs {
		waitFor(t, 20*time.Second, "discovery on "+a, func() bool {
			return masterField(a, "num-slaves") == "2" && masterField(a, "num-other-sentinels") == strconv.Itoa(len(g.addrs)-1)
		})
	}
}

// masterAddrOf asks a sentinel for the master address.
func masterAddrOf(addr string) string {
	v, err := do(addr, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")
	if err != nil || len(v.Elems) != 2 {
		return ""
	}
	return string(v.Elems[0].Str) + ":" + string(v.Elems[1].Str)
}

// subscribe collects the events of a sentinel on a channel (RESP2 pub/sub).
func subscribe(t testing.TB, addr string, channels ...string) <-chan string {
	t.Helper()
	c, err := client.Dial(context.Background(), client.Options{Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	args := []any{"SUBSCRIBE"}
	for _, ch := range channels {
		args = append(args, ch)
	}
	if err := c.Send(args...); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	for range channels {
		if _, err := c.ReceiveAny(); err != nil {
			t.Fatal(err)
		}
	}
	out := make(chan string, 64)
	go func() {
		defer close(out)
		for {
			v, err := c.ReceiveAny()
			if err != nil {
				return
			}
			if len(v.Elems) == 3 {
				select {
				case out <- string(v.Elems[1].Str) + " " + string(v.Elems[2].Str):
				default:
				}
			}
		}
	}()
	t.Cleanup(func() { c.Close() })
	return out
}
