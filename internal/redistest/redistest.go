// Package redistest starts a real redis-server for tests that compare kv's tools
// with Redis's own (redis-cli, redis-benchmark) against the same server. The CI
// installs Redis 7.0 and sets CI=true: there a missing binary fails the test, so a
// comparison can never silently not run. On a developer machine with only Go, the
// comparison tests skip and say what to install, so `go test ./...` works anywhere.
package redistest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Bin returns the path of a Redis tool (redis-server, redis-cli, redis-benchmark),
// failing the test if it is not installed.
func Bin(t testing.TB, name string) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/" + name, "/usr/local/bin/" + name} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	msg := fmt.Sprintf("%s not found: this test compares kv with real Redis 7.0 (apt-get install redis-server redis-tools redis-sentinel)", name)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg + "; skipped outside CI")
	return ""
}

// Server is a running redis-server.
type Server struct {
	Addr string
	Port int
}

// FreePort returns a TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Start runs redis-server on a free port with no persistence; extra are more
// command-line options ("--enable-debug-command", "yes"). It is killed when the
// test ends.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin := Bin(t, "redis-server")
	port := FreePort(t)
	dir := t.TempDir()
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--daemonize", "no", "--logfile", ""}, extra...)
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("redistest: start redis-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(time.Second))
			_, _ = c.Write([]byte("PING\r\n"))
			buf := make([]byte, 64)
			n, _ := c.Read(buf)
			c.Close()
			if r := string(buf[:n]); r == "+PONG\r\n" || strings.HasPrefix(r, "-NOAUTH") {
				return &Server{Addr: addr, Port: port}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: redis-server on %s did not answer within 10s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// String is host:port.
func (s *Server) String() string { return fmt.Sprint(s.Addr) }
