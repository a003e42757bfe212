package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"kv/client"
	"kv/resp"
)

// env is what every workload works with.
type env struct {
	opts    *options
	tmp     string
	procs   *procSet
	ports   *ports
	fdLimit uint64
	kv      serverKind
	redis   serverKind
	// What kv cannot do yet, found by probe; a workload that needs a missing feature
	// reports n/a for kv with the reason instead of a number that means nothing.
	missing map[string]string
	notes   []string
	seq     int
}

// serverKind is one of the two servers under test: its binary and the words before
// the settings (kv needs "serve").
type serverKind struct {
	name string
	bin  string
	args []string
}

func (sk *serverKind) isKV() bool { return sk.name == "kv" }

// server is one running server process.
type server struct {
	kind *serverKind
	cmd  *exec.Cmd
	port int
	dir  string
	log  string
	done chan struct{}
}

func (s *server) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// procSet remembers every process the tool started, so that all of them die with it.
type procSet struct {
	mu    sync.Mutex
	procs map[*exec.Cmd]struct{}
}

func (p *procSet) add(c *exec.Cmd) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.procs == nil {
		p.procs = map[*exec.Cmd]struct{}{}
	}
	p.procs[c] = struct{}{}
}

func (p *procSet) remove(c *exec.Cmd) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.procs, c)
}

func (p *procSet) killAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.procs {
		if c.Process != nil {
			_ = c.Process.Kill()
		}
	}
}

// ports hands out listening ports: from --port-base up, or whatever the kernel says is
// free when no base is given.
type ports struct {
	mu   sync.Mutex
	next int
}

func newPorts(base int) *ports { return &ports{next: base} }

func (p *ports) get() (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next == 0 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port, nil
	}
	for tries := 0; tries < 40; tries++ {
		port := p.next
		p.next++
		if p.next >= 65535 {
			p.next = 1024
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			l.Close()
			return port, nil
		}
	}
	return 0, errors.New("no free port found from --port-base")
}

// baseSettings are what both servers run with unless a workload adds more: no save
// points, no AOF, their own directory, loopback only.
func baseSettings(port int, dir string) []string {
	return []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--dbfilename", "dump.rdb", "--daemonize", "no", "--logfile", ""}
}

// start runs a server with the base settings plus extra, in a fresh directory, and
// waits until it answers PING.
func (e *env) start(ctx context.Context, sk *serverKind, extra ...string) (*server, error) {
	e.seq++
	dir := filepath.Join(e.tmp, fmt.Sprintf("%s-%d", strings.ToLower(sk.name), e.seq))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return e.startIn(ctx, sk, dir, extra...)
}

// startIn starts a server in dir (which may hold a dump.rdb to load).
func (e *env) startIn(ctx context.Context, sk *serverKind, dir string, extra ...string) (*server, error) {
	s, err := e.spawn(sk, dir, extra...)
	if err != nil {
		return nil, err
	}
	if err := s.waitReady(ctx, 60*time.Second); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (e *env) spawn(sk *serverKind, dir string, extra ...string) (*server, error) {
	port, err := e.ports.get()
	if err != nil {
		return nil, err
	}
	args := append(append([]string{}, sk.args...), baseSettings(port, dir)...)
	args = append(args, extra...)
	cmd := exec.Command(sk.bin, args...)
	logPath := filepath.Join(dir, "server.log")
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	e.procs.add(cmd)
	s := &server{kind: sk, cmd: cmd, port: port, dir: dir, log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		lf.Close()
		close(s.done)
	}()
	if e.opts.verbose {
		fmt.Fprintf(os.Stderr, "kvcompare:   started %s pid %d on %d: %s\n", sk.name, cmd.Process.Pid, port, strings.Join(args, " "))
	}
	return s, nil
}

// waitReady polls until the server accepts a connection and PING is answered with
// PONG (not -LOADING), or the process dies.
func (s *server) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		select {
		case <-s.done:
			return fmt.Errorf("%s exited at start; log: %s", s.kind.name, tail(s.log))
		default:
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s", s.kind.name, limit)
		}
		c, err := net.DialTimeout("tcp", s.addr(), time.Second)
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			_, _ = c.Write([]byte("PING\r\n"))
			buf := make([]byte, 64)
			n, _ := c.Read(buf)
			c.Close()
			if strings.HasPrefix(string(buf[:n]), "+PONG") {
				return nil
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stop kills the server at once: nothing is saved on the way out, so a dump.rdb made by
// SAVE stays as it was.
func (s *server) stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
	}
	<-s.done
	s.cmd.Process = nil
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// rss is VmRSS of the server process in bytes.
func (s *server) rss() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid()))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, err := strconv.ParseInt(f[1], 10, 64)
				return kb * 1024, err
			}
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

func (s *server) dial(ctx context.Context) (*client.Conn, error) {
	return client.Dial(ctx, client.Options{Addr: s.addr(), DialTimeout: 5 * time.Second, ReadTimeout: 10 * time.Minute})
}

// do runs one command on a fresh connection.
func (s *server) do(ctx context.Context, args ...any) (resp.Value, error) {
	c, err := s.dial(ctx)
	if err != nil {
		return resp.Value{}, err
	}
	defer c.Close()
	return c.Do(args...)
}

// info returns one field of INFO section.
func (s *server) info(ctx context.Context, section, field string) (string, error) {
	v, err := s.do(ctx, "INFO", section)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(v.Str), "\r\n") {
		if k, val, ok := strings.Cut(line, ":"); ok && k == field {
			return val, nil
		}
	}
	return "", fmt.Errorf("INFO %s has no %s", section, field)
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	s := strings.TrimSpace(string(b))
	if len(s) > 400 {
		s = "..." + s[len(s)-400:]
	}
	return s
}

// probe asks a kv server which of the features the workloads need it has, so a missing
// one shows as n/a with its reason rather than as a fast stream of error replies.
func (e *env) probe(ctx context.Context) error {
	e.missing = map[string]string{}
	s, err := e.start(ctx, &e.kv)
	if err != nil {
		return err
	}
	defer s.stop()
	probes := []struct {
		feature string
		args    []any
	}{
		{"zsets", []any{"ZADD", "kvcompare:probe", "1", "a"}},
		{"save", []any{"SAVE"}},
		{"bgsave", []any{"COMMAND", "INFO", "bgsave"}},
	}
	for _, p := range probes {
		v, err := s.do(ctx, p.args...)
		if err != nil {
			return err
		}
		switch {
		case v.Kind == resp.KindError && strings.Contains(string(v.Str), "unknown command"):
			e.missing[p.feature] = fmt.Sprintf("kv has no %s yet", strings.ToUpper(fmt.Sprint(p.args[0])))
		case p.feature == "bgsave" && (len(v.Elems) == 0 || v.Elems[0].Null || v.Elems[0].Kind == resp.KindNull):
			e.missing[p.feature] = "kv has no BGSAVE yet"
		}
	}
	if r, ok := e.missing["zsets"]; ok {
		e.missing["zsets"] = strings.Replace(r, "ZADD", "sorted sets (ZADD)", 1)
	}
	return nil
}

func numCPU() int { return runtime.NumCPU() }

// raiseFileLimit lifts the soft open-file limit to the hard one (children inherit it)
// and returns it, so GET -c 1000 can have its thousand connections.
func raiseFileLimit() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 1024
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	return rl.Cur
}
