package rdb

import (
	"bytes"
	"errors"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"kv/engine"
)

type fakeFunctions struct{ libs []engine.Library }

func (f *fakeFunctions) Libraries() []engine.Library { return f.libs }
func (f *fakeFunctions) LoadLibrary(code string, _ bool) error {
	name := strings.TrimPrefix(strings.SplitN(code, "\n", 2)[0], "#!lua name=")
	f.libs = append(f.libs, engine.Library{Name: name, Code: code})
	return nil
}
func (f *fakeFunctions) FlushLibraries() { f.libs = nil }

// TestLoadRedisFixture loads the file redis-server 7.0.15 wrote into an engine: every
// key whose type kv has comes out with the content and the OBJECT ENCODING Redis
// reported (testdata/rdb/redis-7.0.15-all-types.txt), and the function library reaches
// the function registry. It reads the file per key, so types still missing in kv are
// skipped rather than failing the whole load.
func TestLoadRedisFixture(t *testing.T) {
	src, err := os.ReadFile("../testdata/rdb/redis-7.0.15-all-types.rdb")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	txt, _ := os.ReadFile("../testdata/rdb/redis-7.0.15-all-types.txt")
	for _, line := range strings.Split(strings.TrimRight(string(txt), "\n"), "\n") {
		f := strings.SplitN(line, "\t", 3)
		want[f[0]+"\t"+f[1]] = line
	}
	e := engine.New(engine.Options{Databases: 16})
	fs := &fakeFunctions{}
	e.SetFunctionStore(fs)
	var col collector
	if err := Read(bytes.NewReader(src), &col); err != nil {
		t.Fatal(err)
	}
	for _, c := range col.funcs {
		if err := (&loader{e: e}).Function([]byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	if len(fs.libs) != 1 || fs.libs[0].Name != "fixturelib" {
		t.Errorf("functions loaded: %+v", fs.libs)
	}
	checked := 0
	for _, en := range col.entries {
		o, err := FromValue(&en.Value, &e.Settings)
		if err != nil {
			t.Logf("skipped %s (%s): %v", en.Key, en.Value.Kind, err)
			continue
		}
		// Render what the engine holds, the way the fixture renders Redis's keys.
		v, err := ToValue(&o)
		if err != nil {
			t.Fatal(err)
		}
		back := &Entry{DB: en.DB, Key: en.Key, Value: v, Meta: en.Meta}
		got := CanonicalLine(back)
		// The engine's own encoding name replaces the one ToValue reports.
		f := strings.SplitN(got, "\t", 5)
		f[3] = o.Enc.String()
		got = strings.Join(f, "\t")
		w := want[f[0]+"\t"+f[1]]
		if sortedLine(got) != sortedLine(w) {
			t.Errorf("key %s:\n got %.300s\nwant %.300s", en.Key, got, w)
		}
		checked++
	}
	if checked < 15 {
		t.Errorf("only %d keys checked", checked)
	}
}

// sortedLine orders a set's members, which Redis printed in its hash order.
func sortedLine(l string) string {
	f := strings.SplitN(l, "\t", 6)
	if len(f) < 6 || f[2] != "set" {
		return l
	}
	m := strings.Fields(f[5])
	sort.Strings(m)
	f[5] = strings.Join(m, " ")
	return strings.Join(f, "\t")
}

// TestSaveFunctions: the libraries of the registry are written and read back.
func TestSaveFunctions(t *testing.T) {
	e := engine.New(engine.Options{Databases: 1})
	code := "#!lua name=lib1\nredis.register_function('f', function() return 1 end)"
	e.SetFunctionStore(&fakeFunctions{libs: []engine.Library{{Name: "lib1", Code: code}}})
	var buf bytes.Buffer
	e.Lock()
	_, err := SaveLocked(e, &buf, SaveOptions{Checksum: true})
	e.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	e2 := engine.New(engine.Options{Databases: 1})
	fs := &fakeFunctions{}
	e2.SetFunctionStore(fs)
	e2.Lock()
	st, err := Load(&buf, e2, LoadOptions{Master: true})
	e2.Unlock()
	if err != nil || st.Functions != 1 || len(fs.libs) != 1 || fs.libs[0].Code != code {
		t.Fatalf("load: %v %+v %+v", err, st, fs.libs)
	}
}

// rdbWithKeys writes a version 10 RDB file of string keys in database 0, value = key.
func rdbWithKeys(keys []string) []byte {
	var buf bytes.Buffer
	enc := NewEncoder(&buf, false)
	enc.Raw([]byte("REDIS0010"))
	enc.Byte(0xFE) // SELECTDB
	enc.Len(0)
	for _, k := range keys {
		enc.Byte(0) // string
		enc.String([]byte(k))
		enc.String([]byte("v-" + k))
	}
	enc.Byte(0xFF)
	enc.Uint64LE(enc.CRC())
	_ = enc.Flush()
	return buf.Bytes()
}

// TestLoadDuplicatedKey: loading puts keys in batches, yet a key repeated in the file,
// whether in the same batch or far apart, is still an error naming it, and the keys
// before it are loaded. Merge lets the later value win instead.
func TestLoadDuplicatedKey(t *testing.T) {
	var keys []string
	for i := range 100 {
		keys = append(keys, "k"+strconv.Itoa(i))
	}
	cases := []struct {
		name         string
		dupAt, dupOf int
	}{
		{"same batch", 5, 2},
		{"far apart", 90, 3},
		{"adjacent across a batch boundary", loadBatch, loadBatch - 1},
	}
	for _, c := range cases {
		file := append(append(append([]string{}, keys[:c.dupAt]...), keys[c.dupOf]), keys[c.dupAt:]...)
		e := engine.New(engine.Options{Databases: 16})
		e.Lock()
		st, err := Load(bytes.NewReader(rdbWithKeys(file)), e, LoadOptions{Master: true})
		var cerr *CorruptError
		if !errors.As(err, &cerr) || !strings.Contains(err.Error(), `duplicated key "`+keys[c.dupOf]+`"`) {
			t.Errorf("%s: err = %v, want a duplicated key error naming %s", c.name, err, keys[c.dupOf])
		}
		if st.Keys != int64(c.dupAt) || e.DB(0).Len() != c.dupAt {
			t.Errorf("%s: %d keys loaded (stats %d), want the %d before the duplicate", c.name, e.DB(0).Len(), st.Keys, c.dupAt)
		}
		e.Unlock()

		e = engine.New(engine.Options{Databases: 16})
		e.Lock()
		if _, err := Load(bytes.NewReader(rdbWithKeys(file)), e, LoadOptions{Master: true, Merge: true}); err != nil {
			t.Errorf("%s with merge: %v", c.name, err)
		}
		if e.DB(0).Len() != len(keys) {
			t.Errorf("%s with merge: %d keys, want %d", c.name, e.DB(0).Len(), len(keys))
		}
		e.Unlock()
	}
}

// TestLoadTruncatedKeepsKeysRead: keys read before a truncation are loaded even when
// they were still waiting for their batch.
func TestLoadTruncatedKeepsKeysRead(t *testing.T) {
	var keys []string
	for i := range loadBatch + 10 {
		keys = append(keys, "key"+strconv.Itoa(i))
	}
	file := rdbWithKeys(keys)
	cut := file[:len(file)-9-len("v-key")-3] // inside the last key's value
	e := engine.New(engine.Options{Databases: 16})
	e.Lock()
	defer e.Unlock()
	_, err := Load(bytes.NewReader(cut), e, LoadOptions{Master: true})
	if err == nil {
		t.Fatal("truncated file loaded without error")
	}
	if got := e.DB(0).Len(); got != len(keys)-1 {
		t.Fatalf("%d keys loaded, want %d (all but the cut one): %v", got, len(keys)-1, err)
	}
}
