package resp

import (
	"bytes"
	"io"
	"reflect"
	"testing"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func TestSplitArgs(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		ok   bool
	}{
		{"", nil, true},
		{"  a  b ", []string{"a", "b"}, true},
		{`"a b" c`, []string{"a b", "c"}, true},
		{`""`, []string{""}, true},
		{`"\x00\xff\t"`, []string{"\x00\xff\t"}, true},
		{`"\xZZ"`, []string{"xZZ"}, true},
		{`'a\'b' "c\"d"`, []string{"a'b", `c"d`}, true},
		{`'a\nb'`, []string{`a\nb`}, true},
		{`"a`, nil, false},
		{`'a`, nil, false},
		{`"a"b`, nil, false},
		{`a"b"`, []string{"ab"}, true}, // as sdssplitargs: a quote opens anywhere
	}
	for _, c := range cases {
		args, err := SplitArgs([]byte(c.in))
		if (err == nil) != c.ok {
			t.Errorf("%q: err %v, want ok=%v", c.in, err, c.ok)
			continue
		}
		var got []string
		for _, a := range args {
			got = append(got, string(a))
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
		}
	}
}
