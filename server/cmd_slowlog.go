package server

import (
	"strconv"
	"time"

	"kv/engine"
)

// The slow log: commands that ran longer than slowlog-log-slower-than microseconds,
// newest first, at most slowlog-max-len of them. Guarded by the engine lock.
type slowlog struct {
	entries    []slowlogEntry // oldest first; replies walk it backwards
	nextID     int64
	slowerThan int64 // µs; negative disables the log
	maxLen     int
}

type slowlogEntry struct {
	id       int64
	time     int64 // Unix seconds
	duration int64 // µs
	args     [][]byte
	peer     string
	name     string
}

// Redis keeps at most this many arguments, and this many bytes of each.
const (
	slowlogMaxArgc   = 32
	slowlogMaxString = 128
)

func (l *slowlog) init() {
	l.slowerThan = 10000
	l.maxLen = 128
}

// record adds the command if it was slow enough. Engine lock held.
func (l *slowlog) record(c *engine.Ctx, cn *conn, dur time.Duration) {
	if l.slowerThan < 0 || c.Cmd.Flags&engine.FlagSkipSlowlog != 0 {
		return
	}
	us := dur.Microseconds()
	if us < l.slowerThan {
		return
	}
	e := slowlogEntry{id: l.nextID, time: time.Now().Unix(), duration: us}
	l.nextID++
	e.args = loggedArgs(c, slowlogMaxArgc, true)
	if cn != nil {
		e.peer, e.name = cn.addr, cn.name
	}
	l.entries = append(l.entries, e)
	l.trim()
}

func (l *slowlog) trim() {
	if over := len(l.entries) - l.maxLen; over > 0 {
		n := copy(l.entries, l.entries[over:])
		clear(l.entries[n:])
		l.entries = l.entries[:n]
	}
}

// loggedArgs copies the command's arguments for the slow log or MONITOR, with
// redacted ones replaced; with trim, long argument lists and values are cut as
// Redis's slowlogCreateEntry cuts them.
func loggedArgs(c *engine.Ctx, maxArgc int, trim bool) [][]byte {
	args := c.Args
	n := len(args)
	if trim && n > maxArgc {
		n = maxArgc
	}
	out := make([][]byte, n)
	for j := 0; j < n; j++ {
		a := args[j]
		switch {
		case isRedacted(c, j):
			out[j] = []byte("(redacted)")
		case trim && n != len(args) && j == n-1:
			out[j] = []byte("... (" + strconv.Itoa(len(args)-n+1) + " more arguments)")
		case trim && len(a) > slowlogMaxString:
			b := append([]byte(nil), a[:slowlogMaxString]...)
			out[j] = append(b, "... ("+strconv.Itoa(len(a)-slowlogMaxString)+" more bytes)"...)
		default:
			out[j] = append([]byte(nil), a...)
		}
	}
	return out
}

func isRedacted(c *engine.Ctx, j int) bool {
	for _, r := range c.Redacted() {
		if r == j {
			return true
		}
	}
	return false
}

func (s *Server) slowlogCommands() []*engine.Command {
	return []*engine.Command{container(
		&engine.Command{Name: "slowlog", Arity: -2, Flags: 0,
			ACL: []string{"slow"}, Group: "server", Since: "2.2.12",
			Summary:    "A container for slow log commands",
			Complexity: "Depends on subcommand.",
			Syntax:     "", Handler: nil},
		&engine.Command{Name: "slowlog|get", Arity: -2, Flags: engine.FlagAdmin | engine.FlagLoading | engine.FlagStale,
			ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "2.2.12",
			Summary:    "Get the slow log's entries",
			Complexity: "O(N) where N is the number of entries returned",
			Syntax:     "[count]", Handler: s.slowlogGet},
		&engine.Command{Name: "slowlog|help", Arity: 2, Flags: engine.FlagLoading | engine.FlagStale,
			ACL: []string{"slow"}, Group: "server", Since: "6.2.0",
			Summary:    "Show helpful text about the different subcommands",
			Complexity: "O(1)",
			Syntax:     "", Handler: s.slowlogHelp},
		&engine.Command{Name: "slowlog|len", Arity: 2, Flags: engine.FlagAdmin | engine.FlagLoading | engine.FlagStale,
			ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "2.2.12",
			Summary:    "Get the slow log's length",
			Complexity: "O(1)",
			Syntax:     "", Handler: s.slowlogLen},
		&engine.Command{Name: "slowlog|reset", Arity: 2, Flags: engine.FlagAdmin | engine.FlagLoading | engine.FlagStale,
			ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "2.2.12",
			Summary:    "Clear all entries from the slow log",
			Complexity: "O(N) where N is the number of entries in the slowlog",
			Syntax:     "", Handler: s.slowlogReset},
	)}
}

func (s *Server) slowlogHelp(c *engine.Ctx) {
	writeHelp(c, []string{
		"GET [<count>]",
		"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
		"    Entries are made of:",
		"    id, timestamp, time in microseconds, arguments array, client IP and port,",
		"    client name",
		"LEN",
		"    Return the length of the slowlog.",
		"RESET",
		"    Reset the slowlog.",
	})
}

func (s *Server) slowlogLen(c *engine.Ctx) { c.W.Int(int64(len(s.slowlog.entries))) }

func (s *Server) slowlogReset(c *engine.Ctx) {
	clear(s.slowlog.entries)
	s.slowlog.entries = s.slowlog.entries[:0]
	c.W.OK()
}

func (s *Server) slowlogGet(c *engine.Ctx) {
	count := int64(10)
	if len(c.Args) == 3 {
		n, ok := engine.ParseInt(c.Args[2])
		if !ok || n < -1 {
			c.Error("ERR count should be greater than or equal to -1")
			return
		}
		count = n
		if n == -1 {
			count = int64(len(s.slowlog.entries))
		}
	}
	ents := s.slowlog.entries
	n := int(min(count, int64(len(ents))))
	c.W.Array(n)
	for i := 0; i < n; i++ {
		e := ents[len(ents)-1-i]
		c.W.Array(6)
		c.W.Int(e.id)
		c.W.Int(e.time)
		c.W.Int(e.duration)
		c.W.Array(len(e.args))
		for _, a := range e.args {
			c.W.Bulk(a)
		}
		c.W.BulkString(e.peer)
		c.W.BulkString(e.name)
	}
}
