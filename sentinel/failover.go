package sentinel

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// startFailoverIfNeeded starts a failover when the master is ODOWN, none is in
// progress and the last attempt is older than twice the failover timeout.
func (s *Sentinel) startFailoverIfNeeded(m *instance) bool {
	if m.flags&flagODown == 0 || m.flags&flagFailoverInProgress != 0 {
		return false
	}
	now := s.now()
	if now-m.failoverStartTime < m.failoverTimeout*2 {
		if m.failoverDelayLogged != m.failoverStartTime {
			m.failoverDelayLogged = m.failoverStartTime
			at := time.UnixMilli(m.failoverStartTime + m.failoverTimeout*2)
			s.log.Warn("Next failover delay: I will not start a failover before " + at.Format(time.ANSIC))
		}
		return false
	}
	s.startFailover(m)
	return true
}

// startFailover moves to a new epoch and asks for votes in it.
func (s *Sentinel) startFailover(m *instance) {
	now := s.now()
	m.failoverState = stateWaitStart
	m.flags |= flagFailoverInProgress
	s.currentEpoch++
	m.failoverEpoch = s.currentEpoch
	// kv: the new epoch is on disk before the vote requests that carry it go out
	// (Redis saves it only with our own vote, a moment later), so a sentinel
	// restarted right after asking never reuses the epoch number for another
	// attempt of its own.
	s.flushConfigLogged()
	s.event(levelWarning, "+new-epoch", m, "%d", s.currentEpoch)
	s.event(levelWarning, "+try-failover", m, "%@")
	m.failoverStartTime = now + s.rng.Int64N(s.t.maxDesync)
	m.failoverStateChangeTime = now
}

// voteLeader gives our vote for epoch reqEpoch to reqRunid, unless we already
// voted in that epoch or a later one; it returns the vote we hold
// (sentinelVoteLeader). The vote is on disk before it is returned, so a restart
// cannot make us vote twice in one epoch.
func (s *Sentinel) voteLeader(m *instance, reqEpoch uint64, reqRunid string) (string, uint64) {
	if reqEpoch > s.currentEpoch {
		s.currentEpoch = reqEpoch
		s.flushConfigLogged()
		s.event(levelWarning, "+new-epoch", m, "%d", s.currentEpoch)
	}
	if m.leaderEpoch < reqEpoch && s.currentEpoch <= reqEpoch {
		prevLeader, prevEpoch := m.leader, m.leaderEpoch
		m.leader = reqRunid
		m.leaderEpoch = s.currentEpoch
		// kv: Redis grants the vote even when it could not be saved; after a
		// restart such a sentinel would vote again in the same epoch, possibly for
		// another candidate, and two leaders could each count a majority. A vote
		// that is not on disk is not given: we answer with the previous one.
		if err := s.flushConfig(); err != nil {
			s.log.Warn("WARNING: Sentinel was not able to save its vote on disk: vote refused", "epoch", reqEpoch, "err", err)
			m.leader, m.leaderEpoch = prevLeader, prevEpoch
			return m.leader, m.leaderEpoch
		}
		s.event(levelWarning, "+vote-for-leader", m, "%s %d", m.leader, m.leaderEpoch)
		// Having voted for someone else, hold back our own attempt for a while.
		if !strings.EqualFold(m.leader, s.myid) {
			m.failoverStartTime = s.now() + s.rng.Int64N(s.t.maxDesync)
		}
	}
	return m.leader, m.leaderEpoch
}

// getLeader returns the leader for epoch if one has an absolute majority of the
// sentinels we know and at least quorum votes; our own vote goes to the most
// voted peer, or to ourselves (sentinelGetLeader).
//
// Only votes cast in epoch count. Redis counts the peers' votes in its current
// epoch, which differs from the failover epoch once a hello or a vote request
// moved it on during the election: it could then add its own vote in epoch N to
// peers' votes in N+1 and lead a failover with config epoch N while another
// sentinel legitimately won N+1 — two promotions at once. kv also asks for votes
// in the failover epoch (askMasterState), so the peers' replies are about it.
func (s *Sentinel) getLeader(m *instance, epoch uint64) string {
	voters := len(m.sentinels) + 1
	counts := map[string]int{}
	for _, p := range m.sentinels {
		if p.leader != "" && p.leaderEpoch == epoch {
			counts[p.leader]++
		}
	}
	winner, maxVotes := "", 0
	for _, id := range sortedKeys(counts) {
		if counts[id] > maxVotes {
			maxVotes, winner = counts[id], id
		}
	}
	want := s.myid
	if winner != "" {
		want = winner
	}
	myVote, voteEpoch := s.voteLeader(m, epoch, want)
	if myVote != "" && voteEpoch == epoch {
		counts[myVote]++
		if counts[myVote] > maxVotes {
			maxVotes, winner = counts[myVote], myVote
		}
	}
	if winner != "" && (maxVotes < voters/2+1 || maxVotes < m.quorum) {
		winner = ""
	}
	return winner
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sendSlaveOf reconfigures an instance the way Redis 7.0 does: in one
// transaction, REPLICAOF (as SLAVEOF), CONFIG REWRITE so the change survives a
// restart of the instance, and CLIENT KILL of normal and pub/sub clients so that
// connected clients reconnect and ask the sentinels where the master is. The
// replies are not checked; the effect is observed in INFO. A server without
// MULTI still runs each command on its own, as Redis notes for old servers.
//
// kv adds an INFO right behind the transaction, so the new role is seen within a
// round trip instead of at the next INFO period.
func (s *Sentinel) sendSlaveOf(ri *instance, to *addr) bool {
	host, port := "NO", "ONE"
	if to != nil {
		host, port = s.announceAddr(to), strconv.Itoa(to.port)
	}
	if ri.link.cc == nil || ri.link.pending+7 > 2*s.t.maxPendingCommands {
		return false
	}
	s.send(ri, nil, ri.mapCommand("MULTI"))
	s.send(ri, nil, ri.mapCommand("SLAVEOF"), host, port)
	s.send(ri, nil, ri.mapCommand("CONFIG"), "REWRITE")
	s.send(ri, nil, ri.mapCommand("CLIENT"), "KILL", "TYPE", "normal")
	s.send(ri, nil, ri.mapCommand("CLIENT"), "KILL", "TYPE", "pubsub")
	if !s.send(ri, nil, ri.mapCommand("EXEC")) {
		return false
	}
	if !ri.infoInFlight(ri.link) {
		s.sendInfo(ri)
	}
	return true
}

// failoverStateMachine advances a failover in progress.
func (s *Sentinel) failoverStateMachine(m *instance) {
	if m.flags&flagFailoverInProgress == 0 {
		return
	}
	switch m.failoverState {
	case stateWaitStart:
		s.failoverWaitStart(m)
	case stateSelectSlave:
		s.failoverSelectSlave(m)
	case stateSendSlaveofNoone:
		s.failoverSendSlaveOfNoOne(m)
	case stateWaitPromotion:
		if s.now()-m.failoverStateChangeTime > m.failoverTimeout {
			s.event(levelWarning, "-failover-abort-slave-timeout", m, "%@")
			s.abortFailover(m)
		}
	case stateReconfSlaves:
		s.reconfNextSlave(m)
	}
}

func (s *Sentinel) failoverWaitStart(m *instance) {
	leader := s.getLeader(m, m.failoverEpoch)
	isLeader := leader != "" && strings.EqualFold(leader, s.myid)
	if !isLeader && m.flags&flagForceFailover == 0 {
		timeout := min(s.t.electionTimeout, m.failoverTimeout)
		if s.now()-m.failoverStartTime > timeout {
			s.event(levelWarning, "-failover-abort-not-elected", m, "%@")
			s.abortFailover(m)
		}
		return
	}
	s.event(levelWarning, "+elected-leader", m, "%@")
	if s.simFailure&simCrashAfterElection != 0 {
		s.crash()
		return
	}
	m.failoverState = stateSelectSlave
	m.failoverStateChangeTime = s.now()
	s.event(levelWarning, "+failover-state-select-slave", m, "%@")
	// kv: select at once rather than on the next tick.
	s.failoverSelectSlave(m)
}

func (s *Sentinel) failoverSelectSlave(m *instance) {
	r, wait := s.selectSlave(m)
	if wait {
		return
	}
	if r == nil {
		s.event(levelWarning, "-failover-abort-no-good-slave", m, "%@")
		s.abortFailover(m)
		return
	}
	s.event(levelWarning, "+selected-slave", r, "%@")
	r.flags |= flagPromoted
	m.promoted = r
	m.failoverState = stateSendSlaveofNoone
	m.failoverStateChangeTime = s.now()
	s.event(levelNotice, "+failover-state-send-slaveof-noone", r, "%@")
	s.failoverSendSlaveOfNoOne(m)
}

func (s *Sentinel) failoverSendSlaveOfNoOne(m *instance) {
	p := m.promoted
	if p.link.disconnected {
		if s.now()-m.failoverStateChangeTime > m.failoverTimeout {
			s.event(levelWarning, "-failover-abort-slave-timeout", m, "%@")
			s.abortFailover(m)
		}
		return
	}
	if !s.sendSlaveOf(p, nil) {
		return
	}
	s.event(levelNotice, "+failover-state-wait-promotion", p, "%@")
	m.failoverState = stateWaitPromotion
	m.failoverStateChangeTime = s.now()
}

// promotionConfirmed: the chosen replica reports master. From here the failover
// cannot be aborted; the new config epoch is ours and is spread by hello.
func (s *Sentinel) promotionConfirmed(r *instance) {
	m := r.master
	m.configEpoch = m.failoverEpoch
	m.failoverState = stateReconfSlaves
	m.failoverStateChangeTime = s.now()
	s.flushConfigLogged()
	s.event(levelWarning, "+promoted-slave", r, "%@")
	if s.simFailure&simCrashAfterPromotion != 0 {
		s.crash()
		return
	}
	s.event(levelWarning, "+failover-state-reconf-slaves", m, "%@")
	s.scripts.clientReconfig(m, "leader", "start", m.addr, r.addr)
	s.forceHello(m)
	// kv: start re-pointing the replicas now rather than on the next tick.
	s.reconfNextSlave(m)
}

// selectSlave picks the replica to promote (sentinelSelectSlave), with kv's extra
// rule: never a replica that is behind another reachable one.
//
// Redis orders by replica-priority first and offset second, so a replica with a
// better priority but a smaller offset wins and the writes only the other replica
// has are lost when it resyncs. kv first finds the largest offset among all the
// reachable replicas with valid INFO — priority 0 ones included, since their data
// is lost just the same when they are re-pointed — and only replicas at that
// offset may be chosen; priority and run id break ties among them. If the only
// replicas at the largest offset have priority 0, the failover is refused (and
// retried after the failover timeout) rather than losing data.
//
// The offsets must be the final ones: when the master is down, kv waits (at most
// selectFreshnessDeadline) until every reachable replica has answered an INFO
// requested after the master was seen down, asking for it at once. wait reports
// that it is still waiting.
//
// A replica that already reports master is normally not a candidate: it may be
// an old master back with a history of its own. But a leader that crashed (or
// was partitioned) right after its REPLICAOF NO ONE leaves a replica promoted that
// no sentinel announced; skipping it would promote a second master in the next
// epoch, and lose whatever it had that the others lack. kv recognises that
// replica by its replication ids: its master_replid2 is the history the other
// replicas (and the master) still follow, so it holds that history up to its
// second_repl_offset-1 and the others could resync from it. It competes with
// that offset and is preferred among the replicas at the largest offset, so the
// failover completes on it instead of making another master.
func (s *Sentinel) selectSlave(m *instance) (chosen *instance, wait bool) {
	now := s.now()
	var maxDown int64
	if m.flags&flagSDown != 0 {
		maxDown += now - m.sDownSince
	}
	maxDown += m.downAfter * 10
	infoValidity := s.t.infoPeriod * 3
	if m.flags&flagSDown != 0 {
		infoValidity = s.t.pingPeriod * 5
	}
	// The replication ids of the history our master and its replicas follow.
	history := map[string]bool{}
	if m.replID != "" {
		history[m.replID] = true
	}
	for _, r := range m.slaves {
		if r.roleReported == kindSlave && r.replID != "" {
			history[r.replID] = true
		}
	}
	offset := map[*instance]int64{}
	promoted := map[*instance]bool{}
	var reachable, candidates []*instance
	stale := false
	for _, name := range sortedNames(m.slaves) {
		r := m.slaves[name]
		if r.flags&(flagSDown|flagODown) != 0 || r.link.disconnected {
			continue
		}
		if now-r.link.lastAvailTime > s.t.pingPeriod*5 {
			continue
		}
		if now-r.infoRefresh > infoValidity {
			continue
		}
		offset[r] = r.slaveReplOffset
		if r.roleReported != kindSlave {
			if r.roleReported != kindMaster || r.replID2 == "" || !history[r.replID2] || r.secondReplOffset <= 0 {
				continue
			}
			offset[r] = r.secondReplOffset - 1
			promoted[r] = true
		}
		if m.flags&flagSDown != 0 && r.infoRefresh < m.sDownSince {
			stale = true
			if !r.infoInFlight(r.link) {
				s.sendInfo(r)
			}
		}
		reachable = append(reachable, r)
		if r.slavePriority == 0 {
			continue
		}
		if r.masterLinkDownTime > maxDown {
			continue
		}
		candidates = append(candidates, r)
	}
	if stale && now-m.failoverStateChangeTime < s.t.selectFreshnessDeadline {
		return nil, true
	}
	// A replica already following such a promoted one has nothing it lacks.
	for r := range promoted {
		for _, q := range reachable {
			if q.roleReported == kindSlave && q.replID == r.replID {
				offset[r] = max(offset[r], offset[q])
			}
		}
	}
	var maxOff int64 = -1
	for _, r := range reachable {
		maxOff = max(maxOff, offset[r])
	}
	best := candidates[:0:0]
	for _, r := range candidates {
		if offset[r] == maxOff {
			best = append(best, r)
		}
	}
	if len(best) == 0 {
		if len(candidates) > 0 {
			s.log.Warn("not promoting a replica behind another reachable one", "master", m.name, "offset", maxOff)
		}
		return nil, false
	}
	sort.SliceStable(best, func(i, j int) bool {
		a, b := best[i], best[j]
		if promoted[a] != promoted[b] {
			return promoted[a]
		}
		if a.slavePriority != b.slavePriority {
			return a.slavePriority < b.slavePriority
		}
		if a.runid == "" || b.runid == "" {
			return a.runid != "" && b.runid == ""
		}
		return strings.ToLower(a.runid) < strings.ToLower(b.runid)
	})
	return best[0], false
}

// reconfNextSlave re-points replicas at the promoted one, parallel-syncs at a time.
func (s *Sentinel) reconfNextSlave(m *instance) {
	now := s.now()
	inProgress := 0
	for _, r := range m.slaves {
		if r.flags&(flagReconfSent|flagReconfInprog) != 0 {
			inProgress++
		}
	}
	for _, name := range sortedNames(m.slaves) {
		if inProgress >= m.parallelSyncs {
			break
		}
		r := m.slaves[name]
		if r.flags&(flagPromoted|flagReconfDone) != 0 {
			continue
		}
		// Taking too long: consider it done; the config check fixes it later.
		if r.flags&flagReconfSent != 0 && now-r.slaveReconfSentTime > s.t.slaveReconfTimeout {
			s.event(levelNotice, "-slave-reconf-sent-timeout", r, "%@")
			r.flags &^= flagReconfSent
			r.flags |= flagReconfDone
		}
		if r.flags&(flagReconfSent|flagReconfInprog) != 0 || r.link.disconnected {
			continue
		}
		if s.sendSlaveOf(r, m.promoted.addr) {
			r.flags |= flagReconfSent
			r.slaveReconfSentTime = now
			s.event(levelNotice, "+slave-reconf-sent", r, "%@")
			inProgress++
		}
	}
	s.detectEnd(m)
}

// detectEnd ends the failover once every reachable replica is re-pointed, or on
// the failover timeout.
func (s *Sentinel) detectEnd(m *instance) {
	now := s.now()
	if m.promoted == nil || m.promoted.flags&flagSDown != 0 {
		return
	}
	notDone := 0
	for _, r := range m.slaves {
		if r.flags&(flagPromoted|flagReconfDone) != 0 || r.flags&flagSDown != 0 {
			continue
		}
		notDone++
	}
	timeout := false
	if now-m.failoverStateChangeTime > m.failoverTimeout {
		notDone = 0
		timeout = true
		s.event(levelWarning, "+failover-end-for-timeout", m, "%@")
	}
	if notDone == 0 {
		s.event(levelWarning, "+failover-end", m, "%@")
		m.failoverState = stateUpdateConfig
		m.failoverStateChangeTime = now
	}
	if timeout {
		for _, name := range sortedNames(m.slaves) {
			r := m.slaves[name]
			if r.flags&(flagPromoted|flagReconfDone|flagReconfSent) != 0 || r.link.disconnected {
				continue
			}
			if s.sendSlaveOf(r, m.promoted.addr) {
				s.event(levelNotice, "+slave-reconf-sent-be", r, "%@")
				r.flags |= flagReconfSent
			}
		}
	}
}

// switchToPromoted makes the promoted replica our master.
func (s *Sentinel) switchToPromoted(m *instance) {
	ref := m
	if m.promoted != nil {
		ref = m.promoted
	}
	s.event(levelWarning, "+switch-master", m, "%s %s %d %s %d", m.name, s.announceAddr(m.addr), m.addr.port,
		s.announceAddr(ref.addr), ref.addr.port)
	s.resetMasterAndChangeAddress(m, ref.addr.host, ref.addr.port)
}

func (s *Sentinel) abortFailover(m *instance) {
	m.flags &^= flagFailoverInProgress | flagForceFailover
	m.failoverState = stateNone
	m.failoverStateChangeTime = s.now()
	if m.promoted != nil {
		m.promoted.flags &^= flagPromoted
		m.promoted = nil
	}
}

const (
	resetNoSentinels  = 1 << 0
	resetGenerateEvnt = 1 << 1
)

// resetMaster forgets what was learned about a master (sentinelResetMaster).
func (s *Sentinel) resetMaster(m *instance, flags int) {
	for _, r := range m.slaves {
		s.closeLink(r)
	}
	m.slaves = map[string]*instance{}
	if flags&resetNoSentinels == 0 {
		for _, p := range m.sentinels {
			s.closeLink(p)
		}
		m.sentinels = map[string]*instance{}
	}
	s.closeLink(m)
	m.flags = 0
	m.leader = ""
	m.failoverState = stateNone
	m.failoverStateChangeTime = 0
	m.failoverStartTime = 0
	m.promoted = nil
	m.runid = ""
	m.replID, m.replID2, m.secondReplOffset = "", "", 0
	m.slaveMasterHost = ""
	now := s.now()
	m.link.actPingTime = now
	m.link.lastPingTime = 0
	m.link.lastAvailTime = now
	m.link.lastPongTime = now
	m.roleReportedTime = now
	m.roleReported = kindMaster
	if flags&resetGenerateEvnt != 0 {
		s.event(levelWarning, "+reset-master", m, "%@")
	}
}

// resetMasterAndChangeAddress points the master entry at a new address, keeping
// the replicas (and adding the old master as one, so it is watched and
// re-pointed when it comes back).
func (s *Sentinel) resetMasterAndChangeAddress(m *instance, host string, port int) bool {
	na, ok := newAddr(host, port)
	if !ok {
		return false
	}
	var keep []*addr
	for _, name := range sortedNames(m.slaves) {
		r := m.slaves[name]
		if r.addr.equal(na) {
			continue
		}
		keep = append(keep, r.addr)
	}
	if !na.equal(m.addr) {
		keep = append(keep, m.addr)
	}
	s.resetMaster(m, resetNoSentinels)
	m.addr = na
	m.oDownSince = 0
	m.sDownSince = 0
	m.infoRefresh = 0
	m.infoText = ""
	for _, a := range keep {
		if r := s.addSlave(m, a.host, a.port); r != nil {
			s.event(levelNotice, "+slave", r, "%@")
		}
	}
	s.flushConfigLogged()
	return true
}
