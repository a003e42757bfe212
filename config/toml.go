package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// The TOML file is flat: each top-level key is a Redis setting name (or
// alias) and its value is natural TOML (port = 6380, appendonly = true,
// maxmemory = "1gb", save = ["3600 1", "300 100"]). We walk go-toml's
// unstable parser rather than unmarshal into a struct so every error can
// name the file and line, and so Rewrite can edit the file in place.

// Load reads a TOML configuration file over Redis's defaults. Any unknown
// key or bad value is an error naming the file and line.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c := New()
	if err := c.LoadTOML(path, data); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.file = path
	c.mu.Unlock()
	return c, nil
}

// LoadTOML applies TOML settings from data; name is used in error messages.
// It may set immutable settings (it runs at start-up). On error some
// settings before the bad one may have been applied: callers stop start-up.
func (c *Config) LoadTOML(name string, data []byte) error {
	var p unstable.Parser
	p.Reset(data)
	seen := make(map[*entry]int)
	for p.NextExpression() {
		n := p.Expression()
		line := lineAt(data, int(n.Raw.Offset))
		if n.Kind != unstable.KeyValue {
			return fmt.Errorf("%s:%d: tables are not supported: settings are top-level keys", name, line)
		}
		key := keyName(n)
		e := c.lookup(key)
		if e == nil {
			return fmt.Errorf("%s:%d: unknown setting %q", name, line, key)
		}
		if first, dup := seen[e]; dup {
			return fmt.Errorf("%s:%d: %s: already set on line %d", name, line, key, first)
		}
		seen[e] = line
		v := n.Value()
		s, err := tomlToRedis(e, v)
		if err != nil {
			return fmt.Errorf("%s:%d: %s: %v", name, line, key, err)
		}
		c.mu.Lock()
		parsed, msg := e.h.parse(s)
		if msg == "" {
			c.store([]*entry{e}, []any{parsed})
		}
		c.mu.Unlock()
		if msg != "" {
			return fmt.Errorf("%s:%d: %s: value %s: %s", name, line, key, shorten(rawOf(data, v)), msg)
		}
	}
	if err := p.Error(); err != nil {
		line := 0
		var perr *unstable.ParserError
		if errors.As(err, &perr) {
			if off, ok := offsetIn(data, perr.Highlight); ok {
				line = lineAt(data, off)
			}
		}
		return fmt.Errorf("%s:%d: %v", name, line, err)
	}
	return nil
}

// keyName joins a possibly dotted key, so "a.b" is reported as unknown.
func keyName(n *unstable.Node) string {
	var parts []string
	it := n.Key()
	for it.Next() {
		parts = append(parts, string(it.Node().Data))
	}
	return strings.Join(parts, ".")
}

// tomlToRedis turns a TOML value into the Redis value syntax the setting
// parses: booleans become yes/no, arrays are joined with spaces.
func tomlToRedis(e *entry, v *unstable.Node) (string, error) {
	if v.Kind == unstable.Array {
		var parts []string
		it := v.Children()
		for it.Next() {
			el := it.Node()
			if el.Kind == unstable.Comment {
				continue
			}
			if el.Kind == unstable.Array || el.Kind == unstable.InlineTable {
				return "", errors.New("nested arrays and tables are not supported")
			}
			s, err := tomlToRedis(e, el)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, " "), nil
	}
	switch v.Kind {
	case unstable.String:
		return string(v.Data), nil
	case unstable.Bool:
		if string(v.Data) == "true" {
			return "yes", nil
		}
		return "no", nil
	case unstable.Integer:
		raw := strings.ReplaceAll(string(v.Data), "_", "")
		if e.octal {
			// unixsocketperm = 700 means octal 700, as in redis.conf.
			return strings.TrimPrefix(raw, "0o"), nil
		}
		n, err := strconv.ParseInt(raw, 0, 64)
		if err != nil {
			return "", fmt.Errorf("bad integer %s", raw)
		}
		return strconv.FormatInt(n, 10), nil
	case unstable.Float:
		f, err := strconv.ParseFloat(strings.ReplaceAll(string(v.Data), "_", ""), 64)
		if err != nil {
			return "", fmt.Errorf("bad float %s", v.Data)
		}
		return strconv.FormatFloat(f, 'f', -1, 64), nil
	}
	return "", fmt.Errorf("unsupported TOML value type %s", v.Kind)
}

// rawOf returns the source text of a value node; containers have no Raw of
// their own, so it falls back to the decoded data.
func rawOf(data []byte, v *unstable.Node) string {
	if v.Raw.Length > 0 && int(v.Raw.Offset+v.Raw.Length) <= len(data) {
		return string(data[v.Raw.Offset : v.Raw.Offset+v.Raw.Length])
	}
	if v.Kind == unstable.Array {
		return "[...]"
	}
	return string(v.Data)
}

func shorten(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

func lineAt(data []byte, off int) int {
	if off > len(data) {
		off = len(data)
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// offsetIn finds sub inside data by address: go-toml's error highlights
// are sub-slices of the input.
func offsetIn(data, sub []byte) (int, bool) {
	if cap(sub) == 0 || cap(data) == 0 {
		return 0, false
	}
	off := cap(data) - cap(sub)
	if off < 0 || off > len(data) {
		return 0, false
	}
	return off, true
}

const rewriteSignature = "# Generated by CONFIG REWRITE"

// Rewrite answers CONFIG REWRITE: it rewrites the TOML file at path so it
// reflects the current settings, keeping the user's comments, order and
// unrelated lines, the way Redis's rewriteConfig treats redis.conf:
//
//   - a setting already in the file keeps its line, updated to the current
//     value, even when that value is the default (the user chose to write
//     it down);
//   - a setting that is unset (an empty nullable string, no replicaof, bind
//     back at its default) is removed from the file, as Redis blanks it;
//   - a setting not in the file is appended after a "# Generated by CONFIG
//     REWRITE" comment only when it differs from the default.
//
// The new file replaces the old atomically (temp file, fsync, rename,
// directory fsync). With no path it returns ErrNoConfigFile.
func (c *Config) Rewrite(path string) error {
	if path == "" {
		return ErrNoConfigFile
	}
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	out, err := c.rewriteTOML(path, old)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, out)
}

type span struct{ start, end int } // byte range of one key = value

func (c *Config) rewriteTOML(name string, old []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()

	var p unstable.Parser
	p.Reset(old)
	spans := make(map[*entry][]span)
	for p.NextExpression() {
		n := p.Expression()
		if n.Kind != unstable.KeyValue {
			continue // Load refuses tables; leave whatever is there alone
		}
		if e := c.lookup(keyName(n)); e != nil {
			spans[e] = append(spans[e], span{int(n.Raw.Offset), int(n.Raw.Offset + n.Raw.Length)})
		}
	}
	if err := p.Error(); err != nil {
		return nil, fmt.Errorf("%s: cannot rewrite a file that does not parse: %v", name, err)
	}

	type edit struct {
		span
		text string
	}
	var edits []edit
	var appended []string
	for _, e := range c.entries {
		ss := spans[e]
		line := e.name + " = " + e.h.toml()
		for i, s := range ss {
			if i == 0 && !e.h.omit() {
				edits = append(edits, edit{s, line})
			} else { // a duplicate or an unset setting: drop its whole line
				edits = append(edits, edit{wholeLines(old, s), ""})
			}
		}
		if len(ss) == 0 && !e.h.omit() && e.h.get() != e.def {
			appended = append(appended, line)
		}
	}

	// Apply edits back to front so earlier offsets stay valid.
	sortEdits := func(i, j int) bool { return edits[i].start > edits[j].start }
	for i := 1; i < len(edits); i++ {
		for j := i; j > 0 && sortEdits(j, j-1); j-- {
			edits[j], edits[j-1] = edits[j-1], edits[j]
		}
	}
	out := append([]byte(nil), old...)
	for _, ed := range edits {
		out = append(out[:ed.start], append([]byte(ed.text), out[ed.end:]...)...)
	}
	if len(appended) > 0 {
		if len(out) > 0 && out[len(out)-1] != '\n' {
			out = append(out, '\n')
		}
		if !bytes.Contains(out, []byte(rewriteSignature)) {
			if len(out) > 0 {
				out = append(out, '\n')
			}
			out = append(out, rewriteSignature+"\n"...)
		}
		for _, l := range appended {
			out = append(out, l+"\n"...)
		}
	}
	return out, nil
}

// wholeLines widens s to the full lines it sits on, newline included, so a
// removed setting takes its trailing comment with it.
func wholeLines(data []byte, s span) span {
	for s.start > 0 && data[s.start-1] != '\n' {
		s.start--
	}
	for s.end < len(data) && data[s.end] != '\n' {
		s.end++
	}
	if s.end < len(data) {
		s.end++
	}
	return s
}

// writeFileAtomic replaces path with data so a crash leaves either the old
// or the new file, never a torn one.
func writeFileAtomic(path string, data []byte) error {
	perm := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		perm = fi.Mode().Perm()
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Chmod(perm); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
