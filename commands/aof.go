package commands

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"kv/aof"
	"kv/engine"
	"kv/rdb"
	"kv/scripting"
)

func aofCommand() *cli.Command {
	return &cli.Command{
		Name:  "aof",
		Usage: "check, repair and compact append-only files",
		Subcommands: []*cli.Command{
			{
				Name:      "check",
				Usage:     "check an AOF directory (its manifest and files) or a single AOF file; exit status 0 if valid, 1 if not",
				UsageText: "kv aof check [--fix [--yes]] PATH",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "fix", Usage: "truncate the last file to its last whole command"},
					&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "with --fix, do not ask for confirmation"},
				},
				Action: aofCheck,
			},
			{
				Name:      "rewrite",
				Usage:     "compact an AOF offline into a minimal base file and a fresh manifest in OUT",
				UsageText: "kv aof rewrite [--no-preamble] PATH -o OUT",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "output directory (created; must not hold a manifest)"},
					&cli.BoolFlag{Name: "no-preamble", Usage: "write the base as commands instead of an RDB preamble"},
					&cli.IntFlag{Name: "databases", Value: 16, Usage: "number of databases"},
				},
				Action: aofRewrite,
			},
		},
	}
}

// aofTarget resolves PATH: a directory holding one manifest, a manifest file, or a
// single AOF file (manifest nil).
func aofTarget(path string) (dir string, filename string, m *aof.Manifest, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", "", nil, err
	}
	manifest := ""
	if st.IsDir() {
		found, _ := filepath.Glob(filepath.Join(path, "*.manifest"))
		var real []string
		for _, f := range found {
			if !strings.HasPrefix(filepath.Base(f), "temp-") {
				real = append(real, f)
			}
		}
		if len(real) != 1 {
			return "", "", nil, fmt.Errorf("%s: expected exactly one *.manifest file, found %d", path, len(real))
		}
		manifest = real[0]
	} else if strings.HasSuffix(path, ".manifest") {
		manifest = path
	}
	if manifest == "" {
		return filepath.Dir(path), "", nil, nil
	}
	m, err = aof.ReadManifest(manifest)
	if err != nil {
		return "", "", nil, err
	}
	return filepath.Dir(manifest), strings.TrimSuffix(filepath.Base(manifest), ".manifest"), m, nil
}

func aofCheck(cctx *cli.Context) error {
	if cctx.NArg() != 1 {
		return cli.Exit("usage: "+cctx.Command.UsageText, 2)
	}
	out := cctx.App.Writer
	path := cctx.Args().First()
	dir, _, m, err := aofTarget(path)
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	var files []aof.FileInfo
	if m == nil {
		files = []aof.FileInfo{{Name: filepath.Base(path), Type: aof.TypeIncr}}
	} else {
		if m.Base != nil {
			files = append(files, *m.Base)
		}
		files = append(files, m.Incr...)
		if len(files) == 0 {
			return cli.Exit(path+": the manifest names no base and no incremental file", 1)
		}
	}
	for i, fi := range files {
		last := i == len(files)-1
		rep := aof.CheckFile(filepath.Join(dir, fi.Name))
		kind := map[byte]string{aof.TypeBase: "base", aof.TypeIncr: "incr"}[fi.Type]
		if m == nil {
			kind = "file"
		}
		if rep.Err == nil {
			fmt.Fprintf(out, "%s %s: ok, %d bytes, %d commands", kind, fi.Name, rep.Size, rep.Commands)
			if rep.Preamble {
				fmt.Fprintf(out, " after a %d-byte RDB preamble", rep.PreambleEnd)
			}
			fmt.Fprintln(out)
			continue
		}
		fmt.Fprintf(out, "%s %s: %v\n", kind, fi.Name, rep.Err)
		fmt.Fprintf(out, "%s %s: valid up to offset %d of %d\n", kind, fi.Name, rep.ValidUpTo, rep.Size)
		var ae *aof.Error
		fixable := errors.As(rep.Err, &ae) && last
		if !cctx.Bool("fix") {
			if fixable {
				fmt.Fprintln(out, "run with --fix to truncate it to its last whole command")
			}
			return cli.Exit("", 1)
		}
		if !fixable {
			why := "only the last file may be truncated: earlier files end where the next begins"
			if ae == nil {
				why = "the RDB preamble is damaged; truncating cannot repair it"
			}
			return cli.Exit(fmt.Sprintf("%s cannot be fixed: %s", fi.Name, why), 1)
		}
		cut := rep.Size - rep.ValidUpTo
		fmt.Fprintf(out, "This will cut %d bytes from %s (offset %d to %d), leaving %d bytes.\n", cut, fi.Name, rep.ValidUpTo, rep.Size, rep.ValidUpTo)
		if !cctx.Bool("yes") {
			fmt.Fprint(out, "Continue? [y/N]: ")
			ans, _ := bufio.NewReader(cctx.App.Reader).ReadString('\n')
			if a := strings.ToLower(strings.TrimSpace(ans)); a != "y" && a != "yes" {
				return cli.Exit("aborted: nothing changed", 1)
			}
		}
		p := filepath.Join(dir, fi.Name)
		if err := os.Truncate(p, rep.ValidUpTo); err != nil {
			return cli.Exit(fmt.Sprintf("truncating %s: %v", fi.Name, err), 1)
		}
		if f, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil {
			_ = f.Sync()
			f.Close()
		}
		fmt.Fprintf(out, "Successfully truncated %s to %d bytes.\n", fi.Name, rep.ValidUpTo)
		return nil
	}
	fmt.Fprintln(out, "AOF is valid")
	return nil
}

func aofRewrite(cctx *cli.Context) error {
	// Flags may follow PATH ("kv aof rewrite PATH -o OUT"), which the flag parser
	// leaves among the arguments.
	outDir, noPreamble := cctx.String("out"), cctx.Bool("no-preamble")
	var pos []string
	args := cctx.Args().Slice()
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case (a == "-o" || a == "--out" || a == "-out") && i+1 < len(args):
			outDir = args[i+1]
			i++
		case strings.HasPrefix(a, "--out="):
			outDir = strings.TrimPrefix(a, "--out=")
		case a == "--no-preamble" || a == "-no-preamble":
			noPreamble = true
		default:
			pos = append(pos, a)
		}
	}
	if len(pos) != 1 || outDir == "" {
		return cli.Exit("usage: "+cctx.Command.UsageText, 2)
	}
	src := pos[0]
	dir, filename, m, err := aofTarget(src)
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	if m == nil {
		// A single file stands in for a manifest with just that file.
		m = &aof.Manifest{Incr: []aof.FileInfo{{Name: filepath.Base(src), Seq: 1, Type: aof.TypeIncr}}}
		filename = "appendonly.aof"
	}
	e := engine.New(engine.Options{Databases: cctx.Int("databases")})
	engine.RegisterAll(e)
	// FUNCTION LOAD in a base needs the function commands.
	e.Commands().Add(scripting.New(e, slog.New(slog.DiscardHandler)).Commands()...)
	e.Lock()
	defer e.Unlock()
	st, err := aof.Load(e, dir, m, aof.LoadOptions{})
	if err != nil {
		return cli.Exit(fmt.Sprintf("loading %s: %v (run kv aof check --fix first for a torn tail)", src, err), 1)
	}
	if _, err := os.Stat(filepath.Join(outDir, aof.ManifestName(filename))); err == nil {
		return cli.Exit(outDir+" already holds an AOF manifest; choose an empty directory", 1)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return cli.Exit(err.Error(), 1)
	}
	preamble := !noPreamble
	nm := &aof.Manifest{}
	base := nm.NewBase(filename, preamble)
	var written int64
	err = aof.WriteFileAtomic(filepath.Join(outDir, base), "temp-"+base, func(w io.Writer) error {
		cw := &countWriter{w: w}
		err := aof.WriteBaseLocked(e, cw, preamble, rdb.SaveOptions{Compress: true, Checksum: true})
		written = cw.n
		return err
	})
	if err == nil {
		err = aof.WriteManifest(outDir, filename, nm)
	}
	if err != nil {
		return cli.Exit(fmt.Sprintf("writing %s: %v", outDir, err), 1)
	}
	keys := 0
	for i := 0; i < e.NumDBs(); i++ {
		keys += e.DB(i).Len()
	}
	fmt.Fprintf(cctx.App.Writer, "rewrote %d files (%d bytes, %d commands) into %s: %d keys, base %s of %d bytes\n",
		st.Files, st.TotalSize, st.Commands, outDir, keys, base, written)
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
