package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/pelletier/go-toml/v2"
	"github.com/urfave/cli/v2"

	"kv/config"
	"kv/engine"
	"kv/server"
)

// serveCommand is `kv serve [file.toml] [--config file.toml] [--<setting> <value> ...]`:
// the TOML file first, then one flag per setting in Redis's value syntax
// (--port 6380 --maxmemory 1gb --save "3600 1"), as redis-server takes a
// configuration file followed by --name value options.
func serveCommand() *cli.Command {
	return &cli.Command{
		Name:            "serve",
		Usage:           "run the server",
		ArgsUsage:       "[kv.toml] [--config kv.toml] [--<setting> <value> ...]",
		SkipFlagParsing: true, // settings are parsed below, in Redis's syntax
		Action: func(cctx *cli.Context) error {
			args := cctx.Args().Slice()
			for _, a := range args {
				if a == "--help" || a == "-h" {
					printServeHelp()
					return nil
				}
			}
			args, pprofAddr, err := takePprofFlag(args)
			if err != nil {
				return cli.Exit("serve: "+err.Error(), 1)
			}
			cfg, err := loadServeConfig(args)
			if err != nil {
				return cli.Exit("serve: "+err.Error(), 1)
			}
			if pprofAddr != "" {
				if err := startPprof(pprofAddr); err != nil {
					return cli.Exit("serve: --pprof: "+err.Error(), 1)
				}
			}
			return serve(cctx.Context, cfg)
		},
	}
}

func printServeHelp() {
	fmt.Println("usage: kv serve [kv.toml] [--config kv.toml] [--<setting> <value> ...]")
	fmt.Println()
	fmt.Println("  --pprof ADDR  serve Go's pprof profiles on ADDR (debugging; not a Redis setting)")
	fmt.Println()
	fmt.Println("Settings (Redis names and value syntax; defaults as Redis 7.0, except bind):")
	for _, s := range config.New().Settings() {
		def := s.Default
		if s.Name == "bind" {
			def = "127.0.0.1 -::1"
		}
		fmt.Printf("  --%-36s %s (default %q)\n", s.Name, s.Usage, def)
	}
}

// takePprofFlag removes "--pprof ADDR" (a debugging aid, not a Redis setting) from
// the settings.
func takePprofFlag(args []string) ([]string, string, error) {
	for i, a := range args {
		if a == "--pprof" {
			if i+1 >= len(args) || strings.HasPrefix(args[i+1], "--") {
				return nil, "", errors.New("--pprof takes an address (127.0.0.1:6060)")
			}
			return append(append([]string{}, args[:i]...), args[i+2:]...), args[i+1], nil
		}
	}
	return args, "", nil
}

// startPprof serves net/http/pprof on addr for CPU, heap and alloc profiles under
// load (go tool pprof http://ADDR/debug/pprof/profile).
func startPprof(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go func() { _ = http.Serve(ln, mux) }()
	return nil
}

// loadServeConfig builds the configuration from the command line: an optional
// TOML file (a first bare argument or --config), then --name value settings. Values
// run to the next argument starting with "--", so a multi-word value may be passed
// as several words (--save 3600 1 300 100) or as one.
func loadServeConfig(args []string) (*config.Config, error) {
	var path string
	if len(args) > 0 && !strings.HasPrefix(args[0], "--") {
		path, args = args[0], args[1:]
	}
	type flag struct{ name, value string }
	var flags []flag
	for i := 0; i < len(args); {
		a := args[i]
		if !strings.HasPrefix(a, "--") || len(a) == 2 {
			return nil, fmt.Errorf("unexpected argument %q (settings are --name value)", a)
		}
		name := a[2:]
		var vals []string
		for i++; i < len(args) && !strings.HasPrefix(args[i], "--"); i++ {
			vals = append(vals, args[i])
		}
		if name == "config" {
			if len(vals) != 1 {
				return nil, errors.New("--config takes one file")
			}
			if path != "" {
				return nil, errors.New("configuration file given twice")
			}
			path = vals[0]
			continue
		}
		flags = append(flags, flag{name, strings.Join(vals, " ")})
	}
	cfg := config.New()
	bindSet := false
	if path != "" {
		var err error
		if cfg, err = config.Load(path); err != nil {
			return nil, err
		}
		bindSet = fileSets(path, "bind")
	}
	for _, f := range flags {
		bindSet = bindSet || f.name == "bind"
	}
	if !bindSet {
		// Redis's built-in bind is every interface; kv starts as redis.conf ships,
		// on loopback only, so a fresh server is not reachable from the network.
		if err := cfg.SetFromFlag("bind", "127.0.0.1 -::1"); err != nil {
			return nil, err
		}
	}
	for _, f := range flags {
		if err := cfg.SetFromFlag(f.name, f.value); err != nil {
			return nil, fmt.Errorf("--%s: %w", f.name, err)
		}
	}
	return cfg, nil
}

// fileSets reports whether the TOML file sets key (Load already validated it).
func fileSets(path, key string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var m map[string]any
	if toml.Unmarshal(data, &m) != nil {
		return false
	}
	_, ok := m[key]
	return ok
}

func serve(ctx context.Context, cfg *config.Config) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	e := engine.New(engine.Options{Databases: int(cfg.Databases.Get())})
	engine.RegisterAll(e)
	srv, err := server.New(server.Options{Engine: e, Config: cfg, Logger: log, Version: RedisVersion,
		ClientProcs: clientProcs(cfg)})
	if err != nil {
		return err
	}
	if err := srv.LoadDataset(); err != nil {
		return cli.Exit(fmt.Sprintf("serve: %v", err), 1)
	}
	ls, err := listen(cfg, srv, log)
	if err != nil {
		return cli.Exit(fmt.Sprintf("serve: %v", err), 1)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		select {
		case sig := <-sigs:
			log.Info("shutting down", "signal", sig.String())
			// As Redis on SIGTERM: save when save points are configured.
			if err := srv.SaveOnSignal(); err != nil {
				log.Warn("error saving the dataset before exiting", "err", err)
			}
		case <-srv.Done():
		case <-ctx.Done():
		}
		srv.Close()
	}()
	return ls.wait()
}

// clientProcs is how many processors serve clients: io-threads (1 unless configured,
// as in Redis), or none managed when the GOMAXPROCS environment variable says how many
// the process has. The dataset loads before the server applies it, on every core.
func clientProcs(cfg *config.Config) int {
	if os.Getenv("GOMAXPROCS") != "" {
		return 0
	}
	return int(cfg.IOThreads.Get())
}

// listenUnix listens on a Unix socket at path, as Redis does: a stale socket file
// left by a previous run is removed first, and unixsocketperm (when not 0) sets the
// file's permissions. Closing the listener removes the file.
func listenUnix(path string, perm os.FileMode) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		_ = os.Remove(path)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("unixsocket %s: %w", path, err)
	}
	if perm != 0 {
		if err := os.Chmod(path, perm); err != nil {
			ln.Close()
			return nil, fmt.Errorf("unixsocket %s: %w", path, err)
		}
	}
	return ln, nil
}
