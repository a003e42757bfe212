package repl

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Options are redis-cli's command-line options that kv cli understands.
type Options struct {
	Host     string
	Port     int
	Password string
	User     string
	// TLS: --tls, --cacert, --cert, --key, --sni, --insecure as redis-cli takes them.
	TLS       bool
	CACert    string
	Cert, Key string
	SNI       string
	Insecure  bool
	DB        int
	Resp2     bool
	Resp3     int // 0 unset, 1 asked with -3, 2 implied by --json
	Output    Output
	// OutputSet is true when --raw, --no-raw, --csv or --json chose the output
	// explicitly; otherwise it follows whether stdout is a terminal.
	OutputSet bool

	Repeat        int64         // -r; negative repeats for ever
	Interval      time.Duration // -i
	StdinArg      bool          // -x: last argument from stdin
	ErrCode       bool          // -e: print error replies to stderr only
	NoAuthWarning bool

	Pipe          bool
	PipeTimeout   int // seconds; 0 waits for ever
	Scan          bool
	Pattern       string
	Count         int
	BigKeys       bool
	MemKeys       bool
	MemSamples    int
	Latency       bool
	LatencyHist   bool
	Stat          bool
	RDB           string
	Sentinel      []string
	Master        string
	ShowPushes    bool
	ShowPushesSet bool

	Version bool
	Help    bool

	// Args is the command to run in one-shot mode; empty starts the REPL.
	Args []string
}

// DefaultPipeTimeout matches redis-cli's REDIS_CLI_DEFAULT_PIPE_TIMEOUT (seconds).
const DefaultPipeTimeout = 30

// ParseOptions parses arguments the way redis-cli does: options first, and the first
// word that does not start with '-' begins the command (so "-h" takes a host, as every
// Redis user expects, and "--help" prints the usage).
func ParseOptions(args []string) (*Options, error) {
	o := &Options{Host: "127.0.0.1", Port: 6379, Repeat: 1, PipeTimeout: DefaultPipeTimeout}
	i := 0
	next := func() (string, bool) {
		if i+1 >= len(args) {
			return "", false
		}
		i++
		return args[i], true
	}
	for ; i < len(args); i++ {
		a := args[i]
		last := i == len(args)-1
		switch {
		case a == "-h" && last, a == "--help":
			o.Help = true
		case a == "-h":
			o.Host, _ = next()
		case a == "-p" && !last:
			v, _ := next()
			o.Port = atoi(v)
		case a == "-x":
			o.StdinArg = true
		case a == "-r" && !last:
			v, _ := next()
			o.Repeat, _ = strconv.ParseInt(v, 10, 64)
		case a == "-i" && !last:
			v, _ := next()
			f, _ := strconv.ParseFloat(v, 64)
			o.Interval = time.Duration(f * float64(time.Second))
		case a == "-n" && !last:
			v, _ := next()
			o.DB = atoi(v)
		case a == "--no-auth-warning":
			o.NoAuthWarning = true
		case (a == "-a" || a == "--pass") && !last:
			o.Password, _ = next()
		case a == "--user" && !last:
			o.User, _ = next()
		case a == "--tls":
			o.TLS = true
		case a == "--insecure":
			o.Insecure = true
		case a == "--cacert" && !last:
			o.CACert, _ = next()
		case a == "--cert" && !last:
			o.Cert, _ = next()
		case a == "--key" && !last:
			o.Key, _ = next()
		case a == "--sni" && !last:
			o.SNI, _ = next()
		case a == "-u" && !last:
			v, _ := next()
			if err := o.parseURI(v); err != nil {
				return nil, err
			}
		case a == "--raw":
			o.Output, o.OutputSet = OutputRaw, true
		case a == "--no-raw":
			o.Output, o.OutputSet = OutputStandard, true
		case a == "--csv":
			o.Output, o.OutputSet = OutputCSV, true
		case a == "--json" || a == "--quoted-json":
			if o.Resp3 == 0 {
				o.Resp3 = 2
			}
			o.Output, o.OutputSet = OutputJSON, true
			if a == "--quoted-json" {
				o.Output = OutputQuotedJSON
			}
		case a == "--latency":
			o.Latency = true
		case a == "--latency-history":
			o.Latency, o.LatencyHist = true, true
		case a == "--stat":
			o.Stat = true
		case a == "--scan":
			o.Scan = true
		case a == "--pattern" && !last:
			o.Pattern, _ = next()
		case a == "--count" && !last:
			v, _ := next()
			o.Count = atoi(v)
		case a == "--rdb" && !last:
			o.RDB, _ = next()
		case a == "--pipe":
			o.Pipe = true
		case a == "--pipe-timeout" && !last:
			v, _ := next()
			o.PipeTimeout = atoi(v)
		case a == "--bigkeys":
			o.BigKeys = true
		case a == "--memkeys":
			o.MemKeys = true
		case a == "--memkeys-samples" && !last:
			v, _ := next()
			o.MemKeys, o.MemSamples = true, atoi(v)
		case a == "--sentinel" && !last:
			v, _ := next()
			o.Sentinel = append(o.Sentinel, strings.Split(v, ",")...)
		case a == "--master" && !last:
			o.Master, _ = next()
		case a == "-e":
			o.ErrCode = true
		case a == "-2":
			o.Resp2 = true
		case a == "-3":
			o.Resp3 = 1
		case a == "--show-pushes" && !last:
			v, _ := next()
			switch {
			case strings.HasPrefix(strings.ToLower(v), "n"):
				o.ShowPushes, o.ShowPushesSet = false, true
			case strings.HasPrefix(strings.ToLower(v), "y"):
				o.ShowPushes, o.ShowPushesSet = true, true
			default:
				return nil, fmt.Errorf("Unknown --show-pushes value '%s' (valid: '[y]es', '[n]o')", v)
			}
		case a == "-v" || a == "--version":
			o.Version = true
		default:
			if strings.HasPrefix(a, "-") {
				return nil, fmt.Errorf("Unrecognized option or bad number of args for: '%s'", a)
			}
			o.Args = args[i:]
			i = len(args)
		}
	}
	if o.Resp2 && o.Resp3 == 1 {
		return nil, errors.New("Options -2 and -3 are mutually exclusive.")
	}
	if (len(o.Sentinel) > 0) != (o.Master != "") {
		return nil, errors.New("Options --sentinel and --master go together.")
	}
	return o, nil
}

// Addr is host:port.
func (o *Options) Addr() string {
	return joinHostPort(o.Host, o.Port)
}

func joinHostPort(h string, p int) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]:" + strconv.Itoa(p)
	}
	return h + ":" + strconv.Itoa(p)
}

// Proto is the protocol the session asks for.
func (o *Options) Proto() int {
	if o.Resp3 != 0 && !o.Resp2 {
		return 3
	}
	return 2
}

func atoi(s string) int {
	// atoi as C's: leading digits count, garbage gives 0.
	n, i, neg := 0, 0, false
	s = strings.TrimLeft(s, " \t")
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int(s[i]-'0')
	}
	if neg {
		return -n
	}
	return n
}

// parseURI reads redis://[[user:]password@]host[:port][/db], as redis-cli's -u.
func (o *Options) parseURI(uri string) error {
	lower := strings.ToLower(uri)
	switch {
	case strings.HasPrefix(lower, "rediss://"):
		return errors.New("rediss:// is only supported when kv cli is built with TLS")
	case !strings.HasPrefix(lower, "redis://"):
		return errors.New("Invalid URI scheme")
	}
	rest := uri[len("redis://"):]
	if rest == "" {
		return nil
	}
	if at := strings.Index(rest, "@"); at >= 0 {
		userinfo := rest[:at]
		if c := strings.Index(userinfo, ":"); c >= 0 {
			u, err := url.PathUnescape(userinfo[:c])
			if err != nil {
				return err
			}
			o.User = u
			userinfo = userinfo[c+1:]
		}
		p, err := url.PathUnescape(userinfo)
		if err != nil {
			return err
		}
		o.Password = p
		rest = rest[at+1:]
	}
	if rest == "" {
		return nil
	}
	hostport, path, hasPath := strings.Cut(rest, "/")
	if hostport != "" {
		if c := strings.LastIndex(hostport, ":"); c >= 0 && !strings.HasSuffix(hostport, "]") {
			o.Port = atoi(hostport[c+1:])
			hostport = hostport[:c]
		}
		o.Host = strings.Trim(hostport, "[]")
	}
	if hasPath && path != "" {
		o.DB = atoi(path)
	}
	return nil
}

// Usage is the help text of kv cli.
const Usage = `Usage: kv cli [OPTIONS] [cmd [arg [arg ...]]]
  -h <hostname>      Server hostname (default: 127.0.0.1).
  -p <port>          Server port (default: 6379).
  -a <password>      Password to use when connecting to the server.
  --user <username>  Used to send ACL style 'AUTH username pass'. Needs -a.
  --pass <password>  Alias of -a for consistency with the new --user option.
  --no-auth-warning  Don't show warning message when using password on command line interface.
  -u <uri>           Server URI (redis://[[user:]password@]host[:port][/db]).
  -r <repeat>        Execute specified command N times (negative: for ever).
  -i <interval>      When -r is used, waits <interval> seconds per command.
                     It is possible to specify sub-second times like -i 0.1.
  -n <db>            Database number.
  -2                 Start session in RESP2 protocol mode.
  -3                 Start session in RESP3 protocol mode.
  -x                 Read last argument from STDIN.
  -e                 Print error replies to stderr only (the exit status is 1 on an
                     error reply in any case).
  --raw              Use raw formatting for replies (default when STDOUT is
                     not a tty).
  --no-raw           Force formatted output even when STDOUT is not a tty.
  --csv              Output in CSV format.
  --json             Output in JSON format (default RESP3, use -2 if you want to use with RESP2).
  --quoted-json      Same as --json, but produce ASCII-safe quoted strings, not Unicode.
  --show-pushes <yn> Whether to print RESP3 PUSH messages. Enabled by default when
                     STDOUT is a tty but can be overridden with --show-pushes no.
  --stat             Print rolling stats about server: mem, clients, ...
  --latency          Enter a special mode continuously sampling latency.
  --latency-history  Like --latency but tracking latency changes over time.
                     Default time interval is 15 sec. Change it using -i.
  --rdb <filename>   Transfer an RDB dump from remote server to local file.
                     Use filename of "-" to write to stdout.
  --pipe             Transfer raw Redis protocol from stdin to server.
  --pipe-timeout <n> In --pipe mode, abort with error if after sending all data.
                     no reply is received within <n> seconds.
                     Default timeout: 30. Use 0 to wait forever.
  --bigkeys          Sample Redis keys looking for keys with many elements (complexity).
  --memkeys          Sample Redis keys looking for keys consuming a lot of memory.
  --memkeys-samples <n> Sample Redis keys looking for keys consuming a lot of memory.
                     And define number of key elements to sample
  --scan             List all keys using the SCAN command.
  --pattern <pat>    Keys pattern when using the --scan, --bigkeys or --hotkeys
                     options (default: *).
  --count <count>    Count option when using the --scan, --bigkeys or --hotkeys (default: 10).
  --sentinel <host:port> Ask this Sentinel (repeat or comma-separate for several)
                     for the master and connect to it. Needs --master.
  --master <name>    The master name the Sentinels monitor.
  --help             Output this help and exit.
  --version          Output version and exit.

Examples:
  cat /etc/passwd | kv cli -x set mypasswd
  kv cli -u redis://default:PASSWORD@localhost:6379/0 get mypasswd
  kv cli -r 100 lpush mylist x
  kv cli -r 100 -i 1 info | grep used_memory_human:
  kv cli --scan --pattern '*:12345*'

When no command is given, kv cli starts in interactive mode.
Type "help" in interactive mode for information on available commands
and settings.
`
