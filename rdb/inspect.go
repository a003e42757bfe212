package rdb

import (
	"container/heap"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"kv/glob"
)

// InspectOptions configure `kv rdb inspect`.
type InspectOptions struct {
	Top    int    // the N largest keys (0: none)
	Keys   bool   // one line per key
	DB     int    // only this database (-1: all)
	Match  string // glob on key names ("" or "*": all)
	Type   string // only this type ("" all)
	Format string // table, json, csv, resp
	Now    time.Time
}

// typeEnc is a type and encoding pair, the unit of the size report.
type typeEnc struct{ Type, Encoding string }

type encStats struct {
	Keys  int64 `json:"keys"`
	Bytes int64 `json:"bytes"`
}

type keyInfo struct {
	DB       int    `json:"db"`
	Key      string `json:"key"`
	Type     string `json:"type"`
	Encoding string `json:"encoding"`
	Size     int64  `json:"size"`
	Elements int    `json:"elements"`
	TTLms    int64  `json:"ttl_ms"` // -1 none; -2 already expired
}

// topHeap keeps the N largest keys seen (a min-heap by size).
type topHeap []keyInfo

func (h topHeap) Len() int           { return len(h) }
func (h topHeap) Less(i, j int) bool { return h[i].Size < h[j].Size }
func (h topHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *topHeap) Push(x any)        { *h = append(*h, x.(keyInfo)) }
func (h *topHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// ttlBuckets are the TTL distribution's upper bounds.
var ttlBuckets = []struct {
	name string
	max  time.Duration
}{
	{"< 1m", time.Minute}, {"< 1h", time.Hour}, {"< 1d", 24 * time.Hour},
	{"< 7d", 7 * 24 * time.Hour}, {"< 30d", 30 * 24 * time.Hour}, {">= 30d", 1<<63 - 1},
}

// Inspector is an rdb.Handler that summarizes a file as it streams by, keeping only
// counters and the top-N heap, and writing per-key lines (--keys, resp) at once.
type Inspector struct {
	o   InspectOptions
	out io.Writer
	pat []byte

	version int
	aux     [][2]string
	funcs   int
	dbKeys  map[int]int64
	dbExp   map[int]int64
	byEnc   map[typeEnc]*encStats
	ttl     []int64
	expired int64
	noTTL   int64
	matched int64
	top     topHeap
	digest  DatasetDigest

	csv       *csv.Writer
	table     *tablewriter.Table
	jsonFirst bool
	respDB    int
	respDBSet bool
	err       error
}

// NewInspector writes per-key output (if any) to out as the file is read.
func NewInspector(out io.Writer, o InspectOptions) *Inspector {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	in := &Inspector{o: o, out: out, dbKeys: map[int]int64{}, dbExp: map[int]int64{},
		byEnc: map[typeEnc]*encStats{}, ttl: make([]int64, len(ttlBuckets)), jsonFirst: true}
	if o.Match != "" && o.Match != "*" {
		in.pat = []byte(o.Match)
	}
	if o.Keys {
		switch o.Format {
		case "csv":
			in.csv = csv.NewWriter(out)
			_ = in.csv.Write([]string{"db", "key", "type", "encoding", "size", "elements", "ttl_ms"})
		case "json":
			fmt.Fprint(out, "[")
		case "table":
			in.table = tablewriter.NewTable(out, tablewriter.WithHeaderAutoFormat(tw.Off),
				tablewriter.WithStreaming(tw.StreamConfig{Enable: true}),
				tablewriter.WithWidths(tw.CellWidth{Global: 0, PerColumn: tw.NewMapper[int, int]().Set(0, 4).Set(1, 40).Set(2, 8).Set(3, 11).Set(4, 11).Set(5, 10).Set(6, 14)}))
			if err := in.table.Start(); err != nil {
				in.err = err
			}
			in.table.Header("db", "key", "type", "encoding", "size", "elements", "ttl ms")
		}
	}
	return in
}

func (in *Inspector) Header(v int) error { in.version = v; return nil }
func (in *Inspector) Aux(k, v []byte) error {
	in.aux = append(in.aux, [2]string{string(k), string(v)})
	return nil
}
func (in *Inspector) SelectDB(int) error         { return nil }
func (in *Inspector) ResizeDB(_, _ uint64) error { return nil }
func (in *Inspector) Function(code []byte) error { in.funcs++; return nil }

// Key accounts for one key and writes its line when asked.
func (in *Inspector) Key(e *Entry) error {
	if in.err != nil {
		return in.err
	}
	v := &e.Value
	in.digest.Add(e.DB, e.Key, v, e.Meta.ExpireMs >= 0)
	if in.o.DB >= 0 && e.DB != in.o.DB {
		return nil
	}
	if in.o.Type != "" && v.Kind.String() != in.o.Type {
		return nil
	}
	if in.pat != nil && !glob.Match(in.pat, e.Key, false) {
		return nil
	}
	in.matched++
	in.dbKeys[e.DB]++
	te := typeEnc{v.Kind.String(), v.Encoding}
	if v.Kind == KindString {
		te.Encoding = stringEncoding(v.Str)
	}
	st := in.byEnc[te]
	if st == nil {
		st = &encStats{}
		in.byEnc[te] = st
	}
	st.Keys++
	st.Bytes += e.Size
	ki := keyInfo{DB: e.DB, Key: string(e.Key), Type: te.Type, Encoding: te.Encoding, Size: e.Size, Elements: v.Len(), TTLms: -1}
	if e.Meta.ExpireMs >= 0 {
		in.dbExp[e.DB]++
		left := e.Meta.ExpireMs - in.o.Now.UnixMilli()
		if left <= 0 {
			in.expired++
			ki.TTLms = -2
		} else {
			ki.TTLms = left
			for i, b := range ttlBuckets {
				if time.Duration(left)*time.Millisecond < b.max {
					in.ttl[i]++
					break
				}
			}
		}
	} else {
		in.noTTL++
	}
	if in.o.Top > 0 {
		if len(in.top) < in.o.Top {
			heap.Push(&in.top, ki)
		} else if in.top[0].Size < ki.Size {
			in.top[0] = ki
			heap.Fix(&in.top, 0)
		}
	}
	if in.o.Format == "resp" {
		return in.writeRESP(e)
	}
	if in.o.Keys {
		in.writeKey(ki)
	}
	return in.err
}

func (in *Inspector) writeKey(k keyInfo) {
	switch in.o.Format {
	case "csv":
		in.err = in.csv.Write([]string{strconv.Itoa(k.DB), k.Key, k.Type, k.Encoding,
			strconv.FormatInt(k.Size, 10), strconv.Itoa(k.Elements), strconv.FormatInt(k.TTLms, 10)})
	case "json":
		b, _ := json.Marshal(k)
		sep := ",\n"
		if in.jsonFirst {
			sep, in.jsonFirst = "\n", false
		}
		_, in.err = fmt.Fprintf(in.out, "%s%s", sep, b)
	default:
		in.err = in.table.Append(strconv.Itoa(k.DB), strconv.Quote(k.Key), k.Type, k.Encoding,
			strconv.FormatInt(k.Size, 10), strconv.Itoa(k.Elements), ttlText(k.TTLms))
	}
}

func ttlText(ms int64) string {
	switch ms {
	case -1:
		return "-"
	case -2:
		return "expired"
	}
	return strconv.FormatInt(ms, 10)
}

// writeRESP writes commands that rebuild the key in any server (no RESTORE, so any
// version reads them): SELECT when the database changes, DEL, the type's write
// command in batches, and PEXPIREAT.
func (in *Inspector) writeRESP(e *Entry) error {
	if e.Meta.ExpireMs >= 0 && e.Meta.ExpireMs <= in.o.Now.UnixMilli() {
		return nil // it would expire on arrival
	}
	if !in.respDBSet || in.respDB != e.DB {
		in.respDB, in.respDBSet = e.DB, true
		in.cmd([]byte("SELECT"), []byte(strconv.Itoa(e.DB)))
	}
	v := &e.Value
	in.cmd([]byte("DEL"), e.Key)
	const batch = 128
	switch v.Kind {
	case KindString:
		in.cmd([]byte("SET"), e.Key, v.Str)
	case KindList:
		for i := 0; i < len(v.List); i += batch {
			args := [][]byte{[]byte("RPUSH"), e.Key}
			in.cmd(append(args, v.List[i:min(i+batch, len(v.List))]...)...)
		}
	case KindSet:
		members := v.Set
		if v.Ints != nil {
			members = make([][]byte, len(v.Ints))
			for i, n := range v.Ints {
				members[i] = strconv.AppendInt(nil, n, 10)
			}
		}
		for i := 0; i < len(members); i += batch {
			args := [][]byte{[]byte("SADD"), e.Key}
			in.cmd(append(args, members[i:min(i+batch, len(members))]...)...)
		}
	case KindHash:
		for i := 0; i < len(v.Hash); i += batch {
			args := [][]byte{[]byte("HSET"), e.Key}
			for _, fv := range v.Hash[i:min(i+batch, len(v.Hash))] {
				args = append(args, fv[0], fv[1])
			}
			in.cmd(args...)
		}
	case KindZSet:
		for i := 0; i < len(v.ZSet); i += batch {
			args := [][]byte{[]byte("ZADD"), e.Key}
			for _, m := range v.ZSet[i:min(i+batch, len(v.ZSet))] {
				args = append(args, strconv.AppendFloat(nil, m.Score, 'g', 17, 64), m.Member)
			}
			in.cmd(args...)
		}
	}
	if e.Meta.ExpireMs >= 0 {
		in.cmd([]byte("PEXPIREAT"), e.Key, strconv.AppendInt(nil, e.Meta.ExpireMs, 10))
	}
	return in.err
}

func (in *Inspector) cmd(args ...[]byte) {
	if in.err != nil {
		return
	}
	b := make([]byte, 0, 64)
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	_, in.err = in.out.Write(b)
}

// finishKeys closes the per-key output.
func (in *Inspector) finishKeys() {
	if !in.o.Keys || in.o.Format == "resp" {
		return
	}
	switch in.o.Format {
	case "csv":
		in.csv.Flush()
	case "json":
		fmt.Fprint(in.out, "\n]\n")
	case "table":
		_ = in.table.Close()
	}
}

// Summary is the report of a whole file (or of what was readable of it).
type Summary struct {
	Version   int               `json:"rdb_version"`
	Aux       map[string]string `json:"aux"`
	Functions int               `json:"function_libraries"`
	Keys      int64             `json:"keys"`
	PerDB     []DBSummary       `json:"databases"`
	PerType   []TypeSummary     `json:"types"`
	TTL       map[string]int64  `json:"ttl"`
	Top       []keyInfo         `json:"largest_keys,omitempty"`
	Digest    string            `json:"digest"`
	Error     *InspectError     `json:"error,omitempty"`
	auxOrder  [][2]string
}

// DBSummary is one database's counts.
type DBSummary struct {
	DB      int   `json:"db"`
	Keys    int64 `json:"keys"`
	Expires int64 `json:"expires"`
}

// TypeSummary is the count and serialized size of one type and encoding.
type TypeSummary struct {
	Type     string `json:"type"`
	Encoding string `json:"encoding"`
	Keys     int64  `json:"keys"`
	Bytes    int64  `json:"bytes"`
}

// InspectError says where a file stopped being readable.
type InspectError struct {
	Offset int64  `json:"offset"`
	What   string `json:"what"`
}

// Inspect reads an RDB stream and writes the report (and per-key output) to out. It
// returns the error that stopped the read, after reporting everything before it.
func Inspect(r io.Reader, out io.Writer, o InspectOptions) error {
	in := NewInspector(out, o)
	err := Read(r, in)
	in.finishKeys()
	if o.Format == "resp" {
		return err
	}
	s := in.summary(err)
	if o.Keys && o.Top == 0 && err == nil {
		return in.err
	}
	if werr := s.write(out, o.Format); werr != nil && err == nil {
		err = werr
	}
	return err
}

func (in *Inspector) summary(err error) *Summary {
	s := &Summary{Version: in.version, Aux: map[string]string{}, Functions: in.funcs, Keys: in.matched,
		TTL: map[string]int64{"none": in.noTTL, "expired": in.expired}, Digest: in.digest.Sum().String(), auxOrder: in.aux}
	for _, kv := range in.aux {
		s.Aux[kv[0]] = kv[1]
	}
	for db, n := range in.dbKeys {
		s.PerDB = append(s.PerDB, DBSummary{DB: db, Keys: n, Expires: in.dbExp[db]})
	}
	sort.Slice(s.PerDB, func(i, j int) bool { return s.PerDB[i].DB < s.PerDB[j].DB })
	for te, st := range in.byEnc {
		s.PerType = append(s.PerType, TypeSummary{Type: te.Type, Encoding: te.Encoding, Keys: st.Keys, Bytes: st.Bytes})
	}
	sort.Slice(s.PerType, func(i, j int) bool {
		a, b := s.PerType[i], s.PerType[j]
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.Encoding < b.Encoding
	})
	for i, b := range ttlBuckets {
		s.TTL[b.name] = in.ttl[i]
	}
	top := append(topHeap(nil), in.top...)
	sort.Slice(top, func(i, j int) bool { return top[i].Size > top[j].Size })
	s.Top = top
	if err != nil {
		ie := &InspectError{Offset: -1, What: err.Error()}
		var ce *CorruptError
		if asCorrupt(err, &ce) {
			ie.Offset, ie.What = ce.Offset, ce.What
		}
		s.Error = ie
	}
	return s
}

func (s *Summary) write(out io.Writer, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	case "csv":
		w := csv.NewWriter(out)
		_ = w.Write([]string{"section", "name", "value", "bytes"})
		_ = w.Write([]string{"header", "rdb_version", strconv.Itoa(s.Version), ""})
		for _, kv := range s.auxOrder {
			_ = w.Write([]string{"aux", kv[0], kv[1], ""})
		}
		for _, d := range s.PerDB {
			_ = w.Write([]string{"db", strconv.Itoa(d.DB), strconv.FormatInt(d.Keys, 10), ""})
		}
		for _, t := range s.PerType {
			_ = w.Write([]string{"type", t.Type + "/" + t.Encoding, strconv.FormatInt(t.Keys, 10), strconv.FormatInt(t.Bytes, 10)})
		}
		for _, b := range append([]string{"none", "expired"}, bucketNames()...) {
			_ = w.Write([]string{"ttl", b, strconv.FormatInt(s.TTL[b], 10), ""})
		}
		for _, k := range s.Top {
			_ = w.Write([]string{"top", fmt.Sprintf("%d/%s", k.DB, k.Key), k.Type + "/" + k.Encoding, strconv.FormatInt(k.Size, 10)})
		}
		_ = w.Write([]string{"digest", "debug_digest", s.Digest, ""})
		if s.Error != nil {
			_ = w.Write([]string{"error", strconv.FormatInt(s.Error.Offset, 10), s.Error.What, ""})
		}
		w.Flush()
		return w.Error()
	}
	fmt.Fprintf(out, "RDB version %d\n", s.Version)
	t := newTable(out, "aux field", "value")
	for _, kv := range s.auxOrder {
		_ = t.Append(kv[0], kv[1])
	}
	_ = t.Render()
	t = newTable(out, "db", "keys", "with ttl")
	for _, d := range s.PerDB {
		_ = t.Append(strconv.Itoa(d.DB), strconv.FormatInt(d.Keys, 10), strconv.FormatInt(d.Expires, 10))
	}
	_ = t.Render()
	t = newTable(out, "type", "encoding", "keys", "bytes")
	for _, ts := range s.PerType {
		_ = t.Append(ts.Type, ts.Encoding, strconv.FormatInt(ts.Keys, 10), strconv.FormatInt(ts.Bytes, 10))
	}
	_ = t.Render()
	t = newTable(out, "ttl", "keys")
	for _, b := range append([]string{"none", "expired"}, bucketNames()...) {
		_ = t.Append(b, strconv.FormatInt(s.TTL[b], 10))
	}
	_ = t.Render()
	if len(s.Top) > 0 {
		t = newTable(out, "db", "largest keys", "type", "encoding", "bytes", "elements")
		for _, k := range s.Top {
			_ = t.Append(strconv.Itoa(k.DB), strconv.Quote(k.Key), k.Type, k.Encoding, strconv.FormatInt(k.Size, 10), strconv.Itoa(k.Elements))
		}
		_ = t.Render()
	}
	fmt.Fprintf(out, "keys: %d, functions: %d, DEBUG DIGEST: %s\n", s.Keys, s.Functions, s.Digest)
	if s.Error != nil {
		fmt.Fprintf(out, "ERROR at offset %d: %s\n", s.Error.Offset, s.Error.What)
	}
	return nil
}

func bucketNames() []string {
	var n []string
	for _, b := range ttlBuckets {
		n = append(n, b.name)
	}
	return n
}

func newTable(out io.Writer, header ...any) *tablewriter.Table {
	t := tablewriter.NewTable(out, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header(header...)
	return t
}

func asCorrupt(err error, target **CorruptError) bool { return errors.As(err, target) }
