package aof

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseManifest(t *testing.T) {
	for _, tc := range []struct {
		name, in, err string
	}{
		{"ok", "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.1.incr.aof seq 1 type h\nfile appendonly.aof.3.incr.aof seq 3 type i\n", ""},
		{"comment and extra fields", "# hi\nfile a.aof seq 1 type i future x\n", ""},
		{"quoted name", "file \"a b\\x41.aof\" seq 1 type i\n", ""},
		{"empty", "", "Found an empty AOF manifest"},
		{"no newline at end", "file a seq 1 type i", "contains too long line"},
		{"blank line", "file a seq 1 type i\n\n", "Invalid AOF manifest file format"},
		{"odd fields", "file a seq 1 type\n", "Invalid AOF manifest file format"},
		{"seq zero", "file a seq x type i\n", "Invalid AOF manifest file format"},
		{"path", "file ../a seq 1 type i\n", "File can't be a path"},
		{"two bases", "file a seq 1 type b\nfile b seq 2 type b\n", "Found duplicate base file information"},
		{"non-monotonic", "file a seq 2 type i\nfile b seq 2 type i\n", "Found a non-monotonic sequence number"},
		{"unknown type", "file a seq 1 type x\n", "Unknown AOF file type"},
		{"unbalanced quotes", "file \"a seq 1 type i\n", "Invalid AOF manifest file format"},
		{"long line", "file " + strings.Repeat("a", 1100) + " seq 1 type i\n", "too long line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseManifest("m", []byte(tc.in))
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				again, err := ParseManifest("m", []byte(m.String()))
				if err != nil || again.String() != m.String() {
					t.Fatalf("round trip: %v\n%s\n%s", err, m, again)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
		})
	}
	m, _ := ParseManifest("m", []byte("file \"a b\\x41.aof\" seq 1 type i\n"))
	if m.Incr[0].Name != "a bA.aof" || m.String() != "file \"a bA.aof\" seq 1 type i\n" {
		t.Fatalf("quoted name: %q / %q", m.Incr[0].Name, m.String())
	}
}

func TestManifestRewriteSteps(t *testing.T) {
	m := &Manifest{}
	m.NewBase("appendonly.aof", true)
	m.NewIncr("appendonly.aof")
	m.NewIncr("appendonly.aof")
	m.NewBase("appendonly.aof", false)
	m.RewrittenIncrToHistory(true)
	// Redis puts the old base at the head of history, then each rewritten incr file
	// (walking from the tail) at the head again.
	want := "file appendonly.aof.2.base.aof seq 2 type b\n" +
		"file appendonly.aof.1.incr.aof seq 1 type h\n" +
		"file appendonly.aof.1.base.rdb seq 1 type h\n" +
		"file appendonly.aof.2.incr.aof seq 2 type i\n"
	if m.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", m, want)
	}
}

func TestReaderErrors(t *testing.T) {
	whole := "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"
	for _, tc := range []struct {
		name, in  string
		truncated bool
		offset    int64
		valid     int64
	}{
		{"torn header", whole + "*3\r", true, 23, 23},
		{"torn bulk", whole + "*1\r\n$5\r\nab", true, 31, 23},
		{"missing crlf", whole + "*1\r\n$2\r\nab", true, 33, 23},
		{"bad star", whole + "+OK\r\n", false, 23, 23},
		{"bad dollar", whole + "*1\r\n:5\r\n", false, 27, 23},
		{"bad crlf", whole + "*1\r\n$2\r\nabXY", false, 33, 23},
		{"bad count", whole + "*x\r\n", false, 24, 23},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tc.in), "f", 0)
			var err error
			for err == nil {
				_, err = r.Next()
			}
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("err %v", err)
			}
			if ae.Truncated != tc.truncated || ae.Offset != tc.offset || ae.ValidUpTo != tc.valid {
				t.Fatalf("got %+v (%v)", ae, ae)
			}
		})
	}
}

func TestCheckFileMulti(t *testing.T) {
	dir := t.TempDir()
	var b []byte
	b = AppendCommand(b, [][]byte{[]byte("SET"), []byte("a"), []byte("1")})
	good := len(b)
	b = AppendCommand(b, [][]byte{[]byte("MULTI")})
	b = AppendCommand(b, [][]byte{[]byte("SET"), []byte("b"), []byte("1")})
	p := filepath.Join(dir, "x.aof")
	os.WriteFile(p, b, 0o644)
	rep := CheckFile(p)
	if rep.Err == nil || rep.ValidUpTo != int64(good) {
		t.Fatalf("open MULTI: %+v", rep)
	}
}

// FuzzAOFReader: any input yields commands or an *Error with sane offsets, never a
// panic; every whole command re-encodes to exactly the bytes it was read from.
func FuzzAOFReader(f *testing.F) {
	var seed []byte
	seed = AppendSelect(seed, 3)
	seed = AppendCommand(seed, [][]byte{[]byte("SET"), []byte("k"), []byte("v\r\n")})
	f.Add(seed)
	f.Add([]byte("#TS:1\r\n*1\r\n$4\r\nPING\r\n"))
	f.Add([]byte("*1\r\n$99999999999\r\nab"))
	f.Add([]byte("REDIS0010"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), "fuzz", 0)
		for {
			start := r.Offset()
			args, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				var ae *Error
				if !errors.As(err, &ae) {
					t.Fatalf("non-AOF error %v", err)
				}
				if ae.Offset < 0 || ae.Offset > int64(len(data)) || ae.ValidUpTo > ae.Offset || ae.ValidUpTo < 0 {
					t.Fatalf("bad offsets %+v for %d bytes", ae, len(data))
				}
				return
			}
			enc := AppendCommand(nil, args)
			if !bytes.HasSuffix(data[start:r.Offset()], enc) {
				t.Fatalf("command %q does not re-encode to its bytes", args)
			}
		}
	})
}
