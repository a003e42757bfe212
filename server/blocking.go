package server

import (
	"errors"
	"io"
	"net"
	"os"
	"time"

	"kv/engine"
	"kv/resp"
)

// Blocked clients, the server side (the engine side is engine/blocking.go).
//
// A command that blocks leaves c.ctx.Blocked set at the end of its batch. The
// connection's goroutine then sits in waitUnblocked, outside the engine lock, until one
// of: the engine served it (Unblocked pushed the reply and signalled c.unblocked),
// CLIENT UNBLOCK ended it (same path), its timeout passed (it takes the lock and writes
// the null reply itself), or the peer went away. Meanwhile a helper goroutine keeps
// reading the socket, as Redis keeps reading a blocked client's query buffer, so a
// disconnect is noticed at once and a pipelined tail waits in c.in for later.

// maxBlockedInput bounds what a blocked client may send before it is served, like
// client-query-buffer-limit (1 GB by default in Redis).
const maxBlockedInput = 1 << 30

var errBlockedInputLimit = errors.New("query buffer limit reached while blocked")

// blockReader is the connection's input: bytes read while the client was blocked come
// first, then the socket. Only one goroutine uses it at a time: the connection's own,
// or, while it waits in waitUnblocked, the helper it starts and joins.
type blockReader struct {
	nc      net.Conn  // for deadlines
	src     io.Reader // the socket, through the server's byte counter
	pending []byte
}

func (b *blockReader) Read(p []byte) (int, error) {
	if len(b.pending) > 0 {
		n := copy(p, b.pending)
		b.pending = b.pending[n:]
		if len(b.pending) == 0 {
			b.pending = nil
		}
		return n, nil
	}
	return b.src.Read(p)
}

// drain reads the socket into pending until an error (which it returns): the peer
// closing, the deadline waitUnblocked sets to stop it, or the input limit.
func (b *blockReader) drain() error {
	var buf [4096]byte
	for {
		n, err := b.src.Read(buf[:])
		b.pending = append(b.pending, buf[:n]...)
		if err != nil {
			return err
		}
		if len(b.pending) > maxBlockedInput {
			return errBlockedInputLimit
		}
	}
}

// Unblocked implements engine.BlockedClient: the engine ended this connection's block
// and hands over its reply. Called with the engine lock held.
func (c *conn) Unblocked(reply []byte) {
	c.push(0, func(w *resp.Writer) { w.Raw(reply) })
	select {
	case c.unblocked <- struct{}{}:
	default:
	}
}

// waitUnblocked waits for the connection's block to end and reports whether the
// connection should go on serving (false: it is closing).
func (c *conn) waitUnblocked() bool {
	e := c.s.e
	e.Lock()
	deadline, blocked := e.BlockDeadline(c.ctx)
	e.Unlock()
	if !blocked {
		return true // served between the end of the batch and now
	}
	var timeout <-chan time.Time
	if deadline > 0 {
		// The deadline is whole milliseconds from a truncated clock: wait until the
		// next millisecond so a timeout never ends early.
		t := time.NewTimer(time.Until(time.UnixMilli(deadline + 1)))
		defer t.Stop()
		timeout = t.C
	}
	// A blocked client is exempt from the idle timeout, as in Redis; the serve loop
	// sets it again for the next read.
	_ = c.nc.SetReadDeadline(time.Time{})
	readDone := make(chan error, 1)
	go func() { readDone <- c.in.drain() }()
	readerRunning := true
	stopReader := func() {
		if !readerRunning {
			return
		}
		_ = c.nc.SetReadDeadline(time.Now())
		<-readDone
		_ = c.nc.SetReadDeadline(time.Time{})
		readerRunning = false
	}
	defer stopReader()
	for {
		select {
		case <-c.unblocked:
			e.Lock()
			still := e.IsBlocked(c.ctx)
			e.Unlock()
			if !still {
				return true
			}
			// A stale signal from an earlier block; keep waiting.
		case <-timeout:
			e.Lock()
			if e.BlockTimedOut(c.ctx) {
				c.commit()
			}
			e.Unlock()
			stopReader()
			return c.flush() == nil
		case err := <-readDone:
			if errors.Is(err, os.ErrDeadlineExceeded) {
				// Not ours (we stop the reader only on the way out): keep watching.
				go func() { readDone <- c.in.drain() }()
				continue
			}
			readerRunning = false
			// The peer closed or broke the connection: Redis frees such a client at
			// once, leaving its keys to the other waiters.
			return false
		case <-c.quit:
			return false
		}
	}
}

// registerClientUnblock mounts CLIENT UNBLOCK under the CLIENT container.
func (s *Server) registerClientUnblock() {
	client := s.e.Commands().Lookup([]byte("client"))
	if client == nil || client.Subcommands == nil {
		return
	}
	client.Subcommands["unblock"] = &engine.Command{Name: "client|unblock", Arity: -3,
		Flags: engine.FlagAdmin | engine.FlagNoscript | engine.FlagLoading | engine.FlagStale | engine.FlagSentinel,
		ACL:   []string{"admin", "slow", "dangerous", "connection"}, Group: "connection", Since: "5.0.0",
		Summary:    "Unblock a client blocked in a blocking command from a different connection",
		Complexity: "O(log N) where N is the number of client connections",
		Syntax:     "client-id [TIMEOUT|ERROR]", Handler: s.clientUnblock}
}

// clientUnblock is CLIENT UNBLOCK client-id [TIMEOUT|ERROR]: it ends another client's
// block as if it timed out, or with an UNBLOCKED error, and replies 1 if that client was
// blocked, else 0. c.Args are the whole command (CLIENT UNBLOCK id ...).
func (s *Server) clientUnblock(c *engine.Ctx) {
	if len(c.Args) < 3 || len(c.Args) > 4 {
		// Redis's clientCommand falls through to its generic subcommand error.
		c.Error("ERR unknown subcommand or wrong number of arguments for '" + string(c.Args[1]) + "'. Try CLIENT HELP.")
		return
	}
	withError := false
	if len(c.Args) == 4 {
		switch {
		case engine.EqualFold(c.Args[3], "timeout"):
		case engine.EqualFold(c.Args[3], "error"):
			withError = true
		default:
			c.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
	}
	id, ok := engine.ParseInt(c.Args[2])
	if !ok {
		c.Error(engine.ErrNotInt)
		return
	}
	s.connsMu.Lock()
	target := s.conns[id]
	s.connsMu.Unlock()
	if target != nil && s.e.UnblockClient(target.ctx, withError) {
		c.W.Int(1)
		return
	}
	c.W.Int(0)
}
