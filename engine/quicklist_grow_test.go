package engine

import (
	"bytes"
	"fmt"
	"testing"
)

// TestQuicklistPushAllGrowth pushes batches at either end and checks the list against
// a slice model, and that no node's buffer grew past what its bound lets it use
// (the allocator's size class for the bound, or a single entry that needs more).
func TestQuicklistPushAllGrowth(t *testing.T) {
	sizes := []int{1, 16, 100, 3000, 9000}
	for _, fill := range []int{-1, -2, -5, 4, 128} {
		for _, size := range sizes {
			for _, head := range []bool{false, true} {
				name := fmt.Sprintf("fill%d/size%d/head%v", fill, size, head)
				t.Run(name, func(t *testing.T) {
					q := NewQuicklist(fill)
					var m qlModel
					for batch := 0; batch < 12; batch++ {
						vs := make([][]byte, 1+batch*7%40)
						for i := range vs {
							vs[i] = bytes.Repeat([]byte{byte('a' + (batch+i)%26)}, size+i%3)
						}
						q.PushAll(vs, head)
						for _, v := range vs {
							if head {
								m = append(qlModel{v}, m...)
							} else {
								m = append(m, v)
							}
						}
						assertSame(t, q, m, fmt.Sprintf("batch %d", batch))
					}
					bound := cap(allocEntries(nodeBytes(fill)))
					for n := q.head; n != nil; n = n.next {
						if cap(n.buf) > bound && n.count > 1 {
							t.Errorf("node of %d entries (%d bytes) has a %d-byte buffer, bound %d",
								n.count, len(n.buf)-n.off, cap(n.buf), bound)
						}
					}
				})
			}
		}
	}
}

// TestQuicklistFullNodeSlack is the case behind the bound: 16-byte elements pushed
// one at a time used to double a node's buffer to 9216 bytes for 8172 bytes of
// entries under list-max-listpack-size -2.
func TestQuicklistFullNodeSlack(t *testing.T) {
	for _, head := range []bool{false, true} {
		q := NewQuicklist(-2)
		for i := 0; i < 2000; i++ {
			v := []byte(fmt.Sprintf("element-%08d", i))
			if head {
				q.PushHead(v)
			} else {
				q.PushTail(v)
			}
		}
		for n := q.head; n != nil; n = n.next {
			if cap(n.buf) > 8192 {
				t.Errorf("head %v: node with %d bytes of entries holds a %d-byte buffer", head, len(n.buf)-n.off, cap(n.buf))
			}
		}
	}
}
