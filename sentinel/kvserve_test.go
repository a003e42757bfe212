package sentinel_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// dataImpl says which server a data node of the harness runs.
type dataImpl int

const (
	implRedis dataImpl = iota // Debian's redis-server 7.0
	implKV                    // `kv serve`, built once per test binary
)

func (i dataImpl) String() string {
	if i == implKV {
		return "kv serve"
	}
	return "redis-server"
}

// The kv binary is built on first use, not in TestMain, so that running only the
// tests that need no kv serve costs no build; TestMain removes it at the end.
var (
	kvBinOnce sync.Once
	kvBinDir  string
	kvBinPath string
	kvBinErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if kvBinDir != "" {
		os.RemoveAll(kvBinDir)
	}
	os.Exit(code)
}

// kvBin returns the path of a kv binary built from this module.
func kvBin(t testing.TB) string {
	t.Helper()
	kvBinOnce.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			kvBinErr = fmt.Errorf("the go command is needed to build kv: %v", err)
			return
		}
		out, err := exec.Command(goBin, "env", "GOMOD").Output()
		if err != nil {
			kvBinErr = fmt.Errorf("go env GOMOD: %v", err)
			return
		}
		root := filepath.Dir(strings.TrimSpace(string(out)))
		if kvBinDir, err = os.MkdirTemp("", "kv-sentinel-test-"); err != nil {
			kvBinErr = err
			return
		}
		path := filepath.Join(kvBinDir, "kv")
		cmd := exec.Command(goBin, "build", "-o", path, ".")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			kvBinErr = fmt.Errorf("go build kv: %v\n%s", err, out)
			return
		}
		kvBinPath = path
	})
	if kvBinErr != nil {
		t.Fatal(kvBinErr)
	}
	return kvBinPath
}

// kvServeArgs are the command-line options of a kv serve data node. The diskless
// sync delay is 0 so that a replica is in sync without Redis's default 5 s wait for
// more replicas; persistence is off as for the redis-server nodes, so a node killed
// with -9 comes back empty.
func kvServeArgs(port int, dir string, extra []string) []string {
	return append([]string{"serve", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", filepath.Join(dir, "log"), "--repl-diskless-sync-delay", "0"}, extra...)
}

// startData starts a data node of the given implementation; extra are more options
// in Redis's command-line syntax (both servers take the same ones).
func startData(t testing.TB, impl dataImpl, port int, extra ...string) *redisProc {
	t.Helper()
	p := &redisProc{t: t, port: port, dir: t.TempDir(), extra: extra, impl: impl}
	p.start()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(p.dir, "log")); err == nil {
				t.Logf("log of %s on %s:\n%s", impl, p.addr(), tail(b, 40))
			}
		}
	})
	return p
}

// tail is the last n lines of a log.
func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// startGroup is startReplicationGroup for either implementation: one master and
// two replicas, each started with masterExtra / replicaExtra; replicas follow
// replicaOf (the master's own address when empty), and the group is returned once
// both replicas report their link up.
func startGroup(t testing.TB, impl dataImpl, replicaOf string, masterExtra, replicaExtra []string) *setup {
	t.Helper()
	m := startData(t, impl, freePort(t), masterExtra...)
	su := &setup{master: m}
	if replicaOf == "" {
		replicaOf = m.addr()
	}
	host, port, _ := strings.Cut(replicaOf, ":")
	for i := 0; i < 2; i++ {
		extra := append([]string{"--replicaof", host, port}, replicaExtra...)
		su.replicas = append(su.replicas, startData(t, impl, freePort(t), extra...))
	}
	for _, r := range su.replicas {
		waitFor(t, 15*time.Second, "replica "+r.addr()+" in sync", func() bool {
			v, err := do(r.addr(), "INFO", "replication")
			return err == nil && strings.Contains(string(v.Str), "master_link_status:up")
		})
	}
	return su
}

// The scenarios of failover_test.go on kv serve data nodes: kill -9 and SIGSTOP of
// the master under three kv sentinels, and a mixed kv / redis-sentinel group.
// runFailover also checks that no write confirmed by WAIT 1 is lost.
func TestKVServeFailoverKill(t *testing.T) {
	su := startGroup(t, implKV, "", nil, nil)
	runFailover(t, su, kvGroup(t, su, 3), faultKill)
}

func TestKVServeFailoverSIGSTOP(t *testing.T) {
	su := startGroup(t, implKV, "", nil, nil)
	runFailover(t, su, kvGroup(t, su, 3), faultStop)
}

func TestKVServeMixedWithRedisSentinel(t *testing.T) {
	su := startGroup(t, implKV, "", nil, nil)
	runFailover(t, su, mixedGroup(t, su), faultKill)
}
