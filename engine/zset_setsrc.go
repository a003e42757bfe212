package engine

// Plain sets are valid inputs of ZUNION, ZINTER and ZDIFF (members score 1). These
// three readers are the whole of what the sorted set code needs from the set type.

func setSourceLen(o *Object) int { return SetLen(o) }

func setSourceEach(o *Object, fn func(member []byte) bool) { SetRange(o, fn) }

func setSourceHas(o *Object, member []byte) bool { return SetContains(o, member) }
