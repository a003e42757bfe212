package engine

import (
	"bytes"
	"testing"
)

// TestCopyArgs checks that propagated arguments are detached from the caller's
// buffers and that each one's capacity ends at its length, so appending to one
// argument cannot write over the next in the shared block.
func TestCopyArgs(t *testing.T) {
	for _, args := range [][][]byte{
		{},
		{[]byte("PING")},
		{[]byte("RPUSH"), []byte("l"), {}, []byte("abc"), {}},
	} {
		cp := copyArgs(args)
		if len(cp) != len(args) {
			t.Fatalf("%q: copied %d args", args, len(cp))
		}
		for i := range args {
			if !bytes.Equal(cp[i], args[i]) || cap(cp[i]) != len(cp[i]) {
				t.Fatalf("%q: arg %d is %q (cap %d)", args, i, cp[i], cap(cp[i]))
			}
			if len(args[i]) > 0 {
				args[i][0] ^= 0xff
				if cp[i][0] == args[i][0] {
					t.Fatalf("%q: arg %d still shares the caller's bytes", args, i)
				}
				args[i][0] ^= 0xff
			}
		}
		for i := range cp {
			cp[i] = append(cp[i], 'x')
		}
		for i := range args {
			if !bytes.Equal(cp[i][:len(cp[i])-1], args[i]) {
				t.Fatalf("%q: appending to the copies changed arg %d to %q", args, i, cp[i])
			}
		}
	}
}
