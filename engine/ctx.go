package engine

import (
	"strings"

	"kv/resp"
)

// Ctx is what a command handler works with: its arguments, the selected database,
// the reply writer and the time the command started. One Ctx serves a connection for
// its lifetime; the server sets Cmd and Args before each Exec.
type Ctx struct {
	E      *Engine
	DB     *DB
	Cmd    *Command
	Args   [][]byte
	W      *resp.Writer
	Client any // the server's connection; engine code never looks inside
	// Now is the command's time in Unix ms: fixed for the whole command (and for a whole
	// MULTI/EXEC or script) so expiry decisions inside it are consistent, as in Redis.
	Now int64
	// FromMaster is set while applying the replication stream: expired keys are then
	// visible and writes are allowed on a replica.
	FromMaster bool
	// Blocked is set by a blocking command that found nothing and registered a waiter.
	Blocked bool
	// DenyBlocking is set while commands run inside EXEC (and scripts): a blocking
	// command must not block there and answers as if its timeout had passed, as
	// Redis's CLIENT_DENY_BLOCKING.
	DenyBlocking bool
	// Script marks the context scripts run their redis.call commands in; MONITOR
	// shows those commands as coming from "lua", as Redis does.
	Script bool

	fixedNow       int64
	dirty          int
	rewritten      [][][]byte
	forcePropagate bool
	replicasOnly   bool
	redacted       []int
}

// Redact hides argument i (a password) from MONITOR and the slow log, which show
// "(redacted)" in its place, as Redis's redactClientCommandArgument does.
func (c *Ctx) Redact(i int) { c.redacted = append(c.redacted, i) }

// Redacted lists the arguments the running command asked to hide.
func (c *Ctx) Redacted() []int { return c.redacted }

// FixTime makes every command until UnfixTime see the same Now (EXEC, scripts).
func (c *Ctx) FixTime(ms int64) { c.fixedNow = ms }

// InExec reports whether the command runs inside EXEC (or a script): its time is fixed.
func (c *Ctx) InExec() bool { return c.fixedNow != 0 }

// UnfixTime lets commands see the clock again.
func (c *Ctx) UnfixTime() { c.fixedNow = 0 }

// Name is the command name in lower case as Redis reports it in errors.
func (c *Ctx) Name() string { return c.Cmd.Name }

// Error writes an error reply.
func (c *Ctx) Error(msg string) { c.W.Error(msg) }

// WrongArgs writes the arity error for the current command.
func (c *Ctx) WrongArgs() { c.W.Error(errWrongArgs(c.Cmd.Name)) }

// Arg returns argument i lower-cased, for matching options.
func (c *Ctx) Arg(i int) string { return strings.ToLower(string(c.Args[i])) }

// Is reports whether argument i equals opt, ignoring case, without allocating.
func (c *Ctx) Is(i int, opt string) bool { return EqualFold(c.Args[i], opt) }

// EqualFold compares an argument with a lower-case ASCII option name.
func EqualFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		ch := b[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != lower[i] {
			return false
		}
	}
	return true
}

// Changed records that the command modified key: WATCHers are invalidated, the change
// counts toward save points, and the command will be propagated. Every write calls it
// once per key it changes (Redis's signalModifiedKey plus server.dirty++).
func (c *Ctx) Changed(key []byte) {
	c.E.watches.touch(c.DB.ID, key)
	c.dirty++
}

// AddDirty counts n more changes without touching a key (FLUSHALL, SWAPDB...).
func (c *Ctx) AddDirty(n int) { c.dirty += n }

// ForcePropagation makes the command reach the AOF and replicas even if it changed
// nothing (FLUSHDB on an empty database still empties the replica's).
func (c *Ctx) ForcePropagation() { c.forcePropagate = true }

// PropagateToReplicas sends the command as it is to replicas but not to the AOF, as
// Redis's forceCommandPropagation(c, PROPAGATE_REPL) for PUBLISH: a replica's
// subscribers get the message, and a reload does not publish it again.
func (c *Ctx) PropagateToReplicas() { c.replicasOnly = true }

// Propagate replaces what this command sends to the AOF and replicas: each call adds
// one command, so a handler can turn EXPIRE into PEXPIREAT or SPOP into SREM.
func (c *Ctx) Propagate(args ...[]byte) {
	cp := make([][]byte, len(args))
	for i, a := range args {
		cp[i] = append([]byte(nil), a...)
	}
	c.rewritten = append(c.rewritten, cp)
}

// PropagateStrings is Propagate for string arguments.
func (c *Ctx) PropagateStrings(args ...string) {
	cp := make([][]byte, len(args))
	for i, a := range args {
		cp[i] = []byte(a)
	}
	c.rewritten = append(c.rewritten, cp)
}

// Notify sends a keyspace event for key in the current database.
func (c *Ctx) Notify(class EventClass, event string, key []byte) {
	if c.E.notifier != nil {
		c.E.notifier.NotifyKeyspaceEvent(class, event, key, c.DB.ID)
	}
}

// EventClass is a notify-keyspace-events class flag. The values are Redis's NOTIFY_*
// bits, the same the config package parses, so the server tests a class against the
// configured mask without translating.
type EventClass uint16

const (
	EventKeyspace EventClass = 1 << iota // K
	EventKeyevent                        // E
	EventGeneric                         // g
	EventString                          // $
	EventList                            // l
	EventSet                             // s
	EventHash                            // h
	EventZSet                            // z
	EventExpired                         // x
	EventEvicted                         // e
	EventStream                          // t
	EventKeyMiss                         // m
	EventLoaded                          // module-only: a key loaded from a file
	EventModule                          // d
	EventNew                             // n
)
