package commands

import (
	"github.com/urfave/cli/v2"
)

// replicaofCommand is `kv replicaof HOST PORT [kv.toml] [--<setting> <value> ...]`: the
// server `kv serve` runs, following HOST:PORT from the start (--replicaof "HOST PORT").
func replicaofCommand() *cli.Command {
	return &cli.Command{
		Name:            "replicaof",
		Usage:           "run the server as a replica of HOST PORT",
		ArgsUsage:       "HOST PORT [kv.toml] [--<setting> <value> ...]",
		SkipFlagParsing: true,
		Action: func(cctx *cli.Context) error {
			args := cctx.Args().Slice()
			if len(args) < 2 {
				return cli.Exit("replicaof: usage: kv replicaof HOST PORT [serve flags]", 1)
			}
			for _, a := range args {
				if a == "--help" || a == "-h" {
					printServeHelp()
					return nil
				}
			}
			cfg, err := loadServeConfig(args[2:])
			if err != nil {
				return cli.Exit("replicaof: "+err.Error(), 1)
			}
			if err := cfg.SetFromFlag("replicaof", args[0]+" "+args[1]); err != nil {
				return cli.Exit("replicaof: "+err.Error(), 1)
			}
			return serve(cctx.Context, cfg)
		},
	}
}
