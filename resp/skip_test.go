package resp_test

import (
	"bufio"
	"io"
	"strings"
	"testing"

	"kv/resp"
)

func TestSkipConsumesWhatReadReads(t *testing.T) {
	replies := []struct {
		wire  string
		isErr bool
	}{
		{"+OK\r\n", false},
		{"-ERR bad\r\n", true},
		{":42\r\n", false},
		{"$5\r\nhello\r\n", false},
		{"$-1\r\n", false},
		{"$0\r\n\r\n", false},
		{"*-1\r\n", false},
		{"*3\r\n$1\r\na\r\n*1\r\n:1\r\n-ERR x\r\n", false},
		{"%2\r\n+a\r\n:1\r\n+b\r\n,1.5\r\n", false},
		{"~1\r\n#t\r\n", false},
		{">2\r\n+invalidate\r\n*1\r\n$1\r\nk\r\n", false},
		{"_\r\n", false},
		{"(12345678901234567890\r\n", false},
		{"=8\r\ntxt:abcd\r\n", false},
		{"!5\r\nERR x\r\n", true},
		{"|1\r\n+key\r\n+val\r\n:7\r\n", false},
	}
	var all strings.Builder
	for _, r := range replies {
		all.WriteString(r.wire)
	}
	all.WriteString("+END\r\n")
	rd := resp.NewReplyReader(strings.NewReader(all.String()))
	for _, r := range replies {
		isErr, err := rd.Skip()
		if err != nil || isErr != r.isErr {
			t.Fatalf("Skip(%q) = %v, %v; want %v", r.wire, isErr, err, r.isErr)
		}
	}
	v, err := rd.Read()
	if err != nil || string(v.Str) != "END" {
		t.Fatalf("after skipping, Read = %v, %v; want END", v, err)
	}
	if _, err := rd.Skip(); err != io.EOF {
		t.Fatalf("Skip at end = %v; want EOF", err)
	}
}

func TestSkipRejectsGarbage(t *testing.T) {
	for _, in := range []string{"?x\r\n", "$abc\r\n", "*x\r\n", "$5\r\nab", "+OK\n"} {
		rd := resp.NewReplyReader(strings.NewReader(in))
		if _, err := rd.Skip(); err == nil {
			t.Errorf("Skip(%q) accepted garbage", in)
		}
	}
}

func TestSkipDoesNotAllocate(t *testing.T) {
	one := "*2\r\n$3\r\nfoo\r\n:1\r\n"
	in := strings.Repeat(one, 2000)
	src := strings.NewReader(in)
	rd := resp.NewReplyReader(bufio.NewReader(src))
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := rd.Skip(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Skip allocates %.1f times per reply", allocs)
	}
}
