package repl

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"kv/resp"
)

// Output is how replies are printed, as redis-cli's output modes.
type Output int

const (
	OutputStandard   Output = iota // the human format of a terminal
	OutputRaw                      // bare values, one per line
	OutputCSV                      // comma separated
	OutputJSON                     // JSON
	OutputQuotedJSON               // JSON with non-printable bytes as \xHH
)

// Format renders a reply the way redis-cli 7.0 prints it in the given mode,
// including the trailing newline. verbatim prints strings raw whatever the mode (for
// INFO, CLIENT LIST and the like, whose text is meant to be read as is).
func Format(v resp.Value, mode Output, verbatim bool) string {
	var b bytes.Buffer
	switch {
	case verbatim:
		formatRaw(&b, v)
	case mode == OutputStandard:
		formatTTY(&b, v, "")
	case mode == OutputRaw:
		formatRaw(&b, v)
		b.WriteByte('\n')
	case mode == OutputCSV:
		formatCSV(&b, v)
		b.WriteByte('\n')
	default:
		formatJSON(&b, v, mode)
		b.WriteByte('\n')
	}
	return b.String()
}

// FormatPush renders a push message that arrived outside a subscribed context.
func FormatPush(v resp.Value, mode Output) string {
	if mode == OutputStandard && isInvalidate(v) {
		var b bytes.Buffer
		b.WriteString("-> invalidate: ")
		keys := v.Elems[1].Elems
		for i, k := range keys {
			b.WriteByte('\'')
			b.Write(k.Str)
			b.WriteByte('\'')
			if i < len(keys)-1 {
				b.WriteString(", ")
			}
		}
		b.WriteByte('\n')
		return b.String()
	}
	return Format(v, mode, false)
}

func isInvalidate(v resp.Value) bool {
	return v.Kind == resp.KindPush && len(v.Elems) == 2 && v.Elems[0].Kind == resp.KindBulk &&
		strings.HasPrefix(string(v.Elems[0].Str), "invalidate") && v.Elems[1].Kind == resp.KindArray
}

func isNull(v resp.Value) bool { return v.Null || v.Kind == resp.KindNull }

func isAggregate(k resp.Kind) bool {
	return k == resp.KindArray || k == resp.KindMap || k == resp.KindSet || k == resp.KindPush
}

// multiline reports whether formatTTY spreads v over several lines; a map value that
// does starts on its own line so its indices line up.
func multiline(v resp.Value) bool {
	if isNull(v) {
		return false
	}
	switch v.Kind {
	case resp.KindArray, resp.KindSet, resp.KindPush:
		if len(v.Elems) == 0 {
			return false
		}
		if len(v.Elems) > 1 {
			return true
		}
		return multiline(v.Elems[0])
	case resp.KindMap:
		if len(v.Elems) == 0 {
			return false
		}
		if len(v.Elems) > 2 {
			return true
		}
		return multiline(v.Elems[1])
	}
	return false
}

func formatTTY(b *bytes.Buffer, v resp.Value, prefix string) {
	if isNull(v) {
		b.WriteString("(nil)\n")
		return
	}
	switch v.Kind {
	case resp.KindError:
		b.WriteString("(error) ")
		b.Write(v.Str)
		b.WriteByte('\n')
	case resp.KindSimple:
		b.Write(v.Str)
		b.WriteByte('\n')
	case resp.KindInt:
		b.WriteString("(integer) ")
		b.WriteString(strconv.FormatInt(v.Int, 10))
		b.WriteByte('\n')
	case resp.KindDouble:
		b.WriteString("(double) ")
		b.Write(v.Str)
		b.WriteByte('\n')
	case resp.KindBigNumber:
		b.WriteString("(big number) ")
		b.Write(v.Str)
		b.WriteByte('\n')
	case resp.KindBulk:
		b.WriteString(Repr(v.Str))
		b.WriteByte('\n')
	case resp.KindVerbatim:
		b.Write(v.Str)
		b.WriteByte('\n')
	case resp.KindBool:
		if v.Int != 0 {
			b.WriteString("(true)\n")
		} else {
			b.WriteString("(false)\n")
		}
	case resp.KindArray, resp.KindMap, resp.KindSet, resp.KindPush:
		formatAggregateTTY(b, v, prefix)
	default:
		fmt.Fprintf(b, "(unknown reply type %q)\n", byte(v.Kind))
	}
}

func formatAggregateTTY(b *bytes.Buffer, v resp.Value, prefix string) {
	n := len(v.Elems)
	if n == 0 {
		switch v.Kind {
		case resp.KindArray:
			b.WriteString("(empty array)\n")
		case resp.KindMap:
			b.WriteString("(empty hash)\n")
		case resp.KindSet:
			b.WriteString("(empty set)\n")
		default:
			b.WriteString("(empty push)\n")
		}
		return
	}
	count := n
	if v.Kind == resp.KindMap {
		count /= 2
	}
	idxlen := len(strconv.Itoa(count))
	inner := prefix + strings.Repeat(" ", idxlen+2)
	sep := byte(')')
	switch v.Kind {
	case resp.KindSet:
		sep = '~'
	case resp.KindMap:
		sep = '#'
	}
	for i := 0; i < n; i++ {
		human := i + 1
		if v.Kind == resp.KindMap {
			human = i/2 + 1
		}
		// The first index follows whatever the parent already printed on this line.
		if i != 0 {
			b.WriteString(prefix)
		}
		num := strconv.Itoa(human)
		b.WriteString(strings.Repeat(" ", idxlen-len(num)))
		b.WriteString(num)
		b.WriteByte(sep)
		b.WriteByte(' ')
		formatTTY(b, v.Elems[i], inner)
		if v.Kind == resp.KindMap {
			i++
			b.Truncate(b.Len() - 1) // the key's newline gives way to " => "
			b.WriteString(" => ")
			if multiline(v.Elems[i]) {
				b.WriteByte('\n')
				b.WriteString(inner)
			}
			formatTTY(b, v.Elems[i], inner)
		}
	}
}

// Repr quotes a string as Redis's sdscatrepr does: printable ASCII as is, \n \r \t
// \a \b escaped, everything else as \xHH.
func Repr(s []byte) string {
	var b bytes.Buffer
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, c := range s {
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
			if c >= 0x20 && c <= 0x7e {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, `\x%02x`, c)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

func formatRaw(b *bytes.Buffer, v resp.Value) {
	if isNull(v) {
		return
	}
	switch v.Kind {
	case resp.KindError:
		b.Write(v.Str)
		b.WriteByte('\n')
	case resp.KindSimple, resp.KindBulk, resp.KindVerbatim, resp.KindDouble, resp.KindBigNumber:
		b.Write(v.Str)
	case resp.KindBool:
		if v.Int != 0 {
			b.WriteString("(true)")
		} else {
			b.WriteString("(false)")
		}
	case resp.KindInt:
		b.WriteString(strconv.FormatInt(v.Int, 10))
	case resp.KindArray, resp.KindSet, resp.KindPush:
		for i, e := range v.Elems {
			if i > 0 {
				b.WriteByte('\n')
			}
			formatRaw(b, e)
		}
	case resp.KindMap:
		for i := 0; i+1 < len(v.Elems); i += 2 {
			if i > 0 {
				b.WriteByte('\n')
			}
			formatRaw(b, v.Elems[i])
			b.WriteByte(' ')
			formatRaw(b, v.Elems[i+1])
		}
	}
}

func formatCSV(b *bytes.Buffer, v resp.Value) {
	if isNull(v) {
		b.WriteString("NULL")
		return
	}
	switch v.Kind {
	case resp.KindError:
		b.WriteString("ERROR,")
		b.WriteString(Repr(v.Str))
	case resp.KindSimple, resp.KindBulk, resp.KindVerbatim:
		b.WriteString(Repr(v.Str))
	case resp.KindInt:
		b.WriteString(strconv.FormatInt(v.Int, 10))
	case resp.KindDouble, resp.KindBigNumber:
		b.Write(v.Str)
	case resp.KindBool:
		if v.Int != 0 {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case resp.KindArray, resp.KindSet, resp.KindPush, resp.KindMap:
		for i, e := range v.Elems {
			formatCSV(b, e)
			if i != len(v.Elems)-1 {
				b.WriteByte(',')
			}
		}
	}
}

func jsonString(b *bytes.Buffer, s []byte, mode Output) {
	if mode == OutputQuotedJSON {
		// Backslashes of the C-style quoting are doubled so the result is valid JSON.
		b.WriteString(strings.ReplaceAll(Repr(s), `\`, `\\`))
		return
	}
	b.WriteByte('"')
	for _, c := range s {
		switch c {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		default:
			if c <= 0x1f {
				fmt.Fprintf(b, `\u%04x`, c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
}

func formatJSON(b *bytes.Buffer, v resp.Value, mode Output) {
	if isNull(v) {
		b.WriteString("null")
		return
	}
	switch v.Kind {
	case resp.KindError:
		b.WriteString("error:")
		jsonString(b, v.Str, mode)
	case resp.KindSimple, resp.KindBulk, resp.KindVerbatim:
		jsonString(b, v.Str, mode)
	case resp.KindInt:
		b.WriteString(strconv.FormatInt(v.Int, 10))
	case resp.KindDouble, resp.KindBigNumber:
		b.Write(v.Str)
	case resp.KindBool:
		if v.Int != 0 {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case resp.KindArray, resp.KindSet, resp.KindPush:
		b.WriteByte('[')
		for i, e := range v.Elems {
			formatJSON(b, e, mode)
			if i != len(v.Elems)-1 {
				b.WriteByte(',')
			}
		}
		b.WriteByte(']')
	case resp.KindMap:
		b.WriteByte('{')
		for i := 0; i+1 < len(v.Elems); i += 2 {
			k := v.Elems[i]
			switch {
			case !isNull(k) && (k.Kind == resp.KindError || k.Kind == resp.KindSimple || k.Kind == resp.KindBulk || k.Kind == resp.KindVerbatim):
				formatJSON(b, k, mode)
			default:
				// JSON keys must be strings: render the key, then quote it if needed.
				var kb bytes.Buffer
				formatJSON(&kb, k, mode)
				ks := kb.String()
				if strings.HasPrefix(ks, `"`) {
					b.WriteString(ks)
				} else {
					b.WriteString(`"` + ks + `"`)
				}
			}
			b.WriteByte(':')
			formatJSON(b, v.Elems[i+1], mode)
			if i != len(v.Elems)-2 {
				b.WriteByte(',')
			}
		}
		b.WriteByte('}')
	}
}
