package resp

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// oneByteReader returns one byte per Read, to prove parsing survives any split.
type oneByteReader struct{ r io.Reader }

func (o *oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func readAll(t *testing.T, rd io.Reader, limits Limits) ([][]string, error) {
	t.Helper()
	r := NewReader(rd, limits)
	var out [][]string
	for {
		args, err := r.ReadCommand()
		if err != nil {
			if err == io.EOF {
				return out, nil
			}
			return out, err
		}
		var cmd []string
		for _, a := range args {
			cmd = append(cmd, string(a))
		}
		out = append(out, cmd)
	}
}

func TestReaderCommands(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want [][]string
	}{
		{"multibulk", "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", [][]string{{"GET", "k"}}},
		{"empty bulk", "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", [][]string{{"ECHO", ""}}},
		{"binary bulk", "*2\r\n$4\r\nECHO\r\n$4\r\na\r\nb\r\n", [][]string{{"ECHO", "a\r\nb"}}},
		{"pipeline", "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n", [][]string{{"PING"}, {"PING"}}},
		{"inline", "SET k \"a b\"\r\n", [][]string{{"SET", "k", "a b"}}},
		{"inline lf only", "PING\n", [][]string{{"PING"}}},
		{"blank lines skipped", "\r\n\n*0\r\n*-1\r\nPING\r\n", [][]string{{"PING"}}},
		{"inline escapes", `ECHO "\x41\n" 'it\'s'` + "\r\n", [][]string{{"ECHO", "A\n", "it's"}}},
		{"mixed", "PING\r\n*1\r\n$4\r\nPING\r\nPING\r\n", [][]string{{"PING"}, {"PING"}, {"PING"}}},
	}
	for _, c := range cases {
		for _, split := range []bool{false, true} {
			var rd io.Reader = strings.NewReader(c.in)
			if split {
				rd = &oneByteReader{rd}
			}
			got, err := readAll(t, rd, Limits{})
			if err != nil {
				t.Errorf("%s (split=%v): %v", c.name, split, err)
				continue
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s (split=%v): got %q, want %q", c.name, split, got, c.want)
			}
		}
	}
}

func TestReaderErrors(t *testing.T) {
	cases := []struct {
		name   string
		in     string
		limits Limits
		want   string
	}{
		{"bad count", "*x\r\n", Limits{}, "invalid multibulk length"},
		{"huge count", "*3000000000\r\n", Limits{}, "invalid multibulk length"},
		{"expected dollar", "*1\r\n:1\r\n", Limits{}, "expected '$', got ':'"},
		{"negative bulk", "*1\r\n$-1\r\n", Limits{}, "invalid bulk length"},
		{"bulk over limit", "*1\r\n$11\r\n", Limits{MaxBulkLen: 10}, "invalid bulk length"},
		{"unbalanced", "ECHO \"x\r\n", Limits{}, "unbalanced quotes in request"},
		{"quote then text", "ECHO \"x\"y\r\n", Limits{}, "unbalanced quotes in request"},
		{"inline too big", strings.Repeat("x", 100), Limits{MaxInline: 50}, "too big inline request"},
		{"count too big", "*" + strings.Repeat("1", 100), Limits{MaxInline: 50}, "too big mbulk count string"},
		{"bulk count too big", "*1\r\n$" + strings.Repeat("1", 100), Limits{MaxInline: 50}, "too big bulk count string"},
		{"unauth count", "*11\r\n", Limits{Unauthenticated: func() bool { return true }}, "unauthenticated multibulk length"},
		{"unauth bulk", "*1\r\n$16385\r\n", Limits{Unauthenticated: func() bool { return true }}, "unauthenticated bulk length"},
	}
	for _, c := range cases {
		_, err := readAll(t, strings.NewReader(c.in), c.limits)
		var perr *ProtocolError
		if !errors.As(err, &perr) || perr.Msg != c.want {
			t.Errorf("%s: got %v, want protocol error %q", c.name, err, c.want)
		}
	}
}

func TestReaderTruncatedIsUnexpectedEOF(t *testing.T) {
	_, err := readAll(t, strings.NewReader("*2\r\n$3\r\nGET\r\n$1\r\n"), Limits{})
	if err != io.ErrUnexpectedEOF {
		t.Fatalf("got %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestReaderQueryBufferLimit(t *testing.T) {
	in := "*1\r\n$1000\r\n" + strings.Repeat("x", 600)
	_, err := readAll(t, &oneByteReader{strings.NewReader(in)}, Limits{MaxQueryBuffer: 512})
	if err != ErrQueryBufferLimit {
		t.Fatalf("got %v, want ErrQueryBufferLimit", err)
	}
}

// TestReaderBatchArgsStayValid checks the zero-copy contract: arguments of every
// request parsed by Next stay intact until the next read from the stream.
func TestReaderBatchArgsStayValid(t *testing.T) {
	var in bytes.Buffer
	for i := 0; i < 50; i++ {
		in.Write(AppendCommandStrings(nil, "SET", strings.Repeat("k", i), strings.Repeat("v", 3*i)))
	}
	r := NewReader(&in, Limits{})
	var batch [][][]byte
	first, err := r.ReadCommand()
	if err != nil {
		t.Fatal(err)
	}
	batch = append(batch, first)
	for {
		args, ok, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		batch = append(batch, args)
	}
	for i, args := range batch {
		if string(args[1]) != strings.Repeat("k", i) || string(args[2]) != strings.Repeat("v", 3*i) {
			t.Fatalf("request %d corrupted: %q", i, args)
		}
	}
}

func TestReaderLargeBulk(t *testing.T) {
	big := strings.Repeat("abcdefgh", 1<<17) // 1 MiB
	in := string(AppendCommandStrings(nil, "SET", "k", big)) + "PING\r\n"
	got, err := readAll(t, strings.NewReader(in), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0][2] != big || got[1][0] != "PING" {
		t.Fatalf("large bulk not read back intact")
	}
}

// FuzzReader feeds arbitrary bytes, whole and one byte at a time: the reader must never
// panic, and both ways must agree on what they parsed.
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"*1\r\n$4\r\nPING\r\n", "PING\r\n", "*2\r\n$1\r\na\r\n$0\r\n\r\n", "\"a\\x4", "*-1\r\n",
		"*1\r\n$-1\r\n", "'x' \"y\"\n", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nvv\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		lim := Limits{MaxBulkLen: 1 << 16, MaxInline: 1 << 10, MaxQueryBuffer: 1 << 20}
		whole, errWhole := readAll(t, bytes.NewReader(in), lim)
		split, errSplit := readAll(t, &oneByteReader{bytes.NewReader(in)}, lim)
		if !reflect.DeepEqual(whole, split) {
			t.Fatalf("whole %q vs split %q", whole, split)
		}
		var p1, p2 *ProtocolError
		if errors.As(errWhole, &p1) != errors.As(errSplit, &p2) {
			// The only allowed difference is when the inline size limit is reached
			// before or after a newline arrives, which depends on the read size.
			if !(p1 != nil && strings.HasPrefix(p1.Msg, "too big")) && !(p2 != nil && strings.HasPrefix(p2.Msg, "too big")) {
				t.Fatalf("errors differ: %v vs %v", errWhole, errSplit)
			}
		}
	})
}

// TestParseCount: the in-place fast path agrees with strconv.ParseInt on every form.
func TestParseCount(t *testing.T) {
	for _, s := range []string{"0", "7", "16384", "000012", "999999999999999999", "9223372036854775807",
		"9223372036854775808", "-1", "+5", "", "1a", " 1", "-", "1234567890123456789012"} {
		got, gerr := parseCount([]byte(s))
		want, werr := strconv.ParseInt(s, 10, 64)
		if got != want || (gerr == nil) != (werr == nil) {
			t.Errorf("parseCount(%q) = %d, %v; ParseInt gives %d, %v", s, got, gerr, want, werr)
		}
	}
}

// TestInlineWithoutQuotesMatchesSplitArgs: inline requests without quotes take a path
// that splits inside the buffer; it must agree with SplitArgs, and a batch of them must
// stay intact until the next read, as multibulk requests do.
func TestInlineWithoutQuotesMatchesSplitArgs(t *testing.T) {
	lines := []string{
		"PING", "  SET  k\tv  ", "GET \x00k", "a b c d e f g h i j k l m n o p", "ECHO \\x41\\n",
		"x", "\t\t", "MSET a 1 b 2 c 3",
	}
	var in bytes.Buffer
	for _, l := range lines {
		in.WriteString(l + "\r\n")
	}
	r := NewReader(&in, Limits{})
	var batch [][][]byte
	args, err := r.ReadCommand()
	for ; err == nil; args, _, err = r.Next() {
		if args == nil {
			break
		}
		batch = append(batch, args)
	}
	if err != nil {
		t.Fatal(err)
	}
	var want [][][]byte
	for _, l := range lines {
		w, err := SplitArgs([]byte(l))
		if err != nil {
			t.Fatal(err)
		}
		if len(w) > 0 {
			want = append(want, w)
		}
	}
	if !reflect.DeepEqual(batch, want) {
		t.Fatalf("got %q, want %q", batch, want)
	}
}
