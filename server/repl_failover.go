package server

import (
	"strings"
	"time"

	"kv/engine"
)

// FAILOVER (Redis 6.2+): the master pauses writes, waits until a replica (the target,
// or any that caught up) has acknowledged the whole stream, then becomes a replica of
// it, sending PSYNC with FAILOVER so that the target promotes itself first. The old
// master then continues from the target's backlog under replid2, without a full copy.

type failoverPhase uint8

const (
	failoverNone failoverPhase = iota
	failoverWaitSync
	failoverInProgress
)

func (p failoverPhase) String() string {
	switch p {
	case failoverWaitSync:
		return "waiting-for-sync"
	case failoverInProgress:
		return "failover-in-progress"
	default:
		return "no-failover"
	}
}

type failoverState struct {
	state      failoverPhase
	host       string
	port       int
	end        time.Time // zero: no timeout
	force      bool
	paused     bool
	targetAuto bool // the target was picked by the failover, not given with TO
}

func (s *Server) cmdFailover(c *engine.Ctx) {
	f := &s.repl.failover
	if len(c.Args) == 2 && c.Is(1, "abort") {
		if f.state == failoverNone {
			c.Error("ERR No failover in progress.")
			return
		}
		s.abortFailover("Failover manually aborted")
		c.W.OK()
		return
	}
	var timeout int64
	force := false
	host, port := "", 0
	for j := 1; j < len(c.Args); j++ {
		switch {
		case c.Is(j, "timeout") && j+1 < len(c.Args) && timeout == 0:
			n, ok := engine.ParseInt(c.Args[j+1])
			if !ok {
				c.Error("ERR value is not an integer or out of range")
				return
			}
			if n <= 0 {
				c.Error("ERR FAILOVER timeout must be greater than 0")
				return
			}
			timeout = n
			j++
		case c.Is(j, "to") && j+2 < len(c.Args) && host == "":
			n, ok := engine.ParseInt(c.Args[j+2])
			if !ok {
				c.Error("ERR value is not an integer or out of range")
				return
			}
			host, port = string(c.Args[j+1]), int(n)
			j += 2
		case c.Is(j, "force") && !force:
			force = true
		default:
			c.Error(engine.ErrSyntax)
			return
		}
	}
	r := &s.repl
	switch {
	case f.state != failoverNone:
		c.Error("ERR FAILOVER already in progress.")
		return
	case r.masterHost != "":
		c.Error("ERR FAILOVER is not valid when server is a replica.")
		return
	case len(r.replicas) == 0:
		c.Error("ERR FAILOVER requires connected replicas.")
		return
	case force && (timeout == 0 || host == ""):
		c.Error("ERR FAILOVER with force option requires both a timeout and target HOST and IP.")
		return
	}
	if host != "" {
		rp := s.findReplica(host, port)
		if rp == nil {
			c.Error("ERR FAILOVER target HOST and PORT is not a replica.")
			return
		}
		if rp.state != replOnline {
			c.Error("ERR FAILOVER target replica is not online.")
			return
		}
	}
	*f = failoverState{state: failoverWaitSync, host: host, port: port, force: force}
	if timeout > 0 {
		f.end = time.Now().Add(time.Duration(timeout) * time.Millisecond)
	}
	s.pauseClients(time.Now().Add(100*365*24*time.Hour), false)
	f.paused = true
	s.log.Info("FAILOVER requested", "to", host, "port", port)
	c.W.OK()
}

func (s *Server) findReplica(host string, port int) *replica {
	for _, rp := range s.repl.replicas {
		ip, p := s.replicaAddr(rp)
		if strings.EqualFold(ip, host) && p == port {
			return rp
		}
	}
	return nil
}

func (s *Server) clearFailover() {
	f := &s.repl.failover
	if f.paused {
		s.unpauseClients()
	}
	*f = failoverState{}
}

func (s *Server) abortFailover(why string) {
	f := &s.repl.failover
	if f.state == failoverNone {
		return
	}
	s.log.Info("FAILOVER aborted", "to", f.host, "port", f.port, "reason", why)
	if f.state == failoverInProgress {
		s.unsetMaster()
	}
	s.clearFailover()
}

// updateFailover moves a waiting failover on: timeout, or a replica caught up. Lock held.
func (s *Server) updateFailover() {
	f := &s.repl.failover
	if f.state != failoverWaitSync {
		return
	}
	if !f.end.IsZero() && !time.Now().Before(f.end) {
		if f.force {
			s.log.Info("FAILOVER timeout exceeded, failing over", "to", f.host, "port", f.port)
			s.beginFailover()
			return
		}
		s.abortFailover("Replica never caught up before timeout")
		return
	}
	var rp *replica
	if f.host != "" {
		rp = s.findReplica(f.host, f.port)
	} else {
		for _, x := range s.repl.replicas {
			if x.state == replOnline && x.ackOff == s.repl.offset {
				rp = x
				f.host, f.port = s.replicaAddr(x)
				break
			}
		}
	}
	if rp != nil && rp.ackOff == s.repl.offset {
		s.beginFailover()
	}
}

func (s *Server) beginFailover() {
	f := &s.repl.failover
	f.state = failoverInProgress
	s.setMaster(f.host, f.port, false)
}

// failoverPsyncDone ends an in-progress failover once the target answered our PSYNC.
// Lock held.
func (s *Server) failoverPsyncDone(accepted bool) {
	if s.repl.failover.state != failoverInProgress {
		return
	}
	if accepted {
		s.log.Info("failover target accepted PSYNC: failover complete")
		s.clearFailover()
		return
	}
	s.abortFailover("Failover target rejected psync request")
}
