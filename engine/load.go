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

// SetEvictionHint applies what a snapshot or RESTORE says about a value's access
// history, as Redis's objectSetLRUOrLFU: under an LFU policy the frequency counter
// (freq >= 0), otherwise the idle time in seconds (idleSecs >= 0). Lock held.
func (e *Engine) SetEvictionHint(o *Object, idleSecs int64, freq int) {
	if e.Settings.lfuPolicy() {
		if freq >= 0 {
			o.LRU = e.lfuMinutes()<<8 | uint32(freq&0xff)
		}
		return
	}
	if idleSecs >= 0 {
		o.LRU = uint32(e.clock().Unix() - idleSecs)
	}
}

// ConvertZSet moves a sorted set to the skiplist encoding, or to the listpack one when
// toListpack is set.
func ConvertZSet(o *Object, toListpack bool) {
	if toListpack {
		zsetConvert(o, EncListpack)
	} else {
		zsetConvert(o, EncSkiplist)
	}
}
