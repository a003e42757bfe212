package engine

import (
	"sort"
	"strings"
)

// Flag is a command flag as COMMAND INFO reports it. Flags drive behaviour (write
// commands propagate, deny-oom commands are refused under maxmemory, loading/stale
// decide what a replica may run), so they must be exactly Redis 7.0's.
type Flag uint32

const (
	FlagWrite Flag = 1 << iota
	FlagReadonly
	FlagDenyOOM
	FlagModule
	FlagAdmin
	FlagPubsub
	FlagNoscript
	FlagBlocking
	FlagLoading
	FlagStale
	FlagSkipMonitor
	FlagSkipSlowlog
	FlagAsking
	FlagFast
	FlagNoAuth
	FlagMayReplicate
	FlagSentinel
	FlagOnlySentinel
	FlagNoMandatoryKeys
	FlagProtected
	FlagNoAsyncLoading
	FlagNoMulti
	FlagMovableKeys
	FlagAllowBusy
)

var flagNames = []struct {
	f    Flag
	name string
}{
	{FlagWrite, "write"}, {FlagReadonly, "readonly"}, {FlagDenyOOM, "denyoom"},
	{FlagModule, "module"}, {FlagAdmin, "admin"}, {FlagPubsub, "pubsub"},
	{FlagNoscript, "noscript"}, {FlagBlocking, "blocking"}, {FlagLoading, "loading"},
	{FlagStale, "stale"}, {FlagSkipMonitor, "skip_monitor"}, {FlagSkipSlowlog, "skip_slowlog"},
	{FlagAsking, "asking"}, {FlagFast, "fast"}, {FlagNoAuth, "no_auth"},
	{FlagMayReplicate, "may_replicate"}, {FlagNoMandatoryKeys, "no_mandatory_keys"},
	{FlagNoAsyncLoading, "no_async_loading"}, {FlagNoMulti, "no_multi"},
	{FlagMovableKeys, "movablekeys"}, {FlagAllowBusy, "allow_busy"},
}

// Names lists the flags in COMMAND INFO's order.
func (f Flag) Names() []string {
	var out []string
	for _, fn := range flagNames {
		if f&fn.f != 0 {
			out = append(out, fn.name)
		}
	}
	return out
}

// Handler runs one command. It is called with the engine lock held and writes exactly
// one reply to c.W (or none, if it blocks the client).
type Handler func(c *Ctx)

// KeySpec says where a command's keys are: argument positions FirstKey..LastKey
// (negative counts from the end) every Step. Commands whose keys move (SORT, ZUNION...)
// also set GetKeys.
type KeySpec struct {
	FirstKey, LastKey, Step int
}

// Command describes one command (or subcommand) the way COMMAND INFO/DOCS report it.
type Command struct {
	Name       string // lower case; subcommands as "container|sub"
	Arity      int    // Redis arity: N exact, -N at least N (counting the name)
	Flags      Flag
	ACL        []string // ACL categories without '@' ("keyspace", "read", "fast")
	Keys       KeySpec
	Group      string // "string", "generic", "server", ...
	Since      string
	Summary    string
	Syntax     string // arguments for help output, e.g. "key value [EX seconds|PX milliseconds]"
	Complexity string
	Handler    Handler
	// GetKeys returns the key argument indexes for commands whose keys are not a fixed
	// range (COMMAND GETKEYS, ACL key checks, cluster hashing).
	GetKeys     func(args [][]byte) []int
	Subcommands map[string]*Command
	// KeyFlags are the flags of the command's key spec as COMMAND INFO prints them
	// ("RW", "access", "update"...); COMMAND GETKEYSANDFLAGS reports them per key.
	KeyFlags []string
	// Stats are this engine's commandstats for the command; guarded by the engine lock.
	Stats CommandStats
}

// Table is the set of commands one engine knows. Built once at start; read-only after.
type Table struct {
	cmds map[string]*Command
}

// NewTable returns an empty table.
func NewTable() *Table { return &Table{cmds: map[string]*Command{}} }

// Add registers commands; a later registration of the same name replaces the earlier.
func (t *Table) Add(cmds ...*Command) {
	for _, c := range cmds {
		t.cmds[c.Name] = c
	}
}

// Lookup finds a command by name, case-insensitively, with one map access and no
// allocation. Names come in both cases (redis-benchmark and most libraries send upper
// case, go-redis lower): a lower-case name is looked up as it is, any other is folded
// into a stack buffer first, rather than missing once and trying again.
func (t *Table) Lookup(name []byte) *Command {
	i := 0
	for i < len(name) && !('A' <= name[i] && name[i] <= 'Z') {
		i++
	}
	if i == len(name) {
		return t.cmds[string(name)]
	}
	var buf [32]byte
	if len(name) > len(buf) {
		return nil
	}
	lower := buf[:len(name)]
	copy(lower, name[:i])
	for ; i < len(name); i++ {
		ch := name[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		lower[i] = ch
	}
	return t.cmds[string(lower)]
}

// LookupSub finds a subcommand of cmd by name.
func (c *Command) LookupSub(name []byte) *Command {
	if c.Subcommands == nil {
		return nil
	}
	return c.Subcommands[strings.ToLower(string(name))]
}

// All lists the commands sorted by name.
func (t *Table) All() []*Command {
	out := make([]*Command, 0, len(t.cmds))
	for _, c := range t.cmds {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Len is the number of top-level commands (COMMAND COUNT).
func (t *Table) Len() int { return len(t.cmds) }

// ArityOK reports whether n arguments (counting the name) fit the arity.
func (c *Command) ArityOK(n int) bool {
	if c.Arity >= 0 {
		return n == c.Arity
	}
	return n >= -c.Arity
}

// KeyIndexes returns the positions of key arguments in args (args[0] is the name).
func (c *Command) KeyIndexes(args [][]byte) []int {
	if c.GetKeys != nil {
		return c.GetKeys(args)
	}
	k := c.Keys
	if k.FirstKey <= 0 {
		return nil
	}
	last := k.LastKey
	if last < 0 {
		last = len(args) + last
	}
	step := max(k.Step, 1)
	var out []int
	for i := k.FirstKey; i <= last && i < len(args); i += step {
		out = append(out, i)
	}
	return out
}
