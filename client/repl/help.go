package repl

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"kv/resp"
)

// HelpEntry is one line of the help table: a command (or "COMMAND SUBCOMMAND") with
// its argument syntax, or a command group ("@string").
type HelpEntry struct {
	Name    string   // upper case, "CONFIG GET" for subcommands, "@group" for groups
	Words   []string // Name split on blanks
	Params  string   // argument syntax, as redis-cli prints it
	Summary string
	Since   string
	Group   string
	IsGroup bool
}

// HelpTable is the sorted help table the REPL completes, hints and prints from.
type HelpTable []HelpEntry

// NewHelpTable sorts commands and adds one entry per group they belong to.
func NewHelpTable(cmds []HelpEntry) HelpTable {
	groups := map[string]bool{}
	var t HelpTable
	for _, c := range cmds {
		c.Name = strings.ToUpper(c.Name)
		c.Words = strings.Fields(c.Name)
		t = append(t, c)
		if c.Group != "" {
			groups[c.Group] = true
		}
	}
	for g := range groups {
		t = append(t, HelpEntry{Name: "@" + g, Words: []string{"@" + g}, IsGroup: true})
	}
	sort.Slice(t, func(i, j int) bool { return t[i].Name < t[j].Name })
	return t
}

// HelpFromDocs builds the table from a COMMAND DOCS reply (a map in RESP3, a flat
// array of name/doc pairs in RESP2). ok is false if the reply is not one.
func HelpFromDocs(v resp.Value) (HelpTable, bool) {
	if v.Kind != resp.KindMap && v.Kind != resp.KindArray || len(v.Elems)%2 != 0 || len(v.Elems) == 0 {
		return nil, false
	}
	var cmds []HelpEntry
	for i := 0; i+1 < len(v.Elems); i += 2 {
		cmds = docEntries(cmds, string(v.Elems[i].Str), "", v.Elems[i+1])
	}
	return NewHelpTable(cmds), true
}

func docEntries(out []HelpEntry, name, sub string, doc resp.Value) []HelpEntry {
	e := HelpEntry{Name: name}
	if sub != "" {
		_, s, _ := strings.Cut(sub, "|")
		e.Name = name + " " + s
	}
	var subs resp.Value
	for j := 0; j+1 < len(doc.Elems); j += 2 {
		val := doc.Elems[j+1]
		switch string(doc.Elems[j].Str) {
		case "summary":
			e.Summary = string(val.Str)
		case "since":
			e.Since = string(val.Str)
		case "group":
			e.Group = string(val.Str)
		case "arguments":
			e.Params = concatArgs(val.Elems, " ")
		case "subcommands":
			subs = val
		}
	}
	out = append(out, e)
	for j := 0; j+1 < len(subs.Elems); j += 2 {
		out = docEntries(out, name, string(subs.Elems[j].Str), subs.Elems[j+1])
	}
	return out
}

func concatArgs(args []resp.Value, sep string) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		parts = append(parts, argSyntax(a))
	}
	return strings.Join(parts, sep)
}

func orQuotes(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

// argSyntax renders one argument of COMMAND DOCS the way redis-cli's hints and help
// show it: "[EX seconds|PX milliseconds]", "key [key ...]".
func argSyntax(a resp.Value) string {
	var name, typ, token string
	var optional, multiple, multipleToken bool
	var sub []resp.Value
	for i := 0; i+1 < len(a.Elems); i += 2 {
		val := a.Elems[i+1]
		switch string(a.Elems[i].Str) {
		case "name":
			name = string(val.Str)
		case "token":
			token = orQuotes(string(val.Str))
		case "type":
			typ = string(val.Str)
		case "arguments":
			sub = val.Elems
		case "flags":
			for _, f := range val.Elems {
				switch string(f.Str) {
				case "optional":
					optional = true
				case "multiple":
					multiple = true
				case "multiple_token":
					multipleToken = true
				}
			}
		}
	}
	var repeat string
	switch typ {
	case "key", "string", "integer", "double", "pattern", "unix-time", "token":
		repeat = orQuotes(name)
	case "oneof":
		repeat = concatArgs(sub, "|")
	case "block":
		repeat = concatArgs(sub, " ")
	}
	if token != "" && typ != "pure-token" {
		token += " "
	}
	var b strings.Builder
	if optional {
		b.WriteString("[")
	}
	b.WriteString(token)
	b.WriteString(repeat)
	if multiple {
		b.WriteString(" [")
		if multipleToken {
			b.WriteString(token)
		}
		b.WriteString(repeat)
		b.WriteString(" ...]")
	}
	if optional {
		b.WriteString("]")
	}
	return b.String()
}

// Complete returns the completions of a line: command names (and "COMMAND SUB"
// pairs) that the line is a prefix of; after "help " groups too.
func (t HelpTable) Complete(line string) []string {
	start := 0
	groups := false
	if len(line) >= 5 && strings.EqualFold(line[:5], "help ") {
		start = 5
		for start < len(line) && line[start] == ' ' {
			start++
		}
		groups = true
	}
	typed := line[start:]
	var out []string
	for _, e := range t {
		if e.IsGroup && !groups {
			continue
		}
		if len(typed) <= len(e.Name) && strings.EqualFold(e.Name[:len(typed)], typed) {
			out = append(out, line[:start]+e.Name)
		}
	}
	return out
}

// Hint returns the grey text redis-cli shows after what was typed: the arguments
// not typed yet of the longest command the line matches, or "" for none.
func (t HelpTable) Hint(line string) string {
	args, err := resp.SplitArgs([]byte(line))
	if err != nil || len(args) == 0 {
		return ""
	}
	var best *HelpEntry
	for i := range t {
		e := &t[i]
		if e.IsGroup || len(e.Words) > len(args) {
			continue
		}
		match := true
		for j, w := range e.Words {
			if !strings.EqualFold(w, string(args[j])) {
				match = false
				break
			}
		}
		if match && (best == nil || len(e.Words) > len(best.Words)) {
			best = e
		}
	}
	if best == nil {
		return ""
	}
	hint := best.Params
	// Drop the arguments already typed, up to the first optional part.
	for remove := len(args) - len(best.Words); remove > 0 && hint != ""; hint = hint[1:] {
		if hint[0] == '[' {
			break
		}
		if hint[0] == ' ' {
			remove--
		}
	}
	if line != "" && !isSpace(line[len(line)-1]) {
		hint = " " + hint
	}
	return hint
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// PrintHelp prints "help", "help CMD [SUB]" or "help @group" as redis-cli does.
func (t HelpTable) PrintHelp(w io.Writer, version string, args []string) {
	if len(args) == 0 {
		fmt.Fprintf(w, "kv cli %s\n"+
			"To get help about Redis commands type:\n"+
			"      \"help @<group>\" to get a list of commands in <group>\n"+
			"      \"help <command>\" for help on <command>\n"+
			"      \"help <tab>\" to get a list of possible help topics\n"+
			"      \"quit\" to exit\n"+
			"\n"+
			"To set kv cli preferences:\n"+
			"      \":set hints\" enable online hints\n"+
			"      \":set nohints\" disable online hints\n", version)
		return
	}
	group := ""
	if strings.HasPrefix(args[0], "@") {
		group = args[0][1:]
	}
	for _, e := range t {
		if e.IsGroup {
			continue
		}
		if group == "" {
			if len(args) > len(e.Words) {
				continue
			}
			match := true
			for j, a := range args {
				if !strings.EqualFold(a, e.Words[j]) {
					match = false
					break
				}
			}
			if match {
				printCommandHelp(w, e, true)
			}
		} else if strings.EqualFold(group, e.Group) {
			printCommandHelp(w, e, false)
		}
	}
	fmt.Fprint(w, "\r\n")
}

func printCommandHelp(w io.Writer, e HelpEntry, group bool) {
	fmt.Fprintf(w, "\r\n  \x1b[1m%s\x1b[0m \x1b[90m%s\x1b[0m\r\n", e.Name, e.Params)
	fmt.Fprintf(w, "  \x1b[33msummary:\x1b[0m %s\r\n", e.Summary)
	if e.Since != "" {
		fmt.Fprintf(w, "  \x1b[33msince:\x1b[0m %s\r\n", e.Since)
	}
	if group {
		fmt.Fprintf(w, "  \x1b[33mgroup:\x1b[0m %s\r\n", e.Group)
	}
}
