package engine

import "kv/engine/dict"

// Helpers for building values from a snapshot or a DUMP payload (package rdb), where
// Redis's loader picks encodings by rules of its own rather than by replaying writes.

// NewHashtableHash returns an empty hash in the hashtable encoding, sized for n fields.
func NewHashtableHash(n int) Object {
	d := dict.New[string]()
	d.Reserve(n)
	return Object{Type: TypeHash, Enc: EncHashtable, Val: d}
}

// NewHashtableSet returns an empty set in the hashtable encoding, sized for n members.
func NewHashtableSet(n int) Object {
	d := dict.New[struct{}]()
	d.Reserve(n)
	return Object{Type: TypeSet, Enc: EncHashtable, Val: d}
}

// NewIntsetSet returns an empty set in the intset encoding.
func NewIntsetSet() Object { return newIntsetObject() }

// ConvertHash moves a listpack hash to the hashtable encoding.
func ConvertHash(o *Object) {
	if o.Enc == EncListpack {
		hashConvert(o)
	}
}

// ConvertSet moves an intset to the hashtable encoding.
func ConvertSet(o *Object) {
	if o.Enc == EncIntset {
		setConvert(o)
	}
}
