package repl

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"kv/client"
	"kv/resp"
)

func terminalColumns() int {
	ws, err := unix.IoctlGetWinsize(1, unix.TIOCGWINSZ)
	if err != nil || ws.Col == 0 {
		return 80
	}
	return int(ws.Col)
}

// do runs one command for a mode, reconnecting as redis-cli's modes do when the
// server restarts under them ("Reconnecting... N").
func (s *session) do(args ...any) resp.Value {
	tries := 0
	for {
		if s.conn != nil {
			v, err := s.conn.Do(args...)
			if err == nil {
				if tries > 0 {
					s.printf("\r\x1b[0K")
				}
				return v
			}
			if !client.IsConnError(err) {
				s.errorf("Error: %v\n", err)
				s.exit(1)
			}
			s.conn.Close()
			s.setConn(nil)
		}
		tries++
		s.printf("\r\x1b[0KReconnecting... %d\r", tries)
		if err := s.connect(true, true); err != nil {
			time.Sleep(time.Second)
		}
	}
}

// --latency and --latency-history: PING in a loop and report min/max/avg in ms.
func (s *session) latencyMode() int {
	const sampleRate = 10 * time.Millisecond
	histInterval := 15 * time.Second
	if s.o.Interval > 0 {
		histInterval = s.o.Interval
	}
	interval := s.o.Interval
	if interval == 0 {
		interval = time.Second
	}
	var min, max, tot, count int64
	var avg float64
	histStart := time.Now()
	for {
		start := time.Now()
		s.do("PING")
		lat := time.Since(start).Milliseconds()
		count++
		if count == 1 {
			min, max, tot, avg = lat, lat, lat, float64(lat)
		} else {
			min, max = minI(min, lat), maxI(max, lat)
			tot += lat
			avg = float64(tot) / float64(count)
		}
		if s.o.Output == OutputStandard {
			s.printf("\x1b[0G\x1b[2K")
			s.latencyPrint(min, max, avg, count)
		} else if s.o.LatencyHist {
			s.latencyPrint(min, max, avg, count)
		} else if time.Since(histStart) > interval {
			s.latencyPrint(min, max, avg, count)
			return 0
		}
		if s.o.LatencyHist && time.Since(histStart) > histInterval {
			s.printf(" -- %.2f seconds range\n", time.Since(histStart).Seconds())
			histStart = time.Now()
			min, max, tot, count = 0, 0, 0, 0
		}
		time.Sleep(sampleRate)
	}
}

func minI(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}

func maxI(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func (s *session) latencyPrint(min, max int64, avg float64, count int64) {
	switch s.o.Output {
	case OutputStandard:
		s.printf("min: %d, max: %d, avg: %.2f (%d samples)", min, max, avg, count)
	case OutputCSV:
		s.printf("%d,%d,%.2f,%d\n", min, max, avg, count)
	case OutputRaw:
		s.printf("%d %d %.2f %d\n", min, max, avg, count)
	default:
		s.printf("{\"min\": %d, \"max\": %d, \"avg\": %.2f, \"count\": %d}\n", min, max, avg, count)
	}
}

// --pipe: stream stdin (RESP or inline commands, as it comes) to the server while
// reading replies, then send an ECHO of a random marker and wait for it, so every
// reply is known to have arrived. Same messages and summary as redis-cli.
func (s *session) pipeMode() int {
	var magic [20]byte
	_, _ = rand.Read(magic[:])
	nc := s.conn.NetConn()
	rd := s.conn.Reader()
	var (
		errs, replies atomic.Int64
		lastRead      atomic.Int64
		eof           atomic.Bool
		outMu         sync.Mutex
	)
	lastRead.Store(time.Now().UnixNano())
	readDone := make(chan error, 1)
	go func() {
		for {
			v, err := rd.Read()
			if err != nil {
				readDone <- err
				return
			}
			lastRead.Store(time.Now().UnixNano())
			if v.Kind == resp.KindError {
				outMu.Lock()
				s.errorf("%s\n", v.Str)
				outMu.Unlock()
				errs.Add(1)
			} else if eof.Load() && v.Kind == resp.KindBulk && bytes.Equal(v.Str, magic[:]) {
				outMu.Lock()
				s.printf("Last reply received from server.\n")
				outMu.Unlock()
				readDone <- nil
				return
			}
			replies.Add(1)
		}
	}()
	writeDone := make(chan error, 1)
	go func() {
		buf := make([]byte, 16<<10)
		for {
			n, err := s.env.Stdin.Read(buf)
			if n > 0 {
				if _, werr := nc.Write(buf[:n]); werr != nil {
					writeDone <- fmt.Errorf("Error writing to the server: %v", werr)
					return
				}
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				writeDone <- fmt.Errorf("Error reading from stdin: %v", err)
				return
			}
		}
		// The marker starts with CRLF so that garbage before it still leaves the ECHO
		// well formed; the server ignores an empty line.
		echo := append([]byte("\r\n*2\r\n$4\r\nECHO\r\n$20\r\n"), magic[:]...)
		echo = append(echo, '\r', '\n')
		eof.Store(true)
		if _, err := nc.Write(echo); err != nil {
			writeDone <- fmt.Errorf("Error writing to the server: %v", err)
			return
		}
		outMu.Lock()
		s.printf("All data transferred. Waiting for the last reply...\n")
		outMu.Unlock()
		writeDone <- nil
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-writeDone:
			if err != nil {
				s.errorf("%v\n", err)
				return 1
			}
			writeDone = nil
		case err := <-readDone:
			if err != nil {
				s.errorf("Error reading replies from server\n")
				return 1
			}
			s.printf("errors: %d, replies: %d\n", errs.Load(), replies.Load())
			if errs.Load() > 0 {
				return 1
			}
			return 0
		case <-tick.C:
			idle := time.Since(time.Unix(0, lastRead.Load()))
			if eof.Load() && s.o.PipeTimeout > 0 && idle > time.Duration(s.o.PipeTimeout)*time.Second {
				s.errorf("No replies for %d seconds: exiting.\n", s.o.PipeTimeout)
				s.printf("errors: %d, replies: %d\n", errs.Load()+1, replies.Load())
				return 1
			}
		}
	}
}

// scanArgs builds SCAN's arguments from --pattern and --count.
func (s *session) scanArgs(cursor string) []any {
	args := []any{"SCAN", cursor}
	if s.o.Pattern != "" {
		args = append(args, "MATCH", s.o.Pattern)
	}
	if s.o.Count > 0 {
		args = append(args, "COUNT", s.o.Count)
	}
	return args
}

func (s *session) scan(cursor string) (string, []resp.Value) {
	v := s.do(s.scanArgs(cursor)...)
	switch {
	case v.Kind == resp.KindError:
		s.errorf("SCAN error: %s\n", v.Str)
		s.exit(1)
	case v.Kind != resp.KindArray:
		s.errorf("Non ARRAY response from SCAN!\n")
		s.exit(1)
	case len(v.Elems) != 2:
		s.errorf("Invalid element count from SCAN!\n")
		s.exit(1)
	}
	return string(v.Elems[0].Str), v.Elems[1].Elems
}

// stopOnInterrupt makes Ctrl-C end a long walk after the current step.
func (s *session) stopOnInterrupt() *atomic.Bool {
	var stop atomic.Bool
	if s.env.Interrupt != nil {
		go func() {
			for range s.env.Interrupt {
				stop.Store(true)
			}
		}()
	}
	return &stop
}

// --scan: every key, one per line.
func (s *session) scanMode() int {
	stop := s.stopOnInterrupt()
	w := bufio.NewWriter(s.out)
	defer w.Flush()
	cursor := "0"
	for {
		var keys []resp.Value
		cursor, keys = s.scan(cursor)
		for _, k := range keys {
			if s.o.Output == OutputStandard {
				w.WriteString(Repr(k.Str))
			} else {
				w.Write(k.Str)
			}
			w.WriteByte('\n')
		}
		w.Flush()
		if s.o.Interval > 0 {
			time.Sleep(s.o.Interval)
		}
		if cursor == "0" || stop.Load() {
			return 0
		}
	}
}

type typeInfo struct {
	name, sizeCmd, unit   string
	biggest, count, total uint64
	biggestKey            string
}

// --bigkeys and --memkeys: walk the keyspace with SCAN, pipeline TYPE then the size
// command (or MEMORY USAGE) per batch, and report the biggest key of each type.
func (s *session) bigKeysMode(memkeys bool) int {
	types := []*typeInfo{
		{name: "string", sizeCmd: "STRLEN", unit: "bytes"},
		{name: "list", sizeCmd: "LLEN", unit: "items"},
		{name: "set", sizeCmd: "SCARD", unit: "members"},
		{name: "hash", sizeCmd: "HLEN", unit: "fields"},
		{name: "zset", sizeCmd: "ZCARD", unit: "members"},
		{name: "stream", sizeCmd: "XLEN", unit: "entries"},
	}
	byName := map[string]*typeInfo{}
	for _, t := range types {
		byName[t.name] = t
	}
	stop := s.stopOnInterrupt()
	dbsize := s.do("DBSIZE")
	if dbsize.Kind == resp.KindError {
		s.errorf("Couldn't determine DBSIZE: %s\n", dbsize.Str)
		return 1
	}
	totalKeys := dbsize.Int
	s.printf("\n# Scanning the entire keyspace to find biggest keys as well as\n")
	s.printf("# average sizes per key type.  You can use -i 0.1 to sleep 0.1 sec\n")
	s.printf("# per 100 SCAN commands (not usually needed).\n\n")
	var sampled, totlen, loops uint64
	var pct float64
	cursor := "0"
	for {
		pct = 100 * float64(sampled) / float64(totalKeys)
		if totalKeys == 0 {
			pct = math.NaN()
		}
		var keys []resp.Value
		cursor, keys = s.scan(cursor)
		loops++
		kinds := make([]*typeInfo, len(keys))
		for _, k := range keys {
			s.conn.SendArgs([][]byte{[]byte("TYPE"), k.Str})
		}
		if err := s.conn.Flush(); err != nil {
			s.errorf("Error: %v\n", err)
			return 1
		}
		for i, k := range keys {
			v, err := s.conn.Receive()
			if err != nil {
				s.errorf("Error getting type for key '%s' (%v)\n", k.Str, err)
				return 1
			}
			if v.Kind != resp.KindSimple {
				if v.Kind == resp.KindError {
					s.errorf("TYPE returned an error: %s\n", v.Str)
				} else {
					s.errorf("Invalid reply type for TYPE on key '%s'!\n", k.Str)
				}
				return 1
			}
			name := string(v.Str)
			t := byName[name]
			if t == nil && name != "none" {
				t = &typeInfo{name: name, unit: "?"}
				byName[name], types = t, append(types, t)
			}
			kinds[i] = t
		}
		sizes := make([]uint64, len(keys))
		sent := make([]bool, len(keys))
		for i, k := range keys {
			t := kinds[i]
			if t == nil || t.sizeCmd == "" && !memkeys {
				continue
			}
			sent[i] = true
			switch {
			case !memkeys:
				s.conn.SendArgs([][]byte{[]byte(t.sizeCmd), k.Str})
			case s.o.MemSamples == 0:
				s.conn.SendArgs([][]byte{[]byte("MEMORY"), []byte("USAGE"), k.Str})
			default:
				s.conn.SendArgs([][]byte{[]byte("MEMORY"), []byte("USAGE"), k.Str, []byte("SAMPLES"), []byte(strconv.Itoa(s.o.MemSamples))})
			}
		}
		if err := s.conn.Flush(); err != nil {
			s.errorf("Error: %v\n", err)
			return 1
		}
		for i, k := range keys {
			if !sent[i] {
				continue
			}
			v, err := s.conn.Receive()
			if err != nil {
				s.errorf("Error getting size for key '%s' (%v)\n", k.Str, err)
				return 1
			}
			if v.Kind != resp.KindInt {
				cmd := "MEMORY USAGE"
				if !memkeys {
					cmd = kinds[i].sizeCmd
				}
				s.errorf("Warning:  %s on '%s' failed (may have changed type)\n", cmd, k.Str)
				continue
			}
			sizes[i] = uint64(v.Int)
		}
		for i, k := range keys {
			t := kinds[i]
			if t == nil {
				continue
			}
			t.total += sizes[i]
			t.count++
			totlen += uint64(len(k.Str))
			sampled++
			if t.biggest < sizes[i] {
				t.biggestKey = Repr(k.Str)
				unit := t.unit
				if memkeys {
					unit = "bytes"
				}
				s.printf("[%05.2f%%] Biggest %-6s found so far '%s' with %d %s\n", pct, t.name, t.biggestKey, sizes[i], unit)
				t.biggest = sizes[i]
			}
			if sampled%1000000 == 0 {
				s.printf("[%05.2f%%] Sampled %d keys so far\n", pct, sampled)
			}
		}
		if s.o.Interval > 0 && loops%100 == 0 {
			time.Sleep(s.o.Interval)
		}
		if cursor == "0" || stop.Load() {
			break
		}
	}
	s.printf("\n-------- summary -------\n\n")
	if stop.Load() {
		s.printf("[%05.2f%%] ", pct)
	}
	s.printf("Sampled %d keys in the keyspace!\n", sampled)
	avgLen := 0.0
	if totlen > 0 {
		avgLen = float64(totlen) / float64(sampled)
	}
	s.printf("Total key length in bytes is %d (avg len %.2f)\n\n", totlen, avgLen)
	for _, t := range types {
		if t.biggestKey != "" {
			unit := t.unit
			if memkeys {
				unit = "bytes"
			}
			s.printf("Biggest %6s found '%s' has %d %s\n", t.name, t.biggestKey, t.biggest, unit)
		}
	}
	s.printf("\n")
	for _, t := range types {
		unit := t.unit
		if memkeys {
			unit = "bytes"
		}
		share, avg := 0.0, 0.0
		if sampled > 0 {
			share = 100 * float64(t.count) / float64(sampled)
		}
		if t.count > 0 {
			avg = float64(t.total) / float64(t.count)
		}
		s.printf("%d %ss with %d %s (%05.2f%% of keys, avg size %.2f)\n", t.count, t.name, t.total, unit, share, avg)
	}
	return 0
}

func infoField(info, field string) (int64, bool) {
	// As redis-cli: the first occurrence, then skip the separator (':' for a field,
	// '=' for "db0:keys").
	i := strings.Index(info, field)
	if i < 0 || i+len(field)+1 > len(info) {
		return 0, false
	}
	rest := info[i+len(field)+1:]
	end := strings.IndexAny(rest, "\r,")
	if end >= 0 {
		rest = rest[:end]
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
	return n, true
}

func bytesToHuman(n int64) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	switch {
	case n < 1024:
		return fmt.Sprintf("%s%dB", sign, n)
	case n < 1024*1024:
		return fmt.Sprintf("%s%.2fK", sign, float64(n)/1024)
	case n < 1024*1024*1024:
		return fmt.Sprintf("%s%.2fM", sign, float64(n)/(1024*1024))
	default:
		return fmt.Sprintf("%s%.2fG", sign, float64(n)/(1024*1024*1024))
	}
}

// --stat: one line of INFO figures per interval, a header every 20 lines.
func (s *session) statMode() int {
	interval := s.o.Interval
	if interval == 0 {
		interval = time.Second
	}
	var requests int64
	for i := 0; ; i++ {
		v := s.do("INFO")
		if v.Kind == resp.KindError {
			s.errorf("ERROR: %s\n", v.Str)
			return 1
		}
		info := string(v.Str)
		if i%20 == 0 {
			s.printf("------- data ------ --------------------- load -------------------- - child -\n" +
				"keys       mem      clients blocked requests            connections          \n")
		}
		var keys int64
		for db := 0; db < 20; db++ {
			if k, ok := infoField(info, fmt.Sprintf("db%d:keys", db)); ok {
				keys += k
			}
		}
		mem, _ := infoField(info, "used_memory")
		clients, _ := infoField(info, "connected_clients")
		blocked, _ := infoField(info, "blocked_clients")
		total, _ := infoField(info, "total_commands_processed")
		conns, _ := infoField(info, "total_connections_received")
		delta := int64(0)
		if requests != 0 {
			delta = total - requests
		}
		requests = total
		line := fmt.Sprintf("%-11s%-8s %-8s%-8s%-19s %-12s", strconv.FormatInt(keys, 10), bytesToHuman(mem),
			strconv.FormatInt(clients, 10), strconv.FormatInt(blocked, 10),
			fmt.Sprintf("%d (+%d)", total, delta), strconv.FormatInt(conns, 10))
		bg, _ := infoField(info, "bgsave_in_progress")
		aof, _ := infoField(info, "aof_rewrite_in_progress")
		loading, _ := infoField(info, "loading")
		switch bg | aof<<1 | loading<<2 {
		case 1:
			line += "SAVE"
		case 2:
			line += "AOF"
		case 3:
			line += "SAVE+AOF"
		case 4:
			line += "LOAD"
		}
		s.printf("%s\n", line)
		time.Sleep(interval)
	}
}

// startSync sends SYNC after announcing the EOF-marker capability, and returns the
// payload length, or 0 and the marker when the server streams a diskless transfer.
func (s *session) startSync(cmd [][]byte) (int64, []byte) {
	for _, rc := range [][2]string{{"capa", "eof"}, {"rdb-only", "1"}} {
		s.errorf("sending REPLCONF %s %s\n", rc[0], rc[1])
		v := s.do("REPLCONF", rc[0], rc[1])
		if v.Kind == resp.KindError {
			s.errorf("REPLCONF %s error: %s\n", rc[0], v.Str)
		}
	}
	s.conn.SendArgs(cmd)
	if err := s.conn.Flush(); err != nil {
		s.errorf("Error writing to master\n")
		s.exit(1)
	}
	rd := s.conn.Reader()
	var line []byte
	for {
		l, err := rd.ReadLine()
		if err != nil {
			s.errorf("Error reading bulk length while SYNCing\n")
			s.exit(1)
		}
		if len(l) > 0 { // a master sends bare newlines as keepalives while it prepares
			line = l
			break
		}
	}
	if line[0] == '-' {
		s.errorf("SYNC with master failed: %s\n", line)
		s.exit(1)
	}
	if line[0] == '+' { // PSYNC answers +FULLRESYNC first, then the payload
		return s.startSyncPayload(rd)
	}
	return parsePayloadHeader(s, line)
}

func (s *session) startSyncPayload(rd *resp.ReplyReader) (int64, []byte) {
	for {
		l, err := rd.ReadLine()
		if err != nil {
			s.errorf("Error reading bulk length while SYNCing\n")
			s.exit(1)
		}
		if len(l) > 0 {
			return parsePayloadHeader(s, l)
		}
	}
}

func parsePayloadHeader(s *session, line []byte) (int64, []byte) {
	if line[0] != '$' {
		s.errorf("SYNC with master failed: unexpected reply %q\n", line)
		s.exit(1)
	}
	if bytes.HasPrefix(line[1:], []byte("EOF:")) && len(line) >= 5+40 {
		return 0, line[5 : 5+40]
	}
	n, err := strconv.ParseInt(string(line[1:]), 10, 64)
	if err != nil || n < 0 {
		s.errorf("SYNC with master failed: bad payload length %q\n", line)
		s.exit(1)
	}
	return n, nil
}

// copyPayload copies the RDB payload to w: n bytes, or up to the EOF marker.
func copyPayload(rd *bufio.Reader, w io.Writer, n int64, mark []byte) (int64, error) {
	if mark == nil {
		return io.CopyN(w, rd, n)
	}
	var total int64
	// Hold back the last len(mark) bytes until it is known they are not the marker.
	window := make([]byte, 0, 64<<10)
	buf := make([]byte, 32<<10)
	for {
		k, err := rd.Read(buf)
		window = append(window, buf[:k]...)
		if len(window) >= len(mark) && bytes.Equal(window[len(window)-len(mark):], mark) {
			body := window[:len(window)-len(mark)]
			if _, werr := w.Write(body); werr != nil {
				return total, werr
			}
			return total + int64(len(body)), nil
		}
		if keep := len(mark); len(window) > keep {
			out := window[:len(window)-keep]
			if _, werr := w.Write(out); werr != nil {
				return total, werr
			}
			total += int64(len(out))
			window = append(window[:0], window[len(window)-keep:]...)
		}
		if err != nil {
			return total, err
		}
	}
}

// --rdb FILE: fetch a snapshot the way a replica does and write it to FILE ("-" for
// stdout), fsynced.
func (s *session) rdbMode() int {
	file := s.o.RDB
	n, mark := s.startSync([][]byte{[]byte("SYNC")})
	if mark != nil {
		s.errorf("SYNC sent to master, writing bytes of bulk transfer until EOF marker to '%s'\n", file)
	} else {
		s.errorf("SYNC sent to master, writing %d bytes to '%s'\n", n, file)
	}
	var w io.Writer = s.out
	var f *os.File
	if file != "-" {
		var err error
		f, err = os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			s.errorf("Error opening '%s': %v\n", file, err)
			return 1
		}
		defer f.Close()
		w = f
	}
	got, err := copyPayload(s.conn.Reader().Underlying(), w, n, mark)
	if err != nil {
		s.errorf("I/O Error reading RDB payload from socket: %v\n", err)
		return 1
	}
	if mark != nil {
		s.errorf("Transfer finished with success after %d bytes\n", got)
	} else {
		s.errorf("Transfer finished with success.\n")
	}
	s.conn.Close()
	s.setConn(nil)
	if f != nil {
		if err := f.Sync(); err != nil {
			s.errorf("Fail to fsync '%s': %v\n", file, err)
			return 1
		}
	}
	return 0
}

// replicaMode is what SYNC or PSYNC typed at the prompt does: skip the snapshot,
// then print every command the master propagates, as CSV.
func (s *session) replicaMode(cmd [][]byte) {
	n, mark := s.startSync(cmd)
	if mark != nil {
		s.errorf("SYNC with master, discarding bytes of bulk transfer until EOF marker...\n")
	} else {
		s.errorf("SYNC with master, discarding %d bytes of bulk transfer...\n", n)
	}
	if _, err := copyPayload(s.conn.Reader().Underlying(), io.Discard, n, mark); err != nil {
		s.errorf("Error reading RDB payload while SYNCing\n")
		return
	}
	s.errorf("SYNC done. Logging commands from master.\n")
	s.mu.Lock()
	s.streaming = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.streaming, s.aborted = false, false
		s.mu.Unlock()
	}()
	for {
		v, err := s.conn.ReceiveAny()
		if err != nil {
			return
		}
		io.WriteString(s.out, Format(v, OutputCSV, false))
	}
}
