package rdb

import (
	"fmt"
	"math"

	"kv/engine"
)

// toValueMore converts lists and sorted sets, and says which types kv cannot save yet.
func toValueMore(o *engine.Object) (Value, error) {
	switch o.Type {
	case engine.TypeList:
		return Value{Kind: KindList, Encoding: "quicklist", List: engine.ListElements(o)}, nil
	case engine.TypeZSet:
		enc := "skiplist"
		if o.Enc == engine.EncListpack {
			enc = "listpack"
		}
		v := Value{Kind: KindZSet, Encoding: enc, ZSet: make([]ZMember, 0, engine.ZSetLen(o))}
		engine.ZSetRange(o, func(m []byte, score float64) bool {
			v.ZSet = append(v.ZSet, ZMember{Member: m, Score: score})
			return true
		})
		return v, nil
	}
	return Value{}, fmt.Errorf("rdb: values of type %s cannot be saved yet", o.Type)
}

// fromValueMore builds lists, always quicklists in Redis 7.0 whatever the file's
// encoding (ziplist, quicklist, quicklist 2), with kv's node bound, and sorted sets.
func fromValueMore(v *Value, st *engine.Settings) (engine.Object, error) {
	switch v.Kind {
	case KindList:
		return engine.NewListFrom(st, v.List), nil
	case KindZSet:
		return zsetFromValue(v, st)
	}
	return engine.Object{}, fmt.Errorf("rdb: values of type %s cannot be loaded yet", v.Kind)
}

// zsetFromValue follows Redis 7.0's rdbLoadObject: a listpack (or ziplist) sorted set
// stays a listpack unless it has more members than zset-max-listpack-entries, whatever
// its members' lengths; a skiplist one becomes a listpack only if it fits both limits.
func zsetFromValue(v *Value, st *engine.Settings) (engine.Object, error) {
	build := *st
	packed := len(v.ZSet) <= st.ZSetMaxListpackEntries
	if v.Encoding != "listpack" {
		for _, m := range v.ZSet {
			if len(m.Member) > st.ZSetMaxListpackValue {
				packed = false
				break
			}
		}
	}
	if packed {
		build.ZSetMaxListpackEntries, build.ZSetMaxListpackValue = math.MaxInt, math.MaxInt
	} else {
		build.ZSetMaxListpackEntries = 0 // the first member converts it to a skiplist
	}
	o := engine.NewZSetObject()
	for _, m := range v.ZSet {
		if !engine.ZSetAdd(&o, &build, m.Score, m.Member) {
			return engine.Object{}, ErrDuplicate
		}
	}
	return o, nil
}
