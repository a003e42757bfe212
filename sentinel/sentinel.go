package sentinel

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Options start a Sentinel.
type Options struct {
	// ConfigPath is the state file (TOML or Redis sentinel.conf); it must be
	// writable, as Redis requires, because the sentinel records what it learns there.
	ConfigPath string
	// Port and Bind override the file; zero/empty keep the file's (default 26379 on
	// 127.0.0.1).
	Port int
	Bind string
	// Monitor adds masters as "NAME HOST PORT QUORUM" when not already in the file.
	Monitor []string
	Logger  *slog.Logger
	// Listener, when set, is used instead of listening on Bind:Port (tests).
	Listener net.Listener
	// Dial, when set, opens every connection to monitored servers and peer
	// sentinels instead of a net.Dialer. It exists so tests can partition a
	// sentinel from its peers or from a server; nil dials normally.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Sentinel is one running sentinel. See the package comment for its locking.
type Sentinel struct {
	mu  sync.Mutex
	t   timing
	log *slog.Logger

	myid         string
	currentEpoch uint64
	masters      map[string]*instance

	tilt      bool
	tiltStart int64
	prevMono  int64
	prevWall  int64

	port                int
	bind                string
	announceIP          string
	announcePort        int
	sentinelUser        string
	sentinelPass        string
	requirePass         string
	denyScriptsReconfig bool
	resolveHostnames    bool
	announceHostnames   bool
	simFailure          int

	state   *stateFile
	hub     *hub
	events  eventRing
	scripts *scriptRunner

	start     time.Time
	startWall int64
	rng       *mrand.Rand

	ln               net.Listener
	listenerOverride net.Listener
	dial             func(ctx context.Context, network, addr string) (net.Conn, error)
	clientMu         sync.Mutex
	clients          map[*clientConn]struct{}
	nextID           int64
	done             chan struct{}
	wg               sync.WaitGroup
	closeMu          sync.Once
	crashed          chan int // SIMULATE-FAILURE: the exit code the owner should exit with
}

// Simulated failures (SENTINEL SIMULATE-FAILURE).
const (
	simCrashAfterElection  = 1 << 0
	simCrashAfterPromotion = 1 << 1
)

// New loads the configuration and prepares a sentinel; Start runs it.
func New(opts Options) (*Sentinel, error) {
	s := &Sentinel{
		t:                   defaultTiming(),
		log:                 opts.Logger,
		masters:             map[string]*instance{},
		port:                26379,
		bind:                "127.0.0.1",
		denyScriptsReconfig: true,
		hub:                 newHub(),
		clients:             map[*clientConn]struct{}{},
		done:                make(chan struct{}),
		crashed:             make(chan int, 1),
		start:               time.Now(),
	}
	s.startWall = s.start.UnixMilli()
	s.rng = mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 0x5e17))
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	s.scripts = newScriptRunner(s)
	s.events.size = 200
	if opts.ConfigPath == "" {
		return nil, errors.New("sentinel needs a configuration file to record its state")
	}
	st, err := loadState(opts.ConfigPath, s)
	if err != nil {
		return nil, err
	}
	s.state = st
	if opts.Port != 0 {
		s.port = opts.Port
	}
	if opts.Bind != "" {
		s.bind = opts.Bind
	}
	for _, m := range opts.Monitor {
		var name, host string
		var port, quorum int
		if n, err := fmt.Sscanf(m, "%s %s %d %d", &name, &host, &port, &quorum); err != nil || n != 4 {
			return nil, fmt.Errorf("--monitor %q: want \"NAME HOST PORT QUORUM\"", m)
		}
		if _, ok := s.masters[name]; ok {
			continue
		}
		if quorum <= 0 {
			return nil, fmt.Errorf("--monitor %q: Quorum must be 1 or greater.", m)
		}
		if _, err := s.createMaster(name, host, port, quorum); err != nil {
			return nil, fmt.Errorf("--monitor %q: %v", m, err)
		}
	}
	if s.myid == "" {
		s.myid = newRunID()
	}
	s.listenerOverride = opts.Listener
	s.dial = opts.Dial
	return s, nil
}

func newRunID() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// now is milliseconds on a monotonic clock. Redis uses the wall clock and relies on
// TILT to survive jumps; kv times its intervals monotonically so a clock step
// cannot fake a timeout, and still enters TILT on a step (see checkTilt).
func (s *Sentinel) now() int64 { return s.startWall + time.Since(s.start).Milliseconds() }

// Start listens and runs the timer. It returns once the listener is ready.
func (s *Sentinel) Start() error {
	ln := s.listenerOverride
	if ln == nil {
		var err error
		ln, err = net.Listen("tcp", net.JoinHostPort(s.bind, strconv.Itoa(s.port)))
		if err != nil {
			return err
		}
	}
	s.ln = ln
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok {
		s.mu.Lock()
		s.port = tcp.Port
		s.mu.Unlock()
	}
	s.mu.Lock()
	// Redis writes the state at startup so a generated myid is kept.
	if err := s.flushConfig(); err != nil {
		s.mu.Unlock()
		ln.Close()
		return fmt.Errorf("cannot write the sentinel state to %s: %w", s.state.path, err)
	}
	s.log.Info("sentinel started", "myid", s.myid, "port", s.port)
	s.prevMono = s.now()
	s.prevWall = time.Now().UnixMilli()
	for _, name := range sortedNames(s.masters) {
		ri := s.masters[name]
		s.event(levelWarning, "+monitor", ri, "%@ quorum %d", ri.quorum)
	}
	s.mu.Unlock()
	s.wg.Add(2)
	go s.acceptLoop()
	go s.timerLoop()
	return nil
}

// Addr is the address the sentinel listens on.
func (s *Sentinel) Addr() string { return s.ln.Addr().String() }

// MyID is the sentinel's run id.
func (s *Sentinel) MyID() string { return s.myid }

// Crashed delivers an exit code when SIMULATE-FAILURE made the sentinel "crash";
// the sentinel has already stopped by then.
func (s *Sentinel) Crashed() <-chan int { return s.crashed }

// Close stops the sentinel: no more ticks, links and clients closed.
func (s *Sentinel) Close() error {
	s.closeMu.Do(func() {
		close(s.done)
		if s.ln != nil {
			s.ln.Close()
		}
		s.mu.Lock()
		for _, m := range s.masters {
			s.closeLink(m)
			for _, r := range m.slaves {
				s.closeLink(r)
			}
			for _, p := range m.sentinels {
				s.closeLink(p)
			}
		}
		s.mu.Unlock()
		s.clientMu.Lock()
		for c := range s.clients {
			c.nc.Close()
		}
		s.clientMu.Unlock()
		s.scripts.stop()
	})
	s.wg.Wait()
	return nil
}

// crash simulates a crash for SENTINEL SIMULATE-FAILURE: Redis exits with 99 on
// the spot. Called with mu held, so the shutdown runs elsewhere.
func (s *Sentinel) crash() {
	s.log.Warn("Sentinel CRASH because of SENTINEL simulate-failure")
	s.tilt = true // stop acting at once; the timer exits on done
	go func() {
		s.Close()
		s.crashed <- 99
	}()
}

// timerLoop runs the sentinel timer. Redis runs it at server.hz, re-drawn between
// 10 and 19 each time so that sentinels started together do not stay in lockstep
// and keep splitting the vote; kv does the same.
func (s *Sentinel) timerLoop() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		hz := 10 + s.rng.IntN(10)
		s.mu.Unlock()
		select {
		case <-s.done:
			return
		case <-time.After(time.Second / time.Duration(hz)):
		}
		s.mu.Lock()
		select {
		case <-s.done:
			s.mu.Unlock()
			return
		default:
		}
		s.tick()
		s.mu.Unlock()
	}
}

// tick is sentinelTimer.
func (s *Sentinel) tick() {
	s.checkTilt()
	var switchTo *instance
	for _, name := range sortedNames(s.masters) {
		m := s.masters[name]
		s.handleInstance(m)
		for _, n := range sortedNames(m.slaves) {
			if r, ok := m.slaves[n]; ok {
				s.handleInstance(r)
			}
		}
		for _, n := range sortedNames(m.sentinels) {
			if p, ok := m.sentinels[n]; ok {
				s.handleInstance(p)
			}
		}
		if m.failoverState == stateUpdateConfig {
			switchTo = m
		}
	}
	if switchTo != nil {
		s.switchToPromoted(switchTo)
	}
	s.scripts.tick()
}

// checkTilt enters TILT when the timer was not called for more than tilt-trigger
// (the process was stopped, the machine overloaded) or time went backwards. kv
// also compares the wall clock with the monotonic one, so a wall-clock step is
// caught even though kv's own intervals are monotonic.
func (s *Sentinel) checkTilt() {
	mono := s.now()
	wall := time.Now().UnixMilli()
	delta := mono - s.prevMono
	skew := (wall - s.prevWall) - delta
	if delta < 0 || delta > s.t.tiltTrigger || skew > s.t.tiltTrigger || skew < -s.t.tiltTrigger {
		s.tilt = true
		s.tiltStart = mono
		s.event(levelWarning, "+tilt", nil, "#tilt mode entered")
	}
	s.prevMono = mono
	s.prevWall = wall
}

// handleInstance is sentinelHandleRedisInstance.
func (s *Sentinel) handleInstance(ri *instance) {
	s.reconnect(ri)
	s.sendPeriodic(ri)
	if s.tilt {
		if s.now()-s.tiltStart < s.t.tiltPeriod {
			return
		}
		s.tilt = false
		s.event(levelWarning, "-tilt", nil, "#tilt mode exited")
	}
	s.checkSDown(ri)
	if ri.kind == kindMaster {
		s.checkODown(ri)
		if s.startFailoverIfNeeded(ri) {
			s.askMasterState(ri, true)
		}
		s.failoverStateMachine(ri)
		s.askMasterState(ri, false)
	}
}

// createMaster adds a monitored master (createSentinelRedisInstance for SRI_MASTER).
func (s *Sentinel) createMaster(name, host string, port, quorum int) (*instance, error) {
	if _, ok := s.masters[name]; ok {
		return nil, errors.New("Duplicate master name.")
	}
	a, ok := newAddr(host, port)
	if !ok {
		if port < 0 || port > 65535 {
			return nil, errors.New("Invalid port number")
		}
		return nil, errors.New("Can't resolve instance hostname.")
	}
	now := s.now()
	m := s.newInstance(kindMaster, name, a, quorum, nil, now)
	s.masters[name] = m
	return m, nil
}

func (s *Sentinel) newInstance(kind int, name string, a *addr, quorum int, master *instance, now int64) *instance {
	ri := &instance{
		kind: kind, name: name, addr: a, link: newLink(now), master: master, quorum: quorum,
		lastPubTime: now, lastHelloTim: now, lastMasterDownReplyTime: now,
		downAfter: s.t.defaultDownAfter, slavePriority: s.t.defaultSlavePriority, replicaAnnounced: 1,
		parallelSyncs: s.t.defaultParallelSyncs, failoverTimeout: s.t.defaultFailoverTimeout,
		roleReported: kind & (kindMaster | kindSlave), roleReportedTime: now, slaveConfChangeTime: now,
	}
	if master != nil {
		ri.downAfter = master.downAfter
	}
	if kind == kindMaster {
		ri.slaves = map[string]*instance{}
		ri.sentinels = map[string]*instance{}
		ri.renamedCommands = map[string]string{}
	}
	return ri
}

// addSlave adds a replica to a master's table; nil if it is already there.
func (s *Sentinel) addSlave(m *instance, host string, port int) *instance {
	a, ok := newAddr(host, port)
	if !ok {
		return nil
	}
	name := a.String()
	if _, dup := m.slaves[name]; dup {
		return nil
	}
	r := s.newInstance(kindSlave, name, a, m.quorum, m, s.now())
	m.slaves[name] = r
	return r
}

func (s *Sentinel) addSentinel(m *instance, host string, port int, runid string) *instance {
	a, ok := newAddr(host, port)
	if !ok {
		return nil
	}
	if _, dup := m.sentinels[runid]; dup {
		return nil
	}
	p := s.newInstance(kindSentinel, runid, a, m.quorum, m, s.now())
	p.runid = runid
	m.sentinels[runid] = p
	return p
}

func (s *Sentinel) lookupSlave(m *instance, host string, port int) *instance {
	for _, r := range m.slaves {
		if r.addr.equalsHost(host, port) {
			return r
		}
	}
	return nil
}

func sortStrings(ss []string) { sort.Strings(ss) }

// currentMasterAddr is the master's address, or the promoted replica's once the
// failover has reached the point where the new config is in force.
func currentMasterAddr(m *instance) *addr {
	if m.flags&flagFailoverInProgress != 0 && m.promoted != nil && m.failoverState >= stateReconfSlaves {
		return m.promoted.addr
	}
	return m.addr
}

// announceAddr is the address as it is told to others (announce-hostnames).
func (s *Sentinel) announceAddr(a *addr) string {
	if s.announceHostnames {
		return a.host
	}
	return a.ip
}
