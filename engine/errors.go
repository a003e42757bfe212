package engine

// Error replies a client may match on, written once. The texts are Redis 7.0's.
const (
	ErrSyntax        = "ERR syntax error"
	ErrWrongType     = "WRONGTYPE Operation against a key holding the wrong kind of value"
	ErrNotInt        = "ERR value is not an integer or out of range"
	ErrNotFloat      = "ERR value is not a valid float"
	ErrOverflow      = "ERR increment or decrement would overflow"
	ErrNoSuchKey     = "ERR no such key"
	ErrDBIndex       = "ERR DB index is out of range"
	ErrInvalidExpire = "ERR invalid expire time in '%s' command"
	ErrNotPositive   = "ERR value is out of range, must be positive"
	ErrBitOffset     = "ERR bit offset is not an integer or out of range"
	ErrBitValue      = "ERR bit is not an integer or out of range"
	ErrStringTooLong = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	ErrNaN           = "ERR increment would produce NaN or Infinity"
	ErrIndexRange    = "ERR index out of range"
	ErrNoAuth        = "NOAUTH Authentication required."
	ErrOOM           = "OOM command not allowed when used memory > 'maxmemory'."
)

// errWrongArgs is Redis's arity error.
func errWrongArgs(cmd string) string {
	return "ERR wrong number of arguments for '" + cmd + "' command"
}

// ErrWrongArgs is Redis's arity error for cmd (lower case, as the client typed it resolved).
func ErrWrongArgs(cmd string) string { return errWrongArgs(cmd) }

// ErrUnknownCommand is Redis's reply to a command that does not exist; args are quoted
// as Redis quotes them, so clients and tests see the same text.
func ErrUnknownCommand(name []byte, args [][]byte) string {
	var list []byte
	for _, a := range args {
		if len(list) >= 128 {
			break
		}
		room := 128 - len(list)
		list = append(list, '\'')
		list = append(list, a[:min(len(a), room)]...)
		list = append(list, "' "...)
	}
	return "ERR unknown command '" + truncateForError(name) + "', with args beginning with: " + string(list)
}

// ErrUnknownSubcommand is Redis's reply to a subcommand that does not exist.
func ErrUnknownSubcommand(sub []byte, cmd string) string {
	return "ERR unknown subcommand '" + truncateForError(sub) + "'. Try " + cmd + " HELP."
}

// truncateForError keeps error replies short as Redis does (128 bytes per argument).
func truncateForError(b []byte) string {
	if len(b) > 128 {
		b = b[:128]
	}
	return string(b)
}
