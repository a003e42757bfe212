package acl

// Contexts of an ACL LOG entry.
const (
	CtxToplevel = "toplevel"
	CtxMulti    = "multi"
	CtxLua      = "lua"
)

// LogEntry is one ACL LOG entry (Redis 7.0's fields).
type LogEntry struct {
	Count      int64
	Reason     int
	Context    string
	Object     string // command name, key, channel or user name
	Username   string
	CTime      int64 // ms of the last occurrence
	ClientInfo string
}

// groupWindow is how close in time two similar denials must be to share an entry.
const groupWindow = 60000

// AddLog records a denial. A similar entry (same reason, context, object and user,
// within a minute) among the ten newest is bumped and moved to the front instead.
func (a *ACL) AddLog(e LogEntry) {
	for i := 0; i < len(a.log) && i < 10; i++ {
		cur := a.log[i]
		delta := cur.CTime - e.CTime
		if delta < 0 {
			delta = -delta
		}
		if cur.Reason == e.Reason && cur.Context == e.Context && delta <= groupWindow &&
			cur.Object == e.Object && cur.Username == e.Username {
			cur.Count++
			cur.CTime = e.CTime
			cur.ClientInfo = e.ClientInfo
			copy(a.log[1:i+1], a.log[:i])
			a.log[0] = cur
			return
		}
	}
	e.Count = 1
	a.log = append(a.log, nil)
	copy(a.log[1:], a.log)
	a.log[0] = &e
	a.trimLog()
}

func (a *ACL) trimLog() {
	if a.LogMaxLen >= 0 && len(a.log) > a.LogMaxLen {
		for i := a.LogMaxLen; i < len(a.log); i++ {
			a.log[i] = nil
		}
		a.log = a.log[:a.LogMaxLen]
	}
}

// SetLogMaxLen is acllog-max-len; a smaller limit trims at the next entry, as Redis.
func (a *ACL) SetLogMaxLen(n int) { a.LogMaxLen = n }

// Log returns up to n entries, newest first.
func (a *ACL) Log(n int) []LogEntry {
	n = min(max(n, 0), len(a.log))
	out := make([]LogEntry, n)
	for i := range out {
		out[i] = *a.log[i]
	}
	return out
}

// ResetLog empties the log.
func (a *ACL) ResetLog() { a.log = nil }
