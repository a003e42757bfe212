package rdb

import (
	"bytes"
	"os"
	"sort"
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
