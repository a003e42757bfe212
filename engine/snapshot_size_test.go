package engine

import (
	"testing"
	"unsafe"
)

// The generation stamp lives in Object's padding: adding it must not grow the value
// every key holds.
func TestObjectSize(t *testing.T) {
	if n := unsafe.Sizeof(Object{}); n != 56 {
		t.Fatalf("Object is %d bytes, want 56", n)
	}
}
