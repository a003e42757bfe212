package commands

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"kv/sentinel"
)

// sentinelCommand is `kv sentinel CONFIG [--port P] [--bind ADDR] [--monitor "NAME HOST PORT QUORUM"]...`
// and `kv sentinel status -h HOST -p PORT [--json]`.
func sentinelCommand() *cli.Command {
	return &cli.Command{
		Name:      "sentinel",
		Usage:     "run a Sentinel that watches masters and fails them over (Redis Sentinel protocol)",
		ArgsUsage: "CONFIG (kv TOML or a Redis sentinel.conf; the state is written back to it)",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "port", Usage: "port to listen on (default: the file's, else 26379)"},
			&cli.StringFlag{Name: "bind", Usage: "address to listen on (default: the file's, else 127.0.0.1)"},
			&cli.StringSliceFlag{Name: "monitor", Usage: `monitor a master: "NAME HOST PORT QUORUM" (repeatable)`},
			&cli.StringFlag{Name: "loglevel", Value: "info", Usage: "debug, info, warn"},
		},
		Subcommands: []*cli.Command{sentinelStatusCommand()},
		Action: func(cctx *cli.Context) error {
			// Flags may also follow the file (kv sentinel s.conf --port 26380), as
			// redis-sentinel takes them; the cli parser stops at the first argument.
			port, bind, monitors, loglevel := cctx.Int("port"), cctx.String("bind"), cctx.StringSlice("monitor"), cctx.String("loglevel")
			var files []string
			rest := cctx.Args().Slice()
			for i := 0; i < len(rest); i++ {
				a := rest[i]
				name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
				if !strings.HasPrefix(a, "-") {
					files = append(files, a)
					continue
				}
				if !hasVal {
					if i+1 >= len(rest) {
						return cli.Exit("sentinel: "+a+" needs a value", 2)
					}
					i++
					val = rest[i]
				}
				switch name {
				case "port":
					p, err := strconv.Atoi(val)
					if err != nil {
						return cli.Exit("sentinel: bad --port "+val, 2)
					}
					port = p
				case "bind":
					bind = val
				case "monitor":
					monitors = append(monitors, val)
				case "loglevel":
					loglevel = val
				default:
					return cli.Exit("sentinel: unknown flag "+a, 2)
				}
			}
			if len(files) != 1 {
				return cli.Exit("sentinel: exactly one configuration file is needed (it records the sentinel's state)", 2)
			}
			level := slog.LevelInfo
			switch loglevel {
			case "debug":
				level = slog.LevelDebug
			case "warn", "warning":
				level = slog.LevelWarn
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			s, err := sentinel.New(sentinel.Options{ConfigPath: files[0], Port: port, Bind: bind, Monitor: monitors, Logger: log})
			if err != nil {
				return cli.Exit("sentinel: "+err.Error(), 1)
			}
			if err := s.Start(); err != nil {
				return cli.Exit("sentinel: "+err.Error(), 1)
			}
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
			select {
			case <-sig:
				s.Close()
				return nil
			case code := <-s.Crashed():
				if code != 0 {
					return cli.Exit("", code)
				}
				return nil
			}
		},
	}
}

func sentinelStatusCommand() *cli.Command {
	return &cli.Command{
		Name:     "status",
		Usage:    "show a sentinel's masters, replicas (offsets, lag), peers and last events",
		HideHelp: true, // -h is the host, as in redis-cli
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "h", Value: "127.0.0.1", Usage: "sentinel host"},
			&cli.IntFlag{Name: "p", Value: 26379, Usage: "sentinel port"},
			&cli.StringFlag{Name: "user", Usage: "ACL user for the sentinel"},
			&cli.StringFlag{Name: "a", Usage: "password for the sentinel"},
			&cli.IntFlag{Name: "events", Value: 20, Usage: "how many recent events to show"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON for scripts"},
		},
		Action: func(cctx *cli.Context) error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			addr := net.JoinHostPort(cctx.String("h"), strconv.Itoa(cctx.Int("p")))
			st, err := sentinel.FetchStatus(ctx, addr, cctx.String("user"), cctx.String("a"), cctx.Int("events"))
			if err != nil {
				return cli.Exit(fmt.Sprintf("sentinel status: %s: %v", addr, err), 1)
			}
			if cctx.Bool("json") {
				return st.WriteJSON(os.Stdout)
			}
			return st.WriteTables(os.Stdout)
		},
	}
}
