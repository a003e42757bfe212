package server_test

import (
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"

	"kv/internal/kvtest"
	"kv/resp"
)

// The dispatch benchmarks drive a real server through its socket with a pipelined
// client that allocates nothing itself (pre-encoded requests, replies skipped), so
// allocs/op is the server's cost per command: parsing, lookup, checks, Exec, the
// reply, commit and flush. ns/op includes the loopback round trip shared by the
// pipeline. Run with -benchmem; compare allocs/op before and after a change.
func BenchmarkDispatch(b *testing.B) {
	cases := []struct {
		name string
		args func(i int) []string
	}{
		{"PING", func(int) []string { return []string{"PING"} }},
		{"SET", func(i int) []string {
			return []string{"SET", "key:" + strconv.Itoa(i%1000), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}
		}},
		{"GET", func(i int) []string { return []string{"GET", "key:" + strconv.Itoa(i%1000)} }},
		{"INCR", func(i int) []string { return []string{"INCR", "counter:" + strconv.Itoa(i%1000)} }},
		{"LPUSH", func(int) []string { return []string{"LPUSH", "mylist", "xxxxxxxxxxxxxxxx"} }},
		{"HSET", func(i int) []string { return []string{"HSET", "myhash", "element:" + strconv.Itoa(i%1000), "xxx"} }},
	}
	for _, pipeline := range []int{1, 16} {
		for _, c := range cases {
			b.Run(c.name+"/P"+strconv.Itoa(pipeline), func(b *testing.B) {
				s := kvtest.Start(b)
				nc, err := net.DialTimeout("tcp", s.Addr, kvtest.Timeout)
				if err != nil {
					b.Fatal(err)
				}
				defer nc.Close()
				// Fill the keys GET reads, so it measures hits.
				var batch []byte
				for i := 0; i < 1000; i++ {
					batch = resp.AppendCommandStrings(batch, "SET", "key:"+strconv.Itoa(i), "v")
				}
				rr := resp.NewReplyReader(nc)
				roundTrip(b, nc, rr, batch, 1000)
				batch = batch[:0]
				for i := 0; i < pipeline; i++ {
					batch = resp.AppendCommandStrings(batch, c.args(i)...)
				}
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := cpuTime()
				for i := 0; i < b.N; i += pipeline {
					roundTrip(b, nc, rr, batch, pipeline)
				}
				// CPU time per command (server and client together) is steadier than
				// ns/op on a shared machine, where waiting for a core inflates wall time.
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func roundTrip(b *testing.B, nc net.Conn, rr *resp.ReplyReader, batch []byte, replies int) {
	_ = nc.SetDeadline(time.Now().Add(kvtest.Timeout))
	if _, err := nc.Write(batch); err != nil {
		b.Fatal(err)
	}
	for j := 0; j < replies; j++ {
		isErr, err := rr.Skip()
		if err != nil || isErr {
			b.Fatalf("reply %d: err %v, error reply %v", j, err, isErr)
		}
	}
}
