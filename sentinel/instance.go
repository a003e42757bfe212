// Package sentinel is kv's Sentinel: it watches Redis-protocol masters and their
// replicas, agrees with its peers that a master is down, elects a leader, promotes
// the best replica and re-points everyone else, speaking Redis Sentinel's protocol
// on both sides (to the servers it watches, through package client, and to the
// clients and peer sentinels that talk to it), so kv sentinels, redis-sentinel and
// the usual Sentinel-aware client libraries interoperate.
//
// Concurrency: all monitoring state lives in one Sentinel and is guarded by its
// mutex mu. The timer goroutine (tick) runs the monitoring and failover logic with
// mu held; each link to a watched server runs its own goroutines for I/O and takes
// mu only to apply a reply. Client connections of the sentinel's own RESP server
// take mu to run a command. Nothing blocks on the network while holding mu: sends
// go through buffered queues and replies come back as callbacks.
//
// Lock order: Sentinel.mu, then hub.mu (publishing an event), then clientConn.mu
// (queueing a push). Sentinel.clientMu is never held together with another lock.
package sentinel

import (
	"net"
	"strconv"
	"strings"
)

// Instance kinds, as Redis's SRI_MASTER/SRI_SLAVE/SRI_SENTINEL.
const (
	kindMaster = 1 << iota
	kindSlave
	kindSentinel
)

// Instance flags, as Redis's SRI_* bits that are not the kind.
const (
	flagSDown = 1 << iota
	flagODown
	flagMasterDown // a peer sentinel said the master is down
	flagFailoverInProgress
	flagPromoted
	flagReconfSent
	flagReconfInprog
	flagReconfDone
	flagForceFailover
	flagScriptKillSent
	flagMasterReboot
)

// Failover states, as SENTINEL_FAILOVER_STATE_*.
const (
	stateNone = iota
	stateWaitStart
	stateSelectSlave
	stateSendSlaveofNoone
	stateWaitPromotion
	stateReconfSlaves
	stateUpdateConfig
)

var failoverStateNames = [...]string{"none", "wait_start", "select_slave", "send_slaveof_noone",
	"wait_promotion", "reconf_slaves", "update_config"}

func failoverStateName(s int) string {
	if s >= 0 && s < len(failoverStateNames) {
		return failoverStateNames[s]
	}
	return "unknown"
}

// Timing constants, in milliseconds, with Redis's values. They are variables so
// tests may shorten them (as SENTINEL DEBUG does in Redis).
type timing struct {
	infoPeriod              int64
	pingPeriod              int64
	askPeriod               int64
	publishPeriod           int64
	defaultDownAfter        int64
	tiltTrigger             int64
	tiltPeriod              int64
	slaveReconfTimeout      int64
	minLinkReconnectPeriod  int64
	electionTimeout         int64
	defaultFailoverTimeout  int64
	maxDesync               int64
	maxPendingCommands      int
	defaultParallelSyncs    int
	defaultSlavePriority    int
	scriptMaxRunning        int
	scriptMaxQueue          int
	scriptMaxRetry          int
	scriptRetryDelay        int64
	scriptMaxRuntime        int64
	reconfPollPeriod        int64 // kv: INFO period for replicas being re-pointed
	reconnectPeriod         int64 // kv: how often a down link is re-dialled
	selectFreshnessDeadline int64 // kv: how long SELECT_SLAVE waits for post-failure INFO
}

func defaultTiming() timing {
	return timing{
		infoPeriod:              10000,
		pingPeriod:              1000,
		askPeriod:               1000,
		publishPeriod:           2000,
		defaultDownAfter:        30000,
		tiltTrigger:             2000,
		tiltPeriod:              30000,
		slaveReconfTimeout:      10000,
		minLinkReconnectPeriod:  15000,
		electionTimeout:         10000,
		defaultFailoverTimeout:  180000,
		maxDesync:               1000,
		maxPendingCommands:      100,
		defaultParallelSyncs:    1,
		defaultSlavePriority:    100,
		scriptMaxRunning:        16,
		scriptMaxQueue:          256,
		scriptMaxRetry:          10,
		scriptRetryDelay:        30000,
		scriptMaxRuntime:        60000,
		reconfPollPeriod:        100,
		reconnectPeriod:         250,
		selectFreshnessDeadline: 2000,
	}
}

// HelloChannel is where sentinels announce themselves and their configuration.
const HelloChannel = "__sentinel__:hello"

// addr is an instance address. Sentinel compares addresses by IP; a hostname
// given in the configuration is resolved once, when the instance is created.
type addr struct {
	host string // as configured or announced
	ip   string // resolved
	port int
}

func newAddr(host string, port int) (*addr, bool) {
	if port < 0 || port > 65535 {
		return nil, false
	}
	ip := host
	if net.ParseIP(host) == nil {
		ips, err := net.LookupHost(host)
		if err != nil || len(ips) == 0 {
			return nil, false
		}
		ip = ips[0]
	}
	return &addr{host: host, ip: ip, port: port}, true
}

func (a *addr) String() string { return net.JoinHostPort(a.ip, strconv.Itoa(a.port)) }

func (a *addr) equal(b *addr) bool {
	return a.port == b.port && (a.ip == b.ip || strings.EqualFold(a.host, b.host))
}

// equalsHost reports whether a is host:port, resolving host if needed.
func (a *addr) equalsHost(host string, port int) bool {
	if a.port != port {
		return false
	}
	if strings.EqualFold(a.ip, host) || strings.EqualFold(a.host, host) {
		return true
	}
	if net.ParseIP(host) != nil {
		return false
	}
	ips, err := net.LookupHost(host)
	return err == nil && len(ips) > 0 && ips[0] == a.ip
}

// instance is a monitored master, one of its replicas, or a peer sentinel watching
// it (Redis's sentinelRedisInstance). Guarded by Sentinel.mu.
type instance struct {
	kind     int
	flags    int
	name     string // master: configured name; replica: ip:port; sentinel: run id
	runid    string
	addr     *addr
	link     *link
	master   *instance // for replicas and sentinels
	quorum   int
	infoText string // last INFO reply

	configEpoch  uint64
	lastPubTime  int64
	lastHelloTim int64
	// helloAgreeTime is when this peer last sent a hello naming the same master
	// address and config epoch as ours (kv: used to shorten the wait before a
	// returning old master is demoted, see convertReturningMaster).
	helloAgreeTime int64

	lastMasterDownReplyTime int64
	sDownSince              int64
	oDownSince              int64
	downAfter               int64
	masterRebootDownAfter   int64
	masterRebootSince       int64
	infoRefresh             int64

	// Replicas as reported by INFO.
	roleReported          int
	roleReportedTime      int64
	slaveConfChangeTime   int64
	slaveMasterHost       string
	slaveMasterPort       int
	slaveMasterLinkUp     bool
	slavePriority         int
	slaveReplOffset       int64
	replID                string // master_replid: the history it serves or follows
	replID2               string // master_replid2: the history it continued from, after a promotion
	secondReplOffset      int64  // second_repl_offset: where it left replID2's history
	replicaAnnounced      int
	masterLinkDownTime    int64
	slaveReconfSentTime   int64
	rebooted              bool  // kv: run id changed or came back from a disconnection since the last INFO
	downBeforeRoleChange  bool  // kv: was unreachable right before it started reporting master
	lastDisconnectedUntil int64 // kv: when the link last came back after being down
	infoSentOn            *cmdConn
	askSentOn             *cmdConn

	// Masters.
	slaves          map[string]*instance
	sentinels       map[string]*instance
	parallelSyncs   int
	authPass        string
	authUser        string
	notifyScript    string
	reconfigScript  string
	renamedCommands map[string]string

	// Failover (masters), and the peer's vote (sentinels).
	leader                  string
	leaderEpoch             uint64
	failoverEpoch           uint64
	failoverState           int
	failoverStateChangeTime int64
	failoverStartTime       int64
	failoverTimeout         int64
	failoverDelayLogged     int64
	promoted                *instance
}

func (ri *instance) typeName() string {
	switch ri.kind {
	case kindMaster:
		return "master"
	case kindSlave:
		return "slave"
	default:
		return "sentinel"
	}
}

// owner is the master an instance belongs to (itself for a master).
func (ri *instance) owner() *instance {
	if ri.kind == kindMaster {
		return ri
	}
	return ri.master
}

// mapCommand applies the master's rename-command table, as Redis does for every
// command it sends to a monitored server (not to peer sentinels).
func (ri *instance) mapCommand(cmd string) string {
	if ri.kind == kindSentinel {
		return cmd
	}
	m := ri.owner()
	if m.renamedCommands != nil {
		if n, ok := m.renamedCommands[strings.ToLower(cmd)]; ok {
			return n
		}
	}
	return cmd
}

// noDownFor reports whether the instance has not been SDOWN or ODOWN in the last ms.
func (ri *instance) noDownFor(now, ms int64) bool {
	recent := max(ri.sDownSince, ri.oDownSince)
	return recent == 0 || now-recent > ms
}

// sortedNames returns the keys of an instance table in a stable order.
func sortedNames(m map[string]*instance) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}
