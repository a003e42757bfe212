// Package kvtest starts real kv servers for tests: each listens on 127.0.0.1:0, is
// reached through real clients (go-redis, or raw RESP for protocol edge cases), and is
// shut down when the test ends.
package kvtest

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"kv/engine"
	"kv/resp"
	"kv/server"
)

// Timeout bounds every network wait in tests, so a hung server fails a test instead of
// hanging the suite.
const Timeout = 10 * time.Second

// Server is a running kv server.
type Server struct {
	Addr string
	Srv  *server.Server
	E    *engine.Engine
}

// Start runs a server with all commands on an ephemeral port. opts may adjust the
// server options before it starts.
func Start(t testing.TB, opts ...func(*server.Options)) *Server {
	t.Helper()
	e := engine.New(engine.Options{Databases: 16})
	engine.RegisterAll(e)
	o := server.Options{Engine: e, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "7.0.15"}
	for _, f := range opts {
		f(&o)
	}
	srv, err := server.New(o)
	if err != nil {
		t.Fatalf("kvtest: new server: %v", err)
	}
	if o.Config == nil {
		// Files a test server writes (dump.rdb at SHUTDOWN or a save point) go to a
		// directory of its own, never the package's.
		if err := srv.Config().SetFromFlag("dir", t.TempDir()); err != nil {
			t.Fatalf("kvtest: dir: %v", err)
		}
	}
	if err := srv.LoadDataset(); err != nil {
		t.Fatalf("kvtest: load: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("kvtest: listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		select {
		case <-done:
		case <-time.After(Timeout):
			t.Errorf("kvtest: server did not stop within %v", Timeout)
		}
	})
	return &Server{Addr: ln.Addr().String(), Srv: srv, E: e}
}

// Client returns a go-redis client for the server (RESP3 unless protocol says 2),
// closed when the test ends.
func (s *Server) Client(t testing.TB, protocol ...int) *redis.Client {
	t.Helper()
	p := 3
	if len(protocol) > 0 {
		p = protocol[0]
	}
	c := redis.NewClient(&redis.Options{
		Addr: s.Addr, Protocol: p, DialTimeout: Timeout, ReadTimeout: Timeout, WriteTimeout: Timeout,
		MaxRetries: -1, DisableIdentity: true,
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// Ctx is a context bounded by Timeout and cancelled when the test ends.
func Ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(cancel)
	return ctx
}

// Raw is a plain RESP connection for protocol-level tests.
type Raw struct {
	t  testing.TB
	NC net.Conn
	R  *resp.ReplyReader
	bw *bufio.Writer
}

// Raw opens a raw connection, closed when the test ends.
func (s *Server) Raw(t testing.TB) *Raw {
	t.Helper()
	nc, err := net.DialTimeout("tcp", s.Addr, Timeout)
	if err != nil {
		t.Fatalf("kvtest: dial: %v", err)
	}
	t.Cleanup(func() { nc.Close() })
	return &Raw{t: t, NC: nc, R: resp.NewReplyReader(nc), bw: bufio.NewWriter(nc)}
}

// Send writes bytes as they are.
func (r *Raw) Send(b string) {
	r.t.Helper()
	_ = r.NC.SetWriteDeadline(time.Now().Add(Timeout))
	if _, err := r.NC.Write([]byte(b)); err != nil {
		r.t.Fatalf("kvtest: write: %v", err)
	}
}

// Read reads one reply.
func (r *Raw) Read() resp.Value {
	r.t.Helper()
	_ = r.NC.SetReadDeadline(time.Now().Add(Timeout))
	v, err := r.R.Read()
	if err != nil {
		r.t.Fatalf("kvtest: read reply: %v", err)
	}
	return v
}

// Do sends one command and reads its reply.
func (r *Raw) Do(args ...string) resp.Value {
	r.t.Helper()
	r.Send(string(resp.AppendCommandStrings(nil, args...)))
	return r.Read()
}

// ReadErr reads one reply and returns the read error (for checking the server closed).
func (r *Raw) ReadErr() (resp.Value, error) {
	_ = r.NC.SetReadDeadline(time.Now().Add(Timeout))
	return r.R.Read()
}
