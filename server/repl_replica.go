package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"kv/aof"
	"kv/rdb"
	"kv/resp"
)

// The replica side: a goroutine per configured master connects (with backoff),
// performs the handshake, asks to continue from the cached history (PSYNC), loads a
// full sync payload if the master insists, then applies the stream through a master
// client (a conn flagged master whose replies go nowhere). Everything it does to the
// keyspace or the replication state happens under the engine lock, after checking
// that the link was not stopped meanwhile (REPLICAOF to elsewhere or NO ONE), so a
// stopped link can never touch the state of its successor.

type linkState uint8

const (
	linkConnecting linkState = iota
	linkHandshake
	linkTransfer
	linkConnected
)

type masterLink struct {
	host string
	port int
	stop chan struct{}
	// Engine lock.
	stopped bool
	state   linkState
	conn    *conn
	nc      net.Conn
	lastIO  time.Time
	// The transfer in progress, read by INFO without waiting for the transfer.
	transferSize, transferRead atomic.Int64
	transferLastIO             atomic.Int64 // unix seconds
	ackNow                     chan struct{}
}

// linkUp is master_link_status:up. Lock held.
func (s *Server) linkUp() bool {
	return s.repl.link != nil && s.repl.link.state == linkConnected
}

// setMaster makes this server a replica of host:port (REPLICAOF). Lock held.
func (s *Server) setMaster(host string, port int, fromConfig bool) {
	r := &s.repl
	wasMaster := r.masterHost == ""
	if r.link != nil {
		r.link.halt()
	}
	r.masterHost, r.masterPort = host, port
	s.e.Replica = true
	if wasMaster && !fromConfig {
		// Our own data and history are what the new master may continue (after a
		// failover it knows our replid as its replid2).
		r.cacheValid = true
	}
	// Replicas of ours must follow the new history; most can continue partially.
	s.disconnectReplicas()
	s.failWaiters("UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)")
	r.downSince = time.Now()
	_ = s.cfg.SetFromFlag("replicaof", host+" "+strconv.Itoa(port))
	l := &masterLink{host: host, port: port, stop: make(chan struct{}), ackNow: make(chan struct{}, 1)}
	r.link = l
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.runLink(l)
	}()
}

// unsetMaster turns a replica into a master (REPLICAOF NO ONE). Lock held.
func (s *Server) unsetMaster() {
	r := &s.repl
	if r.masterHost == "" {
		return
	}
	if r.link != nil {
		r.link.halt()
		r.link = nil
	}
	r.masterHost, r.masterPort = "", 0
	s.e.Replica = false
	// The old history stays valid up to here under replid2, so former siblings can
	// PSYNC to us without a full copy.
	r.shiftReplid()
	if r.backlog == nil {
		s.createBacklog()
	}
	s.disconnectReplicas()
	r.seldb = -1
	r.noReplicasSince = time.Now()
	_ = s.cfg.SetFromFlag("replicaof", "no one")
}

// halt stops the link. Lock held.
func (l *masterLink) halt() {
	if l.stopped {
		return
	}
	l.stopped = true
	close(l.stop)
	if l.conn != nil {
		l.conn.close()
	}
	if l.nc != nil {
		l.nc.Close()
	}
}

func (s *Server) runLink(l *masterLink) {
	backoff := 100 * time.Millisecond
	for {
		start := time.Now()
		err := s.linkOnce(l)
		s.e.Lock()
		stopped := l.stopped
		if !stopped {
			if l.state == linkConnected {
				s.repl.downSince = time.Now()
			}
			l.state = linkConnecting
			l.conn = nil
			l.nc = nil
		}
		s.e.Unlock()
		if stopped || s.closing.Load() {
			return
		}
		s.log.Warn("replication link with master lost or failed", "master", net.JoinHostPort(l.host, strconv.Itoa(l.port)), "err", err)
		if time.Since(start) > 5*time.Second {
			backoff = 100 * time.Millisecond
		}
		select {
		case <-l.stop:
			return
		case <-s.done:
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, time.Second)
	}
}

var errLinkStopped = errors.New("replication link stopped")

// locked runs f under the engine lock unless the link was stopped.
func (s *Server) linkLocked(l *masterLink, f func() error) error {
	s.e.Lock()
	defer s.e.Unlock()
	if l.stopped {
		return errLinkStopped
	}
	return f()
}

func (s *Server) linkOnce(l *masterLink) error {
	timeout := time.Duration(s.cfg.ReplTimeout.Get()) * time.Second
	nc, err := net.DialTimeout("tcp", net.JoinHostPort(l.host, strconv.Itoa(l.port)), timeout)
	if err != nil {
		return err
	}
	defer nc.Close()
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(!s.cfg.ReplDisableTCPNodelay.Get())
		_ = tc.SetKeepAlive(true)
	}
	if err := s.linkLocked(l, func() error { l.nc = nc; l.state = linkHandshake; return nil }); err != nil {
		return err
	}
	br := bufio.NewReaderSize(nc, 64<<10)
	call := func(args ...string) (string, error) {
		_ = nc.SetDeadline(time.Now().Add(timeout))
		if _, err := nc.Write(resp.AppendCommandStrings(nil, args...)); err != nil {
			return "", err
		}
		return readLine(br)
	}
	reply, err := call("PING")
	if err != nil {
		return err
	}
	if reply[0] == '-' && !strings.HasPrefix(reply, "-NOAUTH") && !strings.HasPrefix(reply, "-NOPERM") &&
		!strings.HasPrefix(reply, "-ERR operation not permitted") {
		return fmt.Errorf("error reply to PING from master: %s", reply)
	}
	if pass := s.cfg.Masterauth.Get(); pass != "" {
		args := []string{"AUTH", pass}
		if u := s.cfg.Masteruser.Get(); u != "" {
			args = []string{"AUTH", u, pass}
		}
		if reply, err = call(args...); err != nil {
			return err
		}
		if reply[0] == '-' {
			return fmt.Errorf("unable to AUTH to MASTER: %s", reply)
		}
	}
	port := int(s.cfg.ReplicaAnnouncePort.Get())
	if port == 0 {
		port = s.port()
	}
	if _, err = call("REPLCONF", "listening-port", strconv.Itoa(port)); err != nil {
		return err
	}
	if ip := s.cfg.ReplicaAnnounceIP.Get(); ip != "" {
		if _, err = call("REPLCONF", "ip-address", ip); err != nil {
			return err
		}
	}
	if _, err = call("REPLCONF", "capa", "eof", "capa", "psync2"); err != nil {
		return err
	}
	replid, off := "?", "-1"
	failover := false
	_ = s.linkLocked(l, func() error {
		if s.repl.cacheValid {
			replid, off = s.repl.replid, strconv.FormatInt(s.repl.offset+1, 10)
		}
		failover = s.repl.failover.state == failoverInProgress
		return nil
	})
	args := []string{"PSYNC", replid, off}
	if failover {
		args = append(args, "FAILOVER")
	}
	if reply, err = call(args...); err != nil {
		return err
	}
	_ = nc.SetDeadline(time.Time{})
	if failover {
		accepted := strings.HasPrefix(reply, "+FULLRESYNC") || strings.HasPrefix(reply, "+CONTINUE")
		_ = s.linkLocked(l, func() error { s.failoverPsyncDone(accepted); return nil })
	}
	switch {
	case strings.HasPrefix(reply, "+FULLRESYNC"):
		f := strings.Fields(reply)
		if len(f) != 3 {
			return fmt.Errorf("bad FULLRESYNC reply: %q", reply)
		}
		moff, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return fmt.Errorf("bad FULLRESYNC offset: %q", reply)
		}
		if err := s.fullSyncFromMaster(l, nc, br, f[1], moff); err != nil {
			return err
		}
	case strings.HasPrefix(reply, "+CONTINUE"):
		newID := strings.TrimSpace(strings.TrimPrefix(reply, "+CONTINUE"))
		err := s.linkLocked(l, func() error {
			r := &s.repl
			if newID != "" && newID != r.replid {
				// The master's history continues ours under a new id: keep ours as
				// replid2 so our own replicas can still continue with it.
				r.replid2 = r.replid
				r.secondOffset = r.offset + 1
				r.replid = newID
				s.disconnectReplicas()
			}
			if r.backlog == nil {
				s.createBacklog()
			}
			s.log.Info("partial resynchronization succeeded", "replid", r.replid, "offset", r.offset)
			return nil
		})
		if err != nil {
			return err
		}
	default:
		return fmt.Errorf("unexpected reply to PSYNC from master: %s", reply)
	}
	return s.streamFromMaster(l, nc, br)
}

// readLine reads one reply line, skipping the empty lines a master sends to keep the
// link alive while it prepares a payload.
func readLine(br *bufio.Reader) (string, error) {
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", err
		}
		line = strings.TrimRight(line, "\r\n")
		if line != "" {
			return line, nil
		}
	}
}

// fullSyncFromMaster receives the payload into a temporary file (the old data keeps
// being served meanwhile, or refused with MASTERDOWN), then replaces the dataset.
func (s *Server) fullSyncFromMaster(l *masterLink, nc net.Conn, br *bufio.Reader, replid string, off int64) error {
	timeout := time.Duration(s.cfg.ReplTimeout.Get()) * time.Second
	_ = s.linkLocked(l, func() error { l.state = linkTransfer; return nil })
	_ = nc.SetReadDeadline(time.Now().Add(timeout))
	line, err := readLine(br)
	if err != nil {
		return err
	}
	if line[0] == '-' {
		return fmt.Errorf("master aborted the full sync: %s", line)
	}
	if line[0] != '$' {
		return fmt.Errorf("bad protocol from master, expected a bulk payload: %q", line)
	}
	f, err := os.CreateTemp(s.cfg.Dir.Get(), fmt.Sprintf("temp-%d.*.rdb", time.Now().Unix()))
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	l.transferRead.Store(0)
	l.transferLastIO.Store(time.Now().Unix())
	src := &progressReader{r: br, l: l, nc: nc, timeout: timeout}
	bw := bufio.NewWriterSize(f, 1<<20)
	if strings.HasPrefix(line, "$EOF:") {
		mark := []byte(line[5:])
		if len(mark) != 40 {
			return fmt.Errorf("bad EOF mark from master: %q", line)
		}
		l.transferSize.Store(0)
		if err := copyUntilMark(bw, src, mark); err != nil {
			return err
		}
	} else {
		size, err := strconv.ParseInt(line[1:], 10, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("bad payload length from master: %q", line)
		}
		l.transferSize.Store(size)
		if _, err := io.CopyN(bw, src, size); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return s.linkLocked(l, func() error {
		start := time.Now()
		r := &s.repl
		// Our replicas held data of a history that is gone.
		s.disconnectReplicas()
		s.killBgsave()
		// The AOF describes the dataset being thrown away: stop it now and start it
		// again from the loaded data (a rewrite), as Redis's readSyncBulkPayload and
		// restartAOFAfterSYNC do, or a restart would replay the old history under the
		// master's stream.
		aofOn := s.aof != nil && s.aof.State() != aof.Off
		if aofOn {
			s.aof.Disable()
			defer func() {
				if err := s.aof.Enable(); err != nil {
					s.log.Warn("Failed enabling the AOF after successful master synchronization", "err", err)
				}
			}()
		}
		for i := 0; i < s.e.NumDBs(); i++ {
			s.e.DB(i).Clear()
		}
		if fs := s.e.Functions(); fs != nil {
			fs.FlushLibraries()
		}
		loaded := bulkLoadGC()
		st, err := rdb.Load(bufio.NewReaderSize(f, 1<<20), s.e, rdb.LoadOptions{Master: false})
		loaded()
		r.replid, r.offset = replid, off
		r.clearReplid2()
		r.backlog = nil
		s.createBacklog()
		r.cacheValid = err == nil
		r.seldb = -1
		// The stream continues in the database the payload says was selected at its
		// offset (repl-stream-db), as Redis's replicationCreateMasterClient selects it.
		// A top-level master starts its stream with a SELECT anyway, but a replica
		// serving a sub-replica relays its master's stream unchanged, so without this a
		// chained replica applies everything up to the next SELECT in database 0.
		r.masterDB = 0
		if db, perr := strconv.Atoi(st.Aux["repl-stream-db"]); err == nil && perr == nil && s.e.DB(db) != nil {
			r.masterDB = db
		}
		if err != nil {
			return fmt.Errorf("loading the master's payload: %w", err)
		}
		s.log.Info("MASTER <-> REPLICA sync: finished with success", "keys", st.Keys,
			"seconds", fmt.Sprintf("%.3f", time.Since(start).Seconds()))
		return nil
	})
}

type progressReader struct {
	r       io.Reader
	l       *masterLink
	nc      net.Conn
	timeout time.Duration
}

func (p *progressReader) Read(b []byte) (int, error) {
	_ = p.nc.SetReadDeadline(time.Now().Add(p.timeout))
	n, err := p.r.Read(b)
	p.l.transferRead.Add(int64(n))
	p.l.transferLastIO.Store(time.Now().Unix())
	return n, err
}

// copyUntilMark copies r to w up to the EOF mark, which it consumes.
func copyUntilMark(w io.Writer, r io.Reader, mark []byte) error {
	buf := make([]byte, 256<<10)
	held := 0 // bytes at the start of buf that may begin the mark
	for {
		n, err := r.Read(buf[held:])
		n += held
		if n >= len(mark) && bytes.Equal(buf[n-len(mark):n], mark) {
			_, werr := w.Write(buf[:n-len(mark)])
			return werr
		}
		keep := min(len(mark)-1, n)
		if _, werr := w.Write(buf[:n-keep]); werr != nil {
			return werr
		}
		copy(buf, buf[n-keep:n])
		held = keep
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
}

// streamFromMaster applies the replication stream until the link breaks or stops.
func (s *Server) streamFromMaster(l *masterLink, nc net.Conn, br *bufio.Reader) error {
	c := newConn(s, nc)
	c.in.src = br
	c.flags |= flagMaster
	c.authenticated = true
	c.user = nil
	c.ctx.FromMaster = true
	c.rd = resp.NewReader(c.in, c.readLimits())
	err := s.linkLocked(l, func() error {
		c.ctx.DB = s.e.DB(s.repl.masterDB)
		l.state = linkConnected
		l.conn = c
		l.lastIO = time.Now()
		s.repl.downSince = time.Time{}
		return nil
	})
	if err != nil {
		return err
	}
	defer func() {
		s.e.Lock()
		if !l.stopped {
			s.repl.masterDB = c.ctx.DB.ID
		}
		s.e.Unlock()
		c.cleanup()
	}()
	done := make(chan struct{})
	defer close(done)
	go s.ackLoop(l, nc, done)
	timeout := time.Duration(s.cfg.ReplTimeout.Get()) * time.Second
	// raw is the command being applied; txn holds a transaction's commands from MULTI
	// on: as in Redis, the applied offset (ACKs, sub-replicas, a later PSYNC) moves
	// past a transaction only at its EXEC, so a link lost in the middle of one makes
	// the master send it again whole.
	var raw, txn []byte
	for {
		_ = nc.SetReadDeadline(time.Now().Add(timeout))
		args, err := c.rd.ReadCommand()
		if err != nil {
			return err
		}
		s.e.Lock()
		if l.stopped {
			s.e.Unlock()
			return errLinkStopped
		}
		s.current = c
		l.lastIO = time.Now()
		for {
			raw = resp.AppendCommand(raw[:0], args...)
			c.process(args)
			c.w.Reset()
			switch {
			case c.multi != nil:
				txn = append(txn, raw...)
			case len(txn) > 0:
				txn = append(txn, raw...)
				s.feed(txn)
				txn = txn[:0]
			default:
				s.feed(raw)
			}
			var ok bool
			args, ok, err = c.rd.Next()
			if err != nil || !ok || c.closeAfter {
				break
			}
		}
		s.current = nil
		s.e.Unlock()
		if err != nil {
			return err
		}
		if c.closed.Load() {
			return errors.New("master client closed")
		}
	}
}

// ackLoop sends REPLCONF ACK <offset> every second, and at once when GETACK asks.
func (s *Server) ackLoop(l *masterLink, nc net.Conn, done chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		s.e.Lock()
		off := s.repl.offset
		s.e.Unlock()
		_ = nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := nc.Write(resp.AppendCommandStrings(nil, "REPLCONF", "ACK", strconv.FormatInt(off, 10))); err != nil {
			return
		}
		select {
		case <-done:
			return
		case <-t.C:
		case <-l.ackNow:
		}
	}
}

// sendAckLocked asks the ack loop for an immediate ACK (REPLCONF GETACK). Lock held.
func (s *Server) sendAckLocked() {
	if l := s.repl.link; l != nil {
		select {
		case l.ackNow <- struct{}{}:
		default:
		}
	}
}

// startConfiguredReplication follows replicaof from the configuration at start.
func (s *Server) startConfiguredReplication() {
	m := s.cfg.Replicaof.Get()
	if m.Host == "" {
		return
	}
	s.e.Lock()
	s.setMaster(m.Host, m.Port, true)
	s.e.Unlock()
}
