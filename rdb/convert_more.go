package rdb

import (
	"fmt"

	"kv/engine"
)

// toValueMore converts lists, and says which types kv cannot save yet.
func toValueMore(o *engine.Object) (Value, error) {
	if o.Type == engine.TypeList {
		return Value{Kind: KindList, Encoding: "quicklist", List: engine.ListElements(o)}, nil
	}
	return Value{}, fmt.Errorf("rdb: values of type %s cannot be saved yet", o.Type)
}

// fromValueMore builds lists, always quicklists in Redis 7.0 whatever the file's
// encoding (ziplist, quicklist, quicklist 2), with kv's node bound.
func fromValueMore(v *Value, st *engine.Settings) (engine.Object, error) {
	if v.Kind == KindList {
		return engine.NewListFrom(st, v.List), nil
	}
	return engine.Object{}, fmt.Errorf("rdb: values of type %s cannot be loaded yet", v.Kind)
}
