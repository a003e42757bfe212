package commands

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"kv/client/repl"
	"kv/engine"
	"kv/server"
)

func cliCommand() *cli.Command {
	return &cli.Command{
		Name:      "cli",
		Usage:     "a redis-cli compatible client (REPL, one-shot commands, --pipe, --scan, --stat...)",
		UsageText: "kv cli [-h host] [-p port] [-a password] [-n db] [-3] [-u redis://...] [cmd [arg ...]] (kv cli --help for all options)",
		// redis-cli's options: -h is the host, and the command's own arguments may start
		// with '-', so the options are parsed by repl.ParseOptions, not by urfave/cli.
		SkipFlagParsing: true,
		Action: func(cctx *cli.Context) error {
			o, err := repl.ParseOptions(cctx.Args().Slice())
			if err != nil {
				return cli.Exit(err.Error(), 1)
			}
			if code := repl.Run(o, cliEnv()); code != 0 {
				return cli.Exit("", code)
			}
			return nil
		},
	}
}

func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

func cliEnv() repl.Env {
	env := repl.Env{
		StdoutTTY: isTerminal(1) || os.Getenv("FAKETTY") != "",
		StdinTTY:  isTerminal(0),
		Builtin:   builtinHelp(),
		Version:   Version,
	}
	if home, err := os.UserHomeDir(); err == nil {
		env.HistoryFile = filepath.Join(home, ".kv_history")
	}
	if h := os.Getenv("KVCLI_HISTFILE"); h != "" {
		env.HistoryFile = h
		if h == "/dev/null" {
			env.HistoryFile = ""
		}
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT)
	env.Interrupt = sigs
	signal.Ignore(syscall.SIGPIPE)
	return env
}

// builtinHelp is the help table from kv's own command table, for servers that do not
// answer COMMAND DOCS (older Redis, or no server at all).
func builtinHelp() []repl.HelpEntry {
	e := engine.New(engine.Options{Databases: 16})
	engine.RegisterAll(e)
	// server.New adds the connection and transaction commands to the table; it opens
	// nothing until Serve.
	if _, err := server.New(server.Options{Engine: e, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}); err != nil {
		fmt.Fprintln(os.Stderr, "kv cli: built-in help:", err)
	}
	var out []repl.HelpEntry
	for _, c := range e.Commands().All() {
		out = append(out, repl.HelpEntry{Name: c.Name, Params: c.Syntax, Summary: c.Summary, Since: c.Since, Group: c.Group})
		for _, sc := range c.Subcommands {
			_, sub, _ := cutPipe(sc.Name)
			out = append(out, repl.HelpEntry{Name: c.Name + " " + sub, Params: sc.Syntax, Summary: sc.Summary, Since: sc.Since, Group: sc.Group})
		}
	}
	return out
}

func cutPipe(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '|' {
			return s[:i], s[i+1:], true
		}
	}
	return "", s, false
}
