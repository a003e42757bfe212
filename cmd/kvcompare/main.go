// Command kvcompare measures kv serve against Debian's redis-server on the same
// machine, side by side: both servers get the same settings and the same load, in
// alternation, for several rounds, and the table reports medians and the spread of the
// per-round ratios. See README.md next to this file.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

type options struct {
	kvBin    string
	redisBin string
	benchBin string
	rounds   int
	quick    bool
	only     *regexp.Regexp
	portBase int
	jsonOut  string
	mdOut    string
	verbose  bool
	p1Req    int
	p16Req   int
	c1000Req int
	latReq   int
	aofReq   int
	bgsaves  int
	strings  int
	hashes   int
	zsets    int
	lists    int
	listLen  int
}

func main() {
	os.Exit(run())
}

func run() int {
	o := &options{}
	flag.StringVar(&o.kvBin, "kv", "", "kv binary (default: go build the module in the current directory into a temp dir)")
	flag.StringVar(&o.redisBin, "redis", "/usr/bin/redis-server", "redis-server binary")
	flag.StringVar(&o.benchBin, "benchmark", "redis-benchmark", "redis-benchmark binary")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds; each runs every workload against kv and Redis, alternating which goes first")
	flag.BoolVar(&o.quick, "quick", false, "a smaller run: fewer requests, a tenth of the data, one round")
	only := flag.String("only", "", "run only the workloads whose name matches this regexp")
	flag.IntVar(&o.portBase, "port-base", 0, "use ports from here up (default: free ports from the kernel)")
	flag.StringVar(&o.jsonOut, "json", "", "also write every per-round sample to this file")
	flag.StringVar(&o.mdOut, "markdown", "", "also write the table as Markdown to this file")
	flag.BoolVar(&o.verbose, "v", false, "log each step to stderr")
	flag.Parse()
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			fmt.Fprintln(os.Stderr, "kvcompare: --only:", err)
			return 2
		}
		o.only = re
	}
	o.p1Req, o.p16Req, o.c1000Req, o.latReq, o.aofReq, o.bgsaves = 50_000, 200_000, 100_000, 100_000, 50_000, 3
	o.strings, o.hashes, o.zsets, o.lists, o.listLen = 1_000_000, 200_000, 100_000, 10_000, 500
	if o.quick {
		o.p1Req, o.p16Req, o.c1000Req, o.latReq, o.aofReq, o.bgsaves = 10_000, 50_000, 20_000, 20_000, 10_000, 3
		o.strings, o.hashes, o.zsets, o.lists = 100_000, 20_000, 10_000, 1_000
		if !flagSet("rounds") {
			o.rounds = 1
		}
	}
	if o.rounds < 1 {
		o.rounds = 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	tmp, err := os.MkdirTemp("", "kvcompare-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "kvcompare:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	procs := &procSet{}
	// Servers must not outlive the tool: killed on return, on Ctrl-C (ctx), and by the
	// kernel through Pdeathsig if the tool itself is killed.
	defer procs.killAll()

	if o.kvBin == "" {
		o.kvBin = filepath.Join(tmp, "kv")
		fmt.Fprintln(os.Stderr, "kvcompare: building kv with go build")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", o.kvBin, ".")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "kvcompare: go build (run from the kv module root or pass --kv):", err)
			return 1
		}
	}
	for _, b := range []*string{&o.kvBin, &o.redisBin, &o.benchBin} {
		p, err := exec.LookPath(*b)
		if err != nil {
			fmt.Fprintln(os.Stderr, "kvcompare:", err)
			return 1
		}
		*b = p
	}
	fdLimit := raiseFileLimit()

	env := &env{opts: o, tmp: tmp, procs: procs, ports: newPorts(o.portBase), fdLimit: fdLimit}
	env.kv = serverKind{name: "kv", bin: o.kvBin, args: []string{"serve"}}
	env.redis = serverKind{name: "Redis", bin: o.redisBin}
	if err := env.probe(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "kvcompare: probing kv:", err)
		return 1
	}
	res := newResults()
	start := time.Now()
	for round := 0; round < o.rounds && ctx.Err() == nil; round++ {
		for _, w := range workloads(env) {
			if o.only != nil && !o.only.MatchString(w.name) {
				continue
			}
			order := []*serverKind{&env.kv, &env.redis}
			if round%2 == 1 {
				order[0], order[1] = order[1], order[0]
			}
			for _, sk := range order {
				if ctx.Err() != nil {
					break
				}
				fmt.Fprintf(os.Stderr, "kvcompare: round %d/%d  %-40s %s\n", round+1, o.rounds, w.name, sk.name)
				samples, err := w.run(ctx, env, sk)
				if err != nil && ctx.Err() == nil {
					fmt.Fprintf(os.Stderr, "kvcompare:   %s on %s: %v\n", w.name, sk.name, err)
					res.fail(w.name, sk.name, err)
				}
				for _, s := range samples {
					res.add(round, sk.name, s)
				}
			}
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "kvcompare: interrupted; the table has what finished")
	}
	procs.killAll()
	hdr := fmt.Sprintf("kvcompare: %d round(s) in %s; kv %s vs %s; %s", o.rounds, time.Since(start).Round(time.Second),
		o.kvBin, redisVersion(o.redisBin), machine())
	fmt.Println(hdr)
	fmt.Println("command: " + commandLine())
	res.render(os.Stdout, false, env.notes)
	if o.mdOut != "" {
		if err := res.writeMarkdown(o.mdOut, hdr, env.notes); err != nil {
			fmt.Fprintln(os.Stderr, "kvcompare:", err)
		}
	}
	if o.jsonOut != "" {
		if err := res.writeJSON(o.jsonOut); err != nil {
			fmt.Fprintln(os.Stderr, "kvcompare:", err)
		}
	}
	return 0
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

func commandLine() string {
	args := make([]string, 0, len(os.Args))
	args = append(args, "go run ./cmd/kvcompare")
	for _, a := range os.Args[1:] {
		if strings.ContainsAny(a, " '\"") {
			a = "'" + a + "'"
		}
		args = append(args, a)
	}
	return strings.Join(args, " ")
}

func redisVersion(bin string) string {
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return bin
	}
	f := strings.Fields(string(out))
	for _, w := range f {
		if strings.HasPrefix(w, "v=") {
			return "redis-server " + w[2:]
		}
	}
	return strings.TrimSpace(string(out))
}

func machine() string {
	var load string
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return fmt.Sprintf("%d CPUs, load average %s at the end", numCPU(), load)
}
