package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// entry is one registered setting.
type entry struct {
	name  string // Redis's canonical name
	alias string // Redis's alias, or ""
	usage string
	flags int
	h     value
	def   string // CONFIG GET text of the default
	hooks []func()
	apply []func() error // may refuse a stored value; the change is then undone
	octal bool           // TOML integers are read as octal digits
}

// registry is the name side of Config: lookup by name or alias, listing,
// hooks. Writers hold mu for the whole of a change so multi-setting changes
// are all-or-nothing to each other; readers of handles never take it.
type registry struct {
	mu      sync.Mutex
	entries []*entry          // registration order
	byName  map[string]*entry // lower-cased names and aliases
	names   []string          // sorted names and aliases, for CONFIG GET patterns
	file    string            // the file Load read, for CONFIG REWRITE
}

func (r *registry) init() { r.byName = make(map[string]*entry, 200) }

func (r *registry) add(h value, name, alias string, flags int, usage string) {
	e := &entry{name: name, alias: alias, usage: usage, flags: flags, h: h, def: h.get()}
	if i, ok := h.(*Int); ok && i.flags&numOctal != 0 {
		e.octal = true
	}
	for _, n := range []string{name, alias} {
		if n == "" {
			continue
		}
		if _, dup := r.byName[n]; dup {
			panic("config: setting registered twice: " + n)
		}
		r.byName[n] = e
		r.names = append(r.names, n)
	}
	r.entries = append(r.entries, e)
}

func (r *registry) finish() { sort.Strings(r.names) }

func (r *registry) lookup(name string) *entry { return r.byName[strings.ToLower(name)] }

// Sensitive reports whether CONFIG SET must hide the value of a setting from
// SLOWLOG and MONITOR (passwords); unknown names are not sensitive.
func (c *Config) Sensitive(name string) bool {
	e := c.lookup(name)
	return e != nil && e.flags&sensitive != 0
}

// Setting describes one setting for help texts and flag generation.
type Setting struct {
	Name      string // Redis's name
	Alias     string // Redis's alias ("" if none); accepted everywhere the name is
	Usage     string // one line
	Default   string // as CONFIG GET prints it
	Immutable bool   // CONFIG SET refuses it; set it in the file or on the command line
}

// Settings lists every setting, sorted by name.
func (c *Config) Settings() []Setting {
	out := make([]Setting, 0, len(c.entries))
	for _, e := range c.entries {
		out = append(out, Setting{Name: e.name, Alias: e.alias, Usage: e.usage, Default: e.def, Immutable: e.flags&immutable != 0})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Names lists the canonical setting names, sorted.
func (c *Config) Names() []string {
	out := make([]string, 0, len(c.entries))
	for _, e := range c.entries {
		out = append(out, e.name)
	}
	sort.Strings(out)
	return out
}

// File returns the path Load read, "" if the Config did not come from a
// file. CONFIG REWRITE writes there.
func (c *Config) File() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.file
}

// OnChange registers fn to run after name (or its alias) changes value
// through Set or SetFromFlag. Hooks run on the caller's goroutine after all
// values of the change are visible and the Config lock is released, so a
// hook may read any setting. It panics on an unknown name: that is a
// programming error, not input.
func (c *Config) OnChange(name string, fn func()) {
	c.register("OnChange", name, func(e *entry) { e.hooks = append(e.hooks, fn) })
}

// OnApply registers fn to put a change of name into effect where that can
// fail (listening on a new port). It runs after the change's values are
// stored, before the OnChange hooks; if it returns an error, CONFIG SET
// stores the previous values back, applies them again, and fails with the
// error's text, as Redis's apply functions and restoreBackupConfig do.
func (c *Config) OnApply(name string, fn func() error) {
	c.register("OnApply", name, func(e *entry) { e.apply = append(e.apply, fn) })
}

// register adds a hook to name's entry under the Config lock; what names the caller
// in the panic for an unknown name.
func (c *Config) register(what, name string, add func(*entry)) {
	e := c.lookup(name)
	if e == nil {
		panic(fmt.Sprintf("config: %s on unknown setting %q", what, name))
	}
	c.mu.Lock()
	add(e)
	c.mu.Unlock()
}

// Get answers CONFIG GET for the given patterns: every setting whose name
// or alias matches one of them (glob, case-insensitive), each once, as
// name/value pairs sorted by name. A pattern without glob characters is an
// exact lookup and, as Redis does, echoes the name as the caller spelled
// it.
func (c *Config) Get(patterns ...string) [][2]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	matched := make(map[string]*entry)
	for _, p := range patterns {
		if !strings.ContainsAny(p, "[*?") {
			if _, ok := matched[p]; ok {
				continue
			}
			if e := c.lookup(p); e != nil {
				matched[p] = e
			}
			continue
		}
		for _, n := range c.names {
			if _, ok := matched[n]; ok {
				continue
			}
			if globMatch(p, n) {
				matched[n] = c.byName[n]
			}
		}
	}
	out := make([][2]string, 0, len(matched))
	for n, e := range matched {
		out = append(out, [2]string{n, e.h.get()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// Error texts clients may match on, worded as Redis 7.0 words them.
const (
	errUnknownOption = "ERR Unknown option or number of arguments for CONFIG SET - '%s'"
	errSetFailed     = "ERR CONFIG SET failed (possibly related to argument '%s') - %s"
	errNoConfigFile  = "ERR The server is running without a config file"
)

// ErrNoConfigFile is returned by Rewrite when there is no file to rewrite.
var ErrNoConfigFile = errors.New(errNoConfigFile)

// Set answers CONFIG SET for a client that is not local (see SetLocal).
// pairs are name/value pairs; the change is all or nothing: every value is
// validated before any is stored. The returned error's text is the full
// Redis error reply, "ERR ..." included.
func (c *Config) Set(pairs [][2]string) error { return c.set(pairs, false) }

// SetLocal is Set for a client connected over loopback or a Unix socket,
// which enable-protected-configs "local" lets change protected settings.
func (c *Config) SetLocal(pairs [][2]string) error { return c.set(pairs, true) }

func (c *Config) set(pairs [][2]string, local bool) error {
	c.mu.Lock()
	es := make([]*entry, len(pairs))
	// Pass 1, as Redis's configSetCommand: the first bad name wins.
	for i, p := range pairs {
		e := c.lookup(p[0])
		if e == nil {
			c.mu.Unlock()
			return fmt.Errorf(errUnknownOption, p[0])
		}
		if e.flags&immutable != 0 {
			c.mu.Unlock()
			return fmt.Errorf(errSetFailed, p[0], "can't set immutable config")
		}
		if e.flags&protected != 0 {
			allow := c.EnableProtectedConfigs.Get()
			if !(allow == "yes" || allow == "local" && local) {
				c.mu.Unlock()
				return fmt.Errorf(errSetFailed, p[0], "can't set protected config")
			}
		}
		for _, prev := range es[:i] {
			if prev == e {
				c.mu.Unlock()
				return fmt.Errorf(errSetFailed, p[0], "duplicate parameter")
			}
		}
		es[i] = e
	}
	// Pass 2: validate everything, then store everything.
	vals := make([]any, len(pairs))
	for i, p := range pairs {
		v, msg := es[i].h.parse(p[1])
		if msg != "" {
			c.mu.Unlock()
			return fmt.Errorf(errSetFailed, nameAsRegistered(es[i], p[0]), msg)
		}
		vals[i] = v
	}
	backup := make([]string, len(es))
	for i, e := range es {
		backup[i] = e.h.get()
	}
	hooks := c.store(es, vals)
	for i, e := range es {
		if e.h.get() == backup[i] {
			continue
		}
		for _, fn := range e.apply {
			if err := fn(); err != nil {
				c.restore(es, backup)
				c.mu.Unlock()
				return fmt.Errorf(errSetFailed, nameAsRegistered(e, pairs[i][0]), err.Error())
			}
		}
	}
	c.mu.Unlock()
	for _, fn := range hooks {
		fn()
	}
	return nil
}

// restore stores the CONFIG GET texts in backup back into es after a failed
// apply and applies them again; a failure now is beyond repair and leaves the
// setting as restored. Caller holds mu.
func (c *Config) restore(es []*entry, backup []string) {
	for i, e := range es {
		if v, msg := e.h.parse(backup[i]); msg == "" {
			e.h.store(v)
		}
	}
	for _, e := range es {
		for _, fn := range e.apply {
			_ = fn()
		}
	}
}

// nameAsRegistered is the name Redis reports for a value error: the
// registered spelling of whichever of name or alias the caller used.
func nameAsRegistered(e *entry, used string) string {
	if e.alias != "" && strings.EqualFold(used, e.alias) {
		return e.alias
	}
	return e.name
}

// store publishes parsed values and returns the hooks of the settings that
// actually changed. Caller holds mu.
func (c *Config) store(es []*entry, vals []any) []func() {
	var hooks []func()
	for i, e := range es {
		before := e.h.get()
		e.h.store(vals[i])
		if e.h.get() != before {
			hooks = append(hooks, e.hooks...)
		}
	}
	return hooks
}

// SetFromFlag sets one setting from a command-line flag in Redis's value
// syntax (--maxmemory 1gb, --save "3600 1 300 100"). Unlike CONFIG SET it
// may set immutable and protected settings: it runs before the server
// starts.
func (c *Config) SetFromFlag(name, value string) error {
	e := c.lookup(name)
	if e == nil {
		return fmt.Errorf("unknown setting %q", name)
	}
	c.mu.Lock()
	v, msg := e.h.parse(value)
	if msg != "" {
		c.mu.Unlock()
		return fmt.Errorf("%s: value %q: %s", name, value, msg)
	}
	hooks := c.store([]*entry{e}, []any{v})
	c.mu.Unlock()
	for _, fn := range hooks {
		fn()
	}
	return nil
}
