package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
)

// value is what every handle implements for the registry. parse validates a
// Redis-syntax value and returns it ready to store, or Redis's error text;
// it must not change the handle, so a multi-setting CONFIG SET can validate
// everything before storing anything. store publishes a parsed value. get
// formats the current value as CONFIG GET prints it; toml formats it as a
// TOML value for CONFIG REWRITE. omit reports that CONFIG REWRITE must leave
// the setting out of the file (Redis writes nothing for unset strings).
type value interface {
	parse(s string) (any, string)
	store(v any)
	get() string
	toml() string
	omit() bool
}

// Bool is a yes/no setting.
type Bool struct{ v atomic.Bool }

// Get returns the current value.
func (h *Bool) Get() bool { return h.v.Load() }

func (h *Bool) parse(s string) (any, string) {
	switch {
	case strings.EqualFold(s, "yes"):
		return true, ""
	case strings.EqualFold(s, "no"):
		return false, ""
	}
	return nil, "argument must be 'yes' or 'no'"
}
func (h *Bool) store(v any) { h.v.Store(v.(bool)) }
func (h *Bool) get() string {
	if h.Get() {
		return "yes"
	}
	return "no"
}
func (h *Bool) toml() string { return strconv.FormatBool(h.Get()) }
func (h *Bool) omit() bool   { return false }

// numeric flags, as Redis's INTEGER/MEMORY/PERCENT/OCTAL_CONFIG.
const (
	numMemory  = 1 << iota // accepts 1gb, 100mb...
	numPercent             // accepts "N%", stored as -N
	numOctal               // parsed and printed in base 8
)

// Int is a numeric setting: a count, a duration, a byte amount (memory) or
// a memory-or-percent amount. All Redis numeric widths are held in an int64.
type Int struct {
	v        atomic.Int64
	lo, hi   int64
	unsigned bool // bound check as Redis's unsigned types (size_t, uint, ull)
	flags    int
}

// Get returns the current value. For a memory-or-percent setting
// (maxmemory-clients) a negative value -N means N percent.
func (h *Int) Get() int64 { return h.v.Load() }

func (h *Int) parse(s string) (any, string) {
	n, ok := int64(0), false
	if h.flags&numMemory != 0 {
		var u uint64
		if u, ok = memtoull(s); ok {
			n = int64(u) // Redis stores it into a long long too
		}
	}
	if !ok && h.flags&numPercent != 0 && len(s) > 1 && s[len(s)-1] == '%' {
		if p, ok2 := string2ll(s[:len(s)-1]); ok2 && p >= 0 {
			n, ok = -p, true
		}
	}
	if !ok && h.flags&numOctal != 0 {
		if p, err := strconv.ParseInt(s, 8, 64); err == nil {
			n, ok = p, true
		}
	}
	if !ok && h.flags == 0 {
		n, ok = string2ll(s)
	}
	if !ok {
		switch {
		case h.flags&numMemory != 0 && h.flags&numPercent != 0:
			return nil, "argument must be a memory or percent value"
		case h.flags&numMemory != 0:
			return nil, "argument must be a memory value"
		case h.flags&numOctal != 0:
			return nil, "argument couldn't be parsed as an octal number"
		}
		return nil, "argument couldn't be parsed into an integer"
	}
	if msg := h.check(n); msg != "" {
		return nil, msg
	}
	return n, ""
}

// check is Redis's numericBoundaryCheck, messages included.
func (h *Int) check(n int64) string {
	if h.unsigned {
		if uint64(n) > uint64(h.hi) || uint64(n) < uint64(h.lo) {
			if h.flags&numOctal != 0 {
				return fmt.Sprintf("argument must be between %o and %o inclusive", uint64(h.lo), uint64(h.hi))
			}
			return fmt.Sprintf("argument must be between %d and %d inclusive", uint64(h.lo), uint64(h.hi))
		}
		return ""
	}
	if h.flags&numPercent != 0 && n < 0 {
		if n < h.lo {
			return fmt.Sprintf("percentage argument must be less or equal to %d", -h.lo)
		}
		return ""
	}
	if n > h.hi || n < h.lo {
		return fmt.Sprintf("argument must be between %d and %d inclusive", h.lo, h.hi)
	}
	return ""
}

func (h *Int) store(v any) { h.v.Store(v.(int64)) }
func (h *Int) get() string {
	n := h.Get()
	switch {
	case h.flags&numPercent != 0 && n < 0:
		return strconv.FormatInt(-n, 10) + "%"
	case h.flags&numMemory != 0:
		return strconv.FormatUint(uint64(n), 10)
	case h.flags&numOctal != 0:
		return strconv.FormatUint(uint64(n), 8)
	}
	return strconv.FormatInt(n, 10)
}
func (h *Int) toml() string {
	n := h.Get()
	switch {
	case h.flags&numPercent != 0 && n < 0:
		return tomlString(h.get())
	case h.flags&numMemory != 0:
		if f := formatMemory(n); f != strconv.FormatInt(n, 10) {
			return tomlString(f)
		}
	case h.flags&numOctal != 0:
		return tomlString(h.get()) // a TOML integer would be read as decimal
	}
	return strconv.FormatInt(n, 10)
}
func (h *Int) omit() bool { return false }

type enumItem struct {
	name string
	val  int
}

// Enum is a setting that takes one of a fixed set of names, or for a flag
// set (shutdown-on-sigint) a space-separated combination of them.
type Enum struct {
	v        atomic.Int64
	items    []enumItem
	bitflags bool
	valid    func(int) string
}

// Get returns the current value's name as CONFIG GET prints it. For a
// single-valued enum it is one of the constant names, without allocation.
func (h *Enum) Get() string { return h.name(int(h.v.Load())) }

// Value returns the current value as Redis's numeric enum value (for flag
// sets, the OR of the flags).
func (h *Enum) Value() int { return int(h.v.Load()) }

// name is Redis's configEnumGetName.
func (h *Enum) name(v int) string {
	var names []string
	unmatched := v
	for _, it := range h.items {
		if v == it.val {
			return it.name
		}
		if h.bitflags && it.val != 0 && it.val == unmatched&it.val {
			names = append(names, it.name)
			unmatched &^= it.val
		}
	}
	if names == nil || unmatched != 0 {
		return "unknown"
	}
	return strings.Join(names, " ")
}

func (h *Enum) parse(s string) (any, string) {
	args := []string{s}
	if h.bitflags {
		args = splitArgs(s)
	}
	v := 0
	ok := len(args) > 0
	for _, a := range args {
		matched := false
		for _, it := range h.items {
			if strings.EqualFold(a, it.name) {
				v |= it.val
				matched = true
			}
		}
		if !matched {
			ok = false
			break
		}
	}
	if !ok {
		names := make([]string, len(h.items))
		for i, it := range h.items {
			names[i] = it.name
		}
		return nil, "argument(s) must be one of the following: " + strings.Join(names, ", ")
	}
	if h.valid != nil {
		if msg := h.valid(v); msg != "" {
			return nil, msg
		}
	}
	return v, ""
}
func (h *Enum) store(v any)  { h.v.Store(int64(v.(int))) }
func (h *Enum) get() string  { return h.Get() }
func (h *Enum) toml() string { return tomlString(h.Get()) }
func (h *Enum) omit() bool   { return false }

// String is a free-form string setting.
type String struct {
	v     atomic.Pointer[string]
	valid func(string) string
	// nullable marks Redis's EMPTY_STRING_IS_NULL settings: empty means
	// unset, and CONFIG REWRITE leaves an unset one out of the file.
	nullable bool
}

// Get returns the current value.
func (h *String) Get() string { return *h.v.Load() }

func (h *String) parse(s string) (any, string) {
	if h.valid != nil {
		if msg := h.valid(s); msg != "" {
			return nil, msg
		}
	}
	return s, ""
}
func (h *String) store(v any)  { s := v.(string); h.v.Store(&s) }
func (h *String) get() string  { return h.Get() }
func (h *String) toml() string { return tomlString(h.Get()) }
func (h *String) omit() bool   { return h.nullable && h.Get() == "" }

// Dir is the working directory setting. Unlike Redis it does not chdir (a
// process-wide side effect a library must not have); it checks the
// directory exists and keeps its absolute path, which is what Redis's
// CONFIG GET dir prints.
type Dir struct{ String }

func (h *Dir) parse(s string) (any, string) {
	if len(splitArgs(s)) != 1 {
		return nil, "wrong number of arguments"
	}
	fi, err := os.Stat(s)
	if err == nil && !fi.IsDir() {
		err = syscall.ENOTDIR
	}
	if err != nil {
		var errno syscall.Errno
		msg := err.Error()
		if pe, ok := err.(*os.PathError); ok {
			if e, ok := pe.Err.(syscall.Errno); ok {
				errno = e
			}
		} else if e, ok := err.(syscall.Errno); ok {
			errno = e
		}
		if errno != 0 {
			msg = errno.Error()
		}
		// strerror capitalises: "No such file or directory".
		return nil, strings.ToUpper(msg[:1]) + msg[1:]
	}
	abs, err := filepath.Abs(s)
	if err != nil {
		return nil, err.Error()
	}
	return abs, ""
}

// SavePoint is one "save <seconds> <changes>" rule: snapshot when at least
// Changes writes happened within Seconds.
type SavePoint struct {
	Seconds int64
	Changes int64
}

// Save is the list of snapshot rules; empty disables automatic snapshots.
type Save struct{ v atomic.Pointer[[]SavePoint] }

// Get returns the current rules. The slice is shared: do not modify it.
func (h *Save) Get() []SavePoint { return *h.v.Load() }

func (h *Save) parse(s string) (any, string) {
	args := splitArgs(s)
	if len(args)%2 != 0 {
		return nil, "Invalid save parameters"
	}
	pts := make([]SavePoint, 0, len(args)/2)
	for j := 0; j < len(args); j += 2 {
		sec, ok1 := strtoll(args[j])
		ch, ok2 := strtoll(args[j+1])
		if !ok1 || !ok2 || sec < 1 || ch < 0 {
			return nil, "Invalid save parameters"
		}
		pts = append(pts, SavePoint{Seconds: sec, Changes: int64(int32(ch))}) // changes is a C int
	}
	return pts, ""
}
func (h *Save) store(v any) { p := v.([]SavePoint); h.v.Store(&p) }
func (h *Save) get() string {
	var b strings.Builder
	for i, p := range h.Get() {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d %d", p.Seconds, p.Changes)
	}
	return b.String()
}
func (h *Save) toml() string {
	pts := h.Get()
	ss := make([]string, len(pts))
	for i, p := range pts {
		ss[i] = fmt.Sprintf("%d %d", p.Seconds, p.Changes)
	}
	return tomlStrings(ss)
}
func (h *Save) omit() bool { return false }

// OutputBufferLimit is the output buffer limit of one client class: a
// client is disconnected when its pending output exceeds Hard bytes, or
// stays above Soft bytes for SoftSeconds. Zero disables a limit.
type OutputBufferLimit struct {
	Hard, Soft  uint64
	SoftSeconds int64
}

// OutputBufferLimits holds the limits per client class.
type OutputBufferLimits struct {
	Normal, Replica, PubSub OutputBufferLimit
}

// ClientOutputBufferLimit is the client-output-buffer-limit setting.
type ClientOutputBufferLimit struct {
	v atomic.Pointer[OutputBufferLimits]
}

// Get returns the current limits.
func (h *ClientOutputBufferLimit) Get() OutputBufferLimits { return *h.v.Load() }

// parse updates only the classes named, as Redis does, so it starts from
// the current limits.
func (h *ClientOutputBufferLimit) parse(s string) (any, string) {
	args := splitArgs(s)
	if len(args)%4 != 0 {
		return nil, "Wrong number of arguments in buffer limit configuration."
	}
	l := h.Get()
	for j := 0; j < len(args); j += 4 {
		var c *OutputBufferLimit
		switch strings.ToLower(args[j]) {
		case "normal":
			c = &l.Normal
		case "slave", "replica":
			c = &l.Replica
		case "pubsub":
			c = &l.PubSub
		default:
			return nil, "Invalid client class specified in buffer limit configuration."
		}
		hard, ok1 := memtoull(args[j+1])
		soft, ok2 := memtoull(args[j+2])
		secs, ok3 := strtoll(args[j+3])
		secs = int64(int32(secs)) // soft_seconds is a C int
		if !ok1 || !ok2 || !ok3 || secs < 0 {
			return nil, "Error in hard, soft or soft_seconds setting in buffer limit configuration."
		}
		*c = OutputBufferLimit{Hard: hard, Soft: soft, SoftSeconds: secs}
	}
	return l, ""
}
func (h *ClientOutputBufferLimit) store(v any) { l := v.(OutputBufferLimits); h.v.Store(&l) }
func (h *ClientOutputBufferLimit) get() string {
	l := h.Get()
	return fmt.Sprintf("normal %d %d %d slave %d %d %d pubsub %d %d %d",
		l.Normal.Hard, l.Normal.Soft, l.Normal.SoftSeconds,
		l.Replica.Hard, l.Replica.Soft, l.Replica.SoftSeconds,
		l.PubSub.Hard, l.PubSub.Soft, l.PubSub.SoftSeconds)
}
func (h *ClientOutputBufferLimit) toml() string {
	l := h.Get()
	f := func(class string, c OutputBufferLimit) string {
		return fmt.Sprintf("%s %s %s %d", class, formatMemory(int64(c.Hard)), formatMemory(int64(c.Soft)), c.SoftSeconds)
	}
	return tomlStrings([]string{f("normal", l.Normal), f("replica", l.Replica), f("pubsub", l.PubSub)})
}
func (h *ClientOutputBufferLimit) omit() bool { return false }

// Keyspace notification classes, as Redis's NOTIFY_* flags.
const (
	NotifyKeyspace = 1 << 0  // K
	NotifyKeyevent = 1 << 1  // E
	NotifyGeneric  = 1 << 2  // g
	NotifyString   = 1 << 3  // $
	NotifyList     = 1 << 4  // l
	NotifySet      = 1 << 5  // s
	NotifyHash     = 1 << 6  // h
	NotifyZset     = 1 << 7  // z
	NotifyExpired  = 1 << 8  // x
	NotifyEvicted  = 1 << 9  // e
	NotifyStream   = 1 << 10 // t
	NotifyKeyMiss  = 1 << 11 // m (not part of A)
	NotifyLoaded   = 1 << 12 // module-only
	NotifyModule   = 1 << 13 // d
	NotifyNew      = 1 << 14 // n
	NotifyAll      = NotifyGeneric | NotifyString | NotifyList | NotifySet | NotifyHash |
		NotifyZset | NotifyExpired | NotifyEvicted | NotifyStream | NotifyModule // A
)

// KeyspaceEvents is notify-keyspace-events as a bitmask of Notify* flags.
type KeyspaceEvents struct{ v atomic.Int64 }

// Get returns the enabled Notify* flags; 0 means notifications are off.
func (h *KeyspaceEvents) Get() int { return int(h.v.Load()) }

func (h *KeyspaceEvents) parse(s string) (any, string) {
	flags := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 'A':
			flags |= NotifyAll
		case 'g':
			flags |= NotifyGeneric
		case '$':
			flags |= NotifyString
		case 'l':
			flags |= NotifyList
		case 's':
			flags |= NotifySet
		case 'h':
			flags |= NotifyHash
		case 'z':
			flags |= NotifyZset
		case 'x':
			flags |= NotifyExpired
		case 'e':
			flags |= NotifyEvicted
		case 'K':
			flags |= NotifyKeyspace
		case 'E':
			flags |= NotifyKeyevent
		case 't':
			flags |= NotifyStream
		case 'm':
			flags |= NotifyKeyMiss
		case 'd':
			flags |= NotifyModule
		case 'n':
			flags |= NotifyNew
		default:
			return nil, "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
		}
	}
	return flags, ""
}
func (h *KeyspaceEvents) store(v any) { h.v.Store(int64(v.(int))) }

// get is Redis's keyspaceEventsFlagsToString.
func (h *KeyspaceEvents) get() string {
	f := h.Get()
	var b []byte
	if f&NotifyAll == NotifyAll {
		b = append(b, 'A')
	} else {
		for _, x := range []struct {
			f int
			c byte
		}{{NotifyGeneric, 'g'}, {NotifyString, '$'}, {NotifyList, 'l'}, {NotifySet, 's'},
			{NotifyHash, 'h'}, {NotifyZset, 'z'}, {NotifyExpired, 'x'}, {NotifyEvicted, 'e'},
			{NotifyStream, 't'}, {NotifyModule, 'd'}, {NotifyNew, 'n'}} {
			if f&x.f != 0 {
				b = append(b, x.c)
			}
		}
	}
	if f&NotifyKeyspace != 0 {
		b = append(b, 'K')
	}
	if f&NotifyKeyevent != 0 {
		b = append(b, 'E')
	}
	if f&NotifyKeyMiss != 0 {
		b = append(b, 'm')
	}
	return string(b)
}
func (h *KeyspaceEvents) toml() string { return tomlString(h.get()) }
func (h *KeyspaceEvents) omit() bool   { return false }

// Bind is the list of addresses to listen on ("-" prefix: optional).
type Bind struct{ v atomic.Pointer[[]string] }

// Get returns the addresses. The slice is shared: do not modify it.
func (h *Bind) Get() []string { return *h.v.Load() }

func (h *Bind) parse(s string) (any, string) {
	args := splitArgs(s)
	if len(args) > 16 { // CONFIG_BINDADDR_MAX
		return nil, "Too many bind addresses specified."
	}
	if args == nil {
		args = []string{}
	}
	return args, ""
}
func (h *Bind) store(v any)  { a := v.([]string); h.v.Store(&a) }
func (h *Bind) get() string  { return strings.Join(h.Get(), " ") }
func (h *Bind) toml() string { return tomlStrings(h.Get()) }

// omit: Redis's rewrite drops bind when it is back to the default.
func (h *Bind) omit() bool { return h.get() == "* -::*" }

// OOMScoreAdjValues holds the oom_score_adj for master, replica and
// background child processes.
type OOMScoreAdjValues struct{ v atomic.Pointer[[3]int] }

// Get returns the three values.
func (h *OOMScoreAdjValues) Get() [3]int { return *h.v.Load() }

func (h *OOMScoreAdjValues) parse(s string) (any, string) {
	args := splitArgs(s)
	if len(args) != 3 {
		return nil, "wrong number of arguments"
	}
	var v [3]int
	for i, a := range args {
		n, ok := strtoll(a)
		if !ok || n < -2000 || n > 2000 {
			return nil, "Invalid oom-score-adj-values, elements must be between -2000 and 2000."
		}
		v[i] = int(n)
	}
	return v, ""
}
func (h *OOMScoreAdjValues) store(v any) { a := v.([3]int); h.v.Store(&a) }
func (h *OOMScoreAdjValues) get() string {
	v := h.Get()
	return fmt.Sprintf("%d %d %d", v[0], v[1], v[2])
}
func (h *OOMScoreAdjValues) toml() string { return tomlString(h.get()) }
func (h *OOMScoreAdjValues) omit() bool   { return false }

// Master is the address replicaof points at; an empty Host means this
// server is a master.
type Master struct {
	Host string
	Port int
}

// ReplicaOf is the replicaof setting.
type ReplicaOf struct{ v atomic.Pointer[Master] }

// Get returns the master address.
func (h *ReplicaOf) Get() Master { return *h.v.Load() }

func (h *ReplicaOf) parse(s string) (any, string) {
	args := splitArgs(s)
	if len(args) != 2 {
		return nil, "wrong number of arguments"
	}
	if strings.EqualFold(args[0], "no") && strings.EqualFold(args[1], "one") {
		return Master{}, ""
	}
	port, ok := strtoll(args[1])
	if !ok || port < 0 || port > 65535 {
		return nil, "Invalid master port"
	}
	return Master{Host: args[0], Port: int(port)}, ""
}
func (h *ReplicaOf) store(v any) { m := v.(Master); h.v.Store(&m) }
func (h *ReplicaOf) get() string {
	m := h.Get()
	if m.Host == "" {
		return ""
	}
	return m.Host + " " + strconv.Itoa(m.Port)
}
func (h *ReplicaOf) toml() string { return tomlString(h.get()) }
func (h *ReplicaOf) omit() bool   { return h.Get().Host == "" }

// Percentiles is latency-tracking-info-percentiles.
type Percentiles struct{ v atomic.Pointer[[]float64] }

// Get returns the percentiles. The slice is shared: do not modify it.
func (h *Percentiles) Get() []float64 { return *h.v.Load() }

func (h *Percentiles) parse(s string) (any, string) {
	args := splitArgs(s)
	ps := make([]float64, 0, len(args))
	for _, a := range args {
		// string2d: strtod over the whole string, no leading space, no NaN.
		f, err := strconv.ParseFloat(a, 64)
		if a == "" || isCSpace(a[0]) || err != nil || f != f {
			return nil, "Invalid latency-tracking-info-percentiles parameters"
		}
		if f > 100 || f < 0 {
			return nil, "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
		}
		ps = append(ps, f)
	}
	return ps, ""
}

func (h *Percentiles) store(v any) { p := v.([]float64); h.v.Store(&p) }
func (h *Percentiles) get() string {
	ps := h.Get()
	ss := make([]string, len(ps))
	for i, p := range ps {
		// "%f" then trimDoubleString, as Redis prints it.
		s := strconv.FormatFloat(p, 'f', 6, 64)
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
		ss[i] = s
	}
	return strings.Join(ss, " ")
}
func (h *Percentiles) toml() string { return tomlString(h.get()) }
func (h *Percentiles) omit() bool   { return false }
