package sentinel_test

import (
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// proxy forwards TCP connections to a target until it is cut. A cut is a
// blackhole, not a reset: connections stay open but what they carry is dropped,
// and new connections are accepted and then never answered, so peers find out
// only through their own timeouts, as across a real partition. Healing closes
// every connection that lived through the cut (their streams lost bytes) and
// forwards new ones again.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
}

// startProxy listens on a free port and forwards to target, which need not be
// listening yet.
func startProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }
func (p *proxy) port() int    { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) || p.isCut() {
			continue // held open and never answered
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			up, err := net.DialTimeout("tcp", p.target, time.Second)
			if err != nil || !p.track(up) {
				c.Close()
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.pipe(up, c)
			}()
			p.pipe(c, up)
		}()
	}
}

// track registers a connection; false if the proxy is closed.
func (p *proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		c.Close()
		return false
	}
	p.conns[c] = true
	return true
}

func (p *proxy) isCut() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cut
}

// pipe copies src to dst, dropping what arrives while the proxy is cut.
func (p *proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.isCut() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	src.Close()
	dst.Close()
	p.mu.Lock()
	if p.conns != nil {
		delete(p.conns, src)
		delete(p.conns, dst)
	}
	p.mu.Unlock()
}

func (p *proxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if !cut {
		for c := range p.conns {
			c.Close()
			delete(p.conns, c)
		}
	}
}

func (p *proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}

// TestKVServePartition isolates a kv serve master behind a proxy: the replicas
// and the sentinels reach it only through the proxy, the test's client directly.
// Cutting the proxy must make the master refuse writes (min-replicas-to-write 1,
// min-replicas-max-lag 2) and the sentinels promote a replica; after healing, the
// old master follows the new one, and every write that WAIT confirmed to a replica
// is on the new master. Writes the isolated master acknowledged but could not
// confirm may be lost; how many is logged.
func TestKVServePartition(t *testing.T) {
	const maxLag = 2
	masterPort := freePort(t)
	px := startProxy(t, "127.0.0.1:"+strconv.Itoa(masterPort))
	safety := []string{"--min-replicas-to-write", "1", "--min-replicas-max-lag", strconv.Itoa(maxLag)}
	// The master announces the proxy's port once it is a replica, so that the
	// sentinels know it by one address before and after.
	m := startData(t, implKV, masterPort, append([]string{"--replica-announce-port", strconv.Itoa(px.port())}, safety...)...)
	su := &setup{master: m}
	for i := 0; i < 2; i++ {
		su.replicas = append(su.replicas, startData(t, implKV, freePort(t),
			append([]string{"--replicaof", "127.0.0.1", strconv.Itoa(px.port())}, safety...)...))
	}
	for _, r := range su.replicas {
		waitFor(t, 15*time.Second, "replica "+r.addr()+" in sync through the proxy", func() bool {
			v, err := do(r.addr(), "INFO", "replication")
			return err == nil && strings.Contains(string(v.Str), "master_link_status:up")
		})
	}
	g := kvGroupAt(t, px.addr(), 3)
	waitDiscovery(t, g)
	events := subscribe(t, g.addrs[0], "+switch-master")
	defer watchEvents(t, g)()

	// A plain client: the sentinels would send it to the proxy.
	w := runWriter(t, redis.NewClient(&redis.Options{Addr: m.addr(), Protocol: 2, PoolSize: 1, MaxRetries: -1,
		DialTimeout: 300 * time.Millisecond, ReadTimeout: 500 * time.Millisecond, WriteTimeout: 300 * time.Millisecond}))
	waitFor(t, 10*time.Second, "confirmed writes", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return len(w.confirmed) > 20
	})

	cut := time.Now()
	px.setCut(true)
	waitFor(t, time.Duration(maxLag+4)*time.Second, "NOREPLICAS from the isolated master", func() bool { return w.noReplicas.Load() != 0 })
	refusedAfter := time.Unix(0, w.noReplicas.Load()).Sub(cut)
	t.Logf("the isolated master refuses writes %v after the cut", refusedAfter)
	if limit := time.Duration(maxLag+2) * time.Second; refusedAfter > limit {
		t.Errorf("NOREPLICAS came %v after the cut, want at most %v", refusedAfter, limit)
	}
	select {
	case ev := <-events:
		t.Logf("%s %v after the cut", ev, time.Since(cut))
	case <-time.After(30 * time.Second):
		t.Fatal("no +switch-master within 30s of the cut")
	}
	newMaster, _ := waitNewMaster(t, su)
	for _, a := range g.addrs {
		waitFor(t, 10*time.Second, "sentinel "+a+" to name the new master", func() bool { return masterAddrOf(a) == newMaster.addr() })
	}
	// Still isolated, the old master keeps refusing: nothing was acknowledged
	// after the first NOREPLICAS.
	time.Sleep(500 * time.Millisecond)
	noRepl := time.Unix(0, w.noReplicas.Load())
	w.mu.Lock()
	for j, at := range w.ackedAt {
		if at.After(noRepl) {
			t.Errorf("write k:%d acknowledged %v after the first NOREPLICAS", w.acked[j], at.Sub(noRepl))
		}
	}
	w.mu.Unlock()

	healed := time.Now()
	px.setCut(false)
	waitFor(t, 30*time.Second, "the old master to become a replica of the new one", func() bool {
		ro, port := role(m.addr())
		return ro == "slave" && port == newMaster.port
	})
	t.Logf("old master a replica %v after healing", time.Since(healed))
	w.close()

	w.mu.Lock()
	acked, confirmed := append([]int(nil), w.acked...), append([]int(nil), w.confirmed...)
	var afterCut int
	for _, at := range w.ackedAt {
		if at.After(cut) {
			afterCut++
		}
	}
	w.mu.Unlock()
	lostConfirmed := countMissing(t, newMaster.addr(), confirmed)
	lostAcked := countMissing(t, newMaster.addr(), acked)
	t.Logf("confirmed writes lost %d of %d; acknowledged lost %d of %d (%d acknowledged after the cut); %d refused with NOREPLICAS",
		lostConfirmed, len(confirmed), lostAcked, len(acked), afterCut, w.refused.Load())
	if lostConfirmed != 0 {
		t.Errorf("%d writes confirmed by WAIT 1 are missing from the new master", lostConfirmed)
	}
	// The old master dropped its own history: once in sync it holds what the new
	// master holds.
	waitFor(t, 15*time.Second, "the old master in sync with the new one", func() bool {
		v, err := do(m.addr(), "INFO", "replication")
		return err == nil && strings.Contains(string(v.Str), "master_link_status:up")
	})
	waitFor(t, 5*time.Second, "the same DBSIZE on the old and the new master", func() bool {
		a, err1 := do(m.addr(), "DBSIZE")
		b, err2 := do(newMaster.addr(), "DBSIZE")
		return err1 == nil && err2 == nil && a.Int == b.Int
	})
}
