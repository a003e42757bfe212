package repl

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"unicode/utf8"
)

// peterh/liner, the line editor the design fixes, has no hints API, while redis-cli
// users rely on linenoise's grey "remaining arguments" hints. liner draws the line
// with a small, stable set of writes to os.Stdout: the prompt, then on each refresh
// "cursor to column 1, prompt, line, erase to end of line, cursor to position", and
// for a character typed at the end of the line just that character. hintFilter
// stands between liner and the terminal (os.Stdout is swapped for a pipe while liner
// prompts), follows those writes to know the line being edited, and draws the hint
// right after each erase-to-end-of-line, where linenoise draws it. Everything liner
// writes passes through unchanged; the filter only adds.
type hintFilter struct {
	out     io.Writer
	hint    func(line string) string
	columns func() int

	mu      sync.Mutex
	enabled bool
	prompt  string
	// promptLeft counts the bytes of the prompt still expected at the start of a
	// prompt, before any editing happened.
	promptLeft int
	editing    bool   // a prompt is on screen
	collecting bool   // between the start of a refresh and its erase-to-end
	acc        []byte // what the refresh drew: prompt + line
	line       string // the line as the filter knows it
	shown      bool   // a hint is on screen
	dirty      bool   // the line grew by fast-path characters: redraw the hint
	esc        []byte // an escape sequence being read
	synced     chan struct{}
}

func newHintFilter(out io.Writer, hint func(string) string, columns func() int) *hintFilter {
	return &hintFilter{out: out, hint: hint, columns: columns, enabled: true, synced: make(chan struct{}, 1)}
}

// startPrompt tells the filter a new prompt is about to be printed.
func (f *hintFilter) startPrompt(prompt string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prompt, f.promptLeft = prompt, len(prompt)
	f.editing, f.collecting, f.line, f.shown, f.dirty = false, false, "", false, false
	f.acc = f.acc[:0]
}

func (f *hintFilter) setEnabled(on bool) {
	f.mu.Lock()
	f.enabled = on
	f.mu.Unlock()
}

const syncMarker = 0 // liner never writes NUL; the REPL writes one to drain the pipe

// pump copies from the pipe liner writes into, until it is closed.
func (f *hintFilter) pump(r io.Reader) {
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			f.process(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

func (f *hintFilter) process(p []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []byte
	for len(p) > 0 {
		c := p[0]
		switch {
		case len(f.esc) > 0:
			f.esc = append(f.esc, c)
			p = p[1:]
			if len(f.esc) == 2 && c != '[' || len(f.esc) > 2 && c >= 0x40 && c <= 0x7e || len(f.esc) > 32 {
				seq := string(f.esc)
				f.esc = f.esc[:0]
				out = append(out, seq...)
				out = f.escape(out, seq)
			}
			continue
		case c == 0x1b:
			f.esc = append(f.esc[:0], c)
		case c == syncMarker:
			out = f.flushDirty(out)
			f.out.Write(out)
			out = out[:0]
			select {
			case f.synced <- struct{}{}:
			default:
			}
		case c == '\r':
			out = append(out, c)
			if f.editing {
				// Without CHA support liner starts each refresh with a carriage return.
				f.collecting, f.acc = true, f.acc[:0]
			}
		case c == '\n':
			out = f.clearHint(out)
			out = append(out, c)
			f.editing, f.collecting, f.dirty = false, false, false
		default:
			out = append(out, c)
			switch {
			case f.promptLeft > 0:
				f.promptLeft--
				if f.promptLeft == 0 {
					f.editing = true
				}
			case f.collecting:
				f.acc = append(f.acc, c)
			case f.editing && c >= 0x20:
				f.line += string([]byte{c})
				f.dirty = true
			}
		}
		p = p[1:]
	}
	out = f.flushDirty(out)
	f.out.Write(out)
}

// escape reacts to one complete escape sequence liner wrote.
func (f *hintFilter) escape(out []byte, seq string) []byte {
	if !f.editing {
		return out
	}
	switch {
	case seq == "\x1b[1G":
		f.collecting, f.acc = true, f.acc[:0]
	case seq == "\x1b[0K" && f.collecting:
		f.collecting = false
		if drawn := string(f.acc); strings.HasPrefix(drawn, f.prompt) {
			f.line = drawn[len(f.prompt):]
			out = f.drawHint(out, false)
		}
	case strings.HasSuffix(seq, "C") && f.collecting && len(f.acc) == 0:
		// "\r\x1b[nC" positions the cursor; it does not start a refresh.
		f.collecting = false
	}
	return out
}

func (f *hintFilter) flushDirty(out []byte) []byte {
	if f.dirty && f.editing && !f.collecting && len(f.esc) == 0 {
		f.dirty = false
		out = append(out, "\x1b[0K"...)
		out = f.drawHint(out, true)
	}
	return out
}

// drawHint writes the hint after the cursor, which sits at the end of the line; if
// moveBack, it then returns the cursor there (after a refresh liner does it itself).
func (f *hintFilter) drawHint(out []byte, moveBack bool) []byte {
	f.shown = false
	if !f.enabled || f.hint == nil {
		return out
	}
	h := f.hint(f.line)
	used := utf8.RuneCountInString(f.prompt) + utf8.RuneCountInString(f.line)
	if cols := f.columns(); cols > 0 {
		room := cols - used - 1
		if room <= 0 {
			h = ""
		} else if len(h) > room {
			h = h[:room]
		}
	}
	if h == "" {
		return out
	}
	out = append(out, "\x1b[90m"...)
	out = append(out, h...)
	out = append(out, "\x1b[0m"...)
	f.shown = true
	if moveBack {
		out = fmt.Appendf(out, "\r\x1b[%dC", used)
	}
	return out
}

// clearHint erases a hint before the line is left, so the finished line stays as
// typed, as linenoise redraws it without hints on Enter.
func (f *hintFilter) clearHint(out []byte) []byte {
	if !f.shown {
		return out
	}
	f.shown = false
	used := utf8.RuneCountInString(f.prompt) + utf8.RuneCountInString(f.line)
	return fmt.Appendf(out, "\r\x1b[%dC\x1b[0K", used)
}

// stdoutSwap redirects os.Stdout into the filter while liner prompts.
type stdoutSwap struct {
	real *os.File
	pw   *os.File
	f    *hintFilter
}

func newStdoutSwap(f *hintFilter) (*stdoutSwap, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	go f.pump(pr)
	return &stdoutSwap{real: os.Stdout, pw: pw, f: f}, nil
}

func (s *stdoutSwap) begin() { os.Stdout = s.pw }

// end restores os.Stdout once everything liner wrote has reached the terminal.
func (s *stdoutSwap) end() {
	os.Stdout = s.real
	if _, err := s.pw.Write([]byte{syncMarker}); err == nil {
		<-s.f.synced
	}
}

func (s *stdoutSwap) close() { s.pw.Close() }
