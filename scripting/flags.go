package scripting

// scriptFlags are the flags a script declares in its shebang or a function in
// register_function, in Redis's order (FUNCTION LIST reports them in this order).
type scriptFlags uint8

const (
	flagNoWrites scriptFlags = 1 << iota
	flagAllowOOM
	flagAllowStale
	flagNoCluster
	flagAllowCrossSlot
	// flagEvalCompat marks an EVAL script without a shebang: it runs with the
	// permissive pre-7.0 rules.
	flagEvalCompat
)

var flagNames = []struct {
	f    scriptFlags
	name string
}{
	{flagNoWrites, "no-writes"}, {flagAllowOOM, "allow-oom"}, {flagAllowStale, "allow-stale"},
	{flagNoCluster, "no-cluster"}, {flagAllowCrossSlot, "allow-cross-slot-keys"},
}
