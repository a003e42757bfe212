// Package commands builds the kv command-line application: one file per subcommand,
// each turning flags and configuration into a call into the packages that do the work.
package commands

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
)

// Version is the kv version; the Redis version it reports to clients is RedisVersion.
const (
	Version      = "0.1.0"
	RedisVersion = "7.0.15"
)

// App returns the kv application.
func App() *cli.App {
	return &cli.App{
		Name:    "kv",
		Usage:   "a Redis-compatible data store toolkit",
		Version: Version,
		Commands: []*cli.Command{
			serveCommand(),
			cliCommand(),
			benchCommand(),
			sentinelCommand(),
			rdbCommand(),
			aofCommand(),
		},
		HideHelpCommand: true,
	}
}

// Run runs the application with args and returns the process exit code.
func Run(args []string) int {
	if err := App().Run(args); err != nil {
		if ec, ok := err.(cli.ExitCoder); ok {
			if msg := ec.Error(); msg != "" {
				fmt.Fprintln(os.Stderr, "kv:", msg)
			}
			return ec.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "kv:", err)
		return 1
	}
	return 0
}
