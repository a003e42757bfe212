package sentinel_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"kv/sentinel"
)

// The tests in this file check the safety of elections: a sentinel restarted in
// the middle of a failover, or cut off from its peers, never makes two replicas
// masters in one epoch, and the group ends with exactly one master.

const electionFailoverTimeout = 4000

// sentEvent is one event of one run of a sentinel, in the order it emitted them.
type sentEvent struct {
	who, run int // sentinel index, and how many times it was restarted before
	typ, msg string
}

// eventLog records the events of every sentinel of a test through their loggers:
// a sentinel logs each event synchronously as "TYPE MESSAGE" before publishing
// it, so unlike a pub/sub subscription nothing is lost when it is closed (or
// crashes) right after an event.
type eventLog struct {
	mu     sync.Mutex
	events []sentEvent
	text   strings.Builder
	// trigger, when set, is called (without mu) for every event.
	trigger func(sentEvent)
}

func (l *eventLog) add(e sentEvent, line string) {
	l.mu.Lock()
	if e.typ != "" {
		l.events = append(l.events, e)
	}
	l.text.WriteString(line)
	l.text.WriteByte('\n')
	trig := l.trigger
	l.mu.Unlock()
	if trig != nil && e.typ != "" {
		trig(e)
	}
}

func (l *eventLog) snapshot() []sentEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]sentEvent(nil), l.events...)
}

func (l *eventLog) setTrigger(f func(sentEvent)) {
	l.mu.Lock()
	l.trigger = f
	l.mu.Unlock()
}

// logHandler is the slog.Handler of one run of one sentinel.
type logHandler struct {
	log      *eventLog
	who, run int
}

func (h *logHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *logHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logHandler) WithGroup(string) slog.Handler            { return h }

func (h *logHandler) Handle(_ context.Context, r slog.Record) error {
	line := fmt.Sprintf("%s s%d/%d %s %s", r.Time.Format("15:04:05.000"), h.who, h.run, r.Level, r.Message)
	r.Attrs(func(a slog.Attr) bool {
		line += " " + a.String()
		return true
	})
	e := sentEvent{who: h.who, run: h.run}
	if m := r.Message; len(m) > 1 && (m[0] == '+' || m[0] == '-') {
		e.typ, e.msg, _ = strings.Cut(m, " ")
	}
	h.log.add(e, line)
	return nil
}

// netPartition decides which connections the sentinels may open. Each sentinel
// dials through its own function (sentinel.Options.Dial), named by its address;
// a cut pair fails to dial, and cutting closes the connections already open.
type netPartition struct {
	mu      sync.Mutex
	blocked map[[2]string]bool
	conns   map[[2]string][]net.Conn
}

func newNetPartition() *netPartition {
	return &netPartition{blocked: map[[2]string]bool{}, conns: map[[2]string][]net.Conn{}}
}

func (p *netPartition) dialer(from string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		key := [2]string{from, addr}
		p.mu.Lock()
		cut := p.blocked[key]
		p.mu.Unlock()
		if cut {
			return nil, errors.New("test partition: " + from + " cannot reach " + addr)
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.blocked[key] {
			c.Close()
			return nil, errors.New("test partition: " + from + " cannot reach " + addr)
		}
		p.conns[key] = append(p.conns[key], c)
		return c, nil
	}
}

// cut stops from dialling to and closes its open connections to it.
func (p *netPartition) cut(from, to string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := [2]string{from, to}
	p.blocked[key] = true
	for _, c := range p.conns[key] {
		c.Close()
	}
	delete(p.conns, key)
}

func (p *netPartition) healAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blocked = map[[2]string]bool{}
}

// electionSentinel is a kv sentinel that can be stopped and started again on the
// same state file and port.
type electionSentinel struct {
	t    *testing.T
	who  int
	run  int
	path string
	addr string
	log  *eventLog
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
	s    *sentinel.Sentinel
}

// electionGroup is three kv sentinels watching one master and two replicas.
type electionGroup struct {
	su   *setup
	log  *eventLog
	net  *netPartition
	sent []*electionSentinel
}

// startElectionGroup starts the sentinels, the i-th with quorums[i] and
// down-after-milliseconds downAfters[i] (downAfter if downAfters is shorter),
// and waits until they have discovered each other and both replicas.
func startElectionGroup(t *testing.T, quorums, downAfters []int) *electionGroup {
	t.Helper()
	g := &electionGroup{su: startReplicationGroup(t), log: &eventLog{}, net: newNetPartition()}
	host, port, _ := net.SplitHostPort(g.su.master.addr())
	for i, q := range quorums {
		da := downAfter
		if i < len(downAfters) {
			da = downAfters[i]
		}
		dir := t.TempDir()
		var path, text string
		if i%2 == 0 {
			path = filepath.Join(dir, "sentinel.conf")
			text = fmt.Sprintf("sentinel monitor mymaster %s %s %d\nsentinel down-after-milliseconds mymaster %d\nsentinel failover-timeout mymaster %d\n",
				host, port, q, da, electionFailoverTimeout)
		} else {
			path = filepath.Join(dir, "sentinel.toml")
			text = fmt.Sprintf("[masters.mymaster]\nhost = %q\nport = %s\nquorum = %d\ndown-after-milliseconds = %d\nfailover-timeout = %d\n",
				host, port, q, da, electionFailoverTimeout)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		es := &electionSentinel{t: t, who: i, path: path, addr: ln.Addr().String(), log: g.log}
		es.dial = g.net.dialer(es.addr)
		es.start(ln)
		g.sent = append(g.sent, es)
	}
	t.Cleanup(func() {
		for _, es := range g.sent {
			es.stop()
		}
		if t.Failed() || os.Getenv("KV_SENTINEL_LOG") != "" {
			g.log.mu.Lock()
			t.Logf("sentinel logs:\n%s", g.log.text.String())
			g.log.mu.Unlock()
		}
	})
	checkOwnServers(t, g.su)
	gr := &group{}
	for _, es := range g.sent {
		gr.addrs = append(gr.addrs, es.addr)
	}
	waitDiscovery(t, gr)
	return g
}

// start runs the sentinel on ln, or on a new listener on its address.
func (es *electionSentinel) start(ln net.Listener) {
	es.t.Helper()
	if ln == nil {
		var err error
		ln, err = net.Listen("tcp", es.addr)
		if err != nil {
			es.t.Fatalf("listen again on %s: %v", es.addr, err)
		}
	}
	s, err := sentinel.New(sentinel.Options{ConfigPath: es.path, Listener: ln, Dial: es.dial,
		Logger: slog.New(&logHandler{log: es.log, who: es.who, run: es.run})})
	if err != nil {
		es.t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		es.t.Fatal(err)
	}
	es.s = s
	// Hellos every second instead of two: discovery and the spreading of a new
	// configuration take half as long. The timing is not kept across a restart.
	if v, err := do(es.addr, "SENTINEL", "DEBUG", "publish-period", "1000"); err != nil || v.String() != "OK" {
		es.t.Fatalf("SENTINEL DEBUG on %s: %v %v", es.addr, v.String(), err)
	}
}

func (es *electionSentinel) stop() {
	if es.s != nil {
		es.s.Close()
		es.s = nil
	}
}

// restart stops the sentinel (if it is still running) and starts a new one on the
// same state file and port.
func (es *electionSentinel) restart() {
	es.stop()
	es.run++
	es.start(nil)
}

// safetyMonitor polls the data nodes and the sentinels while a test runs: never
// two masters among the replicas at once, and never two master addresses under
// one config epoch in what the sentinels report.
type safetyMonitor struct {
	stopc chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	errs  []string
	seen  map[string]string // config epoch -> master address
	first string            // the first replica seen as a master
}

func (sm *safetyMonitor) firstMaster() string {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	return sm.first
}

func (g *electionGroup) monitor(t *testing.T) *safetyMonitor {
	sm := &safetyMonitor{stopc: make(chan struct{}), done: make(chan struct{}), seen: map[string]string{}}
	go func() {
		defer close(sm.done)
		for {
			select {
			case <-sm.stopc:
				return
			case <-time.After(100 * time.Millisecond):
			}
			var masters []string
			for _, r := range g.su.replicas {
				if ro, _ := role(r.addr()); ro == "master" {
					masters = append(masters, r.addr())
				}
			}
			if len(masters) > 1 {
				sm.fail("two masters at once: %v", masters)
			}
			if len(masters) > 0 {
				sm.mu.Lock()
				if sm.first == "" {
					sm.first = masters[0]
				}
				sm.mu.Unlock()
			}
			for i, es := range g.sent {
				a1 := masterAddrOf(es.addr)
				epoch := masterField(es.addr, "config-epoch")
				a2 := masterAddrOf(es.addr)
				if a1 == "" || epoch == "" || a1 != a2 {
					continue
				}
				sm.mu.Lock()
				if prev, ok := sm.seen[epoch]; ok && prev != a1 {
					sm.errs = append(sm.errs, fmt.Sprintf("sentinel %d names %s in config epoch %s, another named %s", i, a1, epoch, prev))
				}
				sm.seen[epoch] = a1
				sm.mu.Unlock()
			}
		}
	}()
	t.Cleanup(sm.stop)
	return sm
}

func (sm *safetyMonitor) fail(format string, args ...any) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	if len(sm.errs) < 20 {
		sm.errs = append(sm.errs, fmt.Sprintf(format, args...))
	}
}

func (sm *safetyMonitor) stop() {
	select {
	case <-sm.stopc:
	default:
		close(sm.stopc)
	}
	<-sm.done
}

func (sm *safetyMonitor) check(t *testing.T) {
	t.Helper()
	sm.stop()
	for _, e := range sm.errs {
		t.Error(e)
	}
}

// checkEpochs reads every sentinel's events: a failover attempt's epoch is the
// one announced by the +new-epoch right before its +try-failover. No epoch may
// have two +elected-leader winners or two +promoted-slave targets. It returns
// the leaders per epoch.
func checkEpochs(t *testing.T, g *electionGroup) map[uint64]map[int]bool {
	t.Helper()
	type stream struct{ who, run int }
	lastNew := map[stream]uint64{}
	attempt := map[stream]uint64{}
	winners := map[uint64]map[int]bool{}
	promoted := map[uint64]map[string]bool{}
	for _, e := range g.log.snapshot() {
		k := stream{e.who, e.run}
		switch e.typ {
		case "+new-epoch":
			n, err := strconv.ParseUint(strings.TrimSpace(e.msg), 10, 64)
			if err != nil {
				t.Errorf("sentinel %d: +new-epoch %q", e.who, e.msg)
			}
			lastNew[k] = n
		case "+try-failover":
			attempt[k] = lastNew[k]
		case "+elected-leader", "+promoted-slave":
			ep := attempt[k]
			if ep == 0 {
				t.Errorf("sentinel %d: %s %s outside a failover attempt", e.who, e.typ, e.msg)
				continue
			}
			if e.typ == "+elected-leader" {
				if winners[ep] == nil {
					winners[ep] = map[int]bool{}
				}
				winners[ep][e.who] = true
			} else {
				if promoted[ep] == nil {
					promoted[ep] = map[string]bool{}
				}
				// "slave IP:PORT IP PORT @ ..."
				f := strings.Fields(e.msg)
				if len(f) > 1 {
					promoted[ep][f[1]] = true
				}
			}
		}
	}
	for ep, w := range winners {
		if len(w) > 1 {
			t.Errorf("epoch %d has %d elected leaders: %v", ep, len(w), w)
		}
	}
	for ep, p := range promoted {
		if len(p) > 1 {
			t.Errorf("epoch %d promoted %d replicas: %v", ep, len(p), p)
		}
	}
	return winners
}

// waitOneMaster waits until exactly one replica is master, the other follows it
// and every sentinel names it; it returns it.
func (g *electionGroup) waitOneMaster(t *testing.T, timeout time.Duration) *redisProc {
	t.Helper()
	var nm *redisProc
	waitFor(t, timeout, "one master, the other replica following it, every sentinel naming it", func() bool {
		nm = nil
		for _, r := range g.su.replicas {
			if ro, _ := role(r.addr()); ro == "master" {
				if nm != nil {
					return false
				}
				nm = r
			}
		}
		if nm == nil {
			return false
		}
		for _, r := range g.su.replicas {
			if r != nm {
				if ro, port := role(r.addr()); ro != "slave" || port != nm.port {
					return false
				}
			}
		}
		for _, es := range g.sent {
			if masterAddrOf(es.addr) != nm.addr() {
				return false
			}
		}
		return true
	})
	return nm
}

func (g *electionGroup) count(who int, typ string) int {
	n := 0
	for _, e := range g.log.snapshot() {
		if e.typ == typ && (who < 0 || e.who == who) {
			n++
		}
	}
	return n
}

// TestElectionRestartMidFailover restarts the failover leader at several points
// of its failover, on the same state file and port. Whatever it had done, the
// group ends with one new master, and no epoch has two leaders or two promoted
// replicas.
func TestElectionRestartMidFailover(t *testing.T) {
	cases := []struct {
		name string
		// simulate is a SENTINEL SIMULATE-FAILURE mode: the leader stops itself at
		// that exact point. Otherwise the leader is stopped by the test as soon
		// as it emits event, while it goes on with the failover.
		simulate string
		event    string
	}{
		{name: "crash-after-election", simulate: "crash-after-election"},
		{name: "crash-after-promotion", simulate: "crash-after-promotion"},
		{name: "stop-at-select-slave", event: "+failover-state-select-slave"},
		{name: "stop-at-wait-promotion", event: "+failover-state-wait-promotion"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Each case has its own servers and sentinels and mostly waits on
			// timers: run them side by side to keep the package's test time low.
			t.Parallel()
			g := startElectionGroup(t, []int{2, 2, 2}, nil)
			sm := g.monitor(t)
			leader := make(chan int, 8)
			if tc.simulate != "" {
				for _, es := range g.sent {
					if v, err := do(es.addr, "SENTINEL", "SIMULATE-FAILURE", tc.simulate); err != nil || v.String() != "OK" {
						t.Fatalf("SIMULATE-FAILURE: %v %v", v.String(), err)
					}
				}
				g.log.setTrigger(func(e sentEvent) {
					if e.typ == "+elected-leader" {
						leader <- e.who
					}
				})
			} else {
				g.log.setTrigger(func(e sentEvent) {
					if e.typ == tc.event {
						leader <- e.who
					}
				})
			}
			killAndHold(t, g.su.master)
			var who int
			select {
			case who = <-leader:
			case <-time.After(20 * time.Second):
				t.Fatal("no sentinel was elected within 20s of the kill")
			}
			g.log.setTrigger(nil)
			es := g.sent[who]
			if tc.simulate != "" {
				// Only the leader crashes; the others must not.
				for _, o := range g.sent {
					if o != es {
						if _, err := do(o.addr, "SENTINEL", "SIMULATE-FAILURE", "help"); err != nil {
							t.Fatal(err)
						}
					}
				}
				select {
				case <-es.s.Crashed():
				case <-time.After(5 * time.Second):
					t.Fatal("the leader did not crash")
				}
			}
			es.restart()
			t.Logf("sentinel %d restarted (%s)", who, tc.name)
			nm := g.waitOneMaster(t, 25*time.Second)
			t.Logf("new master %s", nm.addr())
			// A replica made master before the restart (REPLICAOF NO ONE sent,
			// the promotion not yet confirmed) must be the one the failover ends
			// on: promoting the other would make two masters.
			if first := sm.firstMaster(); first != "" && first != nm.addr() {
				t.Errorf("%s became master first, but the failover ended on %s", first, nm.addr())
			}
			sm.check(t)
			checkEpochs(t, g)
		})
	}
}

// TestElectionPartitionedSentinel cuts sentinel 0 off from its two peers (both
// directions). Its quorum is 1, so it reaches ODOWN alone and tries to fail over,
// but it must never be elected: a leader needs a majority of all the sentinels
// it knows, not of those it can reach.
func TestElectionPartitionedSentinel(t *testing.T) {
	cases := []struct {
		name string
		// masterDown: the master is killed (the two others fail over); otherwise
		// only sentinel 0 is cut from the master too, which the others still see.
		masterDown bool
	}{
		{name: "master-killed", masterDown: true},
		{name: "master-unreachable-from-isolated", masterDown: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Each case has its own servers and sentinels and mostly waits on
			// timers: run them side by side to keep the package's test time low.
			t.Parallel()
			// The peers take longer to see the master down, so the isolated
			// sentinel has always tried (and failed) to get elected first.
			g := startElectionGroup(t, []int{1, 2, 2}, []int{downAfter, 3 * downAfter, 3 * downAfter})
			iso := g.sent[0]
			for _, o := range g.sent[1:] {
				g.net.cut(iso.addr, o.addr)
				g.net.cut(o.addr, iso.addr)
			}
			waitFor(t, 10*time.Second, "the peers to lose sentinel 0", func() bool {
				for _, o := range g.sent[1:] {
					if !strings.Contains(sentinelFlags(o.addr, iso.s.MyID()), "s_down") {
						return false
					}
				}
				return true
			})
			sm := g.monitor(t)
			epoch0, _ := strconv.Atoi(masterField(iso.addr, "config-epoch"))
			if tc.masterDown {
				killAndHold(t, g.su.master)
				// The others fail over; the isolated one tries and is not elected.
				nm := g.waitOneMasterAmong(t, g.sent[1:], 25*time.Second)
				waitFor(t, 15*time.Second, "sentinel 0 to give up its attempt", func() bool {
					return g.count(0, "-failover-abort-not-elected") > 0 || masterAddrOf(iso.addr) == nm.addr()
				})
				g.net.healAll()
				g.waitOneMaster(t, 20*time.Second)
				if e, _ := strconv.Atoi(masterField(iso.addr, "config-epoch")); e <= epoch0 {
					t.Errorf("sentinel 0 config epoch %d, want more than %d", e, epoch0)
				}
				if n := g.count(-1, "+promoted-slave"); n != 1 {
					t.Errorf("%d promotions, want 1", n)
				}
			} else {
				g.net.cut(iso.addr, g.su.master.addr())
				waitFor(t, 15*time.Second, "sentinel 0 to try a failover and give up", func() bool {
					return g.count(0, "-failover-abort-not-elected") > 0
				})
				g.net.healAll()
				waitFor(t, 10*time.Second, "sentinel 0 to see the master again", func() bool {
					return !strings.Contains(masterField(iso.addr, "flags"), "s_down")
				})
				for _, p := range append([]*redisProc{g.su.master}, g.su.replicas...) {
					want := "slave"
					if p == g.su.master {
						want = "master"
					}
					if ro, _ := role(p.addr()); ro != want {
						t.Errorf("%s is %s, want %s", p.addr(), ro, want)
					}
				}
				for _, es := range g.sent {
					if a := masterAddrOf(es.addr); a != g.su.master.addr() {
						t.Errorf("sentinel %d names %s, want %s", es.who, a, g.su.master.addr())
					}
				}
				if n := g.count(-1, "+promoted-slave") + g.count(-1, "+switch-master"); n != 0 {
					t.Errorf("%d promotions or switches without a failover", n)
				}
			}
			if n := g.count(0, "+elected-leader"); n != 0 {
				t.Errorf("the isolated sentinel was elected %d times", n)
			}
			if g.count(0, "+try-failover") == 0 {
				t.Errorf("the isolated sentinel never tried to fail over (quorum 1): the test did not exercise the majority rule")
			}
			sm.check(t)
			checkEpochs(t, g)
		})
	}
}

// waitOneMasterAmong is waitOneMaster judged by some of the sentinels only.
func (g *electionGroup) waitOneMasterAmong(t *testing.T, among []*electionSentinel, timeout time.Duration) *redisProc {
	t.Helper()
	sub := &electionGroup{su: g.su, log: g.log, net: g.net, sent: among}
	return sub.waitOneMaster(t, timeout)
}

// sentinelFlags returns the flags a sentinel reports for the peer with runid.
func sentinelFlags(addr, runid string) string {
	v, err := do(addr, "SENTINEL", "SENTINELS", "mymaster")
	if err != nil {
		return ""
	}
	for _, p := range v.Elems {
		fields := map[string]string{}
		for i := 0; i+1 < len(p.Elems); i += 2 {
			fields[string(p.Elems[i].Str)] = string(p.Elems[i+1].Str)
		}
		if fields["runid"] == runid {
			return fields["flags"]
		}
	}
	return ""
}

// killAndHold kills the server with SIGKILL and keeps its port taken, accepting
// and closing connections, until the test ends. Otherwise another test running
// at the same time could be given the port and start a server there, which the
// sentinels would take for the old master coming back.
func killAndHold(t *testing.T, p *redisProc) {
	t.Helper()
	p.kill()
	var ln net.Listener
	waitFor(t, 5*time.Second, "the port of the killed server", func() bool {
		var err error
		ln, err = net.Listen("tcp", p.addr())
		return err == nil
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
}

// checkOwnServers makes sure each server of the group is the process this test
// started: a port handed out twice by FreePort would otherwise let two tests
// share a server without noticing.
func checkOwnServers(t *testing.T, su *setup) {
	t.Helper()
	for _, p := range append([]*redisProc{su.master}, su.replicas...) {
		v, err := do(p.addr(), "INFO", "server")
		if err != nil || p.cmd == nil || !strings.Contains(string(v.Str), "process_id:"+strconv.Itoa(p.cmd.Process.Pid)+"\r\n") {
			t.Fatalf("the server on %s is not the one this test started (port reused?)", p.addr())
		}
	}
}
