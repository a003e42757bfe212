package server

import "runtime"

// Processors (Options.ClientProcs). Redis serves its clients on one thread (io-threads
// adds more) and writes snapshots in a forked child that runs on a core of its own.
// kv's counterpart: while it only serves clients the Go runtime gets ClientProcs
// processors (GOMAXPROCS), and one more while background work runs (a BGSAVE, an AOF
// rewrite, the snapshot of a full sync), so the walk does not take turns with clients.
//
// Why not every core all the time: the engine executes one command at a time, so extra
// processors only run reads, writes and parsing in parallel, and on a small machine
// shared with the clients (a 2-core box running redis-benchmark) an idle processor's
// thread spins looking for work on the core the clients need, and the connections'
// goroutines are handed from thread to thread: measured side by side with Redis,
// GOMAXPROCS 1 served redis-benchmark's tests faster than 2 (cmd/kvcompare/README.md).

// fitProcs sets GOMAXPROCS for what runs now: ClientProcs, plus one while background
// work runs, never more than the machine's CPUs unless ClientProcs itself asks for it.
// Engine lock held: the background jobs' state is read under it, and calls are
// serialized by it.
func (s *Server) fitProcs() {
	base := s.opts.ClientProcs
	if base <= 0 {
		return
	}
	want := base
	if s.backgroundWorkRunning() {
		want = max(base, min(base+1, runtime.NumCPU()))
	}
	if s.procs != want {
		runtime.GOMAXPROCS(want)
		s.procs = want
	}
}

// backgroundWorkRunning reports whether a snapshot is being walked (BGSAVE, a full
// sync for replicas) or the AOF rewritten. Engine lock held.
func (s *Server) backgroundWorkRunning() bool {
	return s.e.SnapshotRunning() || s.persist.bg != nil || s.repl.job != nil || s.aof.RewriteRunning()
}
