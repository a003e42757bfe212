package commands

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"kv/rdb"
)

func rdbCommand() *cli.Command {
	return &cli.Command{
		Name:  "rdb",
		Usage: "fetch and inspect RDB snapshots",
		Subcommands: []*cli.Command{
			{
				Name:      "dump",
				Usage:     "fetch a point-in-time snapshot from a running server (kv or Redis) into FILE",
				UsageText: "kv rdb dump [-h host] [-p port] [-a password] [--user name] FILE",
				// -h is the host, as in redis-cli.
				HideHelp: true,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "host", Aliases: []string{"h"}, Value: "127.0.0.1", Usage: "server host"},
					&cli.IntFlag{Name: "port", Aliases: []string{"p"}, Value: 6379, Usage: "server port"},
					&cli.StringFlag{Name: "pass", Aliases: []string{"a"}, Usage: "password", EnvVars: []string{"REDISCLI_AUTH"}},
					&cli.StringFlag{Name: "user", Usage: "ACL user"},
					&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress bar"},
				},
				Action: rdbDump,
			},
			{
				Name:      "inspect",
				Usage:     "report on an RDB file without loading it: AUX fields, keys per db and type/encoding, sizes, TTLs",
				UsageText: "kv rdb inspect [--top N] [--keys] [--db N] [--match GLOB] [--type T] [--format table|json|csv|resp] FILE",
				Flags: []cli.Flag{
					&cli.IntFlag{Name: "top", Usage: "list the N largest keys"},
					&cli.BoolFlag{Name: "keys", Usage: "one line per key: db, key, type, encoding, size, ttl"},
					&cli.IntFlag{Name: "db", Value: -1, Usage: "only this database"},
					&cli.StringFlag{Name: "match", Usage: "only keys matching this glob"},
					&cli.StringFlag{Name: "type", Usage: "only keys of this type (string, list, set, zset, hash)"},
					&cli.StringFlag{Name: "format", Value: "table", Usage: "table, json, csv, or resp (commands that rebuild the keys, for redis-cli --pipe)"},
				},
				Action: rdbInspect,
			},
		},
	}
}

func rdbDump(cctx *cli.Context) error {
	if cctx.NArg() != 1 {
		return cli.Exit("usage: "+cctx.Command.UsageText, 2)
	}
	file := cctx.Args().First()
	addr := net.JoinHostPort(cctx.String("host"), strconv.Itoa(cctx.Int("port")))
	dir := filepath.Dir(file)
	tmp, err := os.CreateTemp(dir, ".kv-rdb-dump-*")
	if err != nil {
		return cli.Exit(fmt.Sprintf("rdb dump: %v", err), 1)
	}
	defer os.Remove(tmp.Name())
	_ = tmp.Chmod(0o644)
	bw := bufio.NewWriterSize(tmp, 1<<20)
	bar := progressBar(cctx.Bool("quiet"))
	start := time.Now()
	n, err := rdb.Fetch(cctx.Context, addr, bw, rdb.FetchOptions{User: cctx.String("user"), Password: cctx.String("pass"), Progress: bar})
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if !cctx.Bool("quiet") {
		fmt.Fprintln(os.Stderr)
	}
	if err != nil {
		return cli.Exit(fmt.Sprintf("rdb dump: %v", err), 1)
	}
	fmt.Fprintf(os.Stderr, "%s: %d bytes from %s in %v\n", file, n, addr, time.Since(start).Round(time.Millisecond))
	return nil
}

// progressBar draws on stderr at most ten times a second.
func progressBar(quiet bool) func(done, total int64) {
	if quiet {
		return nil
	}
	var last time.Time
	return func(done, total int64) {
		if now := time.Now(); now.Sub(last) < 100*time.Millisecond && done != total {
			return
		} else {
			last = now
		}
		if total <= 0 {
			fmt.Fprintf(os.Stderr, "\r%s received", humanBytes(done))
			return
		}
		const width = 40
		fill := int(float64(width) * float64(done) / float64(total))
		fmt.Fprintf(os.Stderr, "\r[%s%s] %3d%% %s / %s", strings.Repeat("=", fill), strings.Repeat(" ", width-fill),
			100*done/total, humanBytes(done), humanBytes(total))
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func rdbInspect(cctx *cli.Context) error {
	if cctx.NArg() != 1 {
		return cli.Exit("usage: "+cctx.Command.UsageText, 2)
	}
	format := cctx.String("format")
	switch format {
	case "table", "json", "csv", "resp":
	default:
		return cli.Exit("rdb inspect: --format is table, json, csv or resp", 2)
	}
	f, err := os.Open(cctx.Args().First())
	if err != nil {
		return cli.Exit(fmt.Sprintf("rdb inspect: %v", err), 1)
	}
	defer f.Close()
	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	err = rdb.Inspect(f, out, rdb.InspectOptions{
		Top: cctx.Int("top"), Keys: cctx.Bool("keys"), DB: cctx.Int("db"),
		Match: cctx.String("match"), Type: cctx.String("type"), Format: format,
	})
	out.Flush()
	if err != nil {
		var ce *rdb.CorruptError
		if errors.As(err, &ce) {
			return cli.Exit(fmt.Sprintf("rdb inspect: corrupt file at offset %d: %s", ce.Offset, ce.What), 1)
		}
		return cli.Exit(fmt.Sprintf("rdb inspect: %v", err), 1)
	}
	return nil
}
