package sentinel

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"kv/glob"
)

// Event levels, as Redis's log levels: debug events are only logged, warning
// events also run the notification script.
const (
	levelDebug = iota
	levelVerbose
	levelNotice
	levelWarning
)

// Event is one sentinel event as published on its channel.
type Event struct {
	Time    time.Time `json:"time"`
	Type    string    `json:"type"`
	Message string    `json:"message"`
}

// eventRing keeps the last events for SENTINEL EVENTS (kv) and status.
type eventRing struct {
	size int
	buf  []Event
	next int
}

func (r *eventRing) add(e Event) {
	if len(r.buf) < r.size {
		r.buf = append(r.buf, e)
		return
	}
	r.buf[r.next] = e
	r.next = (r.next + 1) % r.size
}

// last returns up to n events, oldest first.
func (r *eventRing) last(n int) []Event {
	all := append(append([]Event(nil), r.buf[r.next:]...), r.buf[:r.next]...)
	if n >= 0 && len(all) > n {
		all = all[len(all)-n:]
	}
	return all
}

// event publishes an event (sentinelEvent). A format starting with "%@" is
// prefixed with the instance: "<type> <name> <ip> <port>", plus
// " @ <master-name> <master-ip> <master-port>" for replicas and sentinels.
func (s *Sentinel) event(level int, typ string, ri *instance, format string, args ...any) {
	var msg string
	if strings.HasPrefix(format, "%@") {
		if ri.kind != kindMaster && ri.master != nil {
			m := ri.master
			msg = fmt.Sprintf("%s %s %s %d @ %s %s %d", ri.typeName(), ri.name, s.announceAddr(ri.addr), ri.addr.port,
				m.name, s.announceAddr(m.addr), m.addr.port)
		} else {
			msg = fmt.Sprintf("%s %s %s %d", ri.typeName(), ri.name, s.announceAddr(ri.addr), ri.addr.port)
		}
		format = format[2:]
	}
	if format != "" {
		msg += fmt.Sprintf(format, args...)
	}
	switch level {
	case levelWarning:
		s.log.Warn(typ + " " + msg)
	case levelNotice:
		s.log.Info(typ + " " + msg)
	default:
		s.log.Debug(typ + " " + msg)
	}
	if level != levelDebug {
		s.events.add(Event{Time: time.Now(), Type: typ, Message: msg})
		s.hub.publish(typ, msg)
	}
	if level == levelWarning && ri != nil {
		if m := ri.owner(); m != nil && m.notifyScript != "" {
			s.scripts.schedule(m.notifyScript, typ, msg)
		}
	}
}

// hub is the sentinel's pub/sub: clients subscribe to event channels (and the
// hello channel), and events are pushed to them. It has its own lock so a
// publish under Sentinel.mu never waits on a client socket: delivery only
// queues into the client's bounded output.
type hub struct {
	mu       sync.Mutex
	channels map[string]map[*clientConn]struct{}
	patterns map[string]map[*clientConn]struct{}
}

func newHub() *hub {
	return &hub{channels: map[string]map[*clientConn]struct{}{}, patterns: map[string]map[*clientConn]struct{}{}}
}

func (h *hub) publish(channel, msg string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for c := range h.channels[channel] {
		c.pushMessage(channel, msg)
		n++
	}
	for pat, subs := range h.patterns {
		if !glob.MatchString(pat, channel, false) {
			continue
		}
		for c := range subs {
			c.pushPMessage(pat, channel, msg)
			n++
		}
	}
	return n
}

func (h *hub) subscribe(c *clientConn, channel string, pattern bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	tbl := h.channels
	if pattern {
		tbl = h.patterns
	}
	subs := tbl[channel]
	if subs == nil {
		subs = map[*clientConn]struct{}{}
		tbl[channel] = subs
	}
	if _, ok := subs[c]; ok {
		return false
	}
	subs[c] = struct{}{}
	return true
}

func (h *hub) unsubscribe(c *clientConn, channel string, pattern bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	tbl := h.channels
	if pattern {
		tbl = h.patterns
	}
	subs := tbl[channel]
	if _, ok := subs[c]; !ok {
		return false
	}
	delete(subs, c)
	if len(subs) == 0 {
		delete(tbl, channel)
	}
	return true
}

// scriptRunner runs notification and client-reconfig scripts as Redis does: at
// most 16 at a time, a queue of 256, a 60 s limit, and up to 10 retries, with an
// exponential delay, of a script that exits with 1.
type scriptRunner struct {
	s       *Sentinel
	queue   []*scriptJob
	running int
	ctx     context.Context
	cancel  context.CancelFunc
}

type scriptJob struct {
	argv    []string
	retries int
	startAt int64
	running bool
}

func newScriptRunner(s *Sentinel) *scriptRunner {
	ctx, cancel := context.WithCancel(context.Background())
	return &scriptRunner{s: s, ctx: ctx, cancel: cancel}
}

func (r *scriptRunner) stop() { r.cancel() }

// schedule queues a script run (with Sentinel.mu held).
func (r *scriptRunner) schedule(path string, args ...string) {
	r.queue = append(r.queue, &scriptJob{argv: append([]string{path}, args...), startAt: 0})
	if len(r.queue) > r.s.t.scriptMaxQueue {
		// Drop the oldest job that is not running, as Redis does.
		for i, j := range r.queue {
			if !j.running {
				r.queue = append(r.queue[:i], r.queue[i+1:]...)
				r.s.log.Warn("Too many scripts in queue: dropping the oldest one")
				break
			}
		}
	}
}

// clientReconfig runs the master's client-reconfig-script.
func (r *scriptRunner) clientReconfig(m *instance, role, state string, from, to *addr) {
	if m.reconfigScript == "" {
		return
	}
	r.schedule(m.reconfigScript, m.name, role, state, r.s.announceAddr(from), strconv.Itoa(from.port),
		r.s.announceAddr(to), strconv.Itoa(to.port))
}

// tick starts the scripts that are due (with Sentinel.mu held).
func (r *scriptRunner) tick() {
	now := r.s.now()
	for _, j := range r.queue {
		if r.running >= r.s.t.scriptMaxRunning {
			return
		}
		if j.running || j.startAt > now {
			continue
		}
		j.running = true
		r.running++
		go r.run(j)
	}
}

func (r *scriptRunner) run(j *scriptJob) {
	ctx, cancel := context.WithTimeout(r.ctx, time.Duration(r.s.t.scriptMaxRuntime)*time.Millisecond)
	defer cancel()
	err := exec.CommandContext(ctx, j.argv[0], j.argv[1:]...).Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		code = 2
	}
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r.running--
	j.running = false
	// Exit code 1 asks for a retry; anything else (or a kill) ends the job.
	if code == 1 && j.retries < s.t.scriptMaxRetry {
		j.retries++
		j.startAt = s.now() + s.t.scriptRetryDelay*(1<<(j.retries-1))
		return
	}
	if code != 0 {
		s.event(levelWarning, "-script-error", nil, "%s %d %d", j.argv[0], 0, code)
	}
	for i, q := range r.queue {
		if q == j {
			r.queue = append(r.queue[:i], r.queue[i+1:]...)
			break
		}
	}
}

func (r *scriptRunner) pending() []*scriptJob { return r.queue }
