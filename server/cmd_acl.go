package server

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"strconv"
	"strings"
	"time"

	"kv/acl"
	"kv/engine"
)

func (s *Server) aclCommands() []*engine.Command {
	sub := func(name string, arity int, flags engine.Flag, cats []string, since, summary, complexity, syntax string, h engine.Handler) *engine.Command {
		return &engine.Command{Name: "acl|" + name, Arity: arity, Flags: flags, ACL: cats, Group: "server", Since: since,
			Summary: summary, Complexity: complexity, Syntax: syntax, Handler: h}
	}
	admin := engine.FlagAdmin | engine.FlagNoscript | engine.FlagLoading | engine.FlagStale
	adminCats := []string{"admin", "slow", "dangerous"}
	plain := engine.FlagNoscript | engine.FlagLoading | engine.FlagStale
	return []*engine.Command{container(
		&engine.Command{Name: "acl", Arity: -2, ACL: []string{"slow"}, Group: "server", Since: "6.0.0",
			Summary: "A container for Access List Control commands", Complexity: "Depends on subcommand."},
		sub("cat", -2, plain, []string{"slow"}, "6.0.0", "List the ACL categories or the commands inside a category", "O(1) since the categories and commands are a fixed set.", "[categoryname]", s.aclCat),
		sub("deluser", -3, admin, adminCats, "6.0.0", "Remove the specified ACL users and the associated rules", "O(1) amortized time considering the typical user.", "username [username ...]", s.aclDeluser),
		sub("dryrun", -4, admin, adminCats, "7.0.0", "Returns whether the user can execute the given command without executing the command.", "O(1).", "username command [arg [arg ...]]", s.aclDryrun),
		sub("genpass", -2, plain, []string{"slow"}, "6.0.0", "Generate a pseudorandom secure password to use for ACL users", "O(1)", "[bits]", s.aclGenpass),
		sub("getuser", 3, admin, adminCats, "6.0.0", "Get the rules for a specific ACL user", "O(N). Where N is the number of password, command and pattern rules that the user has.", "username", s.aclGetuser),
		sub("help", 2, engine.FlagLoading|engine.FlagStale, []string{"slow"}, "6.0.0", "Show helpful text about the different subcommands", "O(1)", "", s.aclHelp),
		sub("list", 2, admin, adminCats, "6.0.0", "List the current ACL rules in ACL config file format", "O(N). Where N is the number of configured users.", "", s.aclList),
		sub("load", 2, admin, adminCats, "6.0.0", "Reload the ACLs from the configured ACL file", "O(N). Where N is the number of configured users.", "", s.aclLoad),
		sub("log", -2, admin, adminCats, "6.0.0", "List latest events denied because of ACLs in place", "O(N) with N being the number of entries shown.", "[count|RESET]", s.aclLog),
		sub("save", 2, admin, adminCats, "6.0.0", "Save the current ACL rules in the configured ACL file", "O(N). Where N is the number of configured users.", "", s.aclSave),
		sub("setuser", -3, admin, adminCats, "6.0.0", "Modify or create the rules for a specific ACL user", "O(N). Where N is the number of rules provided.", "username [rule [rule ...]]", s.aclSetuser),
		sub("users", 2, admin, adminCats, "6.0.0", "List the username of all the configured ACL rules", "O(N). Where N is the number of configured users.", "", s.aclUsers),
		sub("whoami", 2, plain, []string{"slow"}, "6.0.0", "Return the name of the user associated to the current connection", "O(1)", "", s.aclWhoami),
	)}
}

// ACL returns the server's users and rules. Use it with the engine lock held.
func (s *Server) ACL() *acl.ACL { return s.acl }

// initACL builds the users once every command is registered, loads the aclfile and
// follows the settings that concern ACLs.
func (s *Server) initACL() error {
	s.acl = acl.New(s.e.Commands())
	cfg := s.cfg
	apply := map[string]func(){
		"acl-pubsub-default": func() { s.acl.PubsubAllChannels = cfg.ACLPubsubDefault.Get() == "allchannels" },
		"acllog-max-len":     func() { s.acl.SetLogMaxLen(int(cfg.ACLLogMaxLen.Get())) },
		"requirepass":        func() { s.acl.SetDefaultPassword(cfg.Requirepass.Get()) },
	}
	for _, name := range []string{"acl-pubsub-default", "acllog-max-len", "requirepass"} {
		apply[name]()
		cfg.OnChange(name, apply[name])
	}
	if f := cfg.Aclfile.Get(); f != "" {
		if err := s.acl.LoadFile(f); err != nil {
			return err
		}
	}
	return nil
}

// logDenied adds an ACL LOG entry for a refused command run by cn.
func (s *Server) logDenied(cn *conn, d *acl.Denied, ctx string, args [][]byte) {
	e := acl.LogEntry{Reason: d.Reason, Context: ctx, Username: cn.user.Name, CTime: time.Now().UnixMilli(),
		ClientInfo: string(s.appendClientInfo(nil, cn, time.Now()))}
	switch d.Reason {
	case acl.DeniedCommand:
		e.Object = d.Cmd
	default:
		if d.ArgPos < len(args) {
			e.Object = string(args[d.ArgPos])
		}
	}
	s.acl.AddLog(e)
}

// logAuthFailure adds the ACL LOG entry of a failed AUTH or HELLO AUTH.
func (s *Server) logAuthFailure(cn *conn, cmdName []byte, user []byte) {
	ctx := acl.CtxToplevel
	if cn.multi != nil {
		ctx = acl.CtxMulti
	}
	s.acl.AddLog(acl.LogEntry{Reason: acl.DeniedAuth, Context: ctx, Object: string(cmdName), Username: string(user),
		CTime: time.Now().UnixMilli(), ClientInfo: string(s.appendClientInfo(nil, cn, time.Now()))})
}

// CheckScriptCommand is the permission check for a command a script runs (redis.call):
// it checks the calling connection's user, logs a denial with the "lua" context, and
// returns the *acl.Denied (nil when allowed). Call with the engine lock held.
func (s *Server) CheckScriptCommand(c *engine.Ctx, cmd *engine.Command, args [][]byte) error {
	cn, ok := c.Client.(*conn)
	if !ok {
		return nil
	}
	err := acl.CheckCommand(cn.user, cmd, args)
	if err != nil {
		s.logDenied(cn, err.(*acl.Denied), acl.CtxLua, args)
	}
	return err
}

// dropStaleUsers disconnects the clients whose user was deleted or replaced, after
// putting them back on the default user unauthenticated, as Redis's
// ACLFreeUserAndKillClients does. The current client is closed after its reply.
func (s *Server) dropStaleUsers(current *conn) {
	for _, cl := range s.connList() {
		if s.acl.Current(cl.user) {
			continue
		}
		cl.user = s.acl.Default
		cl.authenticated = false
		if cl == current {
			cl.closeAfter = true
		} else {
			cl.close()
		}
	}
}

// dropRevokedSubscribers disconnects u's pub/sub clients that hold a subscription its
// new rules no longer allow, as Redis's ACLKillPubsubClientsIfNeeded does.
func (s *Server) dropRevokedSubscribers(u *acl.User, current *conn) {
	if acl.HasAllChannels(u) {
		return
	}
	for _, cl := range s.connList() {
		if cl.user != u || cl.flags&flagPubsub == 0 {
			continue
		}
		if s.subscriptionsAllowed(cl, u) {
			continue
		}
		if cl == current {
			cl.closeAfter = true
		} else {
			cl.close()
		}
	}
}

// subscriptionsAllowed reports whether every channel and pattern cl is subscribed to
// is still allowed to u.
func (s *Server) subscriptionsAllowed(cl *conn, u *acl.User) bool {
	channels, patterns := subscriptionsOf(cl)
	for _, ch := range channels {
		if !acl.CheckChannel(u, []byte(ch), false) {
			return false
		}
	}
	for _, p := range patterns {
		if !acl.CheckChannel(u, []byte(p), true) {
			return false
		}
	}
	return true
}

func (s *Server) aclSetuser(c *engine.Ctx) {
	for i := 2; i < len(c.Args); i++ {
		c.Redact(i)
	}
	name := string(c.Args[2])
	if acl.HasSpaces(name) {
		c.Error("ERR Usernames can't contain spaces or null characters")
		return
	}
	rules := make([]string, len(c.Args)-3)
	for i, a := range c.Args[3:] {
		rules[i] = string(a)
	}
	if err := s.acl.SetUser(name, rules); err != nil {
		c.Error("ERR " + strings.NewReplacer("\r", " ", "\n", " ").Replace(err.Error()))
		return
	}
	s.dropRevokedSubscribers(s.acl.User(name), connOf(c))
	c.W.OK()
}

func (s *Server) aclDeluser(c *engine.Ctx) {
	names := make([]string, len(c.Args)-2)
	for i, a := range c.Args[2:] {
		names[i] = string(a)
	}
	n, err := s.acl.DelUser(names)
	if err != nil {
		c.Error("ERR " + err.Error())
		return
	}
	s.dropStaleUsers(connOf(c))
	c.W.Int(int64(n))
}

func (s *Server) aclGetuser(c *engine.Ctx) {
	u := s.acl.User(string(c.Args[2]))
	if u == nil {
		c.W.Null()
		return
	}
	root, extra := s.acl.Describe(u)
	c.W.Map(6)
	c.W.BulkString("flags")
	flags := u.Flags()
	c.W.Set(len(flags))
	for _, f := range flags {
		c.W.BulkString(f)
	}
	c.W.BulkString("passwords")
	pw := u.Passwords()
	c.W.Array(len(pw))
	for _, p := range pw {
		c.W.BulkString(p)
	}
	writeSelectorInfo(c, root)
	c.W.BulkString("selectors")
	c.W.Array(len(extra))
	for _, sel := range extra {
		c.W.Map(3)
		writeSelectorInfo(c, sel)
	}
}

func writeSelectorInfo(c *engine.Ctx, si acl.SelectorInfo) {
	c.W.BulkString("commands")
	c.W.BulkString(si.Commands)
	c.W.BulkString("keys")
	c.W.BulkString(si.Keys)
	c.W.BulkString("channels")
	c.W.BulkString(si.Channels)
}

func (s *Server) aclList(c *engine.Ctx) {
	users := s.acl.Users()
	c.W.Array(len(users))
	for _, u := range users {
		c.W.BulkString("user " + u.Name + " " + s.acl.Rules(u))
	}
}

func (s *Server) aclUsers(c *engine.Ctx) {
	users := s.acl.Users()
	c.W.Array(len(users))
	for _, u := range users {
		c.W.BulkString(u.Name)
	}
}

func (s *Server) aclWhoami(c *engine.Ctx) { c.W.BulkString(connOf(c).user.Name) }

const errNoACLFile = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."

func (s *Server) aclLoad(c *engine.Ctx) {
	f := s.cfg.Aclfile.Get()
	if f == "" {
		c.Error(errNoACLFile)
		return
	}
	if err := s.acl.LoadFile(f); err != nil {
		c.Error("ERR " + strings.NewReplacer("\r", " ", "\n", " ").Replace(err.Error()))
		return
	}
	s.dropStaleUsers(connOf(c))
	c.W.OK()
}

func (s *Server) aclSave(c *engine.Ctx) {
	f := s.cfg.Aclfile.Get()
	if f == "" {
		c.Error(errNoACLFile)
		return
	}
	if err := s.acl.SaveFile(f); err != nil {
		s.log.Warn("ACL SAVE failed", "err", err)
		c.Error("ERR There was an error trying to save the ACLs. Please check the server logs for more information")
		return
	}
	c.W.OK()
}

func (s *Server) aclCat(c *engine.Ctx) {
	if len(c.Args) > 3 {
		subcommandSyntaxError(c)
		return
	}
	if len(c.Args) == 2 {
		c.W.Array(len(acl.Categories))
		for _, cat := range acl.Categories {
			c.W.BulkString(cat)
		}
		return
	}
	cat := strings.ToLower(string(c.Args[2]))
	if !acl.IsCategory(cat) {
		c.Error("ERR Unknown category '" + truncate128(c.Args[2]) + "'")
		return
	}
	var names []string
	for _, cmd := range s.e.Commands().All() {
		if cmd.Flags&engine.FlagModule != 0 {
			continue
		}
		if hasCategory(cmd, cat) {
			names = append(names, cmd.Name)
		}
		for _, sc := range cmd.Subcommands {
			if hasCategory(sc, cat) {
				names = append(names, sc.Name)
			}
		}
	}
	c.W.Array(len(names))
	for _, n := range names {
		c.W.BulkString(n)
	}
}

func hasCategory(cmd *engine.Command, cat string) bool {
	for _, x := range cmd.ACL {
		if x == cat {
			return true
		}
	}
	return false
}

const genpassMaxBits = 4096

func (s *Server) aclGenpass(c *engine.Ctx) {
	if len(c.Args) > 3 {
		subcommandSyntaxError(c)
		return
	}
	bits := int64(256)
	if len(c.Args) == 3 {
		n, ok := engine.ParseInt(c.Args[2])
		if !ok {
			c.Error(engine.ErrNotInt)
			return
		}
		bits = n
	}
	if bits <= 0 || bits > genpassMaxBits {
		c.Error("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to " + strconv.Itoa(genpassMaxBits))
		return
	}
	chars := (bits + 3) / 4
	buf := make([]byte, (chars+1)/2)
	if _, err := rand.Read(buf); err != nil {
		c.Error("ERR " + err.Error())
		return
	}
	c.W.BulkString(hex.EncodeToString(buf)[:chars])
}

func (s *Server) aclLog(c *engine.Ctx) {
	if len(c.Args) > 3 {
		subcommandSyntaxError(c)
		return
	}
	count := int64(10)
	if len(c.Args) == 3 {
		if c.Is(2, "reset") {
			s.acl.ResetLog()
			c.W.OK()
			return
		}
		n, ok := engine.ParseInt(c.Args[2])
		if !ok {
			c.Error(engine.ErrNotInt)
			return
		}
		count = max(n, 0)
	}
	entries := s.acl.Log(int(min(count, 1<<30)))
	now := time.Now().UnixMilli()
	c.W.Array(len(entries))
	for _, e := range entries {
		c.W.Map(7)
		c.W.BulkString("count")
		c.W.Int(e.Count)
		c.W.BulkString("reason")
		c.W.BulkString(acl.ReasonName(e.Reason))
		c.W.BulkString("context")
		c.W.BulkString(e.Context)
		c.W.BulkString("object")
		c.W.BulkString(e.Object)
		c.W.BulkString("username")
		c.W.BulkString(e.Username)
		c.W.BulkString("age-seconds")
		c.W.Double(float64(now-e.CTime) / 1000)
		c.W.BulkString("client-info")
		c.W.BulkString(e.ClientInfo)
	}
}

func (s *Server) aclDryrun(c *engine.Ctx) {
	u := s.acl.User(string(c.Args[2]))
	if u == nil {
		c.Error("ERR User '" + string(c.Args[2]) + "' not found")
		return
	}
	args := c.Args[3:]
	cmd := s.e.Commands().Lookup(args[0])
	if cmd != nil && len(cmd.Subcommands) > 0 && len(args) >= 2 {
		cmd = cmd.LookupSub(args[1])
	}
	if cmd == nil {
		c.Error("ERR Command '" + string(c.Args[3]) + "' not found")
		return
	}
	if !cmd.ArityOK(len(args)) {
		c.Error("ERR wrong number of arguments for '" + cmd.Name + "' command")
		return
	}
	err := acl.CheckCommand(u, cmd, args)
	if err == nil {
		c.W.OK()
		return
	}
	d := err.(*acl.Denied)
	switch d.Reason {
	case acl.DeniedCommand:
		c.W.BulkString("This user has no permissions to run the '" + cmd.Name + "' command")
	case acl.DeniedKey:
		c.W.BulkString("This user has no permissions to access the '" + string(args[d.ArgPos]) + "' key")
	default:
		c.W.BulkString("This user has no permissions to access the '" + string(args[d.ArgPos]) + "' channel")
	}
}

func (s *Server) aclHelp(c *engine.Ctx) {
	writeHelp(c, []string{
		"CAT [<category>]",
		"    List all commands that belong to <category>, or all command categories",
		"    when no category is specified.",
		"DELUSER <username> [<username> ...]",
		"    Delete a list of users.",
		"DRYRUN <username> <command> [<arg> ...]",
		"    Returns whether the user can execute the given command without executing the command.",
		"GETUSER <username>",
		"    Get the user's details.",
		"GENPASS [<bits>]",
		"    Generate a secure 256-bit user password. The optional `bits` argument can",
		"    be used to specify a different size.",
		"LIST",
		"    Show users details in config file format.",
		"LOAD",
		"    Reload users from the ACL file.",
		"LOG [<count> | RESET]",
		"    Show the ACL log entries.",
		"SAVE",
		"    Save the current config to the ACL file.",
		"SETUSER <username> <attribute> [<attribute> ...]",
		"    Create or modify a user with the specified attributes.",
		"USERS",
		"    List all the registered usernames.",
		"WHOAMI",
		"    Return the current connection username.",
	})
}

// protectedModeDenies is Redis's protected-mode decision: with protected mode on and
// a nopass default user, only loopback (127.0.0.1, ::1 exactly, as Redis compares
// the address text) and unix-socket clients get in.
func protectedModeDenies(protected, defaultNoPass bool, remote net.Addr) bool {
	if !protected || !defaultNoPass {
		return false
	}
	switch a := remote.(type) {
	case *net.UnixAddr:
		return false
	case *net.TCPAddr:
		ip := a.IP.String()
		return ip != "127.0.0.1" && ip != "::1"
	}
	return false
}

// subscriptionsOf lists cl's channel (including shard channel) and pattern
// subscriptions. Engine lock held.
func subscriptionsOf(cl *conn) (channels, patterns []string) {
	channels = append(append(channels, cl.subs.channels.list...), cl.subs.shard.list...)
	return channels, append(patterns, cl.subs.patterns.list...)
}

// ProtectedModeDenies exposes the protected-mode decision for tests that cannot dial
// from a non-loopback address.
func ProtectedModeDenies(protected, defaultNoPass bool, remote net.Addr) bool {
	return protectedModeDenies(protected, defaultNoPass, remote)
}
