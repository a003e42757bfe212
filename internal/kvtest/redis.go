package kvtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// RedisBinary returns the path of a Redis tool (redis-server, redis-check-rdb...). When
// it is missing the test fails under CI=true and is skipped otherwise, saying how to
// install it.
func RedisBinary(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("%s not found: apt-get install redis-server redis-tools", name)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Redis is a real redis-server started for a test.
type Redis struct {
	Addr string
	Dir  string
	cmd  *exec.Cmd
}

// StartRedis runs redis-server on a free port with its files in dir (a fresh temporary
// directory when empty) and extra arguments (e.g. "--dbfilename", "x.rdb"); it is
// killed when the test ends.
func StartRedis(t testing.TB, dir string, args ...string) *Redis {
	t.Helper()
	bin := RedisBinary(t, "redis-server")
	if dir == "" {
		dir = t.TempDir()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	all := append([]string{"--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", filepath.Join(dir, "redis.log")}, args...)
	cmd := exec.Command(bin, all...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &Redis{Addr: fmt.Sprintf("127.0.0.1:%d", port), Dir: dir, cmd: cmd}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(Timeout)
	for {
		c, err := net.Dial("tcp", r.Addr)
		if err == nil {
			// Wait until loading is over: PING answers -LOADING until then.
			_, _ = c.Write([]byte("PING\r\n"))
			buf := make([]byte, 64)
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			n, _ := c.Read(buf)
			c.Close()
			if n > 0 && buf[0] == '+' {
				return r
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			t.Fatalf("redis-server did not start: %s", log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
