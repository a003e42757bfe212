package commands

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"kv/client/bench"
)

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:      "bench",
		Usage:     "a redis-benchmark compatible load generator with HDR percentiles, --json, --ratio, --compare",
		UsageText: "kv bench [-h host] [-p port] [-c clients] [-n requests] [-P pipeline] [-t tests] [cmd ...] (kv bench --help for all options)",
		// redis-benchmark's options (-h is the host), parsed by bench.ParseArgs.
		SkipFlagParsing: true,
		Action: func(cctx *cli.Context) error {
			cfg, help, err := bench.ParseArgs(cctx.Args().Slice())
			if err != nil {
				return cli.Exit(err.Error(), 1)
			}
			if help {
				fmt.Fprint(os.Stdout, bench.Usage)
				return nil
			}
			cfg.Out = os.Stdout
			if !cfg.JSON && !cfg.CSV && isTerminal(2) {
				cfg.Progress = os.Stderr
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			if _, err := bench.Run(ctx, cfg); err != nil {
				return cli.Exit(err.Error(), 1)
			}
			return nil
		},
	}
}
