package engine

// typeHooks are how the generic key commands reach the collection types: COPY
// duplicates values, SORT reads elements and hash fields and builds lists. The
// defaults call each type's functions directly; they live on the Engine (not in
// package variables) so a test can put stand-ins on its own engine.
type typeHooks struct {
	dup           func(o *Object) (Object, bool)
	sortElements  func(o *Object) ([][]byte, bool)
	sortHashField func(o *Object, field []byte) ([]byte, bool)
	sortNewList   func(s *Settings, elems [][]byte) Object
}

func defaultTypeHooks() typeHooks {
	return typeHooks{
		dup:           dupValue,
		sortElements:  collectionElements,
		sortHashField: HashGet,
		sortNewList:   NewListFrom,
	}
}

// dupValue deep-copies a value for COPY, keeping its encoding; false for a type kv
// cannot copy.
func dupValue(o *Object) (Object, bool) {
	switch o.Type {
	case TypeString:
		cp := *o
		if o.Enc != EncInt {
			cp.Str = append([]byte(nil), o.Str...)
		}
		return cp, true
	case TypeList:
		return DupList(o), true
	case TypeSet:
		return DupSet(o), true
	case TypeHash:
		return DupHash(o), true
	case TypeZSet:
		return DupZSet(o), true
	}
	return Object{}, false
}

// collectionElements returns a list's elements head to tail, a set's in no order, or
// a sorted set's by score; false for other types. Slices may alias the value.
func collectionElements(o *Object) ([][]byte, bool) {
	switch o.Type {
	case TypeList:
		return ListElements(o), true
	case TypeSet:
		out := make([][]byte, 0, SetLen(o))
		// SetRange's slices are only valid during the call (intsets format into a
		// buffer), so SORT gets copies.
		SetRange(o, func(m []byte) bool {
			out = append(out, append([]byte(nil), m...))
			return true
		})
		return out, true
	case TypeZSet:
		return ZSetMembers(o), true
	}
	return nil, false
}
