package config

import (
	"math"
	"os"
	"strings"
)

// Config holds every setting. Read a setting on the hot path through its
// handle field (cfg.Maxmemory.Get()); change settings only through Set,
// SetFromFlag or Load so validation, atomicity and hooks apply. A Config
// must not be copied.
//
// The handle fields below mirror Redis 7.0.15's config table (src/config.c),
// grouped by type as there; New registers each one with its Redis name,
// alias, bounds and default.
type Config struct {
	// yes/no settings
	Rdbchecksum                     Bool
	Daemonize                       Bool
	IOThreadsDoReads                Bool
	AlwaysShowLogo                  Bool
	ProtectedMode                   Bool
	Rdbcompression                  Bool
	RDBDelSyncFiles                 Bool
	Activerehashing                 Bool
	StopWritesOnBgsaveError         Bool
	SetProcTitle                    Bool
	DynamicHz                       Bool
	LazyfreeLazyEviction            Bool
	LazyfreeLazyExpire              Bool
	LazyfreeLazyServerDel           Bool
	LazyfreeLazyUserDel             Bool
	LazyfreeLazyUserFlush           Bool
	ReplDisableTCPNodelay           Bool
	ReplDisklessSync                Bool
	AOFRewriteIncrementalFsync      Bool
	NoAppendfsyncOnRewrite          Bool
	ClusterRequireFullCoverage      Bool
	RDBSaveIncrementalFsync         Bool
	AOFLoadTruncated                Bool
	AOFUseRDBPreamble               Bool
	AOFTimestampEnabled             Bool
	ClusterReplicaNoFailover        Bool
	ReplicaLazyFlush                Bool
	ReplicaServeStaleData           Bool
	ReplicaReadOnly                 Bool
	ReplicaIgnoreMaxmemory          Bool
	JemallocBgThread                Bool
	Activedefrag                    Bool
	SyslogEnabled                   Bool
	ClusterEnabled                  Bool
	Appendonly                      Bool
	ClusterAllowReadsWhenDown       Bool
	ClusterAllowPubsubshardWhenDown Bool
	CrashLogEnabled                 Bool
	CrashMemcheckEnabled            Bool
	DisableTHP                      Bool
	ClusterAllowReplicaMigration    Bool
	ReplicaAnnounced                Bool
	LatencyTracking                 Bool
	AOFDisableAutoGC                Bool
	ReplicaIgnoreDiskWriteErrors    Bool
	TLSCluster                      Bool
	TLSReplication                  Bool
	TLSPreferServerCiphers          Bool
	TLSSessionCaching               Bool

	// string settings
	Aclfile                 String
	Unixsocket              String
	Pidfile                 String
	ReplicaAnnounceIP       String
	Masteruser              String
	ClusterAnnounceIP       String
	ClusterConfigFile       String
	ClusterAnnounceHostname String
	SyslogIdent             String
	Dbfilename              String
	Appendfilename          String
	Appenddirname           String
	ServerCpulist           String
	BioCpulist              String
	AOFRewriteCpulist       String
	BgsaveCpulist           String
	IgnoreWarnings          String
	ProcTitleTemplate       String
	BindSourceAddr          String
	Logfile                 String
	Masterauth              String
	Requirepass             String
	TLSCertFile             String
	TLSKeyFile              String
	TLSKeyFilePass          String
	TLSClientCertFile       String
	TLSClientKeyFile        String
	TLSClientKeyFilePass    String
	TLSDHParamsFile         String
	TLSCACertFile           String
	TLSCACertDir            String
	TLSProtocols            String
	TLSCiphers              String
	TLSCiphersuites         String

	// enum settings
	Supervised                   Enum
	SyslogFacility               Enum
	ReplDisklessLoad             Enum
	Loglevel                     Enum
	MaxmemoryPolicy              Enum
	Appendfsync                  Enum
	OOMScoreAdj                  Enum
	ACLPubsubDefault             Enum
	SanitizeDumpPayload          Enum
	EnableProtectedConfigs       Enum
	EnableDebugCommand           Enum
	EnableModuleCommand          Enum
	ClusterPreferredEndpointType Enum
	PropagationErrorBehavior     Enum
	ShutdownOnSigint             Enum
	ShutdownOnSigterm            Enum
	TLSAuthClients               Enum

	// numeric settings
	Databases                    Int
	Port                         Int
	IOThreads                    Int
	AutoAOFRewritePercentage     Int
	ClusterReplicaValidityFactor Int
	ListMaxListpackSize          Int
	TCPKeepalive                 Int
	ClusterMigrationBarrier      Int
	ActiveDefragCycleMin         Int
	ActiveDefragCycleMax         Int
	ActiveDefragThresholdLower   Int
	ActiveDefragThresholdUpper   Int
	LFULogFactor                 Int
	LFUDecayTime                 Int
	ReplicaPriority              Int
	ReplDisklessSyncDelay        Int
	MaxmemorySamples             Int
	MaxmemoryEvictionTenacity    Int
	Timeout                      Int
	ReplicaAnnouncePort          Int
	TCPBacklog                   Int
	ClusterPort                  Int
	ClusterAnnounceBusPort       Int
	ClusterAnnouncePort          Int
	ClusterAnnounceTLSPort       Int
	ReplTimeout                  Int
	ReplPingReplicaPeriod        Int
	ListCompressDepth            Int
	ActiveExpireEffort           Int
	Hz                           Int
	MinReplicasToWrite           Int
	MinReplicasMaxLag            Int
	ShutdownTimeout              Int
	ReplDisklessSyncMaxReplicas  Int
	Maxclients                   Int
	Unixsocketperm               Int
	SocketMarkID                 Int
	ActiveDefragMaxScanFields    Int
	SlowlogMaxLen                Int
	ACLLogMaxLen                 Int
	BusyReplyThreshold           Int
	ClusterNodeTimeout           Int
	SlowlogLogSlowerThan         Int
	LatencyMonitorThreshold      Int
	ProtoMaxBulkLen              Int
	StreamNodeMaxEntries         Int
	ReplBacklogSize              Int
	Maxmemory                    Int
	ClusterLinkSendbufLimit      Int
	HashMaxListpackEntries       Int
	SetMaxIntsetEntries          Int
	ZsetMaxListpackEntries       Int
	ActiveDefragIgnoreBytes      Int
	HashMaxListpackValue         Int
	StreamNodeMaxBytes           Int
	ZsetMaxListpackValue         Int
	HLLSparseMaxBytes            Int
	TrackingTableMaxKeys         Int
	ClientQueryBufferLimit       Int
	MaxmemoryClients             Int
	ReplBacklogTTL               Int
	AutoAOFRewriteMinSize        Int
	TLSPort                      Int
	TLSSessionCacheSize          Int
	TLSSessionCacheTimeout       Int

	// settings with their own syntax
	Dir                            Dir
	Save                           Save
	ClientOutputBufferLimit        ClientOutputBufferLimit
	OOMScoreAdjValues              OOMScoreAdjValues
	NotifyKeyspaceEvents           KeyspaceEvents
	Bind                           Bind
	Replicaof                      ReplicaOf
	LatencyTrackingInfoPercentiles Percentiles

	registry
}

// Bounds of Redis's C types, used as they appear in config.c.
const (
	intMax   = math.MaxInt32
	intMin   = math.MinInt32
	uintMax  = math.MaxUint32
	longMax  = math.MaxInt64
	llongMax = math.MaxInt64
	// ullongMax stands for ULLONG_MAX: values are held in an int64, so
	// maxmemory and cluster-link-sendbuf-limit stop at 2^63-1 bytes.
	ullongMax = math.MaxInt64
)

// numUnsigned makes an Int check its bounds as Redis's unsigned types do.
const numUnsigned = 1 << 8

const (
	mutable   = 0
	immutable = 1 << iota // CONFIG SET refuses it; only the file and flags set it
	protected             // CONFIG SET refuses it unless enable-protected-configs allows
	sensitive             // its value is redacted from SLOWLOG and MONITOR, as Redis's SENSITIVE_CONFIG
)

var (
	shutdownOnSig = []enumItem{{"default", 0}, {"save", 1}, {"nosave", 2}, {"now", 4}, {"force", 8}}
	protectedAct  = []enumItem{{"no", 0}, {"yes", 1}, {"local", 2}}
)

// New returns a Config holding Redis 7.0.15's defaults.
func New() *Config {
	c := &Config{}
	c.registry.init()

	bl := c.boolean
	bl(&c.Rdbchecksum, "rdbchecksum", "", immutable, true, "append a CRC64 checksum to RDB files and check it on load")
	bl(&c.Daemonize, "daemonize", "", immutable, false, "run in the background")
	bl(&c.IOThreadsDoReads, "io-threads-do-reads", "", immutable, false, "let I/O threads also read and parse requests")
	bl(&c.AlwaysShowLogo, "always-show-logo", "", immutable, false, "print the ASCII logo even when logging to a file")
	bl(&c.ProtectedMode, "protected-mode", "", mutable, true, "refuse non-local clients when no bind and no password are set")
	bl(&c.Rdbcompression, "rdbcompression", "", mutable, true, "compress strings in RDB files with LZF")
	bl(&c.RDBDelSyncFiles, "rdb-del-sync-files", "", mutable, false, "delete RDB files used only for replication when persistence is off")
	bl(&c.Activerehashing, "activerehashing", "", mutable, true, "spend CPU on incremental rehashing of the main dictionaries")
	bl(&c.StopWritesOnBgsaveError, "stop-writes-on-bgsave-error", "", mutable, true, "refuse writes when the last background save failed")
	bl(&c.SetProcTitle, "set-proc-title", "", immutable, true, "set the process title shown by ps")
	bl(&c.DynamicHz, "dynamic-hz", "", mutable, true, "raise hz temporarily when many clients are connected")
	bl(&c.LazyfreeLazyEviction, "lazyfree-lazy-eviction", "", mutable, false, "free evicted keys in the background")
	bl(&c.LazyfreeLazyExpire, "lazyfree-lazy-expire", "", mutable, false, "free expired keys in the background")
	bl(&c.LazyfreeLazyServerDel, "lazyfree-lazy-server-del", "", mutable, false, "free keys deleted implicitly (e.g. RENAME) in the background")
	bl(&c.LazyfreeLazyUserDel, "lazyfree-lazy-user-del", "", mutable, false, "make DEL behave like UNLINK")
	bl(&c.LazyfreeLazyUserFlush, "lazyfree-lazy-user-flush", "", mutable, false, "make FLUSHALL/FLUSHDB default to ASYNC")
	bl(&c.ReplDisableTCPNodelay, "repl-disable-tcp-nodelay", "", mutable, false, "disable TCP_NODELAY on replica links (less bandwidth, more delay)")
	bl(&c.ReplDisklessSync, "repl-diskless-sync", "", mutable, true, "send full-sync snapshots straight to replica sockets")
	bl(&c.AOFRewriteIncrementalFsync, "aof-rewrite-incremental-fsync", "", mutable, true, "fsync every 4 MB while rewriting the AOF")
	bl(&c.NoAppendfsyncOnRewrite, "no-appendfsync-on-rewrite", "", mutable, false, "skip AOF fsync while a save or rewrite runs")
	bl(&c.ClusterRequireFullCoverage, "cluster-require-full-coverage", "", mutable, true, "stop serving when some hash slots are uncovered")
	bl(&c.RDBSaveIncrementalFsync, "rdb-save-incremental-fsync", "", mutable, true, "fsync every 4 MB while saving an RDB file")
	bl(&c.AOFLoadTruncated, "aof-load-truncated", "", mutable, true, "load a truncated AOF up to its last whole command")
	bl(&c.AOFUseRDBPreamble, "aof-use-rdb-preamble", "", mutable, true, "start rewritten AOFs with an RDB snapshot")
	bl(&c.AOFTimestampEnabled, "aof-timestamp-enabled", "", mutable, false, "write timestamp annotations into the AOF")
	bl(&c.ClusterReplicaNoFailover, "cluster-replica-no-failover", "cluster-slave-no-failover", mutable, false, "never fail over automatically to this replica")
	bl(&c.ReplicaLazyFlush, "replica-lazy-flush", "slave-lazy-flush", mutable, false, "flush the old dataset in the background on full sync")
	bl(&c.ReplicaServeStaleData, "replica-serve-stale-data", "slave-serve-stale-data", mutable, true, "answer reads while disconnected from the master")
	bl(&c.ReplicaReadOnly, "replica-read-only", "slave-read-only", mutable, true, "refuse writes from clients on a replica")
	bl(&c.ReplicaIgnoreMaxmemory, "replica-ignore-maxmemory", "slave-ignore-maxmemory", mutable, true, "do not evict on a replica; follow the master")
	bl(&c.JemallocBgThread, "jemalloc-bg-thread", "", mutable, true, "purge allocator memory in a background thread")
	bl(&c.Activedefrag, "activedefrag", "", mutable, false, "defragment memory in the background")
	bl(&c.SyslogEnabled, "syslog-enabled", "", immutable, false, "also log to syslog")
	bl(&c.ClusterEnabled, "cluster-enabled", "", immutable, false, "run as a cluster node")
	bl(&c.Appendonly, "appendonly", "", mutable, false, "persist every write to the append-only file")
	bl(&c.ClusterAllowReadsWhenDown, "cluster-allow-reads-when-down", "", mutable, false, "serve reads while the cluster is down")
	bl(&c.ClusterAllowPubsubshardWhenDown, "cluster-allow-pubsubshard-when-down", "", mutable, true, "serve sharded pub/sub while the cluster is down")
	bl(&c.CrashLogEnabled, "crash-log-enabled", "", mutable, true, "log a stack trace on crash")
	bl(&c.CrashMemcheckEnabled, "crash-memcheck-enabled", "", mutable, true, "run a memory check on crash")
	bl(&c.DisableTHP, "disable-thp", "", immutable, true, "turn off transparent huge pages for the process")
	bl(&c.ClusterAllowReplicaMigration, "cluster-allow-replica-migration", "", mutable, true, "let replicas migrate to orphaned masters")
	bl(&c.ReplicaAnnounced, "replica-announced", "", mutable, true, "let Sentinel announce this replica")
	bl(&c.LatencyTracking, "latency-tracking", "", mutable, true, "track per-command latency percentiles")
	bl(&c.AOFDisableAutoGC, "aof-disable-auto-gc", "", mutable, false, "keep old AOF files after a rewrite")
	bl(&c.ReplicaIgnoreDiskWriteErrors, "replica-ignore-disk-write-errors", "", mutable, false, "keep replicating when a replica cannot write to disk")
	bl(&c.TLSCluster, "tls-cluster", "", mutable, false, "use TLS on the cluster bus")
	bl(&c.TLSReplication, "tls-replication", "", mutable, false, "use TLS for replication links")
	bl(&c.TLSPreferServerCiphers, "tls-prefer-server-ciphers", "", mutable, false, "prefer the server's cipher order")
	bl(&c.TLSSessionCaching, "tls-session-caching", "", mutable, true, "cache TLS sessions for resumption")

	// nullable strings are Redis's EMPTY_STRING_IS_NULL: empty means unset.
	st := c.str
	st(&c.Aclfile, "aclfile", "", immutable, false, "", "path of the ACL users file")
	st(&c.Unixsocket, "unixsocket", "", immutable, true, "", "path of a Unix socket to listen on")
	st(&c.Pidfile, "pidfile", "", immutable, true, "", "path of the pid file")
	st(&c.ReplicaAnnounceIP, "replica-announce-ip", "slave-announce-ip", mutable, true, "", "IP a replica reports to its master")
	st(&c.Masteruser, "masteruser", "", sensitive, true, "", "ACL user a replica authenticates as")
	st(&c.ClusterAnnounceIP, "cluster-announce-ip", "", mutable, true, "", "IP announced to other cluster nodes")
	st(&c.ClusterConfigFile, "cluster-config-file", "", immutable, false, "nodes.conf", "cluster state file")
	st(&c.ClusterAnnounceHostname, "cluster-announce-hostname", "", mutable, true, "", "hostname announced to other cluster nodes")
	st(&c.SyslogIdent, "syslog-ident", "", immutable, false, "redis", "syslog identity")
	st(&c.Dbfilename, "dbfilename", "", protected, false, "dump.rdb", "RDB file name inside dir")
	st(&c.Appendfilename, "appendfilename", "", immutable, false, "appendonly.aof", "base name of the AOF files")
	st(&c.Appenddirname, "appenddirname", "", immutable, false, "appendonlydir", "directory of the AOF files inside dir")
	st(&c.ServerCpulist, "server_cpulist", "", immutable, true, "", "CPUs the main thread may run on")
	st(&c.BioCpulist, "bio_cpulist", "", immutable, true, "", "CPUs background I/O threads may run on")
	st(&c.AOFRewriteCpulist, "aof_rewrite_cpulist", "", immutable, true, "", "CPUs the AOF rewrite may run on")
	st(&c.BgsaveCpulist, "bgsave_cpulist", "", immutable, true, "", "CPUs a background save may run on")
	st(&c.IgnoreWarnings, "ignore-warnings", "", mutable, false, "", "start-up warnings to silence")
	st(&c.ProcTitleTemplate, "proc-title-template", "", mutable, false, "{title} {listen-addr} {server-mode}", "template of the process title")
	st(&c.BindSourceAddr, "bind-source-addr", "", mutable, true, "", "source address of outgoing connections")
	st(&c.Logfile, "logfile", "", immutable, false, "", "log file (empty: standard output)")
	st(&c.Masterauth, "masterauth", "", sensitive, true, "", "password a replica authenticates with")
	st(&c.Requirepass, "requirepass", "", sensitive, true, "", "password of the default user")
	st(&c.TLSCertFile, "tls-cert-file", "", mutable, true, "", "server TLS certificate")
	st(&c.TLSKeyFile, "tls-key-file", "", mutable, true, "", "server TLS private key")
	st(&c.TLSKeyFilePass, "tls-key-file-pass", "", mutable, true, "", "passphrase of tls-key-file")
	st(&c.TLSClientCertFile, "tls-client-cert-file", "", mutable, true, "", "client TLS certificate for outgoing links")
	st(&c.TLSClientKeyFile, "tls-client-key-file", "", mutable, true, "", "client TLS private key for outgoing links")
	st(&c.TLSClientKeyFilePass, "tls-client-key-file-pass", "", mutable, true, "", "passphrase of tls-client-key-file")
	st(&c.TLSDHParamsFile, "tls-dh-params-file", "", mutable, true, "", "DH parameters file")
	st(&c.TLSCACertFile, "tls-ca-cert-file", "", mutable, true, "", "CA certificate bundle")
	st(&c.TLSCACertDir, "tls-ca-cert-dir", "", mutable, true, "", "directory of CA certificates")
	st(&c.TLSProtocols, "tls-protocols", "", mutable, true, "", "TLS protocol versions to accept")
	st(&c.TLSCiphers, "tls-ciphers", "", mutable, true, "", "TLS 1.2 cipher list")
	st(&c.TLSCiphersuites, "tls-ciphersuites", "", mutable, true, "", "TLS 1.3 cipher suites")
	c.Dbfilename.valid = func(s string) string {
		if strings.ContainsAny(s, `/\`) {
			return "dbfilename can't be a path, just a filename"
		}
		return ""
	}
	c.Appendfilename.valid = func(s string) string {
		if s == "" {
			return "appendfilename can't be empty"
		}
		if strings.ContainsAny(s, `/\`) {
			return "appendfilename can't be a path, just a filename"
		}
		return ""
	}
	c.Appenddirname.valid = func(s string) string {
		if s == "" {
			return "appenddirname can't be empty"
		}
		if strings.ContainsAny(s, `/\`) {
			return "appenddirname can't be a path, just a dirname"
		}
		return ""
	}
	c.ClusterAnnounceHostname.valid = validHostname
	c.ProcTitleTemplate.valid = validProcTitleTemplate

	en := c.enum
	en(&c.Supervised, "supervised", "", immutable, []enumItem{{"upstart", 1}, {"systemd", 2}, {"auto", 3}, {"no", 0}}, 0, "supervision interaction: upstart, systemd, auto or no")
	en(&c.SyslogFacility, "syslog-facility", "", immutable, []enumItem{{"user", 8}, {"local0", 128}, {"local1", 136}, {"local2", 144}, {"local3", 152}, {"local4", 160}, {"local5", 168}, {"local6", 176}, {"local7", 184}}, 128, "syslog facility: user or local0-local7")
	en(&c.ReplDisklessLoad, "repl-diskless-load", "", mutable, []enumItem{{"disabled", 0}, {"on-empty-db", 1}, {"swapdb", 2}}, 0, "how a replica loads a full sync: disabled, on-empty-db or swapdb")
	en(&c.Loglevel, "loglevel", "", mutable, []enumItem{{"debug", 0}, {"verbose", 1}, {"notice", 2}, {"warning", 3}}, 2, "log verbosity: debug, verbose, notice or warning")
	en(&c.MaxmemoryPolicy, "maxmemory-policy", "", mutable, []enumItem{{"volatile-lru", 1}, {"volatile-lfu", 2}, {"volatile-random", 3}, {"volatile-ttl", 4}, {"allkeys-lru", 5}, {"allkeys-lfu", 6}, {"allkeys-random", 7}, {"noeviction", 8}}, 8, "what to evict when maxmemory is reached")
	en(&c.Appendfsync, "appendfsync", "", mutable, []enumItem{{"everysec", 1}, {"always", 0}, {"no", 2}}, 1, "when to fsync the AOF: always, everysec or no")
	en(&c.OOMScoreAdj, "oom-score-adj", "", mutable, []enumItem{{"no", 0}, {"yes", 1}, {"relative", 1}, {"absolute", 2}}, 0, "set the kernel OOM score: no, yes/relative or absolute")
	en(&c.ACLPubsubDefault, "acl-pubsub-default", "", mutable, []enumItem{{"allchannels", 1}, {"resetchannels", 0}}, 0, "default pub/sub permission of new ACL users")
	en(&c.SanitizeDumpPayload, "sanitize-dump-payload", "", mutable, []enumItem{{"no", 0}, {"yes", 1}, {"clients", 2}}, 0, "deep-check RESTORE payloads: no, yes or clients")
	en(&c.EnableProtectedConfigs, "enable-protected-configs", "", immutable, protectedAct, 0, "allow CONFIG SET of protected settings: no, yes or local")
	en(&c.EnableDebugCommand, "enable-debug-command", "", immutable, protectedAct, 0, "allow the DEBUG command: no, yes or local")
	en(&c.EnableModuleCommand, "enable-module-command", "", immutable, protectedAct, 0, "allow the MODULE command: no, yes or local")
	en(&c.ClusterPreferredEndpointType, "cluster-preferred-endpoint-type", "", mutable, []enumItem{{"ip", 0}, {"hostname", 1}, {"unknown-endpoint", 2}}, 0, "endpoint type in cluster redirects")
	en(&c.PropagationErrorBehavior, "propagation-error-behavior", "", mutable, []enumItem{{"ignore", 0}, {"panic", 1}, {"panic-on-replicas", 2}}, 0, "what to do when a replicated command fails")
	en(&c.ShutdownOnSigint, "shutdown-on-sigint", "", mutable, shutdownOnSig, 0, "SHUTDOWN flags used on SIGINT")
	en(&c.ShutdownOnSigterm, "shutdown-on-sigterm", "", mutable, shutdownOnSig, 0, "SHUTDOWN flags used on SIGTERM")
	en(&c.TLSAuthClients, "tls-auth-clients", "", mutable, []enumItem{{"no", 0}, {"yes", 1}, {"optional", 2}}, 1, "require client certificates: no, yes or optional")
	for _, h := range []*Enum{&c.ShutdownOnSigint, &c.ShutdownOnSigterm} {
		h.bitflags = true
		h.valid = func(v int) string {
			if v&1 != 0 && v&2 != 0 {
				return "shutdown options SAVE and NOSAVE can't be used simultaneously"
			}
			return ""
		}
	}

	const mem, pct, oct, uns = numMemory, numPercent, numOctal, numUnsigned
	n := c.num
	n(&c.Databases, "databases", "", immutable, 0, 1, intMax, 16, "number of databases")
	n(&c.Port, "port", "", mutable, 0, 0, 65535, 6379, "TCP port to listen on (0: none)")
	n(&c.IOThreads, "io-threads", "", immutable, 0, 1, 128, 1, "processors serving clients (GOMAXPROCS); background saves get one more")
	n(&c.AutoAOFRewritePercentage, "auto-aof-rewrite-percentage", "", mutable, 0, 0, intMax, 100, "rewrite the AOF when it grew by this percentage (0: never)")
	n(&c.ClusterReplicaValidityFactor, "cluster-replica-validity-factor", "cluster-slave-validity-factor", mutable, 0, 0, intMax, 10, "max data age of a replica that may fail over, in node timeouts")
	n(&c.ListMaxListpackSize, "list-max-listpack-size", "list-max-ziplist-size", mutable, 0, intMin, intMax, -2, "list node size: entries if positive, -1..-5 for 4..64 KB")
	n(&c.TCPKeepalive, "tcp-keepalive", "", mutable, 0, 0, intMax, 300, "TCP keepalive period in seconds (0: off)")
	n(&c.ClusterMigrationBarrier, "cluster-migration-barrier", "", mutable, 0, 0, intMax, 1, "replicas a master keeps before one may migrate")
	n(&c.ActiveDefragCycleMin, "active-defrag-cycle-min", "", mutable, 0, 1, 99, 1, "minimum CPU percent for defragmentation")
	n(&c.ActiveDefragCycleMax, "active-defrag-cycle-max", "", mutable, 0, 1, 99, 25, "maximum CPU percent for defragmentation")
	n(&c.ActiveDefragThresholdLower, "active-defrag-threshold-lower", "", mutable, 0, 0, 1000, 10, "fragmentation percent at which defragmentation starts")
	n(&c.ActiveDefragThresholdUpper, "active-defrag-threshold-upper", "", mutable, 0, 0, 1000, 100, "fragmentation percent at which defragmentation is maximal")
	n(&c.LFULogFactor, "lfu-log-factor", "", mutable, 0, 0, intMax, 10, "LFU counter logarithm factor")
	n(&c.LFUDecayTime, "lfu-decay-time", "", mutable, 0, 0, intMax, 1, "minutes after which the LFU counter decays")
	n(&c.ReplicaPriority, "replica-priority", "slave-priority", mutable, 0, 0, intMax, 100, "Sentinel promotion priority (0: never)")
	n(&c.ReplDisklessSyncDelay, "repl-diskless-sync-delay", "", mutable, 0, 0, intMax, 5, "seconds to wait for more replicas before a diskless sync")
	n(&c.MaxmemorySamples, "maxmemory-samples", "", mutable, 0, 1, intMax, 5, "keys sampled per eviction")
	n(&c.MaxmemoryEvictionTenacity, "maxmemory-eviction-tenacity", "", mutable, 0, 0, 100, 10, "eviction effort per command (0-100)")
	n(&c.Timeout, "timeout", "", mutable, 0, 0, intMax, 0, "close idle clients after this many seconds (0: never)")
	n(&c.ReplicaAnnouncePort, "replica-announce-port", "slave-announce-port", mutable, 0, 0, 65535, 0, "port a replica reports to its master")
	n(&c.TCPBacklog, "tcp-backlog", "", immutable, 0, 0, intMax, 511, "listen backlog")
	n(&c.ClusterPort, "cluster-port", "", immutable, 0, 0, 65535, 0, "cluster bus port (0: port+10000)")
	n(&c.ClusterAnnounceBusPort, "cluster-announce-bus-port", "", mutable, 0, 0, 65535, 0, "cluster bus port announced to other nodes")
	n(&c.ClusterAnnouncePort, "cluster-announce-port", "", mutable, 0, 0, 65535, 0, "client port announced to other nodes")
	n(&c.ClusterAnnounceTLSPort, "cluster-announce-tls-port", "", mutable, 0, 0, 65535, 0, "TLS port announced to other nodes")
	n(&c.ReplTimeout, "repl-timeout", "", mutable, 0, 1, intMax, 60, "replication timeout in seconds")
	n(&c.ReplPingReplicaPeriod, "repl-ping-replica-period", "repl-ping-slave-period", mutable, 0, 1, intMax, 10, "seconds between master pings to replicas")
	n(&c.ListCompressDepth, "list-compress-depth", "", mutable, 0, 0, intMax, 0, "list nodes left uncompressed at each end (0: no compression)")
	n(&c.ActiveExpireEffort, "active-expire-effort", "", mutable, 0, 1, 10, 1, "effort of the active expiry cycle (1-10)")
	n(&c.Hz, "hz", "", mutable, 0, 0, intMax, 10, "background task frequency per second")
	n(&c.MinReplicasToWrite, "min-replicas-to-write", "min-slaves-to-write", mutable, 0, 0, intMax, 0, "refuse writes with fewer good replicas (0: off)")
	n(&c.MinReplicasMaxLag, "min-replicas-max-lag", "min-slaves-max-lag", mutable, 0, 0, intMax, 10, "seconds of lag for a replica to count as good")
	n(&c.ShutdownTimeout, "shutdown-timeout", "", mutable, 0, 0, intMax, 10, "seconds SHUTDOWN waits for replicas to catch up")
	n(&c.ReplDisklessSyncMaxReplicas, "repl-diskless-sync-max-replicas", "", mutable, 0, 0, intMax, 0, "start a diskless sync as soon as this many replicas wait (0: no limit)")
	n(&c.Maxclients, "maxclients", "", mutable, uns, 1, uintMax, 10000, "maximum number of connected clients")
	n(&c.Unixsocketperm, "unixsocketperm", "", immutable, uns|oct, 0, 0o777, 0, "permissions of the Unix socket, in octal")
	n(&c.SocketMarkID, "socket-mark-id", "", immutable, uns, 0, uintMax, 0, "socket mark (SO_MARK) of listening sockets")
	n(&c.ActiveDefragMaxScanFields, "active-defrag-max-scan-fields", "", mutable, 0, 1, longMax, 1000, "fields above which a key is defragmented separately")
	n(&c.SlowlogMaxLen, "slowlog-max-len", "", mutable, 0, 0, longMax, 128, "entries kept in the slow log")
	n(&c.ACLLogMaxLen, "acllog-max-len", "", mutable, 0, 0, longMax, 128, "entries kept in the ACL log")
	n(&c.BusyReplyThreshold, "busy-reply-threshold", "lua-time-limit", mutable, 0, 0, longMax, 5000, "milliseconds before a script is reported BUSY")
	n(&c.ClusterNodeTimeout, "cluster-node-timeout", "", mutable, 0, 0, llongMax, 15000, "milliseconds before a cluster node is considered failing")
	n(&c.SlowlogLogSlowerThan, "slowlog-log-slower-than", "", mutable, 0, -1, llongMax, 10000, "microseconds above which a command is logged (-1: off)")
	n(&c.LatencyMonitorThreshold, "latency-monitor-threshold", "", mutable, 0, 0, llongMax, 0, "milliseconds above which latency is sampled (0: off)")
	n(&c.ProtoMaxBulkLen, "proto-max-bulk-len", "", mutable, mem, 1024*1024, longMax, 512*1024*1024, "maximum bulk string length in a request")
	n(&c.StreamNodeMaxEntries, "stream-node-max-entries", "", mutable, 0, 0, llongMax, 100, "maximum entries in a stream node")
	n(&c.ReplBacklogSize, "repl-backlog-size", "", mutable, mem, 1, llongMax, 1024*1024, "replication backlog size")
	n(&c.Maxmemory, "maxmemory", "", mutable, uns|mem, 0, ullongMax, 0, "memory limit for data (0: none)")
	n(&c.ClusterLinkSendbufLimit, "cluster-link-sendbuf-limit", "", mutable, uns|mem, 0, ullongMax, 0, "send buffer limit of a cluster link (0: none)")
	n(&c.HashMaxListpackEntries, "hash-max-listpack-entries", "hash-max-ziplist-entries", mutable, uns, 0, longMax, 512, "fields up to which a hash stays compact")
	n(&c.SetMaxIntsetEntries, "set-max-intset-entries", "", mutable, uns, 0, longMax, 512, "members up to which an integer set stays compact")
	n(&c.ZsetMaxListpackEntries, "zset-max-listpack-entries", "zset-max-ziplist-entries", mutable, uns, 0, longMax, 128, "members up to which a sorted set stays compact")
	n(&c.ActiveDefragIgnoreBytes, "active-defrag-ignore-bytes", "", mutable, uns|mem, 1, llongMax, 100<<20, "fragmentation waste below which defragmentation does not start")
	n(&c.HashMaxListpackValue, "hash-max-listpack-value", "hash-max-ziplist-value", mutable, uns|mem, 0, longMax, 64, "field/value length up to which a hash stays compact")
	n(&c.StreamNodeMaxBytes, "stream-node-max-bytes", "", mutable, uns|mem, 0, longMax, 4096, "maximum bytes of a stream node")
	n(&c.ZsetMaxListpackValue, "zset-max-listpack-value", "zset-max-ziplist-value", mutable, uns|mem, 0, longMax, 64, "member length up to which a sorted set stays compact")
	n(&c.HLLSparseMaxBytes, "hll-sparse-max-bytes", "", mutable, uns|mem, 0, longMax, 3000, "bytes up to which a HyperLogLog stays sparse")
	n(&c.TrackingTableMaxKeys, "tracking-table-max-keys", "", mutable, uns, 0, longMax, 1000000, "keys tracked for client-side caching (0: no limit)")
	n(&c.ClientQueryBufferLimit, "client-query-buffer-limit", "", mutable, uns|mem, 1024*1024, longMax, 1024*1024*1024, "maximum query buffer of one client")
	n(&c.MaxmemoryClients, "maxmemory-clients", "", mutable, mem|pct, -100, longMax, 0, "memory limit of all clients together, bytes or % of maxmemory (0: none)")
	n(&c.ReplBacklogTTL, "repl-backlog-ttl", "", mutable, 0, 0, longMax, 3600, "seconds without replicas before the backlog is freed")
	n(&c.AutoAOFRewriteMinSize, "auto-aof-rewrite-min-size", "", mutable, mem, 0, llongMax, 64*1024*1024, "AOF size below which no automatic rewrite happens")
	n(&c.TLSPort, "tls-port", "", mutable, 0, 0, 65535, 0, "TLS port to listen on (0: none)")
	n(&c.TLSSessionCacheSize, "tls-session-cache-size", "", mutable, 0, 0, intMax, 20*1024, "TLS sessions cached")
	n(&c.TLSSessionCacheTimeout, "tls-session-cache-timeout", "", mutable, 0, 0, intMax, 300, "seconds a cached TLS session lives")

	// Redis's dir defaults to the directory it was started in.
	wd, _ := os.Getwd()
	c.Dir.store(wd)
	c.add(&c.Dir, "dir", "", protected, "working directory: RDB, AOF and cluster files live here")
	c.Save.store([]SavePoint{{3600, 1}, {300, 100}, {60, 10000}})
	c.add(&c.Save, "save", "", mutable, `snapshot rules "<seconds> <changes> ..." (empty: no snapshots)`)
	c.ClientOutputBufferLimit.store(OutputBufferLimits{
		Replica: OutputBufferLimit{256 << 20, 64 << 20, 60},
		PubSub:  OutputBufferLimit{32 << 20, 8 << 20, 60},
	})
	c.add(&c.ClientOutputBufferLimit, "client-output-buffer-limit", "", mutable, `output buffer limits "<class> <hard> <soft> <seconds> ..."`)
	c.OOMScoreAdjValues.store([3]int{0, 200, 800})
	c.add(&c.OOMScoreAdjValues, "oom-score-adj-values", "", mutable, "OOM scores of master, replica and child processes")
	c.NotifyKeyspaceEvents.store(0)
	c.add(&c.NotifyKeyspaceEvents, "notify-keyspace-events", "", mutable, "keyspace event classes to publish (e.g. KEA; empty: off)")
	c.Bind.store([]string{"*", "-::*"})
	c.add(&c.Bind, "bind", "", mutable, "addresses to listen on (a leading - makes one optional)")
	c.Replicaof.store(Master{})
	c.add(&c.Replicaof, "replicaof", "slaveof", immutable, `master to replicate from: "<host> <port>"`)
	c.LatencyTrackingInfoPercentiles.store([]float64{50, 99, 99.9})
	c.add(&c.LatencyTrackingInfoPercentiles, "latency-tracking-info-percentiles", "", mutable, "latency percentiles reported by INFO latencystats")

	c.registry.finish()
	return c
}

func (c *Config) boolean(h *Bool, name, alias string, flags int, def bool, usage string) {
	h.v.Store(def)
	c.add(h, name, alias, flags, usage)
}

func (c *Config) str(h *String, name, alias string, flags int, nullable bool, def, usage string) {
	h.nullable = nullable
	h.store(def)
	c.add(h, name, alias, flags, usage)
}

func (c *Config) enum(h *Enum, name, alias string, flags int, items []enumItem, def int, usage string) {
	h.items = items
	h.v.Store(int64(def))
	c.add(h, name, alias, flags, usage)
}

func (c *Config) num(h *Int, name, alias string, flags, nflags int, lo, hi, def int64, usage string) {
	h.lo, h.hi, h.flags = lo, hi, nflags&^numUnsigned
	h.unsigned = nflags&numUnsigned != 0
	h.v.Store(def)
	c.add(h, name, alias, flags, usage)
}

// validHostname is Redis's isValidAnnouncedHostname.
func validHostname(s string) string {
	if len(s) >= 256 {
		return "Hostnames must be less than 256 characters"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return "Hostnames may only contain alphanumeric characters, hyphens or dots"
		}
	}
	return ""
}

// validProcTitleTemplate mirrors Redis's check: the template must expand
// (balanced braces, known variables only) to a non-empty title when the
// program title itself is empty.
func validProcTitleTemplate(s string) string {
	const bad = "template format is invalid or contains unknown variables"
	var out strings.Builder
	for s != "" {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			out.WriteString(s)
			break
		}
		out.WriteString(s[:i])
		s = s[i+1:]
		if s == "" {
			return bad
		}
		if s[0] == '{' {
			out.WriteByte('{')
			s = s[1:]
			continue
		}
		j := strings.IndexByte(s, '}')
		if j < 0 {
			return bad
		}
		switch s[:j] {
		case "title", "server-mode", "unixsocket":
			// may expand to nothing
		case "listen-addr", "config-file", "port", "tls-port":
			out.WriteByte('x')
		default:
			return bad
		}
		s = s[j+1:]
	}
	if out.Len() == 0 {
		return bad
	}
	return ""
}
