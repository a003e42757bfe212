package server

import "time"

// hz is how many times a second the server runs its periodic jobs (Redis's hz 10).
const hz = 10

// startCron starts the periodic jobs once per server; they stop when Close begins.
func (s *Server) startCron() {
	if s.closing.Load() {
		return
	}
	s.cronOnce.Do(func() {
		s.startConfiguredReplication()
		s.e.Lock()
		s.fitProcs()
		s.e.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.cron(time.Second / hz)
		}()
	})
}

// cron is Redis's serverCron, for the jobs that exist so far: each tick takes the
// engine lock for one bounded slice of work, so clients wait at most that long.
func (s *Server) cron(period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	tick := 0
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		s.e.Lock()
		// Reclaim keys whose TTL passed but that nobody reads.
		s.e.ActiveExpireCycle(period)
		// Finish resizes nobody's accesses are driving, so sparse tables shrink.
		s.e.ActiveRehash(time.Millisecond)
		s.memoryCron()
		s.memoryReleaseCron(time.Now())
		s.aofCronLocked()
		tick++
		s.replCron(time.Now(), tick)
		s.fitProcs()
		s.e.Unlock()
		s.aofTick()
		paceGC(time.Now())
	}
}
