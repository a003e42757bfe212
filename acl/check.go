package acl

import (
	"strconv"
	"strings"

	"kv/engine"
)

// Reasons a command is denied, ordered as Redis ranks them when several selectors
// fail (the later reason wins).
const (
	DeniedCommand = iota + 1
	DeniedKey
	DeniedChannel
	DeniedAuth
)

// Denied is the error a permission check returns.
type Denied struct {
	Reason int
	Cmd    string // full name ("config|get")
	ArgPos int    // the key or channel argument that was refused
}

// Error is the reply Redis gives a client whose command is refused.
func (d *Denied) Error() string {
	switch d.Reason {
	case DeniedCommand:
		return "NOPERM this user has no permissions to run the '" + d.Cmd + "' command"
	case DeniedKey:
		return "NOPERM this user has no permissions to access one of the keys used as arguments"
	case DeniedChannel:
		return "NOPERM this user has no permissions to access one of the channels used as arguments"
	}
	return "no permission"
}

// ScriptReason is Redis's getAclErrorMessage, which scripts put after "The user
// executing the script ".
func (d *Denied) ScriptReason() string {
	switch d.Reason {
	case DeniedCommand:
		return "can't run this command or subcommand"
	case DeniedKey:
		return "can't access at least one of the keys mentioned in the command arguments"
	case DeniedChannel:
		return "can't publish to the channel mentioned in the command"
	}
	return "lacking the permissions for the command"
}

// ExecReason is the reason EXEC gives when rules changed after queuing.
func (d *Denied) ExecReason() string {
	switch d.Reason {
	case DeniedCommand:
		return "no permission to execute the command or subcommand"
	case DeniedKey:
		return "no permission to touch the specified keys"
	case DeniedChannel:
		return "no permission to access one of the channels used as arguments"
	}
	return "no permission"
}

// ReasonName is the reason as ACL LOG shows it.
func ReasonName(r int) string {
	switch r {
	case DeniedCommand:
		return "command"
	case DeniedKey:
		return "key"
	case DeniedChannel:
		return "channel"
	case DeniedAuth:
		return "auth"
	}
	return "unknown"
}

// CheckCommand reports whether u may run cmd (resolved to its subcommand) with args
// (args[0] is the command name): nil, or a *Denied. A nil user may run anything.
// This is what the dispatcher, EXEC and scripts' redis.call use.
func CheckCommand(u *User, cmd *engine.Command, args [][]byte) error {
	if u == nil {
		return nil
	}
	relevant, lastIdx := DeniedCommand, 0
	var keys []KeyRef
	keysDone := false
	for _, s := range u.selectors {
		reason, idx := s.check(cmd, args, &keys, &keysDone)
		if reason == 0 {
			return nil
		}
		if reason > relevant || reason == relevant && idx > lastIdx {
			relevant, lastIdx = reason, idx
		}
	}
	return &Denied{Reason: relevant, Cmd: cmd.Name, ArgPos: lastIdx}
}

func (s *Selector) check(cmd *engine.Command, args [][]byte, keys *[]KeyRef, keysDone *bool) (int, int) {
	if !s.allCommands && cmd.Flags&engine.FlagNoAuth == 0 && !s.allowed[cmd.Name] {
		fa := s.firstArgs[cmd.Name]
		idx := 1
		if strings.Contains(cmd.Name, "|") {
			idx = 2
		}
		ok := false
		if len(args) > idx {
			for _, a := range fa {
				if strings.EqualFold(a, string(args[idx])) {
					ok = true
					break
				}
			}
		}
		if !ok {
			return DeniedCommand, 0
		}
	}
	if !s.allKeys && commandHasKeys(cmd) {
		if !*keysDone {
			*keys = Keys(cmd, args)
			*keysDone = true
		}
		for _, k := range *keys {
			if !s.matchKey(args[k.Pos], k.Perm) {
				return DeniedKey, k.Pos
			}
		}
	}
	if !s.allChannels {
		for _, ch := range Channels(cmd, args) {
			if !ch.Subscribe && !ch.Publish {
				continue
			}
			if !matchChannel(s.channels, args[ch.Pos], ch.Pattern) {
				return DeniedChannel, ch.Pos
			}
		}
	}
	return 0, 0
}

// CheckChannel reports whether u may use channel (or, with isPattern, subscribe to
// pattern literally) — used when rules change to drop subscribers that lost access.
func CheckChannel(u *User, channel []byte, isPattern bool) bool {
	for _, s := range u.selectors {
		if s.allChannels || matchChannel(s.channels, channel, isPattern) {
			return true
		}
	}
	return false
}

// HasAllChannels reports whether any of u's selectors grants every channel.
func HasAllChannels(u *User) bool {
	for _, s := range u.selectors {
		if s.allChannels {
			return true
		}
	}
	return false
}

// ChannelRef is a channel argument of a pub/sub command.
type ChannelRef struct {
	Pos                         int
	Subscribe, Publish, Pattern bool
}

// Channels lists the channel arguments of a command, as Redis's commands_with_channels
// table does; UNSUBSCRIBE and PUNSUBSCRIBE are listed but never checked.
func Channels(cmd *engine.Command, args [][]byte) []ChannelRef {
	var sub, pub, pat bool
	start, count := 1, -1
	switch cmd.Name {
	case "subscribe", "ssubscribe":
		sub = true
	case "psubscribe":
		sub, pat = true, true
	case "publish", "spublish":
		pub, count = true, 1
	case "unsubscribe", "sunsubscribe", "punsubscribe":
		pat = cmd.Name == "punsubscribe"
	default:
		return nil
	}
	stop := len(args)
	if count >= 0 {
		stop = min(start+count, len(args))
	}
	var out []ChannelRef
	for i := start; i < stop; i++ {
		out = append(out, ChannelRef{Pos: i, Subscribe: sub, Publish: pub, Pattern: pat})
	}
	return out
}

// KeyRef is a key argument and the access the command needs on it.
type KeyRef struct {
	Pos  int
	Perm int // PermRead and/or PermWrite
}

// Key-spec flags (Redis's CMD_KEY_*).
const (
	keyRo = 1 << iota
	keyRw
	keyOw
	keyRm
	keyAccess
	keyUpdate
	keyInsert
	keyDelete
	keyNotKey
	keyIncomplete
	keyVariableFlags
)

const (
	bsUnknown = iota
	bsIndex
	bsKeyword
)

const (
	fkUnknown = iota
	fkRange
	fkKeyNum
)

type keySpec struct {
	Flags               int
	BS                  int
	Pos                 int
	Keyword             string
	StartFrom           int
	FK                  int
	LastKey, Step       int
	Limit               int
	KeyNumIdx, FirstKey int
}

type cmdKeys struct {
	GetKeysProc bool
	Specs       []keySpec
}

func permOf(flags int) int {
	p := 0
	if flags&keyAccess != 0 {
		p |= PermRead
	}
	if flags&(keyInsert|keyDelete|keyUpdate) != 0 {
		p |= PermWrite
	}
	return p
}

func commandHasKeys(cmd *engine.Command) bool {
	if ks, ok := keySpecs[cmd.Name]; ok {
		if ks.GetKeysProc {
			return true
		}
		for _, s := range ks.Specs {
			if s.Flags&keyNotKey == 0 {
				return true
			}
		}
		return false
	}
	return cmd.Keys.FirstKey > 0 || cmd.GetKeys != nil
}

// Keys returns the key arguments of a command and the access each needs, the way
// Redis's getKeysFromCommandWithSpecs finds them: from the key specs when they are
// complete and their flags fixed, otherwise from the command's own key finder.
func Keys(cmd *engine.Command, args [][]byte) []KeyRef {
	ks, ok := keySpecs[cmd.Name]
	if !ok {
		return fallbackKeys(cmd, args, PermAll)
	}
	hasKey, varFlags, union := false, false, 0
	for _, s := range ks.Specs {
		if s.Flags&keyNotKey == 0 {
			hasKey = true
		}
		if s.Flags&keyVariableFlags != 0 {
			varFlags = true
		}
		union |= s.Flags
	}
	if hasKey && !varFlags {
		if refs, ok := keysFromSpecs(ks.Specs, args); ok {
			return refs
		}
	}
	switch cmd.Name {
	case "set":
		return []KeyRef{{Pos: 1, Perm: setKeyPerm(args)}}
	case "bitfield":
		return []KeyRef{{Pos: 1, Perm: bitfieldKeyPerm(args)}}
	case "sort":
		return sortKeys(args)
	case "sort_ro":
		return []KeyRef{{Pos: 1, Perm: PermRead}}
	}
	if !ks.GetKeysProc && !hasKey {
		return nil
	}
	return fallbackKeys(cmd, args, permOf(union))
}

// fallbackKeys uses the engine's key positions with one access for every key.
func fallbackKeys(cmd *engine.Command, args [][]byte, perm int) []KeyRef {
	if perm == 0 {
		perm = PermAll
	}
	var out []KeyRef
	for _, i := range cmd.KeyIndexes(args) {
		if i > 0 && i < len(args) {
			out = append(out, KeyRef{Pos: i, Perm: perm})
		}
	}
	return out
}

func keysFromSpecs(specs []keySpec, args [][]byte) ([]KeyRef, bool) {
	argc := len(args)
	var out []KeyRef
	for _, sp := range specs {
		if sp.Flags&keyNotKey != 0 {
			continue
		}
		first := 0
		switch sp.BS {
		case bsIndex:
			first = sp.Pos
		case bsKeyword:
			start, end := sp.StartFrom, argc-1
			if sp.StartFrom <= 0 {
				start, end = argc+sp.StartFrom, 1
			}
			for i := start; i != end; {
				if i >= argc || i < 1 {
					break
				}
				if strings.EqualFold(string(args[i]), sp.Keyword) {
					first = i + 1
					break
				}
				if start <= end {
					i++
				} else {
					i--
				}
			}
			if first == 0 {
				continue
			}
		default:
			return nil, false
		}
		var last, step int
		switch sp.FK {
		case fkRange:
			step = sp.Step
			if sp.LastKey >= 0 {
				last = first + sp.LastKey
			} else if sp.Limit == 0 {
				last = argc + sp.LastKey
			} else {
				last = first + ((argc-first)/sp.Limit + sp.LastKey)
			}
		case fkKeyNum:
			step = sp.Step
			if sp.KeyNumIdx >= argc || first+sp.KeyNumIdx >= argc {
				return nil, false
			}
			n, err := strconv.ParseInt(string(args[first+sp.KeyNumIdx]), 10, 64)
			if err != nil || n < 0 || n > int64(argc) {
				return nil, false
			}
			first += sp.FirstKey
			last = first + int(n) - 1
		default:
			return nil, false
		}
		if last >= argc || last < first || first >= argc {
			return nil, false
		}
		step = max(step, 1)
		for i := first; i <= last; i += step {
			out = append(out, KeyRef{Pos: i, Perm: permOf(sp.Flags)})
		}
		if sp.Flags&keyIncomplete != 0 {
			return nil, false
		}
	}
	return out, true
}

// setKeyPerm is SET's variable access: with GET it reads the old value too.
func setKeyPerm(args [][]byte) int {
	for i := 3; i < len(args); i++ {
		if engine.EqualFold(args[i], "get") {
			return PermAll
		}
	}
	return PermWrite
}

// bitfieldKeyPerm: only GET and OVERFLOW subcommands make BITFIELD a read.
func bitfieldKeyPerm(args [][]byte) int {
	for i := 2; i < len(args); i++ {
		rem := len(args) - i - 1
		switch {
		case engine.EqualFold(args[i], "get") && rem >= 2:
			i += 2
		case (engine.EqualFold(args[i], "set") || engine.EqualFold(args[i], "incrby")) && rem >= 3:
			return PermAll
		case engine.EqualFold(args[i], "overflow") && rem >= 1:
			i++
		default:
			return PermAll
		}
	}
	return PermRead
}

// sortKeys: the sorted key is read; the last STORE target is written.
func sortKeys(args [][]byte) []KeyRef {
	out := []KeyRef{{Pos: 1, Perm: PermRead}}
	store := 0
	for i := 2; i < len(args); i++ {
		switch {
		case engine.EqualFold(args[i], "limit"):
			i += 2
		case engine.EqualFold(args[i], "get"), engine.EqualFold(args[i], "by"):
			i++
		case engine.EqualFold(args[i], "store") && i+1 < len(args):
			store = i + 1
		}
	}
	if store > 0 {
		out = append(out, KeyRef{Pos: store, Perm: PermWrite})
	}
	return out
}
