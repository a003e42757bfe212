package bench

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Usage is the help text of kv bench.
const Usage = `Usage: kv bench [-h <host>] [-p <port>] [-c <clients>] [-n <requests>] [-k <boolean>] [<command> ...]

 -h <hostname>      Server hostname (default 127.0.0.1)
 -p <port>          Server port (default 6379)
 -a <password>      Password for Redis Auth
 --user <username>  Used to send ACL style 'AUTH username pass'. Needs -a.
 -c <clients>       Number of parallel connections (default 50)
 -n <requests>      Total number of requests (default 100000)
 -d <size>          Data size of SET/GET value in bytes (default 3)
 --dbnum <db>       SELECT the specified db number (default 0)
 -3                 Start session in RESP3 protocol mode.
 --threads <num>    Use at most <num> CPUs for the load generator.
 -k <boolean>       1=keep alive 0=reconnect (default 1; only keep alive is supported)
 -r <keyspacelen>   Use random keys for SET/GET/INCR, random values for SADD,
                    random members and scores for ZADD: __rand_int__ becomes a
                    12-digit number in [0, keyspacelen).
 -P <numreq>        Pipeline <numreq> requests. Default 1 (no pipeline).
 -q                 Quiet. Just show query/sec values
 --csv              Output in CSV format
 -l                 Loop. Run the tests forever
 -t <tests>         Only run the comma separated list of tests. The test
                    names are the same as the ones produced as output.
 --json             Print all results as one JSON document.
 --ratio <A:B> <a:b> Mixed workload, e.g. --ratio SET:GET 1:10.
 --keys <dist>      Key distribution for __rand_int__: uniform (default),
                    zipfian or sequential (implies -r 100000 if -r is not given).
 --duration <d>     Run each test for a duration (30s, 2m) instead of -n requests.
 --compare <h:p>    Run every test against this second server too and print the
                    ratio per test.
 --help             Output this help and exit.
`

// ParseArgs parses redis-benchmark's options; the words after them are a command to
// benchmark.
func ParseArgs(args []string) (*Config, bool, error) {
	c := &Config{Host: "127.0.0.1", Port: 6379, Clients: 50, Requests: 100000, DataSize: 3, Pipeline: 1}
	for i := 0; i < len(args); i++ {
		a := args[i]
		last := i == len(args)-1
		val := func() (string, error) {
			if last {
				return "", fmt.Errorf("Invalid option \"%s\" or option argument missing", a)
			}
			i++
			return args[i], nil
		}
		num := func() (int, error) {
			v, err := val()
			if err != nil {
				return 0, err
			}
			n, err := strconv.Atoi(v)
			if err != nil {
				return 0, fmt.Errorf("%s: %q is not a number", a, v)
			}
			return n, nil
		}
		var err error
		switch a {
		case "--help":
			return nil, true, nil
		case "-h":
			c.Host, err = val()
		case "-p":
			c.Port, err = num()
		case "-a":
			c.Password, err = val()
		case "--user":
			c.User, err = val()
		case "-c":
			c.Clients, err = num()
		case "-n":
			c.Requests, err = num()
		case "-d":
			c.DataSize, err = num()
		case "-r":
			c.KeySpace, err = num()
		case "-P":
			c.Pipeline, err = num()
		case "--dbnum":
			c.DB, err = num()
		case "--threads":
			c.Threads, err = num()
		case "-k":
			var k int
			if k, err = num(); err == nil && k != 1 {
				err = fmt.Errorf("-k 0 (reconnect per request) is not supported")
			}
		case "-3":
			c.Resp3 = true
		case "-q":
			c.Quiet = true
		case "--csv":
			c.CSV = true
		case "--json":
			c.JSON = true
		case "-l":
			c.Loop = true
		case "-t":
			var v string
			if v, err = val(); err == nil {
				c.Tests = strings.Split(strings.ToLower(v), ",")
			}
		case "--ratio":
			var names, weights string
			if names, err = val(); err == nil {
				if weights, err = val(); err == nil {
					c.Ratio, err = ParseRatio(names, weights)
				}
			}
		case "--keys":
			c.Keys, err = val()
		case "--duration":
			var v string
			if v, err = val(); err == nil {
				c.Duration, err = time.ParseDuration(v)
			}
		case "--compare":
			c.Compare, err = val()
		default:
			if strings.HasPrefix(a, "-") {
				return nil, false, fmt.Errorf("Invalid option \"%s\" or option argument missing", a)
			}
			c.Command = args[i:]
			i = len(args)
		}
		if err != nil {
			return nil, false, err
		}
	}
	if c.Clients < 1 || c.Pipeline < 1 || c.DataSize < 0 || c.Requests < 1 && c.Duration == 0 {
		return nil, false, fmt.Errorf("-c, -P and -n must be positive, -d not negative")
	}
	return c, false, nil
}
