package acl

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"kv/engine"
)

// ACL is the set of users and the ACL log of one server.
type ACL struct {
	cmds  *engine.Table
	users map[string]*User
	// Default is the user every connection starts as. Its identity never changes:
	// ACL LOAD copies the new rules into it, as Redis does.
	Default *User
	// PubsubAllChannels is acl-pubsub-default: new selectors start with allchannels.
	PubsubAllChannels bool
	// LogMaxLen is acllog-max-len.
	LogMaxLen int
	log       []*LogEntry // newest first

	defaultNeedsAuth atomic.Bool
	defaultNoPass    atomic.Bool
}

// New returns an ACL with only the default user ("on nopass ~* &* +@all") over the
// commands of t. t must hold every command before rules are applied.
func New(t *engine.Table) *ACL {
	a := &ACL{cmds: t, users: map[string]*User{}, LogMaxLen: 128}
	a.Default = a.newDefaultUser()
	a.users["default"] = a.Default
	a.changed()
	return a
}

func (a *ACL) newUser(name string) *User {
	return &User{Name: name, selectors: []*Selector{newSelector(true, a.PubsubAllChannels)}}
}

func (a *ACL) newDefaultUser() *User {
	u := a.newUser("default")
	for _, op := range []string{"+@all", "~*", "&*", "on", "nopass"} {
		_ = a.applyUser(u, op)
	}
	return u
}

// changed refreshes what lock-free readers see of the default user.
func (a *ACL) changed() {
	d := a.Default
	a.defaultNeedsAuth.Store(!d.nopass || !d.enabled)
	a.defaultNoPass.Store(d.nopass)
}

// DefaultNeedsAuth reports whether new connections must authenticate: the default
// user has passwords or is off (Redis's authRequired). Safe without the engine lock.
func (a *ACL) DefaultNeedsAuth() bool { return a.defaultNeedsAuth.Load() }

// DefaultNoPass reports whether the default user is "nopass" (protected mode's test).
// Safe without the engine lock.
func (a *ACL) DefaultNoPass() bool { return a.defaultNoPass.Load() }

// User returns the named user, or nil.
func (a *ACL) User(name string) *User { return a.users[name] }

// Users lists the users sorted by name.
func (a *ACL) Users() []*User {
	out := make([]*User, 0, len(a.users))
	for _, u := range a.users {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Current reports whether u is still the registered user of its name; connections of
// a deleted or replaced user must be dropped.
func (a *ACL) Current(u *User) bool { return a.users[u.Name] == u }

// Authenticate returns the user name/pass log in as, or nil: unknown user, user
// off, or wrong password.
func (a *ACL) Authenticate(name, pass []byte) *User {
	u := a.users[string(name)]
	if u == nil || !u.enabled || !u.CheckPassword(pass) {
		return nil
	}
	return u
}

// SetUser applies rules to the named user, creating it if needed. The rules are
// all-or-nothing: they are staged on a copy and applied only if every one is valid.
// The error text is what ACL SETUSER replies (without "ERR ").
func (a *ACL) SetUser(name string, rules []string) error {
	merged, bad := mergeSelectorArgs(rules)
	if bad >= 0 {
		return fmt.Errorf("Unmatched parenthesis in acl selector starting at '%s'.", rules[bad])
	}
	old := a.users[name]
	var tmp *User
	if old != nil {
		tmp = old.clone(name)
	} else {
		tmp = a.newUser(name)
	}
	for _, op := range merged {
		if err := a.applyUser(tmp, op); err != nil {
			return fmt.Errorf("Error in ACL SETUSER modifier '%s': %s", op, err)
		}
	}
	if old != nil {
		// The user keeps its identity so its connections stay with it.
		*old = *tmp
	} else {
		a.users[name] = tmp
	}
	a.changed()
	return nil
}

// DelUser removes users and reports how many existed. The default user cannot be
// removed.
func (a *ACL) DelUser(names []string) (int, error) {
	for _, n := range names {
		if n == "default" {
			return 0, errors.New("The 'default' user cannot be removed")
		}
	}
	n := 0
	for _, name := range names {
		if _, ok := a.users[name]; ok {
			delete(a.users, name)
			n++
		}
	}
	return n, nil
}

// SetDefaultPassword is requirepass: "" makes the default user nopass, anything else
// its only password.
func (a *ACL) SetDefaultPassword(pass string) {
	_ = a.applyUser(a.Default, "resetpass")
	if pass == "" {
		_ = a.applyUser(a.Default, "nopass")
	} else {
		_ = a.applyUser(a.Default, ">"+pass)
	}
	a.changed()
}

// --- describing users (ACL LIST, GETUSER, SAVE) ---

// Flags are the user's flags in Redis's order, as ACL GETUSER lists them.
func (u *User) Flags() []string {
	var out []string
	if u.enabled {
		out = append(out, "on")
	} else {
		out = append(out, "off")
	}
	if u.nopass {
		out = append(out, "nopass")
	}
	switch u.sanitize {
	case 2:
		out = append(out, "skip-sanitize-payload")
	case 1:
		out = append(out, "sanitize-payload")
	}
	return out
}

// Passwords are the password digests.
func (u *User) Passwords() []string { return append([]string(nil), u.passwords...) }

// SelectorInfo is one selector as ACL GETUSER shows it.
type SelectorInfo struct{ Commands, Keys, Channels string }

// Describe returns the root selector and the additional selectors.
func (a *ACL) Describe(u *User) (root SelectorInfo, extra []SelectorInfo) {
	for i, s := range u.selectors {
		var keys, chans []string
		if s.allKeys {
			keys = []string{"~*"}
		} else {
			for _, p := range s.keys {
				keys = append(keys, p.String())
			}
		}
		if s.allChannels {
			chans = []string{"&*"}
		} else {
			for _, c := range s.channels {
				chans = append(chans, "&"+c)
			}
		}
		info := SelectorInfo{a.describeCommands(s), strings.Join(keys, " "), strings.Join(chans, " ")}
		if i == 0 {
			root = info
		} else {
			extra = append(extra, info)
		}
	}
	return root, extra
}

// Rules is the user in ACL LIST / aclfile form, without "user <name> ".
func (a *ACL) Rules(u *User) string {
	var b strings.Builder
	for _, f := range u.Flags() {
		b.WriteString(f + " ")
	}
	for _, p := range u.passwords {
		b.WriteString("#" + p + " ")
	}
	for i, s := range u.selectors {
		d := a.describeSelector(s)
		if i == 0 {
			b.WriteString(d)
		} else {
			b.WriteString(" (" + d + ")")
		}
	}
	return b.String()
}

func (a *ACL) describeSelector(s *Selector) string {
	var b strings.Builder
	if s.allKeys {
		b.WriteString("~* ")
	} else {
		for _, p := range s.keys {
			b.WriteString(p.String() + " ")
		}
	}
	if s.allChannels {
		b.WriteString("&* ")
	} else {
		b.WriteString("resetchannels ")
		for _, c := range s.channels {
			b.WriteString("&" + c + " ")
		}
	}
	b.WriteString(a.describeCommands(s))
	return b.String()
}

// describeCommands turns the selector's command permissions back into rules the way
// Redis 7.0 does: start from +@all or -@all, greedily apply the category that fits
// best while it fits more than it misses, then fix single commands.
func (a *ACL) describeCommands(s *Selector) string {
	var rules []string
	additive := !s.future
	fake := &Selector{allowed: map[string]bool{}}
	if additive {
		rules = append(rules, "-@all")
		fake.setAll(a.cmds, false)
	} else {
		rules = append(rules, "+@all")
		fake.setAll(a.cmds, true)
	}
	temp := &Selector{allowed: make(map[string]bool, len(s.allowed))}
	for k := range s.allowed {
		temp.allowed[k] = true
	}
	applied := make([]bool, len(Categories))
	for {
		best, minDiff, maxSame := -1, int(^uint(0)>>1), 0
		for j, cat := range Categories {
			if applied[j] {
				continue
			}
			on, off := 0, 0
			eachCommand(a.cmds, func(c *engine.Command) {
				if inCategory(c, cat) {
					if temp.allowed[c.Name] {
						on++
					} else {
						off++
					}
				}
			})
			diff, same := on, off
			if additive {
				diff, same = off, on
			}
			if same > diff && (diff < minDiff || diff == minDiff && same > maxSame) {
				best, minDiff, maxSame = j, diff, same
			}
		}
		if best < 0 {
			break
		}
		cat := Categories[best]
		fake.setCategory(a.cmds, cat, additive)
		temp.setCategory(a.cmds, cat, !additive)
		if additive {
			rules = append(rules, "+@"+cat)
		} else {
			rules = append(rules, "-@"+cat)
		}
		applied[best] = true
	}
	eachCommand(a.cmds, func(c *engine.Command) {
		user, f := s.allowed[c.Name], fake.allowed[c.Name]
		if user != f {
			if user {
				rules = append(rules, "+"+c.Name)
			} else {
				rules = append(rules, "-"+c.Name)
			}
			fake.changePerm(c, user)
		}
		if !user {
			for _, arg := range s.firstArgs[c.Name] {
				rules = append(rules, "+"+c.Name+"|"+arg)
			}
		}
	})
	return strings.Join(rules, " ")
}

// --- the aclfile ---

// LoadFile replaces every user with the file's, all or nothing. The default user keeps
// its identity (its rules are copied); it gets Redis's default rules if the file does
// not define it. The error text is what ACL LOAD replies.
func (a *ACL) LoadFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("Error loading ACLs, opening file '%s': %s", path, errnoText(err))
	}
	users := map[string]*User{}
	var errs strings.Builder
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		line = strings.Trim(line, " \t\r\n")
		if line == "" {
			continue
		}
		argv := strings.Split(line, " ")
		if argv[0] != "user" || len(argv) < 2 {
			fmt.Fprintf(&errs, "%s:%d should start with user keyword followed by the username. ", path, n)
			continue
		}
		name := argv[1]
		if HasSpaces(name) {
			fmt.Fprintf(&errs, "'%s:%d: username '%s' contains invalid characters. ", path, n, name)
			continue
		}
		if users[name] != nil {
			fmt.Fprintf(&errs, "WARNING: Duplicate user '%s' found on line %d. ", name, n)
			continue
		}
		u := a.newUser(name)
		users[name] = u
		merged, bad := mergeSelectorArgs(argv[2:])
		if bad >= 0 {
			fmt.Fprintf(&errs, "%s:%d: Unmatched parenthesis in selector definition.", path, n)
		}
		syntaxErr := false
		for _, op := range merged {
			op = strings.Trim(op, "\t\r\n")
			if err := a.applyUser(u, op); err != nil {
				if err == errUnknown {
					fmt.Fprintf(&errs, "%s:%d: Error in applying operation '%s': %s. ", path, n, op, err)
				} else if !syntaxErr {
					fmt.Fprintf(&errs, "%s:%d: %s. ", path, n, err)
					syntaxErr = true
				}
			}
		}
	}
	if errs.Len() > 0 {
		return errors.New(errs.String() + "WARNING: ACL errors detected, no change to the previously active ACL rules was performed")
	}
	def := users["default"]
	if def == nil {
		def = a.newDefaultUser()
	}
	*a.Default = *def
	users["default"] = a.Default
	a.users = users
	a.changed()
	return nil
}

// SaveFile writes every user in aclfile form: to a temporary file, then renamed.
func (a *ACL) SaveFile(path string) error {
	var b strings.Builder
	for _, u := range a.Users() {
		b.WriteString("user " + u.Name + " " + a.Rules(u) + "\n")
	}
	tmp := fmt.Sprintf("%s.tmp-%d-%d", path, os.Getpid(), time.Now().UnixMilli())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// errnoText renders an OS error as strerror would ("No such file or directory").
func errnoText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		s := pe.Err.Error()
		if s != "" {
			return strings.ToUpper(s[:1]) + s[1:]
		}
	}
	return err.Error()
}

func sortCommands(cs []*engine.Command) {
	sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
}
