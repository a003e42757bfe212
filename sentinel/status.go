package sentinel

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"kv/client"
	"kv/resp"
)

// Status is what `kv sentinel status` shows: gathered over the wire from any
// sentinel (kv's or Redis's; the event list only kv's has).
type Status struct {
	Sentinel string         `json:"sentinel"`
	MyID     string         `json:"myid"`
	Masters  []MasterStatus `json:"masters"`
	Events   []Event        `json:"events,omitempty"`
}

// MasterStatus is one monitored master with its replicas and peers.
type MasterStatus struct {
	Fields    map[string]string   `json:"fields"`
	Replicas  []map[string]string `json:"replicas"`
	Sentinels []map[string]string `json:"sentinels"`
	// MasterOffset is the master's master_repl_offset from the cached INFO, to
	// compute each replica's lag in bytes; -1 if unknown.
	MasterOffset int64 `json:"master_offset"`
}

// FetchStatus asks the sentinel at addr for its view.
func FetchStatus(ctx context.Context, addr, user, pass string, events int) (*Status, error) {
	c, err := client.Dial(ctx, client.Options{Addr: addr, Username: user, Password: pass,
		DialTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	do := func(args ...any) (resp.Value, error) {
		v, err := c.Do(args...)
		if err != nil {
			return v, err
		}
		return v, client.ReplyErr(v)
	}
	st := &Status{Sentinel: addr}
	if v, err := do("SENTINEL", "MYID"); err == nil {
		st.MyID = string(v.Str)
	}
	v, err := do("SENTINEL", "MASTERS")
	if err != nil {
		return nil, err
	}
	for _, mv := range v.Elems {
		ms := MasterStatus{Fields: toMap(mv), MasterOffset: -1}
		name := ms.Fields["name"]
		if rv, err := do("SENTINEL", "REPLICAS", name); err == nil {
			for _, r := range rv.Elems {
				ms.Replicas = append(ms.Replicas, toMap(r))
			}
		}
		if sv, err := do("SENTINEL", "SENTINELS", name); err == nil {
			for _, p := range sv.Elems {
				ms.Sentinels = append(ms.Sentinels, toMap(p))
			}
		}
		if iv, err := do("SENTINEL", "INFO-CACHE", name); err == nil && len(iv.Elems) == 2 && len(iv.Elems[1].Elems) > 0 {
			first := iv.Elems[1].Elems[0]
			if len(first.Elems) == 2 {
				ms.MasterOffset = infoField(string(first.Elems[1].Str), "master_repl_offset")
			}
		}
		st.Masters = append(st.Masters, ms)
	}
	if ev, err := do("SENTINEL", "EVENTS", strconv.Itoa(events)); err == nil {
		for _, e := range ev.Elems {
			if len(e.Elems) != 3 {
				continue
			}
			ms, _ := strconv.ParseInt(string(e.Elems[0].Str), 10, 64)
			st.Events = append(st.Events, Event{Time: time.UnixMilli(ms), Type: string(e.Elems[1].Str), Message: string(e.Elems[2].Str)})
		}
	}
	return st, nil
}

func toMap(v resp.Value) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(v.Elems); i += 2 {
		m[string(v.Elems[i].Str)] = string(v.Elems[i+1].Str)
	}
	return m
}

func infoField(info, name string) int64 {
	for _, l := range splitLines(info) {
		if len(l) > len(name) && l[:len(name)] == name && l[len(name)] == ':' {
			n, err := strconv.ParseInt(l[len(name)+1:], 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			l := s[start:i]
			if len(l) > 0 && l[len(l)-1] == '\r' {
				l = l[:len(l)-1]
			}
			out = append(out, l)
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// WriteJSON writes the status for scripts.
func (st *Status) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(st)
}

// WriteTables writes the status as tables for people.
func (st *Status) WriteTables(w io.Writer) error {
	fmt.Fprintf(w, "Sentinel %s (myid %s)\n\n", st.Sentinel, st.MyID)
	newTable := func() *tablewriter.Table {
		return tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	}
	fmt.Fprintln(w, "Masters")
	t := newTable()
	t.Header("name", "address", "flags", "quorum", "config-epoch", "replicas", "sentinels", "down-after", "failover-state")
	for _, m := range st.Masters {
		f := m.Fields
		others, _ := strconv.Atoi(f["num-other-sentinels"])
		state := f["failover-state"]
		if state == "" {
			state = "-"
		}
		_ = t.Append(f["name"], f["ip"]+":"+f["port"], f["flags"], f["quorum"], f["config-epoch"], f["num-slaves"],
			strconv.Itoa(others+1), f["down-after-milliseconds"]+"ms", state)
	}
	if err := t.Render(); err != nil {
		return err
	}
	for _, m := range st.Masters {
		fmt.Fprintf(w, "\nReplicas of %s\n", m.Fields["name"])
		t := newTable()
		t.Header("address", "flags", "link", "replicating from", "priority", "offset", "lag (bytes)", "last ok ping")
		for _, r := range m.Replicas {
			lag := "?"
			if off, err := strconv.ParseInt(r["slave-repl-offset"], 10, 64); err == nil && m.MasterOffset >= 0 {
				lag = strconv.FormatInt(max(0, m.MasterOffset-off), 10)
			}
			_ = t.Append(r["ip"]+":"+r["port"], r["flags"], r["master-link-status"], r["master-host"]+":"+r["master-port"],
				r["slave-priority"], r["slave-repl-offset"], lag, r["last-ok-ping-reply"]+"ms")
		}
		if err := t.Render(); err != nil {
			return err
		}
		fmt.Fprintf(w, "\nPeer sentinels of %s\n", m.Fields["name"])
		t = newTable()
		t.Header("address", "runid", "flags", "last hello", "voted leader", "vote epoch")
		for _, p := range m.Sentinels {
			_ = t.Append(p["ip"]+":"+p["port"], p["runid"], p["flags"], p["last-hello-message"]+"ms", p["voted-leader"], p["voted-leader-epoch"])
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	if len(st.Events) > 0 {
		fmt.Fprintln(w, "\nLast events")
		t := newTable()
		t.Header("time", "event", "details")
		for _, e := range st.Events {
			_ = t.Append(e.Time.Format("15:04:05.000"), e.Type, e.Message)
		}
		return t.Render()
	}
	return nil
}
