package server

import (
	"crypto/tls"
	"net"
	"strconv"
	"syscall"
	"time"

	"kv/acl"
	"kv/engine"
)

// CLIENT and its subcommands. CLIENT TRACKING/CACHING/GETREDIR/TRACKINGINFO belong to
// client-side caching and CLIENT UNBLOCK to blocking operations; they are registered
// by those features.
func (s *Server) clientCommands() []*engine.Command {
	return []*engine.Command{container(
		&engine.Command{Name: "client", Arity: -2, Flags: engine.FlagSentinel,
			ACL: []string{"slow"}, Group: "connection", Since: "2.4.0",
			Summary:    "A container for client connection commands",
			Complexity: "Depends on subcommand."},
		&engine.Command{Name: "client|getname", Arity: 2, Flags: engine.FlagNoscript | engine.FlagLoading | engine.FlagStale | engine.FlagSentinel,
			ACL: []string{"slow", "connection"}, Group: "connection", Since: "2.6.9",
			Summary:    "Get the current connection name",
			Complexity: "O(1)",
			Syntax:     "", Handler: s.clientGetname},
		&engine.Command{Name: "client|help", Arity: 2, Flags: engine.FlagLoading | engine.FlagStale | engine.FlagSentinel,
			ACL: []string{"slow", "connection"}, Group: "connection", Since: "5.0.0",
			Summary:    "Show helpful text about the different subcommands",
			Complexity: "O(1)",
			Syntax:     "", Handler: s.clientHelp},
		&engine.Command{Name: "client|id", Arity: 2, Flags: engine.FlagNoscript | engine.FlagLoading | engine.FlagStale | engine.FlagSentinel,
			ACL: []string{"slow", "connection"}, Group: "connection", Since: "5.0.0",
			Summary:    "Returns the client ID for the current connection",
			Complexity: "O(1)",
			Syntax:     "", Handler: s.clientID},
		&engine.Command{Name: "client|info", Arity: 2, Flags: engine.FlagNoscript | engine.FlagLoading | engine.FlagStale | engine.FlagSentinel,
			ACL: []string{"slow", "connection"}, Group: "connection", Since: "6.2.0",
			Summary:    "Returns information about the current client connection.",
			Complexity: "O(1)",
			Syntax:     "", Handler: s.clientInfo},
		&engine.Command{Name: "client|kill", Arity: -3, Flags: engine.FlagAdmin | engine.FlagNoscript | engine.FlagLoading | engine.FlagStale | engine.FlagSentinel,
			ACL: []string{"admin", "slow", "dangerous", "connection"}, Group: "connection", Since: "2.4.0",
			Summary:    "Kill the connection of a client",
			Complexity: "O(N) where N is the number of client connections",
			Syntax:     "<ip:port|<[ID client-id]|[normal|master|slave|replica|pubsub]|[USER username]|[ADDR ip:port]|[LADDR ip:port]|[SKIPME yes/no]> [<[ID client-id]|[normal|master|slave|replica|pubsub]|[USER username]|[ADDR ip:port]|[LADDR ip:port]|[SKIPME yes/no]> ...]>", Handler: s.clientKill},
		&engine.Command{Name: "client|list", Arity: -2, Flags: engine.FlagAdmin | engine.FlagNoscript | engine.FlagLoading | engine.FlagStale | engine.FlagSentinel,
			ACL: []string{"admin", "slow", "dangerous", "connection"}, Group: "connection", Since: "2.4.0",
			Summary:    "Get the list of client connections",
			Complexity: "O(N) where N is the number of client connections",
			Syntax:     "[normal|master|replica|pubsub] [client-id [client-id ...]]", Handler: s.clientList},
		&engine.Command{Name: "client|no-evict", Arity: 3, Flags: engine.FlagAdmin | engine.FlagNoscript | engine.FlagLoading | engine.FlagStale | engine.FlagSentinel,
			ACL: []string{"admin", "slow", "dangerous", "connection"}, Group: "connection", Since: "7.0.0",
			Summary:    "Set client eviction mode for the current connection",
			Complexity: "O(1)",
			Syntax:     "<ON|OFF>", Handler: s.clientNoEvict},
		&engine.Command{Name: "client|pause", Arity: -3, Flags: engine.FlagAdmin | engine.FlagNoscript | engine.FlagLoading | engine.FlagStale | engine.FlagSentinel,
			ACL: []string{"admin", "slow", "dangerous", "connection"}, Group: "connection", Since: "2.9.50",
			Summary:    "Stop processing commands from clients for some time",
			Complexity: "O(1)",
			Syntax:     "timeout [WRITE|ALL]", Handler: s.clientPause},
		&engine.Command{Name: "client|reply", Arity: 3, Flags: engine.FlagNoscript | engine.FlagLoading | engine.FlagStale | engine.FlagSentinel,
			ACL: []string{"slow", "connection"}, Group: "connection", Since: "3.2.0",
			Summary:    "Instruct the server whether to reply to commands",
			Complexity: "O(1)",
			Syntax:     "<ON|OFF|SKIP>", Handler: s.clientReply},
		&engine.Command{Name: "client|setname", Arity: 3, Flags: engine.FlagNoscript | engine.FlagLoading | engine.FlagStale | engine.FlagSentinel,
			ACL: []string{"slow", "connection"}, Group: "connection", Since: "2.6.9",
			Summary:    "Set the current connection name",
			Complexity: "O(1)",
			Syntax:     "connection-name", Handler: s.clientSetname},
		&engine.Command{Name: "client|unpause", Arity: 2, Flags: engine.FlagAdmin | engine.FlagNoscript | engine.FlagLoading | engine.FlagStale | engine.FlagSentinel,
			ACL: []string{"admin", "slow", "dangerous", "connection"}, Group: "connection", Since: "6.2.0",
			Summary:    "Resume processing of clients that were paused",
			Complexity: "O(N) Where N is the number of paused clients",
			Syntax:     "", Handler: s.clientUnpause},
		// CLIENT SETINFO is Redis 7.2's (7.0.15 answers "unknown subcommand"); it is
		// here because clients send it on connect, with 7.2's metadata and errors.
		&engine.Command{Name: "client|setinfo", Arity: 4, Flags: engine.FlagNoscript | engine.FlagLoading | engine.FlagStale | engine.FlagSentinel,
			ACL: []string{"slow", "connection"}, Group: "connection", Since: "7.2.0",
			Summary:    "Sets information specific to the client or connection.",
			Complexity: "O(1)",
			Syntax:     "<LIB-NAME libname|LIB-VER libver>", Handler: s.clientSetinfo},
	)}
}

var clientHelp = []string{
	"CACHING (YES|NO)",
	"    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
	"GETREDIR",
	"    Return the client ID we are redirecting to when tracking is enabled.",
	"GETNAME",
	"    Return the name of the current connection.",
	"ID",
	"    Return the ID of the current connection.",
	"INFO",
	"    Return information about the current client connection.",
	"KILL <ip:port>",
	"    Kill connection made from <ip:port>.",
	"KILL <option> <value> [<option> <value> [...]]",
	"    Kill connections. Options are:",
	"    * ADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made from the specified address",
	"    * LADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made to specified local address",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Kill connections by type.",
	"    * USER <username>",
	"      Kill connections authenticated by <username>.",
	"    * SKIPME (YES|NO)",
	"      Skip killing current connection (default: yes).",
	"LIST [options ...]",
	"    Return information about client connections. Options:",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Return clients of specified type.",
	"UNPAUSE",
	"    Stop the current client pause, resuming traffic.",
	"PAUSE <timeout> [WRITE|ALL]",
	"    Suspend all, or just write, clients for <timeout> milliseconds.",
	"REPLY (ON|OFF|SKIP)",
	"    Control the replies sent to the current connection.",
	"SETNAME <name>",
	"    Assign the name <name> to the current connection.",
	"UNBLOCK <clientid> [TIMEOUT|ERROR]",
	"    Unblock the specified blocked client.",
	"TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
	"         [OPTIN] [OPTOUT] [NOLOOP]",
	"    Control server assisted client side caching.",
	"TRACKINGINFO",
	"    Report tracking status for the current connection.",
	"NO-EVICT (ON|OFF)",
	"    Protect current client connection from eviction.",
}

const errClientName = "ERR Client names cannot contain spaces, newlines or special characters."

func (s *Server) clientHelp(c *engine.Ctx) { writeHelp(c, clientHelp) }

func (s *Server) clientID(c *engine.Ctx) { c.W.Int(connOf(c).id) }

func (s *Server) clientGetname(c *engine.Ctx) {
	if n := connOf(c).name; n != "" {
		c.W.BulkString(n)
		return
	}
	c.W.Null()
}

// validClientName is Redis's charset rule: printable ASCII without spaces, so
// CLIENT LIST stays splittable on spaces.
func validClientName(b []byte) bool {
	for _, ch := range b {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

func (s *Server) clientSetname(c *engine.Ctx) {
	if !validClientName(c.Args[2]) {
		c.Error(errClientName)
		return
	}
	connOf(c).name = string(c.Args[2])
	c.W.OK()
}

func (s *Server) clientSetinfo(c *engine.Ctx) {
	cn := connOf(c)
	attr := c.Arg(2)
	if attr != "lib-name" && attr != "lib-ver" {
		c.Error("ERR Unrecognized option '" + string(c.Args[2]) + "'")
		return
	}
	for _, ch := range c.Args[3] {
		if ch < '!' || ch > '~' {
			c.Error("ERR " + attr + " cannot contain spaces, newlines or special characters.")
			return
		}
	}
	if attr == "lib-name" {
		cn.libName = string(c.Args[3])
	} else {
		cn.libVer = string(c.Args[3])
	}
	c.W.OK()
}

func (s *Server) clientInfo(c *engine.Ctx) {
	b := s.appendClientInfo(nil, connOf(c), time.Now())
	b = append(b, '\n')
	c.W.Verbatim("txt", string(b))
}

func (s *Server) clientList(c *engine.Ctx) {
	typ := -1
	var ids []int64
	switch {
	case len(c.Args) == 4 && c.Is(2, "type"):
		if typ = clientTypeByName(c.Arg(3)); typ < 0 {
			c.Error("ERR Unknown client type '" + string(c.Args[3]) + "'")
			return
		}
	case len(c.Args) > 3 && c.Is(2, "id"):
		for _, a := range c.Args[3:] {
			id, ok := engine.ParseInt(a)
			if !ok {
				c.Error("ERR Invalid client ID")
				return
			}
			ids = append(ids, id)
		}
	case len(c.Args) != 2:
		c.Error(engine.ErrSyntax)
		return
	}
	now := time.Now()
	var b []byte
	if ids != nil {
		for _, id := range ids {
			if cl := s.connByID(id); cl != nil {
				b = s.appendClientInfo(b, cl, now)
				b = append(b, '\n')
			}
		}
	} else {
		for _, cl := range s.liveConns() {
			if typ >= 0 && cl.clientType() != typ {
				continue
			}
			b = s.appendClientInfo(b, cl, now)
			b = append(b, '\n')
		}
	}
	c.W.Verbatim("txt", string(b))
}

// Client types as CLIENT LIST TYPE / CLIENT KILL TYPE name them.
const (
	clientNormal = iota
	clientReplica
	clientPubsub
	clientMaster
)

func clientTypeByName(name string) int {
	switch name {
	case "normal":
		return clientNormal
	case "slave", "replica":
		return clientReplica
	case "pubsub":
		return clientPubsub
	case "master":
		return clientMaster
	}
	return -1
}

func (c *conn) clientType() int {
	switch {
	case c.flags&flagMaster != 0:
		return clientMaster
	case c.flags&flagReplica != 0 && c.flags&flagMonitor == 0:
		return clientReplica
	case c.flags&flagPubsub != 0:
		return clientPubsub
	}
	return clientNormal
}

func (s *Server) clientKill(c *engine.Ctx) {
	me := connOf(c)
	var addr, laddr string
	var user *acl.User
	var hasAddr, hasLaddr, hasUser bool
	typ := -1
	var id int64
	skipme := true
	if len(c.Args) == 3 {
		addr, hasAddr = string(c.Args[2]), true
		skipme = false // the old form may kill the caller
	} else {
		for i := 2; i < len(c.Args); i += 2 {
			more := i+1 < len(c.Args)
			switch {
			case c.Is(i, "id") && more:
				n, ok := engine.ParseInt(c.Args[i+1])
				if !ok || n < 1 {
					c.Error("ERR client-id should be greater than 0")
					return
				}
				id = n
			case c.Is(i, "type") && more:
				if typ = clientTypeByName(c.Arg(i + 1)); typ < 0 {
					c.Error("ERR Unknown client type '" + string(c.Args[i+1]) + "'")
					return
				}
			case c.Is(i, "addr") && more:
				addr, hasAddr = string(c.Args[i+1]), true
			case c.Is(i, "laddr") && more:
				laddr, hasLaddr = string(c.Args[i+1]), true
			case c.Is(i, "user") && more:
				u := s.acl.User(string(c.Args[i+1]))
				if u == nil {
					c.Error("ERR No such user '" + string(c.Args[i+1]) + "'")
					return
				}
				user, hasUser = u, true
			case c.Is(i, "skipme") && more:
				switch {
				case c.Is(i+1, "yes"):
					skipme = true
				case c.Is(i+1, "no"):
					skipme = false
				default:
					c.Error(engine.ErrSyntax)
					return
				}
			default:
				c.Error(engine.ErrSyntax)
				return
			}
		}
	}
	killed, self := 0, false
	for _, cl := range s.liveConns() {
		if hasAddr && cl.addr != addr || hasLaddr && cl.laddr != laddr ||
			typ >= 0 && cl.clientType() != typ || id != 0 && cl.id != id ||
			hasUser && cl.user != user || cl == me && skipme {
			continue
		}
		if cl == me {
			self = true
		} else {
			cl.close()
		}
		killed++
	}
	if len(c.Args) == 3 {
		if killed == 0 {
			c.Error("ERR No such client")
		} else {
			c.W.OK()
		}
	} else {
		c.W.Int(int64(killed))
	}
	if self {
		me.closeAfter = true
	}
}

func (s *Server) clientReply(c *engine.Ctx) {
	cn := connOf(c)
	switch {
	case c.Is(2, "on"):
		cn.replyMode = replyOn
		c.W.OK()
	case c.Is(2, "off"):
		cn.replyMode = replyOff
	case c.Is(2, "skip"):
		if cn.replyMode != replyOff {
			cn.replyMode = replySkipNext
		}
	default:
		c.Error(engine.ErrSyntax)
	}
}

func (s *Server) clientNoEvict(c *engine.Ctx) {
	cn := connOf(c)
	switch {
	case c.Is(2, "on"):
		cn.flags |= flagNoEvict
	case c.Is(2, "off"):
		cn.flags &^= flagNoEvict
	default:
		c.Error(engine.ErrSyntax)
		return
	}
	c.W.OK()
}

func (s *Server) clientPause(c *engine.Ctx) {
	all := true
	if len(c.Args) == 4 {
		switch {
		case c.Is(3, "write"):
			all = false
		case c.Is(3, "all"):
		default:
			c.Error("ERR CLIENT PAUSE mode must be WRITE or ALL")
			return
		}
	} else if len(c.Args) != 3 {
		c.WrongArgs()
		return
	}
	ms, ok := engine.ParseInt(c.Args[2])
	if !ok {
		c.Error("ERR timeout is not an integer or out of range")
		return
	}
	if ms < 0 {
		c.Error("ERR timeout is negative")
		return
	}
	s.pauseClients(time.Now().Add(time.Duration(ms)*time.Millisecond), all)
	c.W.OK()
}

func (s *Server) clientUnpause(c *engine.Ctx) {
	s.unpauseClients()
	c.W.OK()
}

// appendClientInfo writes one CLIENT LIST line in Redis 7.0's field order. Engine
// lock held.
func (s *Server) appendClientInfo(b []byte, cl *conn, now time.Time) []byte {
	flags := cl.flagString()
	events := "r"
	pending := cl.pendingOutput()
	if pending > 0 {
		events = "rw"
	}
	multi := -1
	multiMem := 0
	if cl.multi != nil {
		multi = len(cl.multi.queued)
		for _, q := range cl.multi.queued {
			for _, a := range q.args {
				multiMem += len(a)
			}
			multiMem += 16 * len(q.args) // one argv slot each, as Redis counts
		}
	}
	rbs := cap(cl.w.Bytes())
	obl, oll, omem := pending, 0, 0
	if pending > rbs {
		obl, oll, omem = 0, 1, pending
	}
	totMem := cl.qbufCap + rbs + omem + cl.argvMem + multiMem + connOverhead
	sub, psub, ssub := cl.subscriptionCounts()
	db := 0
	if cl.ctx.DB != nil {
		db = cl.ctx.DB.ID
	}
	w := func(k string) { b = append(b, k...) }
	i := func(k string, n int64) {
		b = append(b, k...)
		b = strconv.AppendInt(b, n, 10)
	}
	i("id=", cl.id)
	w(" addr=" + cl.addr + " laddr=" + cl.laddr)
	i(" fd=", int64(cl.fd))
	w(" name=" + cl.name)
	i(" age=", int64(now.Sub(cl.born)/time.Second))
	i(" idle=", int64(now.Sub(cl.lastActive)/time.Second))
	w(" flags=" + flags)
	i(" db=", int64(db))
	i(" sub=", int64(sub))
	i(" psub=", int64(psub))
	i(" ssub=", int64(ssub))
	i(" multi=", int64(multi))
	i(" qbuf=", int64(cl.qbuf))
	i(" qbuf-free=", int64(max(cl.qbufCap-cl.qbuf, 0)))
	i(" argv-mem=", int64(cl.argvMem))
	i(" multi-mem=", int64(multiMem))
	i(" rbs=", int64(rbs))
	i(" rbp=", cl.outPeak.Load())
	i(" obl=", int64(obl))
	i(" oll=", int64(oll))
	i(" omem=", int64(omem))
	i(" tot-mem=", int64(totMem))
	w(" events=" + events + " cmd=" + cl.lastCmd + " user=" + cl.user.Name)
	i(" redir=", -1)
	i(" resp=", int64(cl.w.Proto()))
	return b
}

// connOverhead approximates the fixed memory of one connection (its structs, reader
// and writer headers) for tot-mem.
const connOverhead = 1024

func (c *conn) flagString() string {
	var f []byte
	if c.flags&flagReplica != 0 {
		if c.flags&flagMonitor != 0 {
			f = append(f, 'O')
		} else {
			f = append(f, 'S')
		}
	} else if c.flags&flagMonitor != 0 {
		f = append(f, 'O')
	}
	if c.flags&flagMaster != 0 {
		f = append(f, 'M')
	}
	if c.flags&flagPubsub != 0 {
		f = append(f, 'P')
	}
	if c.multi != nil {
		f = append(f, 'x')
	}
	if c.ctx.Blocked {
		f = append(f, 'b')
	}
	if c.watch.Dirty {
		f = append(f, 'd')
	}
	if c.closeAfter {
		f = append(f, 'c')
	}
	if isUnix(c.nc) {
		f = append(f, 'U')
	}
	if c.flags&flagReadonly != 0 {
		f = append(f, 'r')
	}
	if c.flags&flagNoEvict != 0 {
		f = append(f, 'e')
	}
	if len(f) == 0 {
		return "N"
	}
	return string(f)
}

// subscriptionCounts is what CLIENT LIST shows as sub/psub/ssub.
func (c *conn) subscriptionCounts() (sub, psub, ssub int) {
	return c.subs.channels.len(), c.subs.patterns.len(), c.subs.shard.len()
}

// noteRequest records the size of the request about to run for CLIENT LIST (qbuf,
// argv-mem). Engine lock held.
func (c *conn) noteRequest(args [][]byte) {
	n, size := 0, 0
	if c.rd.WasInline() {
		for _, a := range args {
			n += len(a)
		}
		size = n + len(args) + 1
	} else {
		size = 3 + decimalLen(len(args))
		for _, a := range args {
			n += len(a)
			size += 5 + decimalLen(len(a)) + len(a)
		}
	}
	c.argvMem = n
	c.qbuf = size + c.rd.Buffered()
	c.qbufCap = c.rd.QueryBufferSize()
}

// decimalLen is len(strconv.Itoa(n)) for n >= 0, without formatting n (this runs
// for every argument of every command).
func decimalLen(n int) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}

// connByID finds a live connection. Engine lock held.
func (s *Server) connByID(id int64) *conn {
	s.connsMu.Lock()
	cl := s.conns[id]
	s.connsMu.Unlock()
	if cl == nil || cl.closed.Load() {
		return nil
	}
	return cl
}

// liveConns lists the connections not yet killed, ordered by id: a killed client
// disappears from CLIENT LIST and INFO at once, as Redis frees it synchronously.
func (s *Server) liveConns() []*conn {
	all := s.connList()
	out := all[:0]
	for _, cl := range all {
		if !cl.closed.Load() {
			out = append(out, cl)
		}
	}
	return out
}

// connAddrs returns the peer and local addresses as Redis prints them and the socket's
// file descriptor.
func connAddrs(nc net.Conn) (addr, laddr string, fd int) {
	addr, laddr, fd = nc.RemoteAddr().String(), nc.LocalAddr().String(), -1
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	if sc, ok := nc.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			_ = raw.Control(func(f uintptr) { fd = int(f) })
		}
	}
	if isUnix(nc) {
		// Redis shows a Unix-socket client as the socket's path, port 0, both ways.
		addr = laddr + ":0"
		laddr = addr
	}
	return addr, laddr, fd
}

// isUnix reports whether nc came in through a Unix socket.
func isUnix(nc net.Conn) bool {
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	return nc.LocalAddr().Network() == "unix"
}
