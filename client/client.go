// Package client is kv's Go client: one connection to a Redis-compatible server
// (dial with a timeout, AUTH, SELECT, HELLO 3), request/reply calls, pipelining,
// RESP3 push messages, and Sentinel-aware dialing. The REPL (client/repl), the load
// generator (client/bench), the replica side and the Sentinel all talk to servers
// through it, exactly as they would to real Redis.
//
// Concurrency contract: a Conn is owned by one goroutine at a time. Do, Send, Flush,
// Receive and ReceiveAny must not be called concurrently; callers that share a Conn
// serialize themselves. The OnPush callback runs synchronously on the goroutine that
// is reading (inside Do or Receive), so it must not call back into the same Conn.
// Close is the one method that may be called from any goroutine at any time: it
// unblocks a reader waiting on the socket (this is how Ctrl-C ends MONITOR).
package client

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"kv/resp"
)

// Options configure a connection.
type Options struct {
	Addr     string // host:port
	Username string // ACL user; empty means AUTH with the password only
	Password string
	DB       int
	// Protocol 3 sends HELLO 3 after connecting; 0 or 2 keeps RESP2.
	Protocol    int
	ClientName  string
	DialTimeout time.Duration // default 5s
	// ReadTimeout and WriteTimeout bound each socket operation; zero means no deadline
	// (a REPL waiting on BLPOP 0 or MONITOR must wait for ever).
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	// OnPush receives RESP3 push messages that arrive while a reply is awaited
	// (client-side caching invalidations, for example). Nil drops them.
	OnPush func(resp.Value)
	// TLS, when set, wraps the connection in TLS with this configuration.
	TLS *tls.Config
	// Dial, when set, opens the TCP connection instead of a net.Dialer (with
	// DialTimeout applied to ctx); tests use it to simulate network partitions.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Conn is one connection to a server.
type Conn struct {
	opts    Options
	nc      net.Conn
	rd      *resp.ReplyReader
	bw      *bufio.Writer
	wbuf    []byte
	pending int // replies owed for commands sent and not yet received
	proto   int
	closeMu sync.Mutex
	closed  bool
}

// Error is an error reply from the server, returned by the helpers that turn replies
// into Go errors. Do itself returns error replies as values of resp.KindError.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// ReplyErr returns an *Error if v is an error reply, else nil.
func ReplyErr(v resp.Value) error {
	if v.Kind == resp.KindError {
		return &Error{Msg: string(v.Str)}
	}
	return nil
}

// Dial connects and prepares the session: AUTH when a password is set, SELECT when
// DB is not 0, HELLO 3 when Protocol is 3 (in the order redis-cli uses).
func Dial(ctx context.Context, opts Options) (*Conn, error) {
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 5 * time.Second
	}
	var nc net.Conn
	var err error
	if opts.Dial != nil {
		dctx, cancel := context.WithTimeout(ctx, opts.DialTimeout)
		nc, err = opts.Dial(dctx, "tcp", opts.Addr)
		cancel()
	} else {
		d := net.Dialer{Timeout: opts.DialTimeout, KeepAlive: 15 * time.Second}
		nc, err = d.DialContext(ctx, "tcp", opts.Addr)
	}
	if err != nil {
		return nil, err
	}
	if opts.TLS != nil {
		tc := tls.Client(nc, opts.TLS)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, err
		}
		nc = tc
	}
	c := newConn(nc, opts)
	if err := c.handshake(); err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

func newConn(nc net.Conn, opts Options) *Conn {
	return &Conn{opts: opts, nc: nc, rd: resp.NewReplyReader(nc), bw: bufio.NewWriterSize(nc, 16<<10), proto: 2}
}

// HandshakeError says which step of the session setup the server refused.
type HandshakeError struct {
	Step string // "AUTH", "SELECT", "HELLO"
	Msg  string
}

func (e *HandshakeError) Error() string { return e.Step + " failed: " + e.Msg }

func (c *Conn) handshake() error {
	if c.opts.Password != "" {
		args := []string{"AUTH", c.opts.Password}
		if c.opts.Username != "" {
			args = []string{"AUTH", c.opts.Username, c.opts.Password}
		}
		if err := c.expectOK("AUTH", args...); err != nil {
			return err
		}
	}
	if c.opts.DB != 0 {
		if err := c.expectOK("SELECT", "SELECT", strconv.Itoa(c.opts.DB)); err != nil {
			return err
		}
	}
	if c.opts.Protocol == 3 {
		v, err := c.Do("HELLO", "3")
		if err != nil {
			return err
		}
		if v.Kind == resp.KindError {
			return &HandshakeError{Step: "HELLO 3", Msg: string(v.Str)}
		}
		c.proto = 3
	}
	if c.opts.ClientName != "" {
		if err := c.expectOK("CLIENT SETNAME", "CLIENT", "SETNAME", c.opts.ClientName); err != nil {
			return err
		}
	}
	return nil
}

func (c *Conn) expectOK(step string, args ...string) error {
	v, err := c.Do(toAny(args)...)
	if err != nil {
		return err
	}
	if v.Kind == resp.KindError {
		return &HandshakeError{Step: step, Msg: string(v.Str)}
	}
	return nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// Addr is the address the connection was dialled to.
func (c *Conn) Addr() string { return c.opts.Addr }

// Proto is the protocol the session speaks (2 or 3).
func (c *Conn) Proto() int { return c.proto }

// SetProto records a protocol switch made by a HELLO the caller sent itself.
func (c *Conn) SetProto(p int) { c.proto = p }

// NetConn exposes the socket (for deadlines and raw transfers such as --pipe).
func (c *Conn) NetConn() net.Conn { return c.nc }

// Reader exposes the reply reader (to stream an RDB payload after SYNC).
func (c *Conn) Reader() *resp.ReplyReader { return c.rd }

// Pending is the number of replies owed for commands already sent.
func (c *Conn) Pending() int { return c.pending }

// Close closes the socket. Safe to call from any goroutine, more than once.
func (c *Conn) Close() error {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	return c.nc.Close()
}

// Do sends one command and returns its reply. Error replies come back as values of
// resp.KindError; err is set only when the connection failed.
func (c *Conn) Do(args ...any) (resp.Value, error) {
	if err := c.Send(args...); err != nil {
		return resp.Value{}, err
	}
	if err := c.Flush(); err != nil {
		return resp.Value{}, err
	}
	return c.Receive()
}

// DoArgs is Do for an argument vector already in bytes.
func (c *Conn) DoArgs(args [][]byte) (resp.Value, error) {
	c.SendArgs(args)
	if err := c.Flush(); err != nil {
		return resp.Value{}, err
	}
	return c.Receive()
}

// Send queues one command in the write buffer without sending it. Arguments may be
// string, []byte, int, int64, float64 or fmt.Stringer.
func (c *Conn) Send(args ...any) error {
	bs := make([][]byte, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			bs[i] = []byte(v)
		case []byte:
			bs[i] = v
		case int:
			bs[i] = strconv.AppendInt(nil, int64(v), 10)
		case int64:
			bs[i] = strconv.AppendInt(nil, v, 10)
		case float64:
			bs[i] = strconv.AppendFloat(nil, v, 'f', -1, 64)
		case fmt.Stringer:
			bs[i] = []byte(v.String())
		default:
			return fmt.Errorf("client: unsupported argument type %T", a)
		}
	}
	c.SendArgs(bs)
	return nil
}

// SendArgs queues one command given as bytes.
func (c *Conn) SendArgs(args [][]byte) {
	c.wbuf = resp.AppendCommand(c.wbuf[:0], args...)
	_, _ = c.bw.Write(c.wbuf) // a write error resurfaces in Flush
	c.pending++
}

// SendRaw queues bytes as they are (inline commands, pre-encoded protocol). The
// caller says how many replies they will produce.
func (c *Conn) SendRaw(b []byte, replies int) {
	_, _ = c.bw.Write(b)
	c.pending += replies
}

// Flush writes every queued command to the socket.
func (c *Conn) Flush() error {
	if c.opts.WriteTimeout > 0 {
		_ = c.nc.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout))
	}
	return c.bw.Flush()
}

// Receive returns the reply to the oldest command sent and not yet answered. RESP3
// push messages that arrive first are handed to OnPush.
func (c *Conn) Receive() (resp.Value, error) {
	for {
		v, err := c.read()
		if err != nil {
			return v, err
		}
		if v.Kind == resp.KindPush {
			if c.opts.OnPush != nil {
				c.opts.OnPush(v)
			}
			continue
		}
		if c.pending > 0 {
			c.pending--
		}
		return v, nil
	}
}

// ReceiveAny returns the next value from the server, push messages included, for
// the subscribed and MONITOR modes where the server talks without being asked. In
// RESP3 the confirmations of SUBSCRIBE and friends are push messages themselves, so
// a subscriber sends with Send and Flush and reads everything with ReceiveAny.
func (c *Conn) ReceiveAny() (resp.Value, error) {
	v, err := c.read()
	if err == nil && v.Kind != resp.KindPush && c.pending > 0 {
		c.pending--
	}
	return v, err
}

func (c *Conn) read() (resp.Value, error) {
	if c.opts.ReadTimeout > 0 {
		_ = c.nc.SetReadDeadline(time.Now().Add(c.opts.ReadTimeout))
	}
	return c.rd.Read()
}

// IsConnError reports whether err means the connection is gone (the server closed
// it, restarted, or the network failed), as opposed to a protocol problem.
func IsConnError(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	s := err.Error()
	return errors.Is(err, net.ErrClosed) || strings.Contains(s, "EOF") ||
		strings.Contains(s, "connection reset") || strings.Contains(s, "broken pipe")
}
