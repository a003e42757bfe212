package server_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kv/config"
	"kv/internal/kvtest"
	"kv/rdb"
	"kv/server"
)

// startKV runs a kv server whose files live in dir, with DEBUG enabled.
func startKV(t *testing.T, dir string, settings ...string) *kvtest.Server {
	t.Helper()
	cfg := config.New()
	all := append([]string{"dir", dir, "enable-debug-command", "yes", "save", ""}, settings...)
	for i := 0; i+1 < len(all); i += 2 {
		if err := cfg.SetFromFlag(all[i], all[i+1]); err != nil {
			t.Fatalf("%s: %v", all[i], err)
		}
	}
	return kvtest.Start(t, func(o *server.Options) {
		o.Config = cfg
		o.EnableDebugCommand = "yes"
	})
}

// datasetCommands builds a dataset with every type and encoding kv has, several
// databases, TTLs and binary keys.
func datasetCommands() [][]string {
	long := strings.Repeat("long value ", 10)
	cmds := [][]string{
		{"SELECT", "0"},
		{"SET", "int", "12345"},
		{"SET", "negint", "-9000000000"},
		{"SET", "embstr", "hello"},
		{"SET", "raw", long},
		{"SET", "compressible", strings.Repeat("a", 500)},
		{"SET", "bin\x00key\xff", "bin\x00value"},
		{"SET", "ttl", "v", "PX", "100000000"},
		{"HSET", "hlp", "a", "1", "b", "two", "c", "-3"},
		{"HSET", "hlong", "f", long},
		{"SADD", "sint", "1", "2", "-70000", "5000000000"},
		{"SADD", "sstr", "a", "b", "c"},
		{"RPUSH", "list", "a", "1", "-2", long},
		{"RPUSH", "bigelement", strings.Repeat("z", 9000), "x"},
		{"ZADD", "zlp", "1", "a", "2.5", "b", "-inf", "c", "1e300", "d"},
		{"ZADD", "zsl", "1", "a", "2", long},
		{"FUNCTION", "LOAD", "#!lua name=persistlib\nredis.register_function('persist_echo', function(keys, args) return args[1] end)"},
		{"SELECT", "5"},
		{"SET", "k", "db5"},
		{"HSET", "h5", "x", "y"},
		{"SELECT", "0"},
	}
	var bigHash, bigSet []string
	bigHash = append(bigHash, "HSET", "hbig")
	bigSet = append(bigSet, "SADD", "sbigint")
	for i := range 600 {
		bigHash = append(bigHash, fmt.Sprint("f", i), fmt.Sprint(i))
		bigSet = append(bigSet, fmt.Sprint(i))
	}
	return append(cmds, bigHash, bigSet)
}

func run(t *testing.T, r *kvtest.Raw, cmds [][]string) {
	t.Helper()
	for _, c := range cmds {
		if v := r.Do(c...).String(); strings.HasPrefix(v, "(error)") {
			t.Fatalf("%q: %s", c, v)
		}
	}
}

var datasetKeys = map[int][]string{
	0: {"int", "negint", "embstr", "raw", "compressible", "bin\x00key\xff", "ttl", "hlp", "hlong", "sint", "sstr", "hbig", "sbigint", "list", "bigelement", "zlp", "zsl"},
	5: {"k", "h5"},
}

// encodings asks for each dataset key's encoding, with cmd ("OBJECT ENCODING" on
// Redis; DEBUG OBJECT on kv until OBJECT lands).
func encodings(t *testing.T, r *kvtest.Raw, redis bool) map[string]string {
	t.Helper()
	out := map[string]string{}
	for db, keys := range datasetKeys {
		r.Do("SELECT", fmt.Sprint(db))
		for _, k := range keys {
			v := r.Do("DEBUG", "OBJECT", k).String()
			i := strings.Index(v, "encoding:")
			if i < 0 {
				t.Fatalf("DEBUG OBJECT %q = %s", k, v)
			}
			enc := strings.Fields(v[i+len("encoding:"):])[0]
			out[fmt.Sprintf("%d/%q", db, k)] = enc
		}
	}
	r.Do("SELECT", "0")
	return out
}

func digest(t *testing.T, r *kvtest.Raw) string {
	t.Helper()
	return r.Do("DEBUG", "DIGEST").String()
}

// TestSaveRestart: SAVE, stop, start on the same directory: same data, same encodings.
func TestSaveRestart(t *testing.T) {
	dir := t.TempDir()
	s1 := startKV(t, dir)
	r1 := s1.Raw(t)
	run(t, r1, datasetCommands())
	want, wantEnc := digest(t, r1), encodings(t, r1, false)
	if want == strings.Repeat("0", 40) {
		t.Fatal("empty digest")
	}
	steps(t, r1, [][2]string{{"SAVE", "OK"}})
	if info := r1.Do("INFO", "persistence").String(); !strings.Contains(info, "rdb_changes_since_last_save:0") ||
		!strings.Contains(info, "rdb_saves:1") {
		t.Errorf("INFO after SAVE:\n%s", info)
	}
	s1.Srv.Close()

	s2 := startKV(t, dir)
	r2 := s2.Raw(t)
	if got := digest(t, r2); got != want {
		t.Errorf("digest after restart %s, want %s", got, want)
	}
	steps(t, r2, [][2]string{{"FCALL persist_echo 0 hi", "hi"}})
	gotEnc := encodings(t, r2, false)
	for k, e := range wantEnc {
		if gotEnc[k] != e {
			t.Errorf("%s: encoding %s after restart, was %s", k, gotEnc[k], e)
		}
	}
	if info := r2.Do("INFO", "persistence").String(); !strings.Contains(info, "rdb_last_load_keys_loaded:19") {
		t.Errorf("INFO after load:\n%s", info)
	}
	// DEBUG RELOAD saves, empties and loads again.
	steps(t, r2, [][2]string{{"DEBUG RELOAD", "OK"}, {"DEBUG RELOAD NOSAVE NOFLUSH MERGE", "OK"},
		{"DEBUG RELOAD BOGUS", "(error) ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."}})
	if got := digest(t, r2); got != want {
		t.Errorf("digest after DEBUG RELOAD %s, want %s", got, want)
	}
	steps(t, r2, [][2]string{{"FCALL persist_echo 0 hi", "hi"}})
}

// TestRoundTripWithRedis: a kv dump passes redis-check-rdb and loads into real Redis
// with the same DEBUG DIGEST and encodings; a Redis dump loads into kv the same way.
func TestRoundTripWithRedis(t *testing.T) {
	check := kvtest.RedisBinary(t, "redis-check-rdb")
	for _, compress := range []string{"yes", "no"} {
		t.Run("rdbcompression="+compress, func(t *testing.T) {
			dir := t.TempDir()
			kv := startKV(t, dir, "rdbcompression", compress)
			rk := kv.Raw(t)
			run(t, rk, datasetCommands())
			want, wantEnc := digest(t, rk), encodings(t, rk, false)
			steps(t, rk, [][2]string{{"SAVE", "OK"}})

			out, err := exec.Command(check, filepath.Join(dir, "dump.rdb")).CombinedOutput()
			if err != nil || !bytes.Contains(out, []byte("RDB looks OK")) {
				t.Fatalf("redis-check-rdb: %v\n%s", err, out)
			}
			red := kvtest.StartRedis(t, dir, "--enable-debug-command", "yes")
			rr := (&kvtest.Server{Addr: red.Addr}).Raw(t)
			if got := digest(t, rr); got != want {
				t.Errorf("Redis digest %s, kv digest %s", got, want)
			}
			steps(t, rr, [][2]string{{"FCALL persist_echo 0 hi", "hi"}})
			gotEnc := encodings(t, rr, true)
			for k, e := range wantEnc {
				if gotEnc[k] != e {
					t.Errorf("%s: encoding %s in Redis, %s in kv", k, gotEnc[k], e)
				}
			}

			// And back: Redis changes the data and saves; kv loads Redis's file.
			run(t, rr, [][]string{{"HSET", "hlp", "d", strings.Repeat("x", 100)}, {"SET", "fromredis", "1"}, {"SADD", "sstr", "d"}})
			want = digest(t, rr)
			steps(t, rr, [][2]string{{"SAVE", "OK"}})
			dir2 := t.TempDir()
			data, err := os.ReadFile(filepath.Join(dir, "dump.rdb"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir2, "dump.rdb"), data, 0o644); err != nil {
				t.Fatal(err)
			}
			kv2 := startKV(t, dir2)
			rk2 := kv2.Raw(t)
			if got := digest(t, rk2); got != want {
				t.Errorf("kv digest of Redis's dump %s, Redis says %s", got, want)
			}
			wantEnc, gotEnc = encodings(t, rr, true), encodings(t, rk2, false)
			for k, e := range wantEnc {
				if gotEnc[k] != e {
					t.Errorf("%s: encoding %s in kv, %s in Redis", k, gotEnc[k], e)
				}
			}
		})
	}
}

// TestBgsavePointInTime is DESIGN.md's test through the server: writers keep pairs
// equal inside MULTI (SET, HSET, DEL, PEXPIRE, with SWAPDB and FLUSHDB now and then)
// while BGSAVE runs again and again; in every dump each pair is equal or absent.
func TestBgsavePointInTime(t *testing.T) {
	dir := t.TempDir()
	s := startKV(t, dir)
	r := s.Raw(t)
	const pairs = 2000
	for i := 0; i < pairs; i += 100 {
		r.Send("MULTI\r\n")
		r.Read()
		for j := i; j < i+100; j++ {
			r.Do("SET", fmt.Sprint("a:", j), "0")
			r.Do("SET", fmt.Sprint("b:", j), "0")
			r.Do("HSET", fmt.Sprint("ha:", j), "f", "0")
			r.Do("HSET", fmt.Sprint("hb:", j), "f", "0")
		}
		if v := r.Do("EXEC").String(); strings.HasPrefix(v, "(error)") {
			t.Fatal(v)
		}
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		wr := s.Raw(t)
		go func() {
			defer wg.Done()
			n := 0
			for !stop.Load() {
				n++
				i := (n*7919 + w*104729) % pairs
				v := fmt.Sprint(w, "-", n)
				wr.Send("MULTI\r\n")
				wr.Read()
				switch {
				case n%997 == 0 && w == 0:
					wr.Do("SWAPDB", "0", "1")
				case n%4001 == 0 && w == 1:
					wr.Do("SELECT", "1")
					wr.Do("FLUSHDB")
					wr.Do("SELECT", "0")
				case n%13 == 0:
					wr.Do("DEL", fmt.Sprint("a:", i), fmt.Sprint("b:", i))
				case n%17 == 0:
					wr.Do("PEXPIRE", fmt.Sprint("ha:", i), "100000000")
					wr.Do("PEXPIRE", fmt.Sprint("hb:", i), "100000000")
				default:
					wr.Do("SET", fmt.Sprint("a:", i), v)
					wr.Do("HSET", fmt.Sprint("ha:", i), "f", v, fmt.Sprint("g", n%50), v)
					wr.Do("SET", fmt.Sprint("b:", i), v)
					wr.Do("HSET", fmt.Sprint("hb:", i), "f", v, fmt.Sprint("g", n%50), v)
				}
				wr.Do("EXEC")
			}
		}()
	}
	defer func() { stop.Store(true); wg.Wait() }()
	for round := range 5 {
		v := r.Do("BGSAVE").String()
		if v != "Background saving started" {
			t.Fatalf("BGSAVE = %s", v)
		}
		if v := r.Do("BGSAVE").String(); v != "(error) ERR Background save already in progress" {
			t.Logf("second BGSAVE = %s (the first may have finished already)", v)
		}
		if v := r.Do("SAVE").String(); v != "(error) ERR Background save already in progress" && v != "OK" {
			t.Errorf("SAVE during BGSAVE = %s", v)
		}
		deadline := time.Now().Add(kvtest.Timeout)
		for strings.Contains(r.Do("INFO", "persistence").String(), "rdb_bgsave_in_progress:1") {
			if time.Now().After(deadline) {
				t.Fatal("BGSAVE did not finish")
			}
			time.Sleep(5 * time.Millisecond)
		}
		if info := r.Do("INFO", "persistence").String(); !strings.Contains(info, "rdb_last_bgsave_status:ok") {
			t.Fatalf("round %d:\n%s", round, info)
		}
		f, err := os.Open(filepath.Join(dir, "dump.rdb"))
		if err != nil {
			t.Fatal(err)
		}
		vals := map[string]string{}
		err = rdb.Read(f, keyFunc(func(e *rdb.Entry) {
			id := fmt.Sprintf("%d/%s", e.DB, e.Key)
			if _, dup := vals[id]; dup {
				t.Errorf("round %d: %s twice in the dump", round, id)
			}
			ttl := fmt.Sprint(e.Meta.ExpireMs >= 0)
			switch e.Value.Kind {
			case rdb.KindString:
				vals[id] = string(e.Value.Str) + ttl
			case rdb.KindHash:
				var parts []string
				for _, fv := range e.Value.Hash {
					parts = append(parts, string(fv[0])+"="+string(fv[1]))
				}
				sortStrings(parts)
				vals[id] = strings.Join(parts, ",") + ttl
			}
		}))
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(vals) == 0 {
			t.Fatalf("round %d: empty dump", round)
		}
		for id, a := range vals {
			for _, p := range [][2]string{{"/a:", "/b:"}, {"/ha:", "/hb:"}, {"/b:", "/a:"}, {"/hb:", "/ha:"}} {
				if strings.Contains(id, p[0]) {
					other := strings.Replace(id, p[0], p[1], 1)
					if b, ok := vals[other]; !ok || a != b {
						t.Fatalf("round %d: %s = %q but %s = %q (present %v)", round, id, a, other, b, ok)
					}
				}
			}
		}
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// keyFunc is an rdb.Handler that only looks at keys.
type keyFunc func(e *rdb.Entry)

func (keyFunc) Header(int) error           { return nil }
func (keyFunc) Aux(_, _ []byte) error      { return nil }
func (keyFunc) SelectDB(int) error         { return nil }
func (keyFunc) ResizeDB(_, _ uint64) error { return nil }
func (keyFunc) Function([]byte) error      { return nil }
func (f keyFunc) Key(e *rdb.Entry) error   { f(e); return nil }

// TestDumpRestore follows unit/dump.tcl's DUMP/RESTORE cases.
func TestDumpRestore(t *testing.T) {
	s := startKV(t, t.TempDir())
	r := s.Raw(t)
	c := s.Client(t)
	ctx := context.Background()
	c.Set(ctx, "foo", "bar", 0)
	enc, err := c.Dump(ctx, "foo").Result()
	if err != nil {
		t.Fatal(err)
	}
	steps(t, r, [][2]string{
		{"RESTORE foo 0 x", "(error) BUSYKEY Target key name already exists."},
		{"RESTORE foo 0 x invalid-option", "(error) ERR syntax error"},
		{"RESTORE nokey 0 x", "(error) ERR DUMP payload version or checksum are wrong"},
		{"RESTORE nokey -1 x", "(error) ERR Invalid TTL value, must be >= 0"},
		{"RESTORE nokey abc x", "(error) ERR value is not an integer or out of range"},
		{"RESTORE nokey 0 x IDLETIME -1", "(error) ERR Invalid IDLETIME value, must be >= 0"},
		{"RESTORE nokey 0 x FREQ 256", "(error) ERR Invalid FREQ value, must be >= 0 and <= 255"},
		{"RESTORE nokey 0 x FREQ 1 IDLETIME 1", "(error) ERR syntax error"},
		{"DUMP nonexisting_key", "(nil)"},
	})
	// A payload with a good checksum over a bad body.
	bad := rdb.DumpPayload(&rdb.Value{Kind: rdb.KindString, Str: []byte("x")})
	bad[0] = 200
	body := bad[:len(bad)-8]
	crc := rdb.CRC64(0, body)
	for i := range 8 {
		bad[len(bad)-8+i] = byte(crc >> (8 * i))
	}
	if err := c.Restore(ctx, "nokey", 0, string(bad)).Err(); err == nil || err.Error() != "ERR Bad data format" {
		t.Errorf("RESTORE of a bad body: %v", err)
	}

	pttl := func(key string) int64 {
		s.E.Lock()
		defer s.E.Unlock()
		at := s.E.DB(0).ExpireAt([]byte(key))
		if at < 0 {
			return at
		}
		return at - time.Now().UnixMilli()
	}
	if got := c.Restore(ctx, "foo1", 0, enc).Val(); got != "OK" {
		t.Fatalf("RESTORE = %q", got)
	}
	if got := c.Get(ctx, "foo1").Val(); got != "bar" {
		t.Errorf("GET = %q", got)
	}
	if ttl := pttl("foo1"); ttl != -1 {
		t.Errorf("PTTL = %v", ttl)
	}
	c.Restore(ctx, "foo2", 5000*time.Millisecond, enc)
	if ttl := pttl("foo2"); ttl < 3000 || ttl > 5000 {
		t.Errorf("PTTL after RESTORE 5000 = %v", ttl)
	}
	c.Restore(ctx, "foo3", 2569591501*time.Millisecond, enc)
	if ttl := pttl("foo3"); ttl < 2569591501-3000 || ttl > 2569591501 {
		t.Errorf("PTTL after a TTL past 32 bits = %v", ttl)
	}
	now := time.Now().UnixMilli()
	steps(t, r, [][2]string{
		{fmt.Sprintf("RESTORE foo4 %d %q ABSTTL", now+3000, enc), "OK"},
		{fmt.Sprintf("RESTORE foo %d %q ABSTTL REPLACE", now-3000, enc), "OK"},
		{"GET foo", "(nil)"},
	})
	if ttl := pttl("foo4"); ttl < 2000 || ttl > 3100 {
		t.Errorf("PTTL after ABSTTL = %v", ttl)
	}
	c.Set(ctx, "foo", "bar1", 0)
	e1 := c.Dump(ctx, "foo").Val()
	c.Set(ctx, "foo", "bar2", 0)
	e2 := c.Dump(ctx, "foo").Val()
	c.Restore(ctx, "foo5", 0, e1)
	c.RestoreReplace(ctx, "foo5", 0, e2)
	if got := c.Get(ctx, "foo5").Val(); got != "bar2" {
		t.Errorf("after REPLACE: %q", got)
	}
	// Every type and encoding survives DUMP/RESTORE with its encoding.
	run(t, r, datasetCommands())
	for _, k := range datasetKeys[0] {
		if k == "ttl" {
			continue // RESTORE with TTL 0 drops the TTL, which the digest includes
		}
		d := r.Do("DEBUG", "DIGEST-VALUE", k).String()
		enc := encodingOf(t, r, k)
		p := c.Dump(ctx, k).Val()
		r.Do("RESTORE", k, "0", p, "REPLACE")
		if got := r.Do("DEBUG", "DIGEST-VALUE", k).String(); got != d {
			t.Errorf("%q: digest %s after RESTORE, was %s", k, got, d)
		}
		if got := encodingOf(t, r, k); got != enc {
			t.Errorf("%q: encoding %s after RESTORE, was %s", k, got, enc)
		}
	}
}

func encodingOf(t *testing.T, r *kvtest.Raw, k string) string {
	v := r.Do("DEBUG", "OBJECT", k).String()
	i := strings.Index(v, "encoding:")
	if i < 0 {
		t.Fatalf("DEBUG OBJECT %q = %s", k, v)
	}
	return strings.Fields(v[i+len("encoding:"):])[0]
}

// TestDumpPayloadMatchesRedis: DUMP payloads from kv and Redis restore into each other.
func TestDumpPayloadMatchesRedis(t *testing.T) {
	s := startKV(t, t.TempDir())
	red := kvtest.StartRedis(t, "", "--enable-debug-command", "yes")
	rk, rr := s.Raw(t), (&kvtest.Server{Addr: red.Addr}).Raw(t)
	run(t, rk, datasetCommands())
	run(t, rr, datasetCommands())
	for _, k := range datasetKeys[0] {
		pk := rk.Do("DUMP", k).Str
		pr := rr.Do("DUMP", k).Str
		if v := rr.Do("RESTORE", k+":fromkv", "0", string(pk)).String(); v != "OK" {
			t.Errorf("Redis RESTORE of kv's %q: %s", k, v)
		}
		if v := rk.Do("RESTORE", k+":fromredis", "0", string(pr)).String(); v != "OK" {
			t.Errorf("kv RESTORE of Redis's %q: %s", k, v)
		}
		if k == "ttl" {
			continue
		}
		for _, r := range []*kvtest.Raw{rk, rr} {
			a := r.Do("DEBUG", "DIGEST-VALUE", k).String()
			for _, sfx := range []string{":fromkv", ":fromredis"} {
				if b := r.Do("DEBUG", "DIGEST-VALUE", k+sfx).String(); b != a && b != "["+strings.Repeat("0", 40)+"]" {
					t.Errorf("%q%s: digest %s, original %s", k, sfx, b, a)
				}
			}
		}
	}
}

// TestShutdownSave: SHUTDOWN SAVE saves even without save points; NOSAVE does not
// save even with them; LASTSAVE and BGSAVE's errors are Redis's.
func TestShutdownSave(t *testing.T) {
	dir := t.TempDir()
	s := startKV(t, dir)
	r := s.Raw(t)
	steps(t, r, [][2]string{
		{"SET k v", "OK"},
		{"BGSAVE x", "(error) ERR syntax error"},
		{"BGSAVE SCHEDULE x", "(error) ERR syntax error"},
		{"MULTI", "OK"},
		{"BGSAVE", "QUEUED"},
		{"EXEC", "[Background saving scheduled]"},
	})
	deadline := time.Now().Add(kvtest.Timeout)
	for !strings.Contains(r.Do("INFO", "persistence").String(), "rdb_saves:1") {
		if time.Now().After(deadline) {
			t.Fatal("the scheduled BGSAVE did not run")
		}
		time.Sleep(20 * time.Millisecond)
	}
	os.Remove(filepath.Join(dir, "dump.rdb"))
	steps(t, r, [][2]string{{"SET k2 v2", "OK"}})
	r.Send("SHUTDOWN SAVE\r\n")
	if _, err := r.ReadErr(); err == nil {
		t.Fatal("SHUTDOWN SAVE replied instead of closing")
	}
	<-s.Srv.Done()
	s2 := startKV(t, dir, "save", "3600 1")
	r2 := s2.Raw(t)
	steps(t, r2, [][2]string{{"GET k2", "v2"}, {"SET k3 v3", "OK"}})
	r2.Send("SHUTDOWN NOSAVE\r\n")
	if _, err := r2.ReadErr(); err == nil {
		t.Fatal("SHUTDOWN NOSAVE replied instead of closing")
	}
	<-s2.Srv.Done()
	s3 := startKV(t, dir)
	steps(t, s3.Raw(t), [][2]string{{"GET k2", "v2"}, {"GET k3", "(nil)"}})
}

// TestSavePoints: a save point triggers a BGSAVE once enough changes are made.
func TestSavePoints(t *testing.T) {
	dir := t.TempDir()
	s := startKV(t, dir, "save", "1 3")
	r := s.Raw(t)
	steps(t, r, [][2]string{{"SET a 1", "OK"}, {"SET b 2", "OK"}})
	time.Sleep(2100 * time.Millisecond)
	if _, err := os.Stat(filepath.Join(dir, "dump.rdb")); err == nil {
		t.Fatal("saved before the save point was reached")
	}
	steps(t, r, [][2]string{{"SET c 3", "OK"}})
	// The file appears before the background save's bookkeeping is done, so wait for
	// INFO to report the save finished, then check the file and the counters.
	deadline := time.Now().Add(kvtest.Timeout)
	var info string
	for {
		info = r.Do("INFO", "persistence").String()
		if strings.Contains(info, "rdb_saves:1") && strings.Contains(info, "rdb_bgsave_in_progress:0") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the save point did not trigger:\n%s", info)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(dir, "dump.rdb")); err != nil {
		t.Fatalf("save reported done but no dump.rdb: %v", err)
	}
	for _, want := range []string{"rdb_changes_since_last_save:0", "rdb_saves:1", "rdb_last_bgsave_status:ok"} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO lacks %s:\n%s", want, info)
		}
	}
}

// TestInspectRespRebuildsInRedis: `kv rdb inspect --format resp` of the Redis-made
// fixture, replayed into an empty Redis, gives the dataset the fixture loads into
// (same DEBUG DIGEST); and inspect's digest of the file is Redis's.
func TestInspectRespRebuildsInRedis(t *testing.T) {
	src, err := os.ReadFile("../testdata/rdb/redis-7.0.15-all-types.rdb")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dump.rdb"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	red := kvtest.StartRedis(t, dir, "--enable-debug-command", "yes")
	rr := (&kvtest.Server{Addr: red.Addr}).Raw(t)
	want := digest(t, rr)
	// The same file loads into kv with the same content.
	kvDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(kvDir, "dump.rdb"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := digest(t, startKV(t, kvDir).Raw(t)); got != want {
		t.Errorf("kv's digest of the fixture %s, Redis's %s", got, want)
	}
	var js bytes.Buffer
	if err := rdb.Inspect(bytes.NewReader(src), &js, rdb.InspectOptions{DB: -1, Format: "json"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"digest": "`+want+`"`) {
		t.Errorf("inspect's digest differs from Redis's %s:\n%s", want, js.String())
	}
	var cmds bytes.Buffer
	if err := rdb.Inspect(bytes.NewReader(src), &cmds, rdb.InspectOptions{DB: -1, Format: "resp"}); err != nil {
		t.Fatal(err)
	}
	steps(t, rr, [][2]string{{"FLUSHALL", "OK"}})
	n := bytes.Count(cmds.Bytes(), []byte("\r\n*")) + 1
	rr.Send(cmds.String())
	for range n {
		if v := rr.Read(); strings.HasPrefix(v.String(), "(error)") {
			t.Fatalf("replay: %s", v)
		}
	}
	if got := digest(t, rr); got != want {
		t.Errorf("digest after replay %s, want %s", got, want)
	}
}

// TestFetchFromKV: `kv rdb dump`'s Fetch takes a snapshot from kv over SYNC (EOF-marker
// form), and a peer without capa eof gets the "$<len>" form; both read back whole.
func TestFetchFromKV(t *testing.T) {
	s := startKV(t, t.TempDir())
	r := s.Raw(t)
	run(t, r, datasetCommands())
	want := digest(t, r)
	check := func(payload []byte) {
		t.Helper()
		in := &bytes.Buffer{}
		if err := rdb.Inspect(bytes.NewReader(payload), in, rdb.InspectOptions{DB: -1, Format: "json"}); err != nil {
			t.Fatalf("payload: %v", err)
		}
		if !strings.Contains(in.String(), `"digest": "`+want+`"`) {
			t.Errorf("payload digest differs from %s", want)
		}
	}
	var buf bytes.Buffer
	if _, err := rdb.Fetch(context.Background(), s.Addr, &buf, rdb.FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	check(buf.Bytes())

	nc, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(kvtest.Timeout))
	if _, err := nc.Write([]byte("PSYNC ? -1\r\n")); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	line, _ := br.ReadString('\n')
	if !strings.HasPrefix(line, "+FULLRESYNC ") {
		t.Fatalf("PSYNC = %q", line)
	}
	line, _ = br.ReadString('\n')
	size, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "$")))
	if err != nil {
		t.Fatalf("payload header %q", line)
	}
	payload := make([]byte, size)
	if _, err := io.ReadFull(br, payload); err != nil {
		t.Fatal(err)
	}
	check(payload)
	// Since replication landed the connection stays open as a replica, as in Redis.
	steps(t, s.Raw(t), [][2]string{{"REPLCONF bogus 1", "(error) ERR Unrecognized REPLCONF option: bogus"}, {"SET after sync", "OK"}})
}

// TestFlushallSaves: with save points, FLUSHALL saves the empty dataset and still
// counts as a change (so it is propagated), as Redis 7.0 does; without, it does not.
func TestFlushallSaves(t *testing.T) {
	dir := t.TempDir()
	s := startKV(t, dir, "save", "3600 1000")
	r := s.Raw(t)
	steps(t, r, [][2]string{{"SET a 1", "OK"}, {"FLUSHALL", "OK"}})
	info := r.Do("INFO", "persistence").String()
	if !strings.Contains(info, "rdb_saves:1") || strings.Contains(info, "rdb_changes_since_last_save:0") {
		t.Errorf("after FLUSHALL:\n%s", info)
	}
	if _, err := os.Stat(filepath.Join(dir, "dump.rdb")); err != nil {
		t.Error(err)
	}
	dir2 := t.TempDir()
	s2 := startKV(t, dir2)
	steps(t, s2.Raw(t), [][2]string{{"SET a 1", "OK"}, {"FLUSHALL", "OK"}})
	if _, err := os.Stat(filepath.Join(dir2, "dump.rdb")); err == nil {
		t.Error("FLUSHALL saved without save points")
	}
}
