package aof

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The manifest lists the files of a Redis 7 multi-part AOF, one per line:
//
//	file appendonly.aof.2.base.rdb seq 2 type b
//	file appendonly.aof.1.incr.aof seq 1 type h
//	file appendonly.aof.3.incr.aof seq 3 type i
//
// b is the base (at most one, written first), h a history file a rewrite made obsolete
// and i an incremental file; incremental files load in the listed order. Parsing
// follows Redis's aofLoadManifestFromFile rule for rule, so a manifest one accepts the
// other accepts too, and the errors carry Redis's wording.

// File types as the manifest spells them.
const (
	TypeBase    = 'b'
	TypeHistory = 'h'
	TypeIncr    = 'i'
)

// Naming, as Redis's aof.c.
const (
	manifestSuffix  = ".manifest"
	tempPrefix      = "temp-"
	maxManifestLine = 1024
)

// FileInfo is one line of the manifest.
type FileInfo struct {
	Name string
	Seq  int64
	Type byte
}

// Manifest is the parsed manifest: the base, history and incremental files, and the
// highest sequence numbers handed out so far.
type Manifest struct {
	Base    *FileInfo
	History []FileInfo
	Incr    []FileInfo
	BaseSeq int64
	IncrSeq int64
}

// ManifestName is the manifest's file name for appendfilename name.
func ManifestName(name string) string { return name + manifestSuffix }

// ManifestError is a manifest Redis would refuse to load, with the line it stopped at.
type ManifestError struct {
	Path string
	Line int    // 0 when the error is not about a line
	Text string // the offending line, trimmed
	Msg  string
}

func (e *ManifestError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s: line %d: %s: '%s'", e.Path, e.Line, e.Msg, e.Text)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Msg)
}

// ReadManifest parses the manifest file at path.
func ReadManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseManifest(path, b)
}

// ParseManifest parses manifest content; path only labels errors.
func ParseManifest(path string, content []byte) (*Manifest, error) {
	m := &Manifest{}
	var maxSeq int64
	fail := func(line int, text, msg string) (*Manifest, error) {
		return nil, &ManifestError{Path: path, Line: line, Text: text, Msg: msg}
	}
	rest := content
	lineNum := 0
	for {
		if len(rest) == 0 {
			if lineNum == 0 {
				return fail(0, "", "Found an empty AOF manifest")
			}
			break
		}
		// fgets with a 1025-byte buffer: a longer line is read in pieces, the first
		// of which has no newline and is refused below.
		n := bytes.IndexByte(rest, '\n')
		var raw []byte
		switch {
		case n >= 0 && n+1 <= maxManifestLine:
			raw, rest = rest[:n+1], rest[n+1:]
		case len(rest) <= maxManifestLine && n < 0:
			raw, rest = rest, nil
		default:
			raw, rest = rest[:maxManifestLine], rest[maxManifestLine:]
		}
		lineNum++
		if raw[0] == '#' {
			continue
		}
		if bytes.IndexByte(raw, '\n') < 0 {
			// Redis refuses a last line without its newline the same way.
			return fail(lineNum, strings.Trim(string(raw), " \t\r\n"), "The AOF manifest file contains too long line")
		}
		line := strings.Trim(string(raw), " \t\r\n")
		if line == "" {
			return fail(lineNum, line, "Invalid AOF manifest file format")
		}
		argv, ok := splitArgs(line)
		// More than six fields is allowed, for fields a later version may add.
		if !ok || len(argv) < 6 || len(argv)%2 != 0 {
			return fail(lineNum, line, "Invalid AOF manifest file format")
		}
		var fi FileInfo
		for i := 0; i < len(argv); i += 2 {
			switch strings.ToLower(argv[i]) {
			case "file":
				fi.Name = argv[i+1]
				if strings.ContainsAny(fi.Name, "/\\") {
					return fail(lineNum, line, "File can't be a path, just a filename")
				}
			case "seq":
				fi.Seq = atoll(argv[i+1])
			case "type":
				if argv[i+1] != "" {
					fi.Type = argv[i+1][0]
				}
			}
		}
		if fi.Name == "" || fi.Seq == 0 || fi.Type == 0 {
			return fail(lineNum, line, "Invalid AOF manifest file format")
		}
		switch fi.Type {
		case TypeBase:
			if m.Base != nil {
				return fail(lineNum, line, "Found duplicate base file information")
			}
			b := fi
			m.Base = &b
			m.BaseSeq = fi.Seq
		case TypeHistory:
			m.History = append(m.History, fi)
		case TypeIncr:
			if fi.Seq <= maxSeq {
				return fail(lineNum, line, "Found a non-monotonic sequence number")
			}
			m.Incr = append(m.Incr, fi)
			m.IncrSeq = fi.Seq
			maxSeq = fi.Seq
		default:
			return fail(lineNum, line, "Unknown AOF file type")
		}
	}
	return m, nil
}

// atoll is C's atoll: optional space and sign, then digits up to the first other
// character; 0 when there are none.
func atoll(s string) int64 {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	i, neg := 0, false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var n int64
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int64(s[i]-'0')
	}
	if neg {
		return -n
	}
	return n
}

// splitArgs is Redis's sdssplitargs: space-separated words, "double quoted" with
// \n \r \t \b \a \\ \" and \xHH escapes, or 'single quoted' with \'. A closing quote
// must be followed by a space or the end, and quotes must balance.
func splitArgs(line string) ([]string, bool) {
	var out []string
	p := 0
	for {
		for p < len(line) && isSpace(line[p]) {
			p++
		}
		if p >= len(line) {
			return out, true
		}
		var cur []byte
		inq, insq, done := false, false, false
		for !done {
			if inq {
				if p >= len(line) {
					return nil, false
				}
				if line[p] == '\\' && p+3 < len(line) && line[p+1] == 'x' && isHex(line[p+2]) && isHex(line[p+3]) {
					v, _ := strconv.ParseUint(line[p+2:p+4], 16, 8)
					cur = append(cur, byte(v))
					p += 3
				} else if line[p] == '\\' && p+1 < len(line) {
					p++
					switch line[p] {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, line[p])
					}
				} else if line[p] == '"' {
					if p+1 < len(line) && !isSpace(line[p+1]) {
						return nil, false
					}
					done = true
				} else {
					cur = append(cur, line[p])
				}
			} else if insq {
				if p >= len(line) {
					return nil, false
				}
				if line[p] == '\\' && p+1 < len(line) && line[p+1] == '\'' {
					p++
					cur = append(cur, '\'')
				} else if line[p] == '\'' {
					if p+1 < len(line) && !isSpace(line[p+1]) {
						return nil, false
					}
					done = true
				} else {
					cur = append(cur, line[p])
				}
			} else {
				if p >= len(line) {
					break
				}
				switch line[p] {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					cur = append(cur, line[p])
				}
			}
			if p < len(line) {
				p++
			}
		}
		out = append(out, string(cur))
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// repr is Redis's sdscatrepr, used for file names that need quoting.
func repr(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		default:
			if c >= 0x20 && c < 0x7f {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, `\x%02x`, c)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// needsRepr is sdsneedsrepr: quote names with spaces, quotes or unprintable bytes.
func needsRepr(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' || c == '"' || c == '\n' || c == '\r' || c == '\t' || c == '\a' || c == '\b' || c < 0x20 || c >= 0x7f || c == ' ' {
			return true
		}
	}
	return false
}

func formatInfo(b *strings.Builder, fi FileInfo) {
	name := fi.Name
	if needsRepr(name) {
		name = repr(name)
	}
	fmt.Fprintf(b, "file %s seq %d type %c\n", name, fi.Seq, fi.Type)
}

// String is the manifest as Redis writes it: base, then history, then incr files.
func (m *Manifest) String() string {
	var b strings.Builder
	if m.Base != nil {
		formatInfo(&b, *m.Base)
	}
	for _, fi := range m.History {
		formatInfo(&b, fi)
	}
	for _, fi := range m.Incr {
		formatInfo(&b, fi)
	}
	return b.String()
}

// Clone is a deep copy, changed and then swapped in only once it is on disk.
func (m *Manifest) Clone() *Manifest {
	c := &Manifest{BaseSeq: m.BaseSeq, IncrSeq: m.IncrSeq}
	if m.Base != nil {
		b := *m.Base
		c.Base = &b
	}
	c.History = append([]FileInfo(nil), m.History...)
	c.Incr = append([]FileInfo(nil), m.Incr...)
	return c
}

// Empty reports whether the manifest names no base and no incremental file.
func (m *Manifest) Empty() bool { return m.Base == nil && len(m.Incr) == 0 }

// NewBase names the next base file (appendonly.aof.N.base.rdb or .aof) and turns the
// current base into history, as getNewBaseFileNameAndMarkPreAsHistory.
func (m *Manifest) NewBase(filename string, rdbPreamble bool) string {
	if m.Base != nil {
		old := *m.Base
		old.Type = TypeHistory
		m.History = append([]FileInfo{old}, m.History...)
	}
	m.BaseSeq++
	suffix := ".aof"
	if rdbPreamble {
		suffix = ".rdb"
	}
	m.Base = &FileInfo{Name: fmt.Sprintf("%s.%d.base%s", filename, m.BaseSeq, suffix), Seq: m.BaseSeq, Type: TypeBase}
	return m.Base.Name
}

// NewIncr names the next incremental file and appends it, as getNewIncrAofName.
func (m *Manifest) NewIncr(filename string) string {
	m.IncrSeq++
	fi := FileInfo{Name: fmt.Sprintf("%s.%d.incr.aof", filename, m.IncrSeq), Seq: m.IncrSeq, Type: TypeIncr}
	m.Incr = append(m.Incr, fi)
	return fi.Name
}

// LastIncr is the incremental file to append to, creating its name if there is none.
func (m *Manifest) LastIncr(filename string) string {
	if len(m.Incr) == 0 {
		return m.NewIncr(filename)
	}
	return m.Incr[len(m.Incr)-1].Name
}

// RewrittenIncrToHistory turns every incremental file but the one being written
// (keepLast) into history, as markRewrittenIncrAofAsHistory.
func (m *Manifest) RewrittenIncrToHistory(keepLast bool) {
	n := len(m.Incr)
	if keepLast && n > 0 {
		n--
	}
	// Redis walks from the tail and adds each to the head of the history list, so
	// history keeps the incremental order.
	moved := make([]FileInfo, 0, n)
	for _, fi := range m.Incr[:n] {
		fi.Type = TypeHistory
		moved = append(moved, fi)
	}
	m.History = append(moved, m.History...)
	m.Incr = append([]FileInfo(nil), m.Incr[n:]...)
}

// TempIncrName is where writes go while the first rewrite after enabling AOF runs.
func TempIncrName(filename string) string { return tempPrefix + filename + ".incr" }

// WriteManifest stores m in dir atomically: temp file, fsync, rename, fsync of dir.
func WriteManifest(dir, filename string, m *Manifest) error {
	return WriteFileAtomic(filepath.Join(dir, ManifestName(filename)), tempPrefix+ManifestName(filename), func(w io.Writer) error {
		_, err := io.WriteString(w, m.String())
		return err
	})
}

// WriteFileAtomic writes path through tmpName in the same directory: write, fsync,
// rename, then fsync the directory, so a crash leaves the old file or the new one.
func WriteFileAtomic(path, tmpName string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp := filepath.Join(dir, tmpName)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return SyncDir(dir)
}

// SyncDir fsyncs a directory so renames and new files in it survive a crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("fsync of directory %s: %w", dir, err)
	}
	return nil
}
