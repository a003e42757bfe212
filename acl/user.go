package acl

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"

	"kv/engine"
	"kv/glob"
	"kv/resp"
)

// Categories are Redis 7.0's ACL categories in the order ACL CAT lists them.
var Categories = []string{
	"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
	"hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
	"dangerous", "connection", "transaction", "scripting",
}

// IsCategory reports whether name (without '@') is a category, ignoring case.
func IsCategory(name string) bool {
	for _, c := range Categories {
		if strings.EqualFold(c, name) {
			return true
		}
	}
	return false
}

// Key permissions of a key pattern: %R~, %W~, %RW~ (same as ~).
const (
	PermRead  = 1
	PermWrite = 2
	PermAll   = PermRead | PermWrite
)

type keyPattern struct {
	pattern string
	perm    int
}

func (p keyPattern) String() string {
	switch p.perm {
	case PermRead:
		return "%R~" + p.pattern
	case PermWrite:
		return "%W~" + p.pattern
	}
	return "~" + p.pattern
}

// Selector is one set of permissions: the user's root selector, or one added with
// "(...)". A command is allowed when any of the user's selectors allows it whole.
type Selector struct {
	root        bool
	allKeys     bool
	allChannels bool
	allCommands bool
	// future is Redis's reserved command bit: set only by +@all, it says the rules
	// started from everything (and so ACL LIST describes them as +@all minus...).
	future    bool
	allowed   map[string]bool     // command full names ("get", "config|get")
	firstArgs map[string][]string // +select|0: first arguments allowed for a denied command
	keys      []keyPattern
	channels  []string
}

func newSelector(root, pubsubAll bool) *Selector {
	return &Selector{root: root, allChannels: pubsubAll, allowed: map[string]bool{}}
}

func (s *Selector) clone() *Selector {
	c := *s
	c.allowed = make(map[string]bool, len(s.allowed))
	for k, v := range s.allowed {
		c.allowed[k] = v
	}
	c.firstArgs = nil
	for k, v := range s.firstArgs {
		if c.firstArgs == nil {
			c.firstArgs = map[string][]string{}
		}
		c.firstArgs[k] = append([]string(nil), v...)
	}
	c.keys = append([]keyPattern(nil), s.keys...)
	c.channels = append([]string(nil), s.channels...)
	return &c
}

// User is an ACL user. Passwords are kept only as SHA-256 hex digests.
type User struct {
	Name      string
	enabled   bool
	nopass    bool
	sanitize  int // 0 unset, 1 sanitize-payload, 2 skip-sanitize-payload
	passwords []string
	selectors []*Selector // selectors[0] is the root selector
}

// Enabled reports whether the user may authenticate ("on").
func (u *User) Enabled() bool { return u.enabled }

// NoPass reports whether any password authenticates the user.
func (u *User) NoPass() bool { return u.nopass }

func (u *User) root() *Selector { return u.selectors[0] }

func (u *User) clone(name string) *User {
	c := *u
	c.Name = name
	c.passwords = append([]string(nil), u.passwords...)
	c.selectors = make([]*Selector, len(u.selectors))
	for i, s := range u.selectors {
		c.selectors[i] = s.clone()
	}
	return &c
}

// HashPassword is the form Redis stores: SHA-256 of the password, lower-case hex.
func HashPassword(pass []byte) string {
	sum := sha256.Sum256(pass)
	return hex.EncodeToString(sum[:])
}

func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// CheckPassword reports whether pass authenticates u (ignoring on/off), comparing
// digests in constant time as Redis does.
func (u *User) CheckPassword(pass []byte) bool {
	if u.nopass {
		return true
	}
	h := HashPassword(pass)
	for _, p := range u.passwords {
		if constantTimeEq(p, h) {
			return true
		}
	}
	return false
}

func constantTimeEq(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := 0; i < len(a); i++ {
		v |= a[i] ^ b[i]
	}
	return v == 0
}

// HasSpaces reports whether s contains blanks or NUL, which Redis refuses in user
// names and patterns so ACL LIST output always parses back.
func HasSpaces(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\v', '\f', '\r', 0:
			return true
		}
	}
	return false
}

// Rule errors, worded as ACLSetUserStringError.
var (
	errUnknown      = errors.New("Unknown command or category name in ACL")
	errSyntax       = errors.New("Syntax error")
	errKeyAfterAll  = errors.New("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns")
	errChanAfterAll = errors.New("Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels")
	errNoSuchPass   = errors.New("The password you are trying to remove from the user does not exist")
	errBadHash      = errors.New("The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters")
	errFirstArgSub  = errors.New("Allowing first-arg of a subcommand is not supported")
)

// lookup finds a command or "container|sub" in the table the way Redis's
// ACLLookupCommand does: at most one '|', and the container must have subcommands.
func lookup(t *engine.Table, name string) *engine.Command {
	parts := strings.Split(name, "|")
	if len(parts) > 2 {
		return nil
	}
	c := t.Lookup([]byte(parts[0]))
	if c == nil || len(parts) == 1 {
		return c
	}
	if len(c.Subcommands) == 0 {
		return nil
	}
	return c.LookupSub([]byte(parts[1]))
}

func inCategory(c *engine.Command, cat string) bool {
	for _, x := range c.ACL {
		if strings.EqualFold(x, cat) {
			return true
		}
	}
	return false
}

// eachCommand visits every command and, after it, its subcommands, in a stable order.
func eachCommand(t *engine.Table, fn func(c *engine.Command)) {
	for _, c := range t.All() {
		fn(c)
		for _, s := range subsSorted(c) {
			fn(s)
		}
	}
}

func subsSorted(c *engine.Command) []*engine.Command {
	if len(c.Subcommands) == 0 {
		return nil
	}
	out := make([]*engine.Command, 0, len(c.Subcommands))
	for _, s := range c.Subcommands {
		out = append(out, s)
	}
	sortCommands(out)
	return out
}

func (s *Selector) setCmd(name string, allow bool) {
	if allow {
		s.allowed[name] = true
	} else {
		delete(s.allowed, name)
		s.allCommands = false
	}
}

// changePerm allows or denies a command; a container takes its subcommands along.
func (s *Selector) changePerm(c *engine.Command, allow bool) {
	s.setCmd(c.Name, allow)
	delete(s.firstArgs, c.Name)
	for _, sub := range c.Subcommands {
		s.setCmd(sub.Name, allow)
	}
}

func (s *Selector) setCategory(t *engine.Table, cat string, allow bool) {
	for _, c := range t.All() {
		if c.Flags&engine.FlagModule != 0 {
			continue
		}
		if inCategory(c, cat) {
			s.changePerm(c, allow)
		}
		for _, sub := range subsSorted(c) {
			if inCategory(sub, cat) {
				s.changePerm(sub, allow)
			}
		}
	}
}

func (s *Selector) setAll(t *engine.Table, allow bool) {
	s.allowed = map[string]bool{}
	s.firstArgs = nil
	s.allCommands, s.future = allow, allow
	if allow {
		eachCommand(t, func(c *engine.Command) { s.allowed[c.Name] = true })
	}
}

// apply is ACLSetSelector: one rule that concerns commands, keys or channels.
func (s *Selector) apply(t *engine.Table, op string) error {
	lop := strings.ToLower(op)
	switch {
	case lop == "allkeys" || op == "~*":
		s.allKeys = true
		s.keys = nil
	case lop == "resetkeys":
		s.allKeys = false
		s.keys = nil
	case lop == "allchannels" || op == "&*":
		s.allChannels = true
		s.channels = nil
	case lop == "resetchannels":
		s.allChannels = false
		s.channels = nil
	case lop == "allcommands" || lop == "+@all":
		s.setAll(t, true)
	case lop == "nocommands" || lop == "-@all":
		s.setAll(t, false)
	case op[0] == '~' || op[0] == '%':
		if s.allKeys {
			return errKeyAfterAll
		}
		perm, off := 0, 1
		if op[0] == '%' {
			for ; off < len(op); off++ {
				ch := op[off]
				if ch == 'R' || ch == 'r' {
					if perm&PermRead != 0 {
						return errSyntax
					}
					perm |= PermRead
				} else if ch == 'W' || ch == 'w' {
					if perm&PermWrite != 0 {
						return errSyntax
					}
					perm |= PermWrite
				} else if ch == '~' {
					off++
					break
				} else {
					return errSyntax
				}
			}
		} else {
			perm = PermAll
		}
		pat := op[off:]
		if perm == 0 || HasSpaces(pat) {
			return errSyntax
		}
		for i := range s.keys {
			if s.keys[i].pattern == pat {
				s.keys[i].perm |= perm
				return nil
			}
		}
		s.keys = append(s.keys, keyPattern{pattern: pat, perm: perm})
	case op[0] == '&':
		if s.allChannels {
			return errChanAfterAll
		}
		pat := op[1:]
		if HasSpaces(pat) {
			return errSyntax
		}
		for _, c := range s.channels {
			if c == pat {
				return nil
			}
		}
		s.channels = append(s.channels, pat)
	case op[0] == '+' && (len(op) < 2 || op[1] != '@'):
		name := op[1:]
		bar := strings.LastIndexByte(name, '|')
		if bar < 0 {
			c := lookup(t, name)
			if c == nil {
				return errUnknown
			}
			s.changePerm(c, true)
			return nil
		}
		base, sub := name[:bar], name[bar+1:]
		c := lookup(t, base)
		if c == nil {
			return errUnknown
		}
		if strings.Contains(c.Name, "|") {
			return errFirstArgSub
		}
		if sub == "" {
			return errSyntax
		}
		if len(c.Subcommands) > 0 {
			sc := lookup(t, name)
			if sc == nil {
				return errUnknown
			}
			s.changePerm(sc, true)
			return nil
		}
		// A first argument of a plain command (SELECT|0): Redis keeps this
		// deprecated form working, so do we.
		for _, a := range s.firstArgs[c.Name] {
			if strings.EqualFold(a, sub) {
				return nil
			}
		}
		if s.firstArgs == nil {
			s.firstArgs = map[string][]string{}
		}
		s.firstArgs[c.Name] = append(s.firstArgs[c.Name], sub)
	case op[0] == '-' && (len(op) < 2 || op[1] != '@'):
		c := lookup(t, op[1:])
		if c == nil {
			return errUnknown
		}
		s.changePerm(c, false)
	case (op[0] == '+' || op[0] == '-') && op[1] == '@':
		if !IsCategory(op[2:]) {
			return errUnknown
		}
		s.setCategory(t, strings.ToLower(op[2:]), op[0] == '+')
	default:
		return errSyntax
	}
	return nil
}

// applyUser is ACLSetUser: one rule for the user (flags, passwords, selectors), or a
// selector rule for its root selector.
func (a *ACL) applyUser(u *User, op string) error {
	if op == "" {
		return nil
	}
	lop := strings.ToLower(op)
	switch {
	case lop == "on":
		u.enabled = true
	case lop == "off":
		u.enabled = false
	case lop == "skip-sanitize-payload":
		u.sanitize = 2
	case lop == "sanitize-payload":
		u.sanitize = 1
	case lop == "nopass":
		u.nopass = true
		u.passwords = nil
	case lop == "resetpass":
		u.nopass = false
		u.passwords = nil
	case op[0] == '>' || op[0] == '#':
		var h string
		if op[0] == '>' {
			h = HashPassword([]byte(op[1:]))
		} else {
			h = op[1:]
			if !validHash(h) {
				return errBadHash
			}
		}
		found := false
		for _, p := range u.passwords {
			found = found || p == h
		}
		if !found {
			u.passwords = append(u.passwords, h)
		}
		u.nopass = false
	case op[0] == '<' || op[0] == '!':
		var h string
		if op[0] == '<' {
			h = HashPassword([]byte(op[1:]))
		} else {
			h = op[1:]
			if !validHash(h) {
				return errBadHash
			}
		}
		for i, p := range u.passwords {
			if p == h {
				u.passwords = append(u.passwords[:i:i], u.passwords[i+1:]...)
				return nil
			}
		}
		return errNoSuchPass
	case op[0] == '(' && op[len(op)-1] == ')':
		s := newSelector(false, a.PubsubAllChannels)
		args, err := resp.SplitArgs([]byte(op[1 : len(op)-1]))
		if err != nil {
			return errSyntax
		}
		for _, arg := range args {
			if len(arg) == 0 {
				continue
			}
			if err := s.apply(a.cmds, string(arg)); err != nil {
				return err
			}
		}
		u.selectors = append(u.selectors, s)
	case lop == "clearselectors":
		u.selectors = u.selectors[:1]
	case lop == "reset":
		u.nopass = false
		u.passwords = nil
		r := u.root()
		r.allKeys, r.keys = false, nil
		r.allChannels, r.channels = a.PubsubAllChannels, nil
		u.enabled = false
		u.sanitize = 1
		u.selectors = u.selectors[:1]
		r.setAll(a.cmds, false)
	default:
		return u.root().apply(a.cmds, op)
	}
	return nil
}

// mergeSelectorArgs joins "(a", "b)" into one "(a b)" argument, as Redis lets selectors
// span arguments. On an unmatched '(' it returns the index of the opening argument.
func mergeSelectorArgs(args []string) ([]string, int) {
	var out []string
	open := -1
	var cur string
	for j, op := range args {
		if open < 0 && len(op) > 0 && op[0] == '(' && op[len(op)-1] != ')' {
			cur, open = op, j
			continue
		}
		if open >= 0 {
			cur += " " + op
			if len(op) > 0 && op[len(op)-1] == ')' {
				out = append(out, cur)
				open = -1
			}
			continue
		}
		out = append(out, op)
	}
	if open >= 0 {
		return nil, open
	}
	return out, -1
}

// matchKey reports whether the selector grants perm on key.
func (s *Selector) matchKey(key []byte, perm int) bool {
	if s.allKeys {
		return true
	}
	for _, p := range s.keys {
		if p.perm&perm == perm && glob.Match([]byte(p.pattern), key, false) {
			return true
		}
	}
	return false
}

// matchChannel checks a channel (glob against the patterns) or, for PSUBSCRIBE, a
// pattern (which must equal one of the patterns literally).
func matchChannel(list []string, ch []byte, isPattern bool) bool {
	for _, p := range list {
		if isPattern && p == string(ch) || !isPattern && glob.Match([]byte(p), ch, false) {
			return true
		}
	}
	return false
}
