package rdb

import (
	"errors"
	"math"
	"strconv"

	"kv/engine"
)

// ErrDuplicate reports a set member, hash field or sorted-set member that appears twice
// in one value: Redis refuses such a value on load, and so do we.
var ErrDuplicate = errors.New("duplicate members in a value")

// ToValue converts an engine value to its neutral form, keeping the encoding Redis
// would save it with. The result may alias o; serialize it before o changes.
func ToValue(o *engine.Object) (Value, error) {
	switch o.Type {
	case engine.TypeString:
		if o.Enc == engine.EncInt {
			return Value{Kind: KindString, Encoding: "int", Str: strconv.AppendInt(nil, o.Int, 10)}, nil
		}
		return Value{Kind: KindString, Encoding: "raw", Str: o.Str}, nil
	case engine.TypeHash:
		v := Value{Kind: KindHash, Encoding: o.Enc.String(), Hash: make([][2][]byte, 0, engine.HashLen(o))}
		engine.HashRange(o, func(f, val []byte) bool {
			v.Hash = append(v.Hash, [2][]byte{f, val})
			return true
		})
		return v, nil
	case engine.TypeSet:
		if o.Enc == engine.EncIntset {
			v := Value{Kind: KindSet, Encoding: "intset", Ints: make([]int64, 0, engine.SetLen(o))}
			engine.SetRange(o, func(m []byte) bool {
				n, _ := strconv.ParseInt(string(m), 10, 64)
				v.Ints = append(v.Ints, n)
				return true
			})
			return v, nil
		}
		v := Value{Kind: KindSet, Encoding: "hashtable", Set: make([][]byte, 0, engine.SetLen(o))}
		engine.SetRange(o, func(m []byte) bool {
			v.Set = append(v.Set, m)
			return true
		})
		return v, nil
	}
	return toValueMore(o)
}

// FromValue builds an engine value from v with the encoding Redis 7.0's loader gives
// it under st's thresholds (rdbLoadObject): a string becomes int, embstr or raw as
// tryObjectEncoding decides; a listpack or ziplist hash stays a listpack unless it
// has too many fields, while a plain one is rebuilt field by field and converts on a
// long field or value; an intset converts past set-max-intset-entries and a plain set
// stays an intset only while its members are integers. v's slices are taken over.
func FromValue(v *Value, st *engine.Settings) (engine.Object, error) {
	switch v.Kind {
	case KindString:
		if n, ok := parseCanonicalInt(v.Str); ok {
			return engine.NewInt(n), nil
		}
		return engine.NewRawString(v.Str), nil
	case KindHash:
		return hashFromValue(v, st)
	case KindSet:
		return setFromValue(v, st)
	}
	return fromValueMore(v, st)
}

func hashFromValue(v *Value, st *engine.Settings) (engine.Object, error) {
	n := len(v.Hash)
	if n > st.HashMaxListpackEntries {
		o := engine.NewHashtableHash(n)
		for _, fv := range v.Hash {
			if engine.HashSet(&o, st, fv[0], fv[1]) {
				return engine.Object{}, ErrDuplicate
			}
		}
		return o, nil
	}
	build := *st
	if v.Encoding != "hashtable" {
		// A packed hash is loaded as the listpack it is, whatever its value lengths.
		build.HashMaxListpackValue = math.MaxInt
	}
	build.HashMaxListpackEntries = math.MaxInt
	o := engine.NewHash()
	for _, fv := range v.Hash {
		if engine.HashSet(&o, &build, fv[0], fv[1]) {
			return engine.Object{}, ErrDuplicate
		}
	}
	return o, nil
}

func setFromValue(v *Value, st *engine.Settings) (engine.Object, error) {
	maxInts := min(st.SetMaxIntsetEntries, 1<<30)
	if v.Ints != nil {
		if len(v.Ints) > maxInts {
			o := engine.NewHashtableSet(len(v.Ints))
			var buf [20]byte
			for _, n := range v.Ints {
				if !engine.SetAdd(&o, st, strconv.AppendInt(buf[:0], n, 10)) {
					return engine.Object{}, ErrDuplicate
				}
			}
			return o, nil
		}
		build := *st
		build.SetMaxIntsetEntries = math.MaxInt
		o := engine.NewIntsetSet()
		var buf [20]byte
		for _, n := range v.Ints {
			if !engine.SetAdd(&o, &build, strconv.AppendInt(buf[:0], n, 10)) {
				return engine.Object{}, ErrDuplicate
			}
		}
		return o, nil
	}
	var o engine.Object
	if len(v.Set) > maxInts {
		o = engine.NewHashtableSet(len(v.Set))
	} else {
		o = engine.NewIntsetSet()
	}
	build := *st
	build.SetMaxIntsetEntries = math.MaxInt
	for _, m := range v.Set {
		if !engine.SetAdd(&o, &build, m) {
			return engine.Object{}, ErrDuplicate
		}
	}
	return o, nil
}

// stringEncoding is the encoding Redis gives a string value on load: int for a
// canonical integer, embstr up to 44 bytes, raw beyond.
func stringEncoding(s []byte) string {
	if _, ok := parseCanonicalInt(s); ok {
		return "int"
	}
	if len(s) <= 44 {
		return "embstr"
	}
	return "raw"
}
