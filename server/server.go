package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"kv/acl"
	"kv/aof"
	"kv/config"
	"kv/engine"
	"kv/resp"
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
	// EnableDebugCommand is enable-debug-command: "no" (Redis's default), "yes" or
	// "local".
	EnableDebugCommand string
	Version            string
	// ClientProcs, above 0, lets the server set GOMAXPROCS: this many processors while
	// it serves clients, one more while background work runs (procs.go). The setting
	// is process-wide: only a process's one server should have it (kv serve).
	ClientProcs int
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
	retired   map[net.Listener]bool // stopped before their Serve began; connsMu

	closing   atomic.Bool
	wg        sync.WaitGroup
	done      chan struct{}
	closeOnce sync.Once
	cronOnce  sync.Once

	// current is the connection executing a batch; guarded by the engine lock.
	current *conn

	stats serverStats

	// Runtime settings CONFIG SET changes. Connections read them from their own
	// goroutines without the engine lock, hence atomics.
	requirePass   atomic.Pointer[string]
	maxClients    atomic.Int64
	idleTimeout   atomic.Int64 // seconds, 0 = never
	protectedMode atomic.Bool
	enableDebug   atomic.Pointer[string] // enable-debug-command: yes, no, local
	limits        atomic.Pointer[resp.Limits]
	limitsGen     atomic.Int64

	// Introspection state, guarded by the engine lock.
	slowlog       slowlog
	latency       latencyMonitor
	monitors      []*conn
	pause         pauseState
	statsReset    time.Time
	shutdownSaver func(save bool) error
	memPeak       int64
	memStartup    int64
	rate          rateSample
	// latency-tracking-info-percentiles
	latencyPercentiles []float64
	maxmemory          atomic.Int64
	memLimit           memLimitState
	memRelease         memRelease
	evicting           atomic.Bool
	maxmemoryPolicy    atomic.Pointer[string]
	configPath         string
	cfg                *config.Config
	// acl holds the users; guarded by the engine lock (see package acl).
	acl *acl.ACL
	// The TLS configuration new TLS clients get, and why the last reload failed.
	tlsConf atomic.Pointer[tls.Config]
	tlsErr  atomic.Pointer[error]
	persist persistState
	aof     *aof.AOF
	procs   int // GOMAXPROCS as fitProcs last set it; engine lock
	repl    replState

	ps pubsubState // guarded by the engine lock
}

// configFile is the configuration file INFO reports ("" when started without one).
func (s *Server) configFile() string { return s.configPath }

type serverStats struct {
	totalConnections atomic.Int64
	rejected         atomic.Int64
	netInput         atomic.Int64
	netOutput        atomic.Int64
	reads            atomic.Int64
	writes           atomic.Int64
}

// countingReader counts the bytes and reads of one connection into the server totals
// (total_net_input_bytes, total_reads_processed).
type countingReader struct {
	nc net.Conn
	st *serverStats
}

func (r countingReader) Read(p []byte) (int, error) {
	n, err := r.nc.Read(p)
	r.st.netInput.Add(int64(n))
	r.st.reads.Add(1)
	return n, err
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
	s.requirePass.Store(&opts.RequirePass)
	s.maxClients.Store(int64(opts.MaxClients))
	s.protectedMode.Store(opts.ProtectedMode)
	if opts.EnableDebugCommand == "" {
		opts.EnableDebugCommand = "no"
	}
	s.enableDebug.Store(&opts.EnableDebugCommand)
	s.limits.Store(&resp.Limits{})
	s.slowlog.init()
	s.latency.init()
	s.statsReset = s.start
	s.latencyPercentiles = []float64{50, 99, 99.9}
	policy := "noeviction"
	s.maxmemoryPolicy.Store(&policy)
	s.cfg = opts.Config
	if s.cfg == nil {
		// Without a configuration the explicit options stand in for the settings
		// they name; everything else takes Redis's defaults.
		s.cfg = config.New()
		_ = s.cfg.SetFromFlag("protected-mode", yesNo(opts.ProtectedMode))
		_ = s.cfg.SetFromFlag("requirepass", opts.RequirePass)
		_ = s.cfg.SetFromFlag("maxclients", strconv.Itoa(opts.MaxClients))
		_ = s.cfg.SetFromFlag("enable-debug-command", opts.EnableDebugCommand)
	}
	s.e.SetMemNotCounted(s.memNotCountedForEvict)
	s.e.SampleMemory()
	s.memStartup = s.e.UsedMemory()
	s.repl.init()
	// A replica keeps expired keys from its file for its master to expire.
	s.e.Replica = s.cfg.Replicaof.Get().Host != ""
	s.applyConfig()
	s.registerCommands()
	s.e.SetPropagator(s)
	if err := s.initACL(); err != nil {
		return nil, err
	}
	s.initTLS()
	s.e.SetExecHook(s.afterExec)
	s.e.SetMonitorHook(func(c *engine.Ctx) {
		if len(s.monitors) > 0 {
			cn, _ := c.Client.(*conn)
			s.feedMonitors(c, cn)
		}
	})
	s.persist.lastSave = s.start.Unix()
	s.persist.lastStatusOK = true
	s.persist.lastBgSecs = -1
	s.shutdownSaver = func(save bool) error { return s.ShutdownSave(save, false) }
	s.e.SetFlushAllHook(s.FlushAllSave)
	s.initAOF()
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
	if s.closing.Load() {
		// Close ran before Serve got here and could not close ln for us.
		s.connsMu.Unlock()
		ln.Close()
		return nil
	}
	if s.retired[ln] {
		// StopListening ran before this Serve got going.
		delete(s.retired, ln)
		s.connsMu.Unlock()
		return nil
	}
	s.listeners = append(s.listeners, ln)
	s.connsMu.Unlock()
	s.startCron()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() || !s.serving(ln) {
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

// StopListening closes ln, one of the listeners Serve runs on, and makes that
// Serve return nil: CONFIG SET port or bind moved the server elsewhere.
// Connections accepted on it stay open, as in Redis.
func (s *Server) StopListening(ln net.Listener) {
	s.connsMu.Lock()
	if i := slices.Index(s.listeners, ln); i >= 0 {
		s.listeners = slices.Delete(s.listeners, i, i+1)
	} else {
		if s.retired == nil {
			s.retired = make(map[net.Listener]bool)
		}
		s.retired[ln] = true
	}
	s.connsMu.Unlock()
	ln.Close()
}

// serving reports whether ln is still one of the server's listeners.
func (s *Server) serving(ln net.Listener) bool {
	s.connsMu.Lock()
	defer s.connsMu.Unlock()
	return slices.Contains(s.listeners, ln)
}

func (s *Server) accept(nc net.Conn) {
	raw := nc
	if tc, ok := nc.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	if tc, ok := raw.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
		_ = tc.SetKeepAlive(true)
		_ = tc.SetKeepAlivePeriod(300 * time.Second)
	}
	if msg := s.protectedModeRefusal(nc); msg != "" {
		s.stats.rejected.Add(1)
		_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = nc.Write([]byte("-" + msg + "\r\n"))
		nc.Close()
		return
	}
	s.connsMu.Lock()
	if int64(len(s.conns)) >= s.maxClients.Load() {
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
		s.e.Lock()
		if l := s.repl.link; l != nil {
			l.halt()
		}
		s.disconnectReplicas()
		s.e.Unlock()
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

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
