// Package repl is kv cli: a redis-cli compatible command-line client. It prints
// replies byte for byte as redis-cli 7.0 does (RESP2 and RESP3), runs one-shot
// commands with redis-cli's options and exit statuses, offers an interactive REPL
// (peterh/liner: history, completion, hints, help from COMMAND DOCS) and the special
// modes operators script with: --pipe, --scan, --bigkeys, --memkeys, --latency,
// --latency-history, --stat, --rdb, and Sentinel-aware connection.
//
// Run owns the process's terminal while it runs: one goroutine drives the session;
// a second one only watches for Ctrl-C and closes the connection to end a stream.
package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"kv/client"
	"kv/resp"
)

// Env is what the CLI needs from the process, so tests can run it in-process.
type Env struct {
	Stdin     io.Reader
	Stdout    io.Writer
	Stderr    io.Writer
	StdoutTTY bool // stdout is a terminal (or FAKETTY is set, as for redis-cli)
	StdinTTY  bool
	// Builtin is the help table used when the server has no COMMAND DOCS.
	Builtin []HelpEntry
	Version string
	// HistoryFile is where the REPL keeps its history ("" keeps none).
	HistoryFile string
	// Interrupt delivers Ctrl-C while a command runs in the REPL; nil if none.
	Interrupt <-chan os.Signal
}

// exitError ends the program with a status, after printing nothing more.
type exitError int

// Run executes kv cli with parsed options and returns the process exit status.
func Run(o *Options, env Env) int {
	if env.Stdin == nil {
		env.Stdin = os.Stdin
	}
	if env.Stdout == nil {
		env.Stdout = os.Stdout
	}
	if env.Stderr == nil {
		env.Stderr = os.Stderr
	}
	if o.Help {
		fmt.Fprint(env.Stderr, Usage)
		return 0
	}
	if o.Version {
		fmt.Fprintf(env.Stdout, "kv cli %s\n", env.Version)
		return 0
	}
	if !o.OutputSet {
		o.Output = OutputRaw
		if env.StdoutTTY {
			o.Output = OutputStandard
		}
	}
	s := &session{o: o, env: env, out: env.Stdout, inputDB: o.DB, pushOutput: env.StdoutTTY}
	if o.ShowPushesSet {
		s.pushOutput = o.ShowPushes
	}
	if o.Password != "" && !o.NoAuthWarning {
		fmt.Fprintln(env.Stderr, "Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.")
	}
	code := s.run()
	if s.conn != nil {
		s.conn.Close()
	}
	return code
}

func (s *session) run() (code int) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(exitError); ok {
				code = int(e)
				return
			}
			panic(r)
		}
	}()
	o := s.o
	switch {
	case o.Latency:
		s.mustConnect()
		return s.latencyMode()
	case o.RDB != "":
		s.mustConnect()
		return s.rdbMode()
	case o.Pipe:
		s.mustConnect()
		return s.pipeMode()
	case o.BigKeys || o.MemKeys:
		s.mustConnect()
		return s.bigKeysMode(o.MemKeys)
	case o.Stat:
		s.mustConnect()
		return s.statMode()
	case o.Scan:
		s.mustConnect()
		return s.scanMode()
	case len(o.Args) == 0:
		s.interactive = true
		_ = s.connect(false, false)
		return s.repl()
	default:
		_ = s.connect(false, true)
		return s.oneShot()
	}
}

type session struct {
	o           *Options
	env         Env
	out         io.Writer
	conn        *client.Conn
	host        string
	port        int
	inputDB     int // the database to select on (re)connect
	db          int // the database selected now
	inMulti     bool
	preMultiDB  int
	interactive bool
	pushOutput  bool
	help        HelpTable
	sawError    bool

	mu        sync.Mutex // guards streaming, aborted and conn for the Ctrl-C watcher
	streaming bool
	aborted   bool
}

func (s *session) exit(code int) { panic(exitError(code)) }

func (s *session) mustConnect() {
	if err := s.connect(false, false); err != nil {
		s.exit(1)
	}
}

func (s *session) printf(format string, args ...any) { fmt.Fprintf(s.out, format, args...) }

func (s *session) errorf(format string, args ...any) { fmt.Fprintf(s.env.Stderr, format, args...) }

// connect opens the connection unless one is open (or force), authenticates,
// selects the database and switches protocol, printing failures unless quiet.
func (s *session) connect(force, quiet bool) error {
	if s.conn != nil && !force {
		return nil
	}
	if s.conn != nil {
		s.conn.Close()
		s.setConn(nil)
		s.db, s.inMulti = 0, false
	}
	o := s.o
	s.host, s.port = o.Host, o.Port
	ctx := context.Background()
	if len(o.Sentinel) > 0 {
		addr, err := client.MasterAddr(ctx, client.SentinelOptions{Sentinels: o.Sentinel, Master: o.Master},
			client.Options{DialTimeout: 5 * time.Second})
		if err != nil {
			if !quiet {
				s.errorf("Could not get the master address from the sentinels: %v\n", err)
			}
			return err
		}
		h, p, _ := net.SplitHostPort(addr)
		s.host, s.port = h, atoi(p)
	}
	addr := joinHostPort(s.host, s.port)
	tlsConf, err := o.TLSConfig(s.host)
	if err != nil {
		if !quiet {
			s.errorf("Could not negotiate a TLS connection: %v\n", err)
		}
		return err
	}
	c, err := client.Dial(ctx, client.Options{Addr: addr, Username: o.User, Password: o.Password,
		DB: s.inputDB, DialTimeout: 10 * time.Second, OnPush: s.onPush, TLS: tlsConf})
	if err != nil {
		if !quiet {
			var he *client.HandshakeError
			if errors.As(err, &he) {
				if he.Step == "SELECT" {
					s.errorf("SELECT %d failed: %s\n", s.inputDB, he.Msg)
				} else {
					s.errorf("%s failed: %s\n", he.Step, he.Msg)
				}
			} else {
				s.errorf("Could not connect to Redis at %s: %s\n", addr, connErrText(err))
			}
		}
		return err
	}
	if o.Proto() == 3 {
		v, err := c.Do("HELLO", "3")
		if err != nil {
			c.Close()
			return err
		}
		if v.Kind == resp.KindError {
			// Like redis-cli, say so and go on in RESP2 on the connection made.
			s.errorf("HELLO 3 failed: %s\n", v.Str)
		} else {
			c.SetProto(3)
		}
	}
	s.db = s.inputDB
	s.setConn(c)
	return nil
}

func (s *session) setConn(c *client.Conn) {
	s.mu.Lock()
	s.conn = c
	s.mu.Unlock()
}

// connErrText words a dial error as hiredis does ("Connection refused").
func connErrText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		t := errno.Error()
		return strings.ToUpper(t[:1]) + t[1:]
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "Name or service not known"
	}
	return err.Error()
}

// alive checks, without blocking, whether the server closed the connection while
// the REPL sat idle (a restart): then the next command goes on a fresh connection
// instead of failing once.
func (s *session) alive() bool {
	if s.conn == nil {
		return false
	}
	nc := s.conn.NetConn()
	_ = nc.SetReadDeadline(time.Now().Add(time.Millisecond))
	_, err := s.conn.Reader().Underlying().Peek(1)
	_ = nc.SetReadDeadline(time.Time{})
	var ne net.Error
	if err == nil || errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	s.conn.Close()
	s.setConn(nil)
	return false
}

func (s *session) onPush(v resp.Value) {
	if s.pushOutput {
		io.WriteString(s.out, FormatPush(v, s.o.Output))
	}
}

func (s *session) prompt() string {
	if s.conn == nil {
		return "not connected> "
	}
	p := joinHostPort(s.host, s.port)
	if s.db != 0 {
		p += "[" + strconv.Itoa(s.db) + "]"
	}
	if s.inMulti {
		p += "(TX)"
	}
	return p + "> "
}

// rawOutputCommand lists the commands whose replies redis-cli prints verbatim.
func rawOutputCommand(args []string) bool {
	n := len(args)
	c := strings.ToLower(args[0])
	sub := ""
	if n >= 2 {
		sub = strings.ToLower(args[1])
	}
	switch c {
	case "info", "lolwut":
		return true
	case "debug":
		return n >= 2 && (sub == "htstats" || sub == "htstats-key" || sub == "client-eviction")
	case "memory":
		return n >= 2 && (sub == "malloc-stats" || sub == "doctor")
	case "cluster":
		return n == 2 && (sub == "nodes" || sub == "info")
	case "client":
		return n >= 2 && (sub == "list" || sub == "info")
	case "latency":
		return n == 3 && sub == "graph" || n == 2 && sub == "doctor"
	case "proxy":
		return n >= 2 && sub == "info"
	}
	return false
}

var errConnLost = errors.New("Server closed the connection")

// sendCommand runs one command repeat times (negative: for ever) and prints the
// replies. It returns errConnLost (or another I/O error) if the connection failed.
func (s *session) sendCommand(args []string, repeat int64) error {
	if s.conn == nil {
		return errConnLost
	}
	cmd := strings.ToLower(args[0])
	verbatim := rawOutputCommand(args)
	shutdown := cmd == "shutdown"
	monitor := cmd == "monitor"
	pubsub := cmd == "subscribe" || cmd == "psubscribe" || cmd == "ssubscribe"
	replica := cmd == "sync" || cmd == "psync"
	bargs := make([][]byte, len(args))
	for i, a := range args {
		bargs[i] = []byte(a)
	}
	for repeat < 0 || repeat > 0 {
		if repeat > 0 {
			repeat--
		}
		if replica {
			s.printf("Entering replica output mode...  (press Ctrl-C to quit)\n")
			s.replicaMode(bargs)
			return errConnLost
		}
		s.conn.SendArgs(bargs)
		if err := s.conn.Flush(); err != nil {
			return err
		}
		if monitor || pubsub {
			if pubsub && s.o.Output != OutputRaw {
				s.printf("Reading messages... (press Ctrl-C to quit)\n")
			}
			return s.stream()
		}
		v, err := s.conn.Receive()
		if err != nil {
			if shutdown {
				s.conn.Close()
				s.setConn(nil)
				return nil
			}
			return err
		}
		if v.Kind == resp.KindError {
			s.sawError = true
			if !s.interactive && s.o.ErrCode {
				s.errorf("%s\n", v.Str)
				s.exit(1)
			}
		}
		io.WriteString(s.out, Format(v, s.o.Output, verbatim))
		s.track(args, v)
		if s.o.Interval > 0 {
			time.Sleep(s.o.Interval)
		}
	}
	return nil
}

// track follows the session state the prompt shows: database, MULTI.
func (s *session) track(args []string, v resp.Value) {
	isErr := v.Kind == resp.KindError
	n := len(args)
	switch strings.ToLower(args[0]) {
	case "select":
		if n == 2 && !isErr {
			s.db = atoi(args[1])
			s.inputDB = s.db
		}
	case "multi":
		if n == 1 && !isErr {
			s.inMulti, s.preMultiDB = true, s.db
		}
	case "exec":
		if n == 1 && s.inMulti {
			s.inMulti = false
			if isErr || isNull(v) {
				s.db, s.inputDB = s.preMultiDB, s.preMultiDB
			}
		}
	case "discard":
		if n == 1 && !isErr {
			s.inMulti = false
			s.db, s.inputDB = s.preMultiDB, s.preMultiDB
		}
	case "reset":
		if n == 1 && !isErr {
			s.inMulti, s.db, s.inputDB = false, 0, 0
			s.conn.SetProto(2)
		}
	case "hello":
		if n >= 2 && !isErr {
			s.conn.SetProto(atoi(args[1]))
		}
	}
}

// stream prints what a subscribed or MONITOR connection receives until an error
// reply, the connection ends, or Ctrl-C (which closes the connection; in the REPL a
// fresh connection then takes its place).
func (s *session) stream() error {
	s.mu.Lock()
	s.streaming = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.streaming = false
		s.mu.Unlock()
	}()
	for {
		v, err := s.conn.ReceiveAny()
		if err != nil {
			s.mu.Lock()
			aborted := s.aborted
			s.aborted = false
			s.mu.Unlock()
			if aborted {
				if s.interactive {
					return s.connect(true, false)
				}
				s.exit(1)
			}
			return err
		}
		io.WriteString(s.out, Format(v, s.o.Output, false))
		if v.Kind == resp.KindError {
			s.sawError = true
			return nil
		}
	}
}

// interrupt handles Ctrl-C while a command runs: a stream ends, anything else ends
// the program, as in redis-cli.
func (s *session) interrupt() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.streaming && s.conn != nil {
		s.aborted = true
		s.conn.Close()
		return
	}
	os.Exit(1)
}

func (s *session) oneShot() int {
	args := s.o.Args
	if s.o.StdinArg {
		b, err := io.ReadAll(s.env.Stdin)
		if err != nil {
			s.errorf("Reading from standard input: %v\n", err)
			return 1
		}
		args = append(append([]string(nil), args...), string(b))
	}
	if strings.EqualFold(args[0], "help") || args[0] == "?" {
		s.loadHelp()
		s.help.PrintHelp(s.out, s.env.Version, args[1:])
		return 0
	}
	if s.conn == nil {
		if err := s.connect(true, false); err != nil {
			return 1
		}
	}
	if s.env.Interrupt != nil {
		go func() {
			for range s.env.Interrupt {
				s.interrupt()
			}
		}()
	}
	if err := s.sendCommand(args, s.o.Repeat); err != nil {
		s.errorf("Error: %s\n", ioErrText(err))
		return 1
	}
	if s.sawError {
		return 1
	}
	return 0
}

func ioErrText(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, errConnLost) || errors.Is(err, net.ErrClosed) {
		return "Server closed the connection"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		t := errno.Error()
		return strings.ToUpper(t[:1]) + t[1:]
	}
	return err.Error()
}

// loadHelp builds the help table from the server's COMMAND DOCS, or from the
// built-in table when there is no server or it does not have COMMAND DOCS.
func (s *session) loadHelp() {
	if s.help != nil {
		return
	}
	if s.conn != nil {
		if v, err := s.conn.Do("COMMAND", "DOCS"); err == nil {
			if t, ok := HelpFromDocs(v); ok {
				s.help = t
				return
			}
		}
	}
	s.help = NewHelpTable(s.env.Builtin)
}
