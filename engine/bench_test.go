package engine_test

import (
	"fmt"
	"strconv"
	"syscall"
	"testing"
	"time"

	"kv/engine"
	"kv/resp"
)

// BenchmarkCore runs each type's core operation the way the server does per command
// (case-insensitive lookup of an upper-case name, Exec under the lock, reply written
// into a reused buffer), without the network, so ns/op and allocs/op are the engine's
// own cost per command.
func BenchmarkCore(b *testing.B) {
	val := []byte("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
	cases := []struct {
		name string
		args func(i int, keys [][]byte) [][]byte
	}{
		{"SET", func(i int, keys [][]byte) [][]byte { return [][]byte{[]byte("SET"), keys[i%len(keys)], val} }},
		{"GET", func(i int, keys [][]byte) [][]byte { return [][]byte{[]byte("GET"), keys[i%len(keys)]} }},
		{"INCR", func(i int, keys [][]byte) [][]byte { return [][]byte{[]byte("INCR"), keys[i%len(keys)]} }},
		{"LPUSH", func(i int, keys [][]byte) [][]byte { return [][]byte{[]byte("LPUSH"), []byte("mylist"), val[:16]} }},
		{"HSET", func(i int, keys [][]byte) [][]byte {
			return [][]byte{[]byte("HSET"), []byte("myhash"), keys[i%len(keys)], []byte("xxx")}
		}},
		// The collection cases run the commands whose encodings the memory work
		// shapes; each cycle of len(keys) commands starts with one that resets or
		// seeds the collection.
		{"ZADD10-new", func(i int, keys [][]byte) [][]byte {
			return every(i, len(keys), benchArgs("FLUSHALL"), benchZadd10([]byte("z:"+strconv.Itoa(i))))
		}},
		{"ZADD1-update", func(i int, keys [][]byte) [][]byte {
			return benchArgs("ZADD", "z", strconv.Itoa(i%50), "member:"+strconv.Itoa(i%10))
		}},
		{"RPUSH100", func(i int, keys [][]byte) [][]byte {
			return every(i, 50, benchArgs("DEL", "l"), benchPush100("RPUSH"))
		}},
		{"LPUSH100", func(i int, keys [][]byte) [][]byte {
			return every(i, 50, benchArgs("DEL", "l"), benchPush100("LPUSH"))
		}},
		{"LRANGE100", func(i int, keys [][]byte) [][]byte {
			return every(i, len(keys), benchPush100("RPUSH"), benchArgs("LRANGE", "l", "0", "99"))
		}},
		{"ZRANGE10", func(i int, keys [][]byte) [][]byte {
			return every(i, len(keys), benchZadd10([]byte("z")), benchArgs("ZRANGE", "z", "0", "-1", "WITHSCORES"))
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			e := engine.New(engine.Options{Databases: 16})
			engine.RegisterAll(e)
			w := resp.NewWriter()
			ctx := e.NewCtx(w, nil)
			keys := make([][]byte, 1000)
			for i := range keys {
				keys[i] = []byte("key:" + strconv.Itoa(i))
			}
			run := func(args [][]byte) {
				e.Lock()
				ctx.Cmd, ctx.Args = e.Commands().Lookup(args[0]), args
				e.Exec(ctx)
				e.Unlock()
				if w.Len() > 8<<10 {
					w.Reset()
				}
			}
			for i := range keys {
				run([][]byte{[]byte("SET"), keys[i], []byte(strconv.Itoa(i))})
			}
			argv := make([][][]byte, len(keys))
			for i := range argv {
				argv[i] = c.args(i, keys)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				run(argv[i%len(argv)])
			}
			// CPU time is steadier than wall time on a shared machine.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// every returns first for every n-th command (i%n == 0) and rest otherwise.
func every(i, n int, first, rest [][]byte) [][]byte {
	if i%n == 0 {
		return first
	}
	return rest
}

func benchArgs(args ...string) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = []byte(a)
	}
	return out
}

// benchZadd10 builds a 10-member sorted set, as kvcompare's RSS load does.
func benchZadd10(key []byte) [][]byte {
	args := [][]byte{[]byte("ZADD"), key}
	for m := 0; m < 10; m++ {
		args = append(args, []byte(strconv.Itoa(m*7)), []byte("member:"+strconv.Itoa(m)))
	}
	return args
}

// benchPush100 pushes 100 16-byte elements to "l", as kvcompare's list load does.
func benchPush100(cmd string) [][]byte {
	args := [][]byte{[]byte(cmd), []byte("l")}
	for j := 0; j < 100; j++ {
		args = append(args, []byte(fmt.Sprintf("element-%08d", j)))
	}
	return args
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLookup is the command-name lookup for the spellings clients send.
func BenchmarkLookup(b *testing.B) {
	e := engine.New(engine.Options{})
	engine.RegisterAll(e)
	for _, name := range []string{"SET", "get", "ZRANGEBYSCORE"} {
		b.Run(name, func(b *testing.B) {
			n := []byte(name)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if e.Commands().Lookup(n) == nil && name != "ZRANGEBYSCORE" {
					b.Fatal("not found")
				}
			}
		})
	}
}
