package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"kv/config"
	"kv/engine"
)

// Options configure a server. Zero values take Redis's defaults.
type Options struct {
	Engine *engine.Engine
	// Config holds the settings; nil means Redis's defaults. The server applies it to
	// itself and to the engine and follows later changes (CONFIG SET).
	Config *config.Config
	Logger *slog.Logger
	// RequirePass, when set, is the default user's password.
	RequirePass string
	MaxClients  int
	// ProtectedMode refuses non-loopback clients when no password is set.
	ProtectedMode bool
	Version       string
}

// Server serves the engine to network clients.
type Server struct {
	opts   Options
	e      *engine.Engine
	log    *slog.Logger
	start  time.Time
	runID  string
	nextID atomic.Int64

	connsMu   sync.Mutex
	conns     map[int64]*conn
	listeners []net.Listener

	closing   atomic.Bool
	wg        sync.WaitGroup
	done      chan struct{}
	closeOnce sync.Once

	// current is the connection executing a batch; guarded by the engine lock.
	current *conn

	stats serverStats

	cfg     *config.Config
	persist persistState
}

type serverStats struct {
	totalConnections atomic.Int64
	rejected         atomic.Int64
	netInput         atomic.Int64
	netOutput        atomic.Int64
}

// New makes a server around opts.Engine and registers the server-level commands in the
// engine's table.
func New(opts Options) (*Server, error) {
	if opts.Engine == nil {
		return nil, errors.New("server: no engine")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if opts.MaxClients <= 0 {
		opts.MaxClients = 10000
	}
	s := &Server{
		opts:  opts,
		e:     opts.Engine,
		log:   opts.Logger,
		start: time.Now(),
		runID: newRunID(),
		conns: map[int64]*conn{},
		done:  make(chan struct{}),
	}
	s.cfg = opts.Config
	if s.cfg == nil {
		s.cfg = config.New()
	}
	s.persist.lastSave = s.start.Unix()
	s.persist.lastStatusOK = true
	s.persist.lastBgSecs = -1
	s.registerCommands()
	s.wg.Add(1)
	go s.persistCron()
	return s, nil
}

func newRunID() string {
	var b [20]byte
	f, err := os.Open("/dev/urandom")
	if err == nil {
		_, _ = f.Read(b[:])
		f.Close()
	}
	return fmt.Sprintf("%x", b)
}

// Engine returns the engine this server serves.
func (s *Server) Engine() *engine.Engine { return s.e }

// Serve accepts connections on ln until Close. It returns nil after Close.
func (s *Server) Serve(ln net.Listener) error {
	s.connsMu.Lock()
	s.listeners = append(s.listeners, ln)
	s.connsMu.Unlock()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("server: accept: %w", err)
		}
		backoff = 0
		s.accept(nc)
	}
}

func (s *Server) accept(nc net.Conn) {
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
		_ = tc.SetKeepAlive(true)
		_ = tc.SetKeepAlivePeriod(300 * time.Second)
	}
	s.connsMu.Lock()
	if len(s.conns) >= s.opts.MaxClients {
		s.connsMu.Unlock()
		s.stats.rejected.Add(1)
		_, _ = nc.Write([]byte("-ERR max number of clients reached\r\n"))
		nc.Close()
		return
	}
	c := newConn(s, nc)
	s.conns[c.id] = c
	s.connsMu.Unlock()
	s.stats.totalConnections.Add(1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		c.serve()
	}()
}

// Close stops accepting, closes every connection and waits for their goroutines.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		close(s.done)
		s.connsMu.Lock()
		for _, ln := range s.listeners {
			ln.Close()
		}
		for _, c := range s.conns {
			c.close()
		}
		s.connsMu.Unlock()
	})
	s.wg.Wait()
	return nil
}

// Done is closed when the server starts shutting down (SHUTDOWN, Close).
func (s *Server) Done() <-chan struct{} { return s.done }

func (s *Server) removeConn(c *conn) {
	s.connsMu.Lock()
	delete(s.conns, c.id)
	s.connsMu.Unlock()
}

// connList returns the connections ordered by id.
func (s *Server) connList() []*conn {
	s.connsMu.Lock()
	out := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		out = append(out, c)
	}
	s.connsMu.Unlock()
	sortConns(out)
	return out
}
