package sentinel

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"kv/glob"
	"kv/resp"
)

var sentinelArity = map[string]int{
	"ckquorum": 3, "config": -3, "debug": -2, "failover": 3, "flushconfig": 2, "get-master-addr-by-name": 3,
	"help": 2, "info-cache": -3, "is-master-down-by-addr": 6, "master": 3, "masters": 2, "monitor": 6,
	"myid": 2, "pending-scripts": 2, "remove": 3, "replicas": 3, "reset": 3, "sentinels": 3, "set": -5,
	"simulate-failure": -3, "slaves": 3,
	"events": -2, // kv: the last events, for `kv sentinel status`
}

var sentinelHelp = []string{
	"SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CKQUORUM <master-name>",
	"    Check if the current Sentinel configuration is able to reach the quorum",
	"    needed to failover a master and the majority needed to authorize the",
	"    failover.",
	"CONFIG SET <param> <value>",
	"    Set a global Sentinel configuration parameter.",
	"CONFIG GET <param>",
	"    Get global Sentinel configuration parameter.",
	"DEBUG [<param> <value> ...]",
	"    Show a list of configurable time parameters and their values (milliseconds).",
	"    Or update current configurable parameters values (one or more).",
	"EVENTS [<count>]",
	"    (kv) Return the last events, oldest first.",
	"GET-MASTER-ADDR-BY-NAME <master-name>",
	"    Return the ip and port number of the master with that name.",
	"FAILOVER <master-name>",
	"    Manually failover a master node without asking for agreement from other",
	"    Sentinels",
	"FLUSHCONFIG",
	"    Force Sentinel to rewrite its configuration on disk, including the current",
	"    Sentinel state.",
	"INFO-CACHE <master-name>",
	"    Return last cached INFO output from masters and all its replicas.",
	"IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>",
	"    Check if the master specified by ip:port is down from current Sentinel's",
	"    point of view.",
	"MASTER <master-name>",
	"    Show the state and info of the specified master.",
	"MASTERS",
	"    Show a list of monitored masters and their state.",
	"MONITOR <name> <ip> <port> <quorum>",
	"    Start monitoring a new master with the specified name, ip, port and quorum.",
	"MYID",
	"    Return the ID of the Sentinel instance.",
	"PENDING-SCRIPTS",
	"    Get pending scripts information.",
	"REMOVE <master-name>",
	"    Remove master from Sentinel's monitor list.",
	"REPLICAS <master-name>",
	"    Show a list of replicas for this master and their state.",
	"RESET <pattern>",
	"    Reset masters for specific master name matching this pattern.",
	"SENTINELS <master-name>",
	"    Show a list of Sentinel instances for this master and their state.",
	"SET <master-name> <option> <value> [<option> <value> ...]",
	"    Set configuration parameters for certain masters.",
	"SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]",
	"    Simulate a Sentinel crash.",
	"HELP",
	"    Print this help.",
}

func cmdSentinel(c *clientConn, args [][]byte) bool {
	sub := strings.ToLower(string(args[1]))
	ar, ok := sentinelArity[sub]
	if !ok {
		c.w.Error("ERR unknown subcommand '" + truncate(string(args[1]), 128) + "'. Try SENTINEL HELP.")
		return false
	}
	if (ar > 0 && len(args) != ar) || (ar < 0 && len(args) < -ar) {
		c.w.Error("ERR wrong number of arguments for 'sentinel|" + sub + "' command")
		return false
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	w := c.w
	masterOrErr := func(name []byte) *instance {
		m := s.masters[string(name)]
		if m == nil {
			w.Error("ERR No such master with that name")
		}
		return m
	}
	switch sub {
	case "help":
		w.Array(len(sentinelHelp))
		for _, l := range sentinelHelp {
			w.Simple(l)
		}
	case "masters":
		names := sortedNames(s.masters)
		w.Array(len(names))
		for _, n := range names {
			s.replyInstance(w, s.masters[n])
		}
	case "master":
		if m := masterOrErr(args[2]); m != nil {
			s.replyInstance(w, m)
		}
	case "replicas", "slaves":
		if m := masterOrErr(args[2]); m != nil {
			names := sortedNames(m.slaves)
			w.Array(len(names))
			for _, n := range names {
				s.replyInstance(w, m.slaves[n])
			}
		}
	case "sentinels":
		if m := masterOrErr(args[2]); m != nil {
			names := sortedNames(m.sentinels)
			w.Array(len(names))
			for _, n := range names {
				s.replyInstance(w, m.sentinels[n])
			}
		}
	case "myid":
		w.BulkString(s.myid)
	case "is-master-down-by-addr":
		s.isMasterDownByAddr(w, args)
	case "reset":
		w.Int(int64(s.resetByPattern(string(args[2]))))
	case "get-master-addr-by-name":
		m := s.masters[string(args[2])]
		if m == nil {
			w.NullArray()
			return false
		}
		a := currentMasterAddr(m)
		w.Array(2)
		w.BulkString(s.announceAddr(a))
		w.BulkString(strconv.Itoa(a.port))
	case "failover":
		m := masterOrErr(args[2])
		if m == nil {
			return false
		}
		if m.flags&flagFailoverInProgress != 0 {
			w.Error("INPROG Failover already in progress")
			return false
		}
		if r, _ := s.selectSlave(m); r == nil {
			w.Error("NOGOODSLAVE No suitable replica to promote")
			return false
		}
		s.log.Warn("Executing user requested FAILOVER of '" + m.name + "'")
		s.startFailover(m)
		m.flags |= flagForceFailover
		w.OK()
	case "pending-scripts":
		jobs := s.scripts.pending()
		w.Array(len(jobs))
		now := s.now()
		for _, j := range jobs {
			w.Map(5)
			w.BulkString("argv")
			w.Array(len(j.argv))
			for _, a := range j.argv {
				w.BulkString(a)
			}
			w.BulkString("flags")
			if j.running {
				w.BulkString("running")
			} else {
				w.BulkString("scheduled")
			}
			w.BulkString("pid")
			w.BulkString("0")
			if j.running {
				w.BulkString("run-time")
				w.BulkString("0")
			} else {
				w.BulkString("run-delay")
				w.BulkString(strconv.FormatInt(max(0, j.startAt-now), 10))
			}
			w.BulkString("retry-num")
			w.BulkString(strconv.Itoa(j.retries))
		}
	case "monitor":
		s.monitorCommand(w, args)
	case "flushconfig":
		s.flushAndReply(w)
	case "remove":
		m := masterOrErr(args[2])
		if m == nil {
			return false
		}
		s.event(levelWarning, "-monitor", m, "%@")
		s.resetMaster(m, 0)
		s.closeLink(m)
		delete(s.masters, m.name)
		s.flushAndReply(w)
	case "ckquorum":
		m := masterOrErr(args[2])
		if m == nil {
			return false
		}
		usable, noQuorum, noAuth := s.quorumReachable(m)
		if !noQuorum && !noAuth {
			w.Simple(fmt.Sprintf("OK %d usable Sentinels. Quorum and failover authorization can be reached", usable))
			return false
		}
		e := fmt.Sprintf("NOQUORUM %d usable Sentinels. ", usable)
		if noQuorum {
			e += "Not enough available Sentinels to reach the specified quorum for this master"
		}
		if noAuth {
			if noQuorum {
				e += ". "
			}
			e += "Not enough available Sentinels to reach the majority and authorize a failover"
		}
		w.Error(e)
	case "set":
		s.setCommand(w, args)
	case "config":
		switch {
		case strings.EqualFold(string(args[2]), "set") && len(args) == 5:
			s.configSet(w, string(args[3]), string(args[4]))
		case strings.EqualFold(string(args[2]), "get") && len(args) == 4:
			s.configGet(w, string(args[3]))
		default:
			w.Error("ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.")
		}
	case "info-cache":
		s.infoCache(w, args[2:])
	case "simulate-failure":
		// As Redis, the flags are cleared first and set as the arguments are read,
		// so HELP or a wrong name also clears them.
		s.simFailure = 0
		for _, a := range args[2:] {
			switch strings.ToLower(string(a)) {
			case "crash-after-election":
				s.simFailure |= simCrashAfterElection
				s.log.Warn("Failure simulation: this Sentinel will crash after being successfully elected as failover leader")
			case "crash-after-promotion":
				s.simFailure |= simCrashAfterPromotion
				s.log.Warn("Failure simulation: this Sentinel will crash after promoting the selected replica to master")
			case "help":
				w.Array(2)
				w.BulkString("crash-after-election")
				w.BulkString("crash-after-promotion")
				return false
			default:
				w.Error("ERR Unknown failure simulation specified")
				return false
			}
		}
		w.OK()
	case "debug":
		s.debugCommand(w, args)
	case "events":
		n := 50
		if len(args) > 2 {
			v, err := strconv.Atoi(string(args[2]))
			if err != nil || v < 0 {
				w.Error("ERR value is not an integer or out of range")
				return false
			}
			n = v
		}
		evs := s.events.last(n)
		w.Array(len(evs))
		for _, e := range evs {
			w.Array(3)
			w.BulkString(strconv.FormatInt(e.Time.UnixMilli(), 10))
			w.BulkString(e.Type)
			w.BulkString(e.Message)
		}
	}
	return false
}

func (s *Sentinel) flushAndReply(w *resp.Writer) {
	if err := s.flushConfig(); err != nil {
		w.Error("ERR Failed to save config file. Check server logs.")
		s.log.Warn("could not save the sentinel state", "err", err)
		return
	}
	w.OK()
}

// replyInstance writes one instance as a map of bulk strings
// (addReplySentinelRedisInstance).
func (s *Sentinel) replyInstance(w *resp.Writer, ri *instance) {
	now := s.now()
	d := w.DeferLen()
	n := 0
	kv := func(k, v string) {
		w.BulkString(k)
		w.BulkString(v)
		n++
	}
	i64 := func(k string, v int64) { kv(k, strconv.FormatInt(v, 10)) }
	kv("name", ri.name)
	kv("ip", s.announceAddr(ri.addr))
	i64("port", int64(ri.addr.port))
	kv("runid", ri.runid)
	kv("flags", instanceFlags(ri))
	i64("link-pending-commands", int64(ri.link.pending))
	i64("link-refcount", 1)
	if ri.flags&flagFailoverInProgress != 0 {
		kv("failover-state", failoverStateName(ri.failoverState))
	}
	if ri.link.actPingTime != 0 {
		i64("last-ping-sent", now-ri.link.actPingTime)
	} else {
		i64("last-ping-sent", 0)
	}
	i64("last-ok-ping-reply", now-ri.link.lastAvailTime)
	i64("last-ping-reply", now-ri.link.lastPongTime)
	if ri.flags&flagSDown != 0 {
		i64("s-down-time", now-ri.sDownSince)
	}
	if ri.flags&flagODown != 0 {
		i64("o-down-time", now-ri.oDownSince)
	}
	i64("down-after-milliseconds", ri.downAfter)
	if ri.kind&(kindMaster|kindSlave) != 0 {
		if ri.infoRefresh != 0 {
			i64("info-refresh", now-ri.infoRefresh)
		} else {
			i64("info-refresh", 0)
		}
		if ri.roleReported == kindMaster {
			kv("role-reported", "master")
		} else {
			kv("role-reported", "slave")
		}
		i64("role-reported-time", now-ri.roleReportedTime)
	}
	if ri.kind == kindMaster {
		i64("config-epoch", int64(ri.configEpoch))
		i64("num-slaves", int64(len(ri.slaves)))
		i64("num-other-sentinels", int64(len(ri.sentinels)))
		i64("quorum", int64(ri.quorum))
		i64("failover-timeout", ri.failoverTimeout)
		i64("parallel-syncs", int64(ri.parallelSyncs))
		if ri.notifyScript != "" {
			kv("notification-script", ri.notifyScript)
		}
		if ri.reconfigScript != "" {
			kv("client-reconfig-script", ri.reconfigScript)
		}
	}
	if ri.kind == kindSlave {
		i64("master-link-down-time", ri.masterLinkDownTime)
		if ri.slaveMasterLinkUp {
			kv("master-link-status", "ok")
		} else {
			kv("master-link-status", "err")
		}
		if ri.slaveMasterHost != "" {
			kv("master-host", ri.slaveMasterHost)
		} else {
			kv("master-host", "?")
		}
		i64("master-port", int64(ri.slaveMasterPort))
		i64("slave-priority", int64(ri.slavePriority))
		i64("slave-repl-offset", ri.slaveReplOffset)
		i64("replica-announced", int64(ri.replicaAnnounced))
	}
	if ri.kind == kindSentinel {
		i64("last-hello-message", now-ri.lastHelloTim)
		if ri.leader != "" {
			kv("voted-leader", ri.leader)
		} else {
			kv("voted-leader", "?")
		}
		i64("voted-leader-epoch", int64(ri.leaderEpoch))
	}
	w.SetMap(d, n)
}

func instanceFlags(ri *instance) string {
	var f []string
	add := func(cond bool, name string) {
		if cond {
			f = append(f, name)
		}
	}
	add(ri.flags&flagSDown != 0, "s_down")
	add(ri.flags&flagODown != 0, "o_down")
	add(ri.kind == kindMaster, "master")
	add(ri.kind == kindSlave, "slave")
	add(ri.kind == kindSentinel, "sentinel")
	add(ri.link.disconnected, "disconnected")
	add(ri.flags&flagMasterDown != 0, "master_down")
	add(ri.flags&flagFailoverInProgress != 0, "failover_in_progress")
	add(ri.flags&flagPromoted != 0, "promoted")
	add(ri.flags&flagReconfSent != 0, "reconf_sent")
	add(ri.flags&flagReconfInprog != 0, "reconf_inprog")
	add(ri.flags&flagReconfDone != 0, "reconf_done")
	add(ri.flags&flagForceFailover != 0, "force_failover")
	add(ri.flags&flagScriptKillSent != 0, "script_kill_sent")
	return strings.Join(f, ",")
}

// isMasterDownByAddr answers a peer: is the master at ip:port down for us, and
// (when it sends its run id) our vote for the epoch.
func (s *Sentinel) isMasterDownByAddr(w *resp.Writer, args [][]byte) {
	port, err := strconv.ParseInt(string(args[3]), 10, 64)
	if err != nil {
		w.Error("ERR value is not an integer or out of range")
		return
	}
	reqEpoch, err := strconv.ParseInt(string(args[4]), 10, 64)
	if err != nil {
		w.Error("ERR value is not an integer or out of range")
		return
	}
	var m *instance
	for _, cand := range s.masters {
		if cand.addr.equalsHost(string(args[2]), int(port)) {
			m = cand
			break
		}
	}
	down := !s.tilt && m != nil && m.flags&flagSDown != 0
	leader, leaderEpoch := "", uint64(0)
	if m != nil && string(args[5]) != "*" {
		leader, leaderEpoch = s.voteLeader(m, uint64(reqEpoch), string(args[5]))
	}
	w.Array(3)
	if down {
		w.Int(1)
	} else {
		w.Int(0)
	}
	if leader == "" {
		leader = "*"
	}
	w.BulkString(leader)
	w.Int(int64(leaderEpoch))
}

func (s *Sentinel) resetByPattern(pattern string) int {
	n := 0
	for _, name := range sortedNames(s.masters) {
		if glob.MatchString(pattern, name, false) {
			s.resetMaster(s.masters[name], resetGenerateEvnt)
			n++
		}
	}
	if n > 0 {
		s.flushConfigLogged()
	}
	return n
}

func (s *Sentinel) monitorCommand(w *resp.Writer, args [][]byte) {
	quorum, err := strconv.ParseInt(string(args[5]), 10, 64)
	if err != nil {
		w.Error("ERR Invalid quorum")
		return
	}
	port, err := strconv.ParseInt(string(args[4]), 10, 64)
	if err != nil {
		w.Error("ERR Invalid port")
		return
	}
	if quorum <= 0 {
		w.Error("ERR Quorum must be 1 or greater.")
		return
	}
	host := string(args[3])
	if net.ParseIP(host) == nil && !s.resolveHostnames {
		w.Error("ERR Invalid IP address or hostname specified")
		return
	}
	m, err := s.createMaster(string(args[2]), host, int(port), int(quorum))
	if err != nil {
		w.Error("ERR " + err.Error())
		return
	}
	s.flushAndReply(w)
	s.event(levelWarning, "+monitor", m, "%@ quorum %d", m.quorum)
}

func (s *Sentinel) quorumReachable(m *instance) (usable int, noQuorum, noAuth bool) {
	usable = 1
	voters := len(m.sentinels) + 1
	for _, p := range m.sentinels {
		if p.flags&(flagSDown|flagODown) == 0 {
			usable++
		}
	}
	return usable, usable < m.quorum, usable < voters/2+1
}

func (s *Sentinel) setCommand(w *resp.Writer, args [][]byte) {
	m := s.masters[string(args[2])]
	if m == nil {
		w.Error("ERR No such master with that name")
		return
	}
	changes := 0
	badfmt := func(j int, opt string) {
		w.Error(fmt.Sprintf("ERR Invalid argument '%s' for SENTINEL SET '%s'", args[j], opt))
		if changes > 0 {
			s.flushConfigLogged()
		}
	}
	for j := 3; j < len(args); j++ {
		more := len(args) - 1 - j
		opt := string(args[j])
		lopt := strings.ToLower(opt)
		old := j
		redacted := false
		posInt := func() (int64, bool) {
			j++
			v, err := strconv.ParseInt(string(args[j]), 10, 64)
			return v, err == nil && v > 0
		}
		switch {
		case lopt == "down-after-milliseconds" && more > 0:
			v, ok := posInt()
			if !ok {
				badfmt(j, opt)
				return
			}
			m.downAfter = v
			s.propagateDownAfter(m)
		case lopt == "failover-timeout" && more > 0:
			v, ok := posInt()
			if !ok {
				badfmt(j, opt)
				return
			}
			m.failoverTimeout = v
		case lopt == "parallel-syncs" && more > 0:
			v, ok := posInt()
			if !ok {
				badfmt(j, opt)
				return
			}
			m.parallelSyncs = int(v)
		case (lopt == "notification-script" || lopt == "client-reconfig-script") && more > 0:
			j++
			v := string(args[j])
			if s.denyScriptsReconfig {
				w.Error("ERR Reconfiguration of scripts path is denied for security reasons. Check the deny-scripts-reconfig configuration directive in your Sentinel configuration")
				if changes > 0 {
					s.flushConfigLogged()
				}
				return
			}
			if v != "" && !executable(v) {
				if lopt == "notification-script" {
					w.Error("ERR Notification script seems non existing or non executable")
				} else {
					w.Error("ERR Client reconfiguration script seems non existing or non executable")
				}
				if changes > 0 {
					s.flushConfigLogged()
				}
				return
			}
			if lopt == "notification-script" {
				m.notifyScript = v
			} else {
				m.reconfigScript = v
			}
		case lopt == "auth-pass" && more > 0:
			j++
			m.authPass = string(args[j])
			s.dropInstanceConnections(m)
			redacted = true
		case lopt == "auth-user" && more > 0:
			j++
			m.authUser = string(args[j])
			s.dropInstanceConnections(m)
		case lopt == "quorum" && more > 0:
			v, ok := posInt()
			if !ok {
				badfmt(j, opt)
				return
			}
			m.quorum = int(v)
		case lopt == "rename-command" && more > 1:
			oldName, newName := string(args[j+1]), string(args[j+2])
			j += 2
			if oldName == "" || newName == "" {
				bad := j
				if newName != "" {
					bad = j - 1
				}
				badfmt(bad, opt)
				return
			}
			delete(m.renamedCommands, strings.ToLower(oldName))
			if !strings.EqualFold(oldName, newName) {
				m.renamedCommands[strings.ToLower(oldName)] = newName
			}
		case lopt == "master-reboot-down-after-period" && more > 0:
			j++
			v, err := strconv.ParseInt(string(args[j]), 10, 64)
			if err != nil || v < 0 {
				badfmt(j, opt)
				return
			}
			m.masterRebootDownAfter = v
		default:
			w.Error(fmt.Sprintf("ERR Unknown option or number of arguments for SENTINEL SET '%s'", opt))
			if changes > 0 {
				s.flushConfigLogged()
			}
			return
		}
		changes++
		switch j - old + 1 {
		case 2:
			v := string(args[old+1])
			if redacted {
				v = "******"
			}
			s.event(levelWarning, "+set", m, "%@ %s %s", args[old], v)
		case 3:
			s.event(levelWarning, "+set", m, "%@ %s %s %s", args[old], args[old+1], args[old+2])
		default:
			s.event(levelWarning, "+set", m, "%@ %s", args[old])
		}
	}
	if changes > 0 {
		s.flushAndReply(w)
	}
}

// dropInstanceConnections closes the links of a master and its replicas so they
// reconnect with new credentials.
func (s *Sentinel) dropInstanceConnections(m *instance) {
	s.closeLink(m)
	for _, r := range m.slaves {
		s.closeLink(r)
	}
}

func (s *Sentinel) configSet(w *resp.Writer, opt, val string) {
	dropConns := false
	badfmt := func() {
		w.Error(fmt.Sprintf("ERR Invalid value '%s' to SENTINEL CONFIG SET '%s'", val, opt))
	}
	switch strings.ToLower(opt) {
	case "resolve-hostnames", "announce-hostnames":
		v, ok := yesno(val)
		if !ok {
			badfmt()
			return
		}
		if strings.EqualFold(opt, "resolve-hostnames") {
			s.resolveHostnames = v
		} else {
			s.announceHostnames = v
		}
	case "announce-ip":
		s.announceIP = val
	case "announce-port":
		v, err := strconv.ParseInt(val, 10, 64)
		if err != nil || v < 0 || v > 65535 {
			badfmt()
			return
		}
		s.announcePort = int(v)
	case "sentinel-user":
		s.sentinelUser = val
		dropConns = true
	case "sentinel-pass":
		s.sentinelPass = val
		dropConns = true
	default:
		w.Error(fmt.Sprintf("ERR Invalid argument '%s' to SENTINEL CONFIG SET", opt))
		return
	}
	s.flushAndReply(w)
	if dropConns {
		for _, m := range s.masters {
			for _, p := range m.sentinels {
				s.closeLink(p)
			}
		}
	}
}

func (s *Sentinel) configGet(w *resp.Writer, pattern string) {
	d := w.DeferLen()
	n := 0
	yn := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	for _, p := range [][2]string{
		{"resolve-hostnames", yn(s.resolveHostnames)},
		{"announce-hostnames", yn(s.announceHostnames)},
		{"announce-ip", s.announceIP},
		{"announce-port", strconv.Itoa(s.announcePort)},
		{"sentinel-user", s.sentinelUser},
		{"sentinel-pass", s.sentinelPass},
	} {
		if glob.MatchString(pattern, p[0], true) {
			w.BulkString(p[0])
			w.BulkString(p[1])
			n++
		}
	}
	w.SetMap(d, n)
}

func (s *Sentinel) infoCache(w *resp.Writer, names [][]byte) {
	var ms []*instance
	seen := map[string]bool{}
	for _, n := range names {
		if m := s.masters[string(n)]; m != nil && !seen[m.name] {
			seen[m.name] = true
			ms = append(ms, m)
		}
	}
	now := s.now()
	entry := func(ri *instance, refresh int64) {
		w.Array(2)
		if refresh != 0 {
			w.Int(now - refresh)
		} else {
			w.Int(0)
		}
		if ri.infoText != "" {
			w.BulkString(ri.infoText)
		} else {
			w.Null()
		}
	}
	w.Array(len(ms) * 2)
	for _, m := range ms {
		w.BulkString(m.name)
		w.Array(len(m.slaves) + 1)
		entry(m, m.infoRefresh)
		for _, n := range sortedNames(m.slaves) {
			r := m.slaves[n]
			// Redis reports the master's info age for every entry; kv does too.
			entry(r, m.infoRefresh)
		}
	}
}

func (s *Sentinel) debugCommand(w *resp.Writer, args [][]byte) {
	params := []struct {
		name string
		v    *int64
	}{
		{"info-period", &s.t.infoPeriod}, {"ping-period", &s.t.pingPeriod}, {"ask-period", &s.t.askPeriod},
		{"publish-period", &s.t.publishPeriod}, {"default-down-after", &s.t.defaultDownAfter},
		{"tilt-trigger", &s.t.tiltTrigger}, {"tilt-period", &s.t.tiltPeriod},
		{"slave-reconf-timeout", &s.t.slaveReconfTimeout}, {"min-link-reconnect-period", &s.t.minLinkReconnectPeriod},
		{"default-failover-timeout", &s.t.defaultFailoverTimeout}, {"election-timeout", &s.t.electionTimeout},
		{"script-max-runtime", &s.t.scriptMaxRuntime}, {"script-retry-delay", &s.t.scriptRetryDelay},
	}
	if len(args) == 2 {
		w.Map(len(params))
		for _, p := range params {
			w.BulkString(strings.ToUpper(p.name))
			w.BulkString(strconv.FormatInt(*p.v, 10))
		}
		return
	}
	for j := 2; j < len(args); j++ {
		opt := strings.ToLower(string(args[j]))
		found := false
		for _, p := range params {
			if p.name == opt && j+1 < len(args) {
				v, err := strconv.ParseInt(string(args[j+1]), 10, 64)
				if err != nil || v <= 0 {
					w.Error(fmt.Sprintf("ERR Invalid argument '%s' for SENTINEL DEBUG '%s'", args[j+1], args[j]))
					return
				}
				*p.v = v
				j++
				found = true
				break
			}
		}
		if !found {
			w.Error(fmt.Sprintf("ERR Unknown option or number of arguments for SENTINEL DEBUG '%s'", args[j]))
			return
		}
	}
	w.OK()
}

// cmdInfo is Sentinel's INFO: the server, clients, cpu, stats and sentinel sections.
func cmdInfo(c *clientConn, args [][]byte) bool {
	all := []string{"server", "clients", "cpu", "stats", "sentinel"}
	want := map[string]bool{}
	if len(args) == 1 {
		for _, sct := range all {
			want[sct] = true
		}
	}
	for _, a := range args[1:] {
		switch sct := strings.ToLower(string(a)); sct {
		case "all", "everything", "default":
			for _, x := range all {
				want[x] = true
			}
		default:
			want[sct] = true
		}
	}
	s := c.s
	var b strings.Builder
	sep := func() {
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
	}
	line := func(f string, a ...any) { fmt.Fprintf(&b, f+"\r\n", a...) }
	s.clientMu.Lock()
	nclients := len(s.clients)
	s.clientMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	uptime := int64(time.Since(s.start).Seconds())
	if want["server"] {
		sep()
		line("# Server")
		line("redis_version:%s", RedisVersion)
		line("redis_git_sha1:00000000")
		line("redis_git_dirty:0")
		line("redis_build_id:0")
		line("redis_mode:sentinel")
		line("os:%s %s", runtime.GOOS, runtime.GOARCH)
		line("arch_bits:64")
		line("monotonic_clock:POSIX clock_gettime")
		line("multiplexing_api:epoll")
		line("atomicvar_api:c11-builtin")
		line("gcc_version:0.0.0")
		line("process_id:%d", os.Getpid())
		line("process_supervised:no")
		line("run_id:%s", s.myid)
		line("tcp_port:%d", s.port)
		line("server_time_usec:%d", time.Now().UnixMicro())
		line("uptime_in_seconds:%d", uptime)
		line("uptime_in_days:%d", uptime/86400)
		line("hz:10")
		line("configured_hz:10")
		line("lru_clock:%d", (time.Now().Unix())&((1<<24)-1))
		exe, _ := os.Executable()
		line("executable:%s", exe)
		line("config_file:%s", s.state.path)
		line("io_threads_active:0")
	}
	if want["clients"] {
		sep()
		line("# Clients")
		line("connected_clients:%d", nclients)
		line("cluster_connections:0")
		line("maxclients:10000")
		line("client_recent_max_input_buffer:0")
		line("client_recent_max_output_buffer:0")
		line("blocked_clients:0")
		line("tracking_clients:0")
		line("clients_in_timeout_table:0")
	}
	if want["cpu"] {
		sep()
		line("# CPU")
		u, sy := cpuTimes()
		line("used_cpu_sys:%.6f", sy)
		line("used_cpu_user:%.6f", u)
		line("used_cpu_sys_children:0.000000")
		line("used_cpu_user_children:0.000000")
	}
	if want["stats"] {
		sep()
		line("# Stats")
		line("total_connections_received:%d", s.nextID)
		line("instantaneous_ops_per_sec:0")
	}
	if want["sentinel"] {
		sep()
		line("# Sentinel")
		line("sentinel_masters:%d", len(s.masters))
		tilt := 0
		since := int64(-1)
		if s.tilt {
			tilt = 1
			since = (s.now() - s.tiltStart) / 1000
		}
		line("sentinel_tilt:%d", tilt)
		line("sentinel_tilt_since_seconds:%d", since)
		line("sentinel_running_scripts:%d", s.scripts.running)
		line("sentinel_scripts_queue_length:%d", len(s.scripts.queue))
		line("sentinel_simulate_failure_flags:%d", s.simFailure)
		for i, name := range sortedNames(s.masters) {
			m := s.masters[name]
			status := "ok"
			if m.flags&flagODown != 0 {
				status = "odown"
			} else if m.flags&flagSDown != 0 {
				status = "sdown"
			}
			line("master%d:name=%s,status=%s,address=%s:%d,slaves=%d,sentinels=%d", i, m.name, status,
				s.announceAddr(m.addr), m.addr.port, len(m.slaves), len(m.sentinels)+1)
		}
	}
	c.w.Verbatim("txt", b.String())
	return false
}

func cmdRole(c *clientConn, _ [][]byte) bool {
	s := c.s
	s.mu.Lock()
	names := sortedNames(s.masters)
	s.mu.Unlock()
	c.w.Array(2)
	c.w.BulkString("sentinel")
	c.w.Array(len(names))
	for _, n := range names {
		c.w.BulkString(n)
	}
	return false
}

// cmdClient is a small CLIENT: enough for client libraries and operators.
func cmdClient(c *clientConn, args [][]byte) bool {
	sub := strings.ToLower(string(args[1]))
	w := c.w
	arity := map[string]int{"setname": 3, "getname": 2, "id": 2, "list": -2, "kill": -3, "info": 2, "help": 2}
	ar, ok := arity[sub]
	if !ok {
		w.Error("ERR unknown subcommand '" + truncate(string(args[1]), 128) + "'. Try CLIENT HELP.")
		return false
	}
	if (ar > 0 && len(args) != ar) || (ar < 0 && len(args) < -ar) {
		w.Error("ERR wrong number of arguments for 'client|" + sub + "' command")
		return false
	}
	switch sub {
	case "help":
		lines := []string{"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"GETNAME", "    Return the name of the current connection.",
			"ID", "    Return the ID of the current connection.",
			"INFO", "    Return information about the current client connection.",
			"KILL <ip:port>", "    Kill connection made from <ip:port>.",
			"KILL <option> <value> [<option> <value> [...]]", "    Kill connections. Options are: ID, ADDR, LADDR, TYPE, USER, SKIPME.",
			"LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)]", "    Return information about client connections.",
			"SETNAME <name>", "    Assign the name <name> to the current connection.",
			"HELP", "    Print this help."}
		w.Array(len(lines))
		for _, l := range lines {
			w.Simple(l)
		}
	case "setname":
		name := string(args[2])
		for i := 0; i < len(name); i++ {
			if name[i] < '!' || name[i] > '~' {
				w.Error("ERR Client names cannot contain spaces, newlines or special characters.")
				return false
			}
		}
		c.mu.Lock()
		c.name = name
		c.mu.Unlock()
		w.OK()
	case "getname":
		c.mu.Lock()
		name := c.name
		c.mu.Unlock()
		if name == "" {
			w.Null()
		} else {
			w.BulkString(name)
		}
	case "id":
		w.Int(c.id)
	case "info":
		w.Verbatim("txt", c.describe()+"\n")
	case "list":
		typ := ""
		if len(args) == 4 && strings.EqualFold(string(args[2]), "type") {
			typ = strings.ToLower(string(args[3]))
			if typ != "normal" && typ != "master" && typ != "replica" && typ != "slave" && typ != "pubsub" {
				w.Error("ERR Unknown client type '" + string(args[3]) + "'")
				return false
			}
		} else if len(args) != 2 {
			w.Error("ERR syntax error")
			return false
		}
		var b strings.Builder
		for _, o := range c.s.clientsSorted() {
			if typ != "" && o.typeName() != typ {
				continue
			}
			b.WriteString(o.describe())
			b.WriteByte('\n')
		}
		w.Verbatim("txt", b.String())
	case "kill":
		return c.clientKill(args)
	}
	return false
}

func (c *clientConn) typeName() string {
	if c.subCount.Load() > 0 {
		return "pubsub"
	}
	return "normal"
}

func (c *clientConn) describe() string {
	c.mu.Lock()
	name, cmd, seen := c.name, c.lastCmd, c.lastSeen
	c.mu.Unlock()
	flags := "N"
	if c.subCount.Load() > 0 {
		flags = "P"
	}
	return fmt.Sprintf("id=%d addr=%s laddr=%s fd=0 name=%s age=%d idle=%d flags=%s db=0 sub=%d psub=%d ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=%s user=default redir=-1 resp=%d",
		c.id, c.nc.RemoteAddr(), c.nc.LocalAddr(), name, int(time.Since(c.created).Seconds()), int(time.Since(seen).Seconds()),
		flags, len(c.channels), len(c.patterns), cmd, c.proto.Load())
}

func (s *Sentinel) clientsSorted() []*clientConn {
	s.clientMu.Lock()
	defer s.clientMu.Unlock()
	out := make([]*clientConn, 0, len(s.clients))
	for c := range s.clients {
		out = append(out, c)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].id < out[j-1].id; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// clientKill: CLIENT KILL addr, or the ID/ADDR/LADDR/TYPE/USER/SKIPME filters.
func (c *clientConn) clientKill(args [][]byte) bool {
	w := c.w
	if len(args) == 3 {
		target := string(args[2])
		for _, o := range c.s.clientsSorted() {
			if o.nc.RemoteAddr().String() == target {
				o.close()
				w.OK()
				return o == c
			}
		}
		w.Error("ERR No such client")
		return false
	}
	var id int64 = -1
	addrF, laddrF, typF, userF := "", "", "", ""
	skipme := true
	for i := 2; i < len(args); i += 2 {
		if i+1 >= len(args) {
			w.Error("ERR syntax error")
			return false
		}
		opt, val := strings.ToLower(string(args[i])), string(args[i+1])
		switch opt {
		case "id":
			v, err := strconv.ParseInt(val, 10, 64)
			if err != nil || v <= 0 {
				w.Error("ERR client-id should be greater than 0")
				return false
			}
			id = v
		case "addr":
			addrF = val
		case "laddr":
			laddrF = val
		case "type":
			typF = strings.ToLower(val)
			if typF != "normal" && typF != "master" && typF != "replica" && typF != "slave" && typF != "pubsub" {
				w.Error("ERR Unknown client type '" + val + "'")
				return false
			}
		case "user":
			userF = val
		case "skipme":
			switch strings.ToLower(val) {
			case "yes":
				skipme = true
			case "no":
				skipme = false
			default:
				w.Error("ERR syntax error")
				return false
			}
		default:
			w.Error("ERR syntax error")
			return false
		}
	}
	killed := 0
	self := false
	for _, o := range c.s.clientsSorted() {
		if (id != -1 && o.id != id) || (addrF != "" && o.nc.RemoteAddr().String() != addrF) ||
			(laddrF != "" && o.nc.LocalAddr().String() != laddrF) || (typF != "" && o.typeName() != typF) ||
			(userF != "" && userF != "default") {
			continue
		}
		if o == c && skipme {
			continue
		}
		if o == c {
			self = true
		} else {
			o.close()
		}
		killed++
	}
	w.Int(int64(killed))
	return self
}
