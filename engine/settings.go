package engine

// Settings are the configuration values the engine consults while running commands.
// The server copies them from the configuration at start and again whenever CONFIG SET
// changes one; both happen with the engine lock held, so plain fields suffice.
type Settings struct {
	ProtoMaxBulkLen int64

	HashMaxListpackEntries int
	HashMaxListpackValue   int
	SetMaxIntsetEntries    int
	ZSetMaxListpackEntries int
	ZSetMaxListpackValue   int
	ListMaxListpackSize    int
	ListCompressDepth      int

	ActiveExpireEffort int
	LazyfreeLazyExpire bool
	LazyfreeUserDel    bool
	LazyfreeUserFlush  bool

	// BusyReplyThreshold (busy-reply-threshold, alias lua-time-limit) is how many
	// milliseconds a script runs before other clients get BUSY; 0 never.
	BusyReplyThreshold int64

	// ActiveExpireDisabled stops the background expiry cycle (DEBUG SET-ACTIVE-EXPIRE 0);
	// keys then expire only when read.
	ActiveExpireDisabled bool

	// MaxmemoryPolicy is maxmemory-policy ("noeviction", "allkeys-lru", "volatile-lfu"...):
	// it decides whether Object.LRU holds an access clock or an LFU counter.
	MaxmemoryPolicy string
	LfuLogFactor    int
	LfuDecayTime    int

	// Maxmemory is the memory limit in bytes (0: none); the eviction settings say
	// how hard and how precisely to enforce it.
	Maxmemory                 int64
	MaxmemorySamples          int
	MaxmemoryEvictionTenacity int
	ReplicaIgnoreMaxmemory    bool
	// EvictionPaused stops eviction while clients are paused (CLIENT PAUSE), when the
	// dataset must stay still.
	EvictionPaused bool
}

// DefaultSettings are Redis 7.0's defaults.
func DefaultSettings() Settings {
	return Settings{
		ProtoMaxBulkLen:        512 << 20,
		HashMaxListpackEntries: 512,
		HashMaxListpackValue:   64,
		SetMaxIntsetEntries:    512,
		ZSetMaxListpackEntries: 128,
		ZSetMaxListpackValue:   64,
		ListMaxListpackSize:    -2,
		ActiveExpireEffort:     1,
		BusyReplyThreshold:     5000,
		MaxmemoryPolicy:        "noeviction",
		LfuLogFactor:           10,
		LfuDecayTime:           1,

		MaxmemorySamples:          5,
		MaxmemoryEvictionTenacity: 10,
		ReplicaIgnoreMaxmemory:    true,
	}
}
