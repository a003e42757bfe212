package sentinel

import (
	"fmt"
	"strconv"
	"strings"

	"kv/resp"
)

// sendPeriodic sends PING, INFO and the hello message when they are due
// (sentinelSendPeriodicCommands).
func (s *Sentinel) sendPeriodic(ri *instance) {
	l := ri.link
	if l.disconnected || l.pending >= s.t.maxPendingCommands {
		return
	}
	now := s.now()
	infoPeriod := s.t.infoPeriod
	if ri.kind == kindSlave && (ri.master.flags&(flagODown|flagFailoverInProgress) != 0 || ri.masterLinkDownTime != 0) {
		infoPeriod = 1000
	}
	if ri.kind == kindSlave {
		// kv: a replica being re-pointed is watched closely so the failover ends as
		// soon as it has synced, and one that claims to be a master (an old master
		// that came back) is checked every second so it is demoted promptly. This
		// only observes more often; it changes no decision.
		if ri.flags&(flagReconfSent|flagReconfInprog) != 0 {
			infoPeriod = s.t.reconfPollPeriod
		} else if ri.roleReported == kindMaster {
			infoPeriod = min(infoPeriod, 1000)
		}
	}
	pingPeriod := min(ri.downAfter, s.t.pingPeriod)
	if ri.kind != kindSentinel && (ri.infoRefresh == 0 || now-ri.infoRefresh > infoPeriod) && !ri.infoInFlight(l) {
		s.sendInfo(ri)
	}
	if now-l.lastPongTime > pingPeriod && now-l.lastPingTime > pingPeriod/2 {
		s.sendPing(ri)
	}
	if now-ri.lastPubTime > s.t.publishPeriod {
		s.sendHello(ri)
	}
}

// infoInFlight reports whether an INFO is still unanswered on the current link.
// Redis re-sends INFO on every tick until one is answered (bounded by the pending
// limit); one at a time is enough and keeps a stalled server's queue short.
func (ri *instance) infoInFlight(l *link) bool { return l.cc != nil && ri.infoSentOn == l.cc }

func (s *Sentinel) sendInfo(ri *instance) {
	cc := ri.link.cc
	if s.send(ri, func(v resp.Value) {
		if ri.infoSentOn == cc {
			ri.infoSentOn = nil
		}
		if v.Kind == resp.KindBulk && !v.Null {
			s.refreshInfo(ri, string(v.Str))
		}
	}, ri.mapCommand("INFO")) {
		ri.infoSentOn = cc
	}
}

func (s *Sentinel) sendPing(ri *instance) bool {
	if !s.send(ri, func(v resp.Value) { s.pingReply(ri, v) }, ri.mapCommand("PING")) {
		return false
	}
	l := ri.link
	l.lastPingTime = s.now()
	// The active ping time moves only when the previous ping was answered:
	// until then we are waiting since the first unanswered one.
	if l.actPingTime == 0 {
		l.actPingTime = l.lastPingTime
	}
	return true
}

func (s *Sentinel) pingReply(ri *instance, v resp.Value) {
	l := ri.link
	now := s.now()
	if v.Kind == resp.KindSimple || v.Kind == resp.KindError {
		str := string(v.Str)
		if strings.HasPrefix(str, "PONG") || strings.HasPrefix(str, "LOADING") || strings.HasPrefix(str, "MASTERDOWN") {
			l.lastAvailTime = now
			l.actPingTime = 0
			if ri.flags&flagMasterReboot != 0 && strings.HasPrefix(str, "PONG") {
				ri.flags &^= flagMasterReboot
			}
		} else if strings.HasPrefix(str, "BUSY") && ri.flags&flagSDown != 0 && ri.flags&flagScriptKillSent == 0 {
			// The instance looks down because a script is stuck: kill it.
			s.send(ri, nil, ri.mapCommand("SCRIPT"), "KILL")
			ri.flags |= flagScriptKillSent
		}
	}
	l.lastPongTime = now
}

// localIP is the address of our end of the command connection, which is what
// Redis announces when announce-ip is not set.
func (c *cmdConn) localIP() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return ""
	}
	a := c.conn.NetConn().LocalAddr().String()
	host, _, _ := strings.Cut(a, ":")
	if i := strings.LastIndexByte(a, ':'); i >= 0 {
		host = strings.Trim(a[:i], "[]")
	}
	return host
}

// helloPayload is the hello message about master m, announced on a connection
// whose local address is ip.
func (s *Sentinel) helloPayload(m *instance, ip string) string {
	ma := currentMasterAddr(m)
	port := s.port
	if s.announcePort != 0 {
		port = s.announcePort
	}
	return fmt.Sprintf("%s,%d,%s,%d,%s,%s,%d,%d", ip, port, s.myid, s.currentEpoch,
		m.name, s.announceAddr(ma), ma.port, m.configEpoch)
}

// sendHello publishes our hello to the instance (sentinelSendHello): on masters
// and replicas through their pub/sub, on sentinels through their PUBLISH command.
func (s *Sentinel) sendHello(ri *instance) bool {
	l := ri.link
	if l.disconnected || l.cc == nil {
		return false
	}
	ip := s.announceIP
	if ip == "" {
		ip = l.cc.localIP()
		if ip == "" {
			return false
		}
	}
	payload := s.helloPayload(ri.owner(), ip)
	return s.send(ri, func(v resp.Value) {
		if v.Kind != resp.KindError {
			ri.lastPubTime = s.now()
		}
	}, ri.mapCommand("PUBLISH"), HelloChannel, payload)
}

// forceHello makes every instance of the master due for a hello now, so a new
// configuration spreads at once (sentinelForceHelloUpdateForMaster).
func (s *Sentinel) forceHello(m *instance) {
	force := func(ri *instance) {
		if ri.lastPubTime >= s.t.publishPeriod+1 {
			ri.lastPubTime -= s.t.publishPeriod + 1
		}
	}
	force(m)
	for _, r := range m.slaves {
		force(r)
	}
	for _, p := range m.sentinels {
		force(p)
	}
}

// refreshInfo parses an INFO reply and acts on it (sentinelRefreshInstanceInfo).
func (s *Sentinel) refreshInfo(ri *instance, info string) {
	now := s.now()
	prevRefresh := ri.infoRefresh
	ri.infoText = info
	ri.masterLinkDownTime = 0
	role := 0
	rebooted := false
	for _, l := range strings.Split(info, "\r\n") {
		if len(l) >= 47 && strings.HasPrefix(l, "run_id:") {
			id := l[7:47]
			if ri.runid == "" {
				ri.runid = id
			} else if ri.runid != id {
				s.event(levelNotice, "+reboot", ri, "%@")
				rebooted = true
				if ri.kind == kindMaster && ri.masterRebootDownAfter != 0 {
					ri.flags |= flagMasterReboot
					ri.masterRebootSince = now
				}
				ri.runid = id
			}
		}
		if ri.kind == kindMaster && len(l) >= 7 && strings.HasPrefix(l, "slave") && l[5] >= '0' && l[5] <= '9' {
			if host, port, ok := parseSlaveLine(l); ok && s.lookupSlave(ri, host, port) == nil {
				if r := s.addSlave(ri, host, port); r != nil {
					s.event(levelNotice, "+slave", r, "%@")
					s.flushConfigLogged()
				}
			}
		}
		if len(l) >= 32 && strings.HasPrefix(l, "master_link_down_since_seconds") {
			n, _ := strconv.ParseInt(strings.TrimSpace(l[31:]), 10, 64)
			ri.masterLinkDownTime = n * 1000
		}
		switch {
		case strings.HasPrefix(l, "master_replid:"):
			ri.replID = l[14:]
		case strings.HasPrefix(l, "master_replid2:"):
			ri.replID2 = l[15:]
			if strings.Trim(ri.replID2, "0") == "" {
				ri.replID2 = ""
			}
		case strings.HasPrefix(l, "second_repl_offset:"):
			ri.secondReplOffset, _ = strconv.ParseInt(l[19:], 10, 64)
		}
		if strings.HasPrefix(l, "role:master") {
			role = kindMaster
		} else if strings.HasPrefix(l, "role:slave") {
			role = kindSlave
		}
		if role == kindSlave {
			switch {
			case strings.HasPrefix(l, "master_host:"):
				h := l[12:]
				if ri.slaveMasterHost == "" || !strings.EqualFold(h, ri.slaveMasterHost) {
					ri.slaveMasterHost = h
					ri.slaveConfChangeTime = now
				}
			case strings.HasPrefix(l, "master_port:"):
				p, _ := strconv.Atoi(l[12:])
				if ri.slaveMasterPort != p {
					ri.slaveMasterPort = p
					ri.slaveConfChangeTime = now
				}
			case strings.HasPrefix(l, "master_link_status:"):
				ri.slaveMasterLinkUp = strings.EqualFold(l[19:], "up")
			case strings.HasPrefix(l, "slave_priority:"):
				ri.slavePriority, _ = strconv.Atoi(l[15:])
			case strings.HasPrefix(l, "slave_repl_offset:"):
				ri.slaveReplOffset, _ = strconv.ParseInt(l[18:], 10, 64)
			case strings.HasPrefix(l, "replica_announced:"):
				ri.replicaAnnounced, _ = strconv.Atoi(l[18:])
			}
		}
	}
	ri.infoRefresh = now

	if role != ri.roleReported {
		ri.roleReportedTime = now
		ri.roleReported = role
		if role == kindSlave {
			ri.slaveConfChangeTime = now
		}
		// kv: remember whether this role change follows a restart or an outage
		// of the instance (see convertReturningMaster).
		ri.downBeforeRoleChange = prevRefresh == 0 || rebooted || ri.lastDisconnectedUntil > prevRefresh
		sign := "-role-change"
		if ri.kind&(kindMaster|kindSlave) == role {
			sign = "+role-change"
		}
		roleName := "slave"
		if role == kindMaster {
			roleName = "master"
		}
		s.event(levelVerbose, sign, ri, "%@ new reported role is %s", roleName)
	}

	if s.tilt {
		return
	}
	// A master that says it is a replica: nothing to do here; checkSDown treats it
	// as down after a while, which leads to a failover.

	if ri.kind == kindSlave && role == kindMaster {
		m := ri.master
		if ri.flags&flagPromoted != 0 && m.flags&flagFailoverInProgress != 0 && m.failoverState == stateWaitPromotion {
			s.promotionConfirmed(ri)
		} else {
			s.convertReturningMaster(ri)
		}
	}

	// A replica that replicates from somewhere else than our master.
	if ri.kind == kindSlave && role == kindSlave &&
		(ri.slaveMasterPort != ri.master.addr.port || !ri.master.addr.equalsHost(ri.slaveMasterHost, ri.slaveMasterPort)) {
		wait := ri.master.failoverTimeout
		if s.masterLooksSane(ri.master) && ri.noDownFor(now, wait) && now-ri.slaveConfChangeTime > wait {
			if s.sendSlaveOf(ri, ri.master.addr) {
				s.event(levelNotice, "+fix-slave-config", ri, "%@")
			}
		}
	}

	// A replica being reconfigured during a failover moves on.
	if ri.kind == kindSlave && role == kindSlave && ri.flags&(flagReconfSent|flagReconfInprog) != 0 && ri.master.promoted != nil {
		p := ri.master.promoted
		if ri.flags&flagReconfSent != 0 && ri.slaveMasterHost != "" && p.addr.equalsHost(ri.slaveMasterHost, ri.slaveMasterPort) {
			ri.flags &^= flagReconfSent
			ri.flags |= flagReconfInprog
			s.event(levelNotice, "+slave-reconf-inprog", ri, "%@")
		}
		if ri.flags&flagReconfInprog != 0 && ri.slaveMasterLinkUp {
			ri.flags &^= flagReconfInprog
			ri.flags |= flagReconfDone
			s.event(levelNotice, "+slave-reconf-done", ri, "%@")
		}
	}
}

// convertReturningMaster turns a replica of our table that reports itself master
// back into a replica.
//
// Redis waits until the instance has reported master for 4 hello periods (8 s)
// and has not been down for as long, so that a newer configuration (another
// sentinel having legitimately promoted this instance in a later epoch) has time
// to reach us by hello before we undo it. kv demotes at once when it can tell the
// two cases apart:
//
//  1. the instance restarted or was unreachable right before it began to claim
//     master (run id changed, first INFO since it was added, or our link to it
//     came back since the previous INFO). A promotion by a sentinel is a
//     REPLICAOF NO ONE on a live, reachable replica, so this is not one: it is
//     the old master coming back from its own configuration; and
//  2. our master looks sane (reports master, not down, fresh INFO); and
//  3. a majority of the known sentinels (us included) agreed with our
//     configuration — same master address and config epoch — in a hello within
//     the last two hello periods; and
//  4. no election is known since our configuration: our current epoch is still
//     its config epoch.
//
// Point 1 alone does not tell a returning master from a promotion: the promotion
// transaction ends with CLIENT KILL TYPE normal, which drops our link to the
// promoted replica too, so it also looks "unreachable right before", and the
// hellos of point 3 may predate the election. Without point 4 an observer that
// had voted for the leader demoted the replica the leader had just promoted,
// when the old master was back before the leader announced the new config (or
// the leader crashed before it could). A sentinel that voted has moved to the
// election's epoch, so point 4 stops it; one that neither voted nor heard of the
// epoch yet can still take the fast path (a known gap: tying point 3 to hellos
// received after the role change closes it, but delays every returning master
// by up to a hello period).
//
// Otherwise it falls back to Redis's rule.
func (s *Sentinel) convertReturningMaster(ri *instance) {
	m := ri.master
	now := s.now()
	if ri.flags&flagPromoted != 0 || !s.masterLooksSane(m) {
		return
	}
	fast := ri.downBeforeRoleChange && s.configAgreedByMajority(m, now) && s.currentEpoch <= m.configEpoch
	wait := s.t.publishPeriod * 4
	if !fast && !(ri.noDownFor(now, wait) && now-ri.roleReportedTime > wait) {
		return
	}
	if s.sendSlaveOf(ri, m.addr) {
		s.event(levelNotice, "+convert-to-slave", ri, "%@")
	}
}

// configAgreedByMajority: see convertReturningMaster, point 3.
func (s *Sentinel) configAgreedByMajority(m *instance, now int64) bool {
	voters := len(m.sentinels) + 1
	agree := 1
	for _, p := range m.sentinels {
		if p.helloAgreeTime != 0 && now-p.helloAgreeTime <= 2*s.t.publishPeriod {
			agree++
		}
	}
	return agree >= voters/2+1
}

// parseSlaveLine reads "slave0:ip=...,port=...,..." (or the old "slave0:ip,port,state").
func parseSlaveLine(l string) (string, int, bool) {
	_, rest, ok := strings.Cut(l, ":")
	if !ok {
		return "", 0, false
	}
	var host, port string
	if !strings.Contains(rest, "ip=") {
		f := strings.Split(rest, ",")
		if len(f) < 3 {
			return "", 0, false
		}
		host, port = f[0], f[1]
	} else {
		for _, kv := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "ip":
				host = v
			case "port":
				port = v
			}
		}
	}
	p, err := strconv.Atoi(port)
	if err != nil || host == "" {
		return "", 0, false
	}
	return host, p, true
}

// masterLooksSane: it is our master, reports master, is not down and its INFO is
// fresh (sentinelMasterLooksSane).
func (s *Sentinel) masterLooksSane(m *instance) bool {
	return m.kind == kindMaster && m.roleReported == kindMaster && m.flags&(flagSDown|flagODown) == 0 &&
		s.now()-m.infoRefresh < s.t.infoPeriod*2
}

// processHello handles a hello message heard on a server's hello channel or
// PUBLISHed to us directly (sentinelProcessHelloMessage).
func (s *Sentinel) processHello(hello string) {
	tok := strings.Split(hello, ",")
	if len(tok) != 8 {
		return
	}
	m := s.masters[tok[4]]
	if m == nil {
		return
	}
	now := s.now()
	port, _ := strconv.Atoi(tok[1])
	masterPort, _ := strconv.Atoi(tok[6])
	currentEpoch, _ := strconv.ParseUint(tok[3], 10, 64)
	masterConfigEpoch, _ := strconv.ParseUint(tok[7], 10, 64)
	runid := tok[2]

	si := m.sentinels[runid]
	if si != nil && !si.addr.equalsHost(tok[0], port) {
		si = nil
	}
	if si == nil {
		// An address change: forget the old entry and add it back with the new one.
		removed := false
		if old := m.sentinels[runid]; old != nil {
			s.closeLink(old)
			delete(m.sentinels, runid)
			removed = true
			s.event(levelNotice, "+sentinel-address-switch", m, "%@ ip %s port %d for %s", tok[0], port, runid)
		} else {
			// Another sentinel with the same address but another id: the address
			// now belongs to this one, so drop the old id everywhere.
			for _, other := range m.sentinels {
				if other.addr.equalsHost(tok[0], port) {
					s.event(levelNotice, "+sentinel-invalid-addr", other, "%@")
					obsolete := other.runid
					for _, mm := range s.masters {
						if o := mm.sentinels[obsolete]; o != nil {
							s.closeLink(o)
							delete(mm.sentinels, obsolete)
						}
					}
					break
				}
			}
		}
		si = s.addSentinel(m, tok[0], port, runid)
		if si != nil {
			if !removed {
				s.event(levelNotice, "+sentinel", si, "%@")
			} else {
				// Update the same sentinel's address in the other masters too.
				for _, mm := range s.masters {
					if o := mm.sentinels[runid]; o != nil && o != si {
						s.closeLink(o)
						a := *si.addr
						o.addr = &a
					}
				}
			}
			s.flushConfigLogged()
		}
	}

	if currentEpoch > s.currentEpoch {
		s.currentEpoch = currentEpoch
		s.flushConfigLogged()
		s.event(levelWarning, "+new-epoch", m, "%d", s.currentEpoch)
	}

	if si != nil && m.configEpoch < masterConfigEpoch {
		m.configEpoch = masterConfigEpoch
		if masterPort != m.addr.port || !m.addr.equalsHost(tok[5], masterPort) {
			s.event(levelWarning, "+config-update-from", si, "%@")
			s.event(levelWarning, "+switch-master", m, "%s %s %d %s %d", m.name,
				s.announceAddr(m.addr), m.addr.port, tok[5], masterPort)
			old := *m.addr
			if s.resetMasterAndChangeAddress(m, tok[5], masterPort) {
				s.scripts.clientReconfig(m, "observer", "start", &old, m.addr)
			}
		} else {
			// kv: the newer epoch for the same address is saved at once too (Redis
			// leaves it for the next write), so we never announce a config epoch
			// that a restart would take back.
			s.flushConfigLogged()
		}
	}
	if si != nil {
		si.lastHelloTim = now
		ma := currentMasterAddr(m)
		if masterConfigEpoch == m.configEpoch && ma.equalsHost(tok[5], masterPort) {
			si.helloAgreeTime = now
		}
	}
}

// checkSDown updates the subjectively-down flag (sentinelCheckSubjectivelyDown).
func (s *Sentinel) checkSDown(ri *instance) {
	l := ri.link
	now := s.now()
	var elapsed int64
	if l.actPingTime != 0 {
		elapsed = now - l.actPingTime
	} else if l.disconnected {
		elapsed = now - l.lastAvailTime
	}
	// A command link with a ping pending for more than half the timeout, and no
	// reply of any kind either, is reconnected — but not one just made.
	if l.cc != nil && now-l.ccConnTime > s.t.minLinkReconnectPeriod && l.actPingTime != 0 &&
		now-l.actPingTime > ri.downAfter/2 && now-l.lastPongTime > ri.downAfter/2 {
		s.closeCmd(ri)
	}
	// A pub/sub link silent for three hello periods (we hear our own hellos on it).
	if l.pc != nil && now-l.pcConnTime > s.t.minLinkReconnectPeriod && now-l.pcLastActivity > s.t.publishPeriod*3 {
		s.closePub(ri)
	}
	down := elapsed > ri.downAfter ||
		(ri.kind == kindMaster && ri.roleReported == kindSlave && now-ri.roleReportedTime > ri.downAfter+s.t.infoPeriod*2) ||
		(ri.flags&flagMasterReboot != 0 && now-ri.masterRebootSince > ri.masterRebootDownAfter)
	if down {
		if ri.flags&flagSDown == 0 {
			s.event(levelWarning, "+sdown", ri, "%@")
			ri.sDownSince = now
			ri.flags |= flagSDown
		}
	} else if ri.flags&flagSDown != 0 {
		s.event(levelWarning, "-sdown", ri, "%@")
		ri.flags &^= flagSDown | flagScriptKillSent
	}
}

// checkODown: down for the quorum (sentinelCheckObjectivelyDown). This is a weak
// agreement, gathered over time; the election is what makes the failover safe.
func (s *Sentinel) checkODown(m *instance) {
	quorum, odown := 0, false
	if m.flags&flagSDown != 0 {
		quorum = 1
		for _, p := range m.sentinels {
			if p.flags&flagMasterDown != 0 {
				quorum++
			}
		}
		odown = quorum >= m.quorum
	}
	if odown {
		if m.flags&flagODown == 0 {
			s.event(levelWarning, "+odown", m, "%@ #quorum %d/%d", quorum, m.quorum)
			m.flags |= flagODown
			m.oDownSince = s.now()
		}
	} else if m.flags&flagODown != 0 {
		s.event(levelWarning, "-odown", m, "%@")
		m.flags &^= flagODown
	}
}

// askMasterState sends SENTINEL IS-MASTER-DOWN-BY-ADDR to the peers while we
// think the master is down; during a failover the request carries our run id,
// which asks for their vote (sentinelAskMasterStateToOtherSentinels).
func (s *Sentinel) askMasterState(m *instance, forced bool) {
	now := s.now()
	// kv: while the master is SDOWN but not yet ODOWN, ask four times as often:
	// the peers reach SDOWN at slightly different moments, and waiting a whole
	// second for the next round only delays the agreement. Asking changes nothing.
	period := s.t.askPeriod
	if m.flags&flagSDown != 0 && m.flags&flagODown == 0 {
		period = s.t.askPeriod / 4
	}
	for _, name := range sortedNames(m.sentinels) {
		p := m.sentinels[name]
		if now-p.lastMasterDownReplyTime > s.t.askPeriod*5 {
			p.flags &^= flagMasterDown
			p.leader = ""
		}
		if m.flags&flagSDown == 0 || p.link.disconnected {
			continue
		}
		if !forced && now-p.lastMasterDownReplyTime < period {
			continue
		}
		if p.askInFlight(p.link) && !forced {
			continue
		}
		runid, epoch := "*", s.currentEpoch
		if m.failoverState > stateNone {
			// kv: the vote is asked for in the epoch of our attempt, not in a later
			// current epoch (see getLeader).
			runid, epoch = s.myid, m.failoverEpoch
		}
		cc := p.link.cc
		if s.send(p, func(v resp.Value) { s.isMasterDownReply(p, v, cc) }, "SENTINEL", "is-master-down-by-addr",
			s.announceAddr(m.addr), strconv.Itoa(m.addr.port), strconv.FormatUint(epoch, 10), runid) {
			p.askSentOn = cc
		}
	}
}

func (ri *instance) askInFlight(l *link) bool { return l.cc != nil && ri.askSentOn == l.cc }

func (s *Sentinel) isMasterDownReply(p *instance, v resp.Value, cc *cmdConn) {
	if p.askSentOn == cc {
		p.askSentOn = nil
	}
	if v.Kind != resp.KindArray || len(v.Elems) != 3 || v.Elems[0].Kind != resp.KindInt ||
		v.Elems[1].Kind != resp.KindBulk || v.Elems[1].Null || v.Elems[2].Kind != resp.KindInt {
		return
	}
	p.lastMasterDownReplyTime = s.now()
	if v.Elems[0].Int == 1 {
		p.flags |= flagMasterDown
	} else {
		p.flags &^= flagMasterDown
	}
	if leader := string(v.Elems[1].Str); leader != "*" {
		epoch := uint64(v.Elems[2].Int)
		if p.leaderEpoch != epoch {
			s.log.Warn(fmt.Sprintf("%s voted for %s %d", p.name, leader, epoch))
		}
		p.leader = leader
		p.leaderEpoch = epoch
	}
}
