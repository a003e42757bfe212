package engine

// Hooks through which the generic key commands reach the collection types: COPY
// duplicates values (RegisterDup), SORT reads elements and hash fields and builds
// lists (RegisterSortElements, RegisterSortHashField, RegisterSortNewList). Each type
// adds its lines here, using only its exported API.
func init() {
	RegisterDup(TypeSet, DupSet)
	RegisterDup(TypeHash, DupHash)
	RegisterSortElements(TypeSet, func(o *Object) [][]byte {
		out := make([][]byte, 0, SetLen(o))
		// SetRange's slices are only valid during the call (intsets format into a
		// buffer), so SORT gets copies.
		SetRange(o, func(m []byte) bool {
			out = append(out, append([]byte(nil), m...))
			return true
		})
		return out
	})
	RegisterSortHashField(HashGet)
}
