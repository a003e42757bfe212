package repl_test

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"kv/client/repl"
	"kv/internal/redistest"
)

// TestMain lets the test binary act as kv cli in a child process, so the REPL can
// be driven through a real pseudo-terminal.
func TestMain(m *testing.M) {
	if os.Getenv("KV_CLI_CHILD") == "1" {
		o, err := repl.ParseOptions(os.Args[1:])
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGINT)
		os.Exit(repl.Run(o, repl.Env{StdoutTTY: true, StdinTTY: true, Version: "test", Interrupt: sigs,
			HistoryFile: os.Getenv("KV_CLI_HISTORY"), Builtin: []repl.HelpEntry{{Name: "get", Params: "key", Group: "string"}}}))
	}
	os.Exit(m.Run())
}

// term is a child kv cli on a pseudo-terminal.
type term struct {
	t    *testing.T
	f    *os.File
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func startTerm(t *testing.T, history string, args ...string) *term {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "KV_CLI_CHILD=1", "KV_CLI_HISTORY="+history, "TERM=xterm")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatalf("pty: %v", err)
	}
	tm := &term{t: t, f: f, cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(tm.done)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			tm.mu.Lock()
			tm.out.Write(buf[:n])
			tm.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		f.Close()
	})
	return tm
}

// expect waits until the output since the last mark contains s, and consumes it.
func (tm *term) expect(s string) string {
	tm.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tm.mu.Lock()
		all := tm.out.String()
		if i := strings.Index(all, s); i >= 0 {
			tm.out.Next(i + len(s))
			tm.mu.Unlock()
			return all[:i+len(s)]
		}
		tm.mu.Unlock()
		if time.Now().After(deadline) {
			tm.t.Fatalf("did not see %q; output so far: %q", s, all)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (tm *term) send(s string) {
	tm.t.Helper()
	if _, err := tm.f.Write([]byte(s)); err != nil {
		tm.t.Fatalf("write: %v", err)
	}
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)

func TestREPLThroughPTY(t *testing.T) {
	srv := redistest.Start(t)
	port := strings.TrimPrefix(srv.Addr, "127.0.0.1:")
	hist := filepath.Join(t.TempDir(), "history")
	tm := startTerm(t, hist, "-p", port)
	prompt := "127.0.0.1:" + port + "> "
	tm.expect(prompt)

	// Tab completes a command name from the server's COMMAND DOCS.
	tm.send("SELE\t")
	tm.expect("SELECT")
	// The hint shows the remaining arguments in grey, and disappears as they are typed.
	tm.send(" ")
	tm.expect("\x1b[90mindex\x1b[0m")
	tm.send("2\r")
	tm.expect("OK")
	tm.expect("127.0.0.1:" + port + "[2]> ")

	// Subcommand completion: "config ge" + Tab becomes "CONFIG GET".
	tm.send("config ge\t")
	tm.expect("CONFIG GET")
	tm.send(" maxmemory-policy\r")
	got := ansi.ReplaceAllString(tm.expect("\"noeviction\"\r\n"), "")
	if !strings.Contains(got, "1) \"maxmemory-policy\"\r\n2) \"noeviction\"\r\n") {
		t.Fatalf("multi-line reply not as redis-cli prints it: %q", got)
	}

	// Nested output with indentation.
	tm.send("rpush l a b\r")
	tm.expect("(integer) 2")
	tm.send("lpos l b count 1\r")
	tm.expect("1) (integer) 1")
	tm.send("xadd s 1-1 f v\r")
	tm.expect("\"1-1\"")
	tm.send("xrange s - +\r")
	got = ansi.ReplaceAllString(tm.expect("2) \"v\"\r\n"), "")
	if !strings.Contains(got, "1) 1) \"1-1\"\r\n   2) 1) \"f\"\r\n      2) \"v\"\r\n") {
		t.Fatalf("nested reply not as redis-cli prints it: %q", got)
	}

	// help CMD prints the syntax from COMMAND DOCS.
	tm.send("help get\r")
	tm.expect("GET\x1b[0m \x1b[90mkey\x1b[0m")

	// SUBSCRIBE streams until Ctrl-C, then the prompt comes back on a new connection.
	tm.send("subscribe ch\r")
	tm.expect("Reading messages... (press Ctrl-C to quit)")
	tm.expect("3) (integer) 1")
	time.Sleep(100 * time.Millisecond)
	tm.send("\x03")
	tm.expect("127.0.0.1:" + port + "[2]> ") // the new connection selects db 2 again
	tm.send("echo back\r")
	tm.expect("\"back\"")

	// AUTH stays out of the history.
	tm.send("auth secret\r")
	tm.expect("(error)")
	tm.send("quit\r")
	select {
	case <-tm.done:
	case <-time.After(10 * time.Second):
		t.Fatal("kv cli did not exit on quit")
	}
	b, err := os.ReadFile(hist)
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	h := string(b)
	for _, want := range []string{"SELECT 2\n", "CONFIG GET maxmemory-policy\n", "xrange s - +\n"} {
		if !strings.Contains(h, want) {
			t.Fatalf("history %q lacks %q", h, want)
		}
	}
	if strings.Contains(h, "secret") {
		t.Fatalf("history kept a password: %q", h)
	}

	// A new session recalls the history with the Up arrow, on db 0 again.
	tm = startTerm(t, hist, "-p", port)
	tm.expect(prompt)
	tm.send("\x1b[A")
	tm.expect("quit")
	tm.send("\x1b[A")
	tm.expect("echo back")
	tm.send("\x03") // Ctrl-C at the prompt leaves, as in redis-cli
	select {
	case <-tm.done:
	case <-time.After(10 * time.Second):
		t.Fatal("kv cli did not exit on Ctrl-C")
	}
}

// TestREPLReconnects restarts the server under an idle REPL: the next command must
// go through on a fresh connection.
func TestREPLReconnects(t *testing.T) {
	port := redistest.FreePort(t)
	bin := redistest.Bin(t, "redis-server")
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "--port", strconvItoa(port), "--save", "", "--appendonly", "no", "--dir", t.TempDir())
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	srv := start()
	defer func() { _ = srv.Process.Kill(); _, _ = srv.Process.Wait() }()
	waitUp(t, port)
	tm := startTerm(t, "", "-p", strconvItoa(port))
	prompt := "127.0.0.1:" + strconvItoa(port) + "> "
	tm.expect(prompt)
	tm.send("ping\r")
	tm.expect("PONG")
	tm.expect(prompt)
	_ = srv.Process.Kill()
	_, _ = srv.Process.Wait()
	srv = start()
	waitUp(t, port)
	tm.send("echo again\r")
	out := tm.expect("\"again\"")
	if strings.Contains(out, "Error") {
		t.Fatalf("the first command after the restart failed: %q", out)
	}
}

func strconvItoa(n int) string { return strconv.Itoa(n) }

func waitUp(t *testing.T, port int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on port %d did not start", port)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
