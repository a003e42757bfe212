// TEMPORARY local shim (not committed): map-backed stand-in until branch dict lands.
package dict

import "math/rand/v2"

type Dict[V any] struct{ m map[string]*V }

func New[V any]() *Dict[V]  { return &Dict[V]{m: map[string]*V{}} }
func (d *Dict[V]) Len() int { return len(d.m) }
func (d *Dict[V]) Get(k []byte) (V, bool) {
	p, ok := d.m[string(k)]
	if !ok {
		var z V
		return z, false
	}
	return *p, true
}
func (d *Dict[V]) GetString(k string) (V, bool) { return d.Get([]byte(k)) }
func (d *Dict[V]) Ref(k []byte) *V              { return d.m[string(k)] }
func (d *Dict[V]) Set(k []byte, v V) bool {
	p, ok := d.m[string(k)]
	if ok {
		*p = v
		return false
	}
	d.m[string(k)] = &v
	return true
}
func (d *Dict[V]) SetString(k string, v V) bool { return d.Set([]byte(k), v) }
func (d *Dict[V]) Delete(k []byte) (V, bool) {
	p, ok := d.m[string(k)]
	if !ok {
		var z V
		return z, false
	}
	delete(d.m, string(k))
	return *p, true
}
func (d *Dict[V]) Clear() { d.m = map[string]*V{} }
func (d *Dict[V]) Range(fn func(string, *V) bool) {
	for k, v := range d.m {
		if !fn(k, v) {
			return
		}
	}
}
func (d *Dict[V]) Scan(c uint64, fn func(string, *V)) uint64 {
	for k, v := range d.m {
		fn(k, v)
	}
	return 0
}
func (d *Dict[V]) RandomEntry(r *rand.Rand) (string, *V, bool) {
	for k, v := range d.m {
		return k, v, true
	}
	return "", nil, false
}
func (d *Dict[V]) Sample(r *rand.Rand, n int, fn func(string, *V)) {
	for k, v := range d.m {
		if n == 0 {
			return
		}
		n--
		fn(k, v)
	}
}
