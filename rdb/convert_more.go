package rdb

import (
	"fmt"

	"kv/engine"
)

// toValueMore converts the types whose engine code lands separately (lists, sorted sets).
func toValueMore(o *engine.Object) (Value, error) {
	return Value{}, fmt.Errorf("rdb: values of type %s cannot be saved yet", o.Type)
}

// fromValueMore builds the types whose engine code lands separately.
func fromValueMore(v *Value, _ *engine.Settings) (engine.Object, error) {
	return engine.Object{}, fmt.Errorf("rdb: values of type %s cannot be loaded yet", v.Kind)
}
