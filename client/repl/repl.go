package repl

import (
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/peterh/liner"

	"kv/resp"
)

// repl is the interactive loop.
func (s *session) repl() int {
	s.loadHelp()
	ln := liner.NewLiner()
	defer ln.Close()
	ln.SetCtrlCAborts(true)
	ln.SetCompleter(func(line string) []string { return s.help.Complete(line) })

	history := s.env.StdinTTY
	if history && s.env.HistoryFile != "" {
		if f, err := os.Open(s.env.HistoryFile); err == nil {
			_, _ = ln.ReadHistory(f)
			f.Close()
		}
	}

	// Hints need liner's output to pass through the filter; only on a terminal.
	var swap *stdoutSwap
	var filter *hintFilter
	if s.env.StdinTTY && s.env.StdoutTTY && liner.TerminalSupported() {
		filter = newHintFilter(os.Stdout, s.help.Hint, terminalColumns)
		if sw, err := newStdoutSwap(filter); err == nil {
			swap = sw
			defer swap.close()
		}
	}

	if s.env.Interrupt != nil {
		go func() {
			for range s.env.Interrupt {
				s.interrupt()
			}
		}()
	}

	for {
		prompt := s.prompt()
		var line string
		var err error
		if swap != nil {
			filter.startPrompt(prompt)
			swap.begin()
			line, err = ln.Prompt(prompt)
			swap.end()
		} else {
			line, err = ln.Prompt(prompt)
		}
		if err != nil {
			if errors.Is(err, liner.ErrPromptAborted) || errors.Is(err, io.EOF) {
				return 0
			}
			s.errorf("%v\n", err)
			return 1
		}
		if line == "" {
			continue
		}
		argsB, perr := resp.SplitArgs([]byte(line))
		if perr != nil {
			s.printf("Invalid argument(s)\n")
			if history {
				s.addHistory(ln, line)
			}
			continue
		}
		if len(argsB) == 0 {
			continue
		}
		args := make([]string, len(argsB))
		for i, a := range argsB {
			args[i] = string(a)
		}
		repeat, skip := int64(1), 0
		if n, err := strconv.ParseInt(args[0], 10, 64); len(args) > 1 && err == nil {
			if n <= 0 {
				s.printf("Invalid redis-cli repeat command option value.\n")
				continue
			}
			repeat, skip = n, 1
		} else if len(args) > 1 && isAllDigits(args[0]) {
			s.printf("Invalid redis-cli repeat command option value.\n")
			continue
		}
		if history && !sensitive(args[skip:]) {
			s.addHistory(ln, line)
		}
		switch {
		case strings.EqualFold(args[0], "quit") || strings.EqualFold(args[0], "exit"):
			return 0
		case args[0][0] == ':':
			s.setPreference(args, filter)
		case len(args) == 3 && strings.EqualFold(args[0], "connect"):
			s.o.Host, s.o.Port = args[1], atoi(args[2])
			s.o.Sentinel = nil
			_ = s.connect(true, false)
		case len(args) == 1 && strings.EqualFold(args[0], "clear"):
			s.printf("\x1b[H\x1b[2J")
		default:
			start := time.Now()
			s.issue(args[skip:], repeat)
			if el := time.Since(start); el >= 500*time.Millisecond && s.o.Output == OutputStandard {
				s.printf("(%.2fs)\n", el.Seconds())
			}
		}
	}
}

func isAllDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (s *session) addHistory(ln *liner.State, line string) {
	ln.AppendHistory(line)
	if s.env.HistoryFile == "" {
		return
	}
	f, err := os.OpenFile(s.env.HistoryFile, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return
	}
	_, _ = ln.WriteHistory(f)
	f.Close()
}

func (s *session) setPreference(args []string, filter *hintFilter) {
	if strings.EqualFold(args[0], ":set") && len(args) >= 2 {
		switch strings.ToLower(args[1]) {
		case "hints":
			if filter != nil {
				filter.setEnabled(true)
			}
		case "nohints":
			if filter != nil {
				filter.setEnabled(false)
			}
		default:
			s.printf("unknown kv cli preference '%s'\n", args[1])
		}
		return
	}
	s.printf("unknown kv cli internal command '%s'\n", args[0])
}

// issue runs a command from the REPL, reconnecting first if the server went away.
func (s *session) issue(args []string, repeat int64) {
	if strings.EqualFold(args[0], "help") || args[0] == "?" {
		s.help.PrintHelp(s.out, s.env.Version, args[1:])
		return
	}
	if !s.alive() {
		if err := s.connect(true, false); err != nil {
			return
		}
	}
	if err := s.sendCommand(args, repeat); err != nil {
		s.errorf("Error: %s\n", ioErrText(err))
		if s.conn != nil {
			s.conn.Close()
			s.setConn(nil)
		}
	}
}

// sensitive reports commands kept out of the history file, as redis-cli does.
func sensitive(args []string) bool {
	if len(args) == 0 {
		return false
	}
	n := len(args)
	eq := strings.EqualFold
	switch {
	case eq(args[0], "auth"):
		return true
	case n > 1 && eq(args[0], "acl") && eq(args[1], "setuser"):
		return true
	case n > 2 && eq(args[0], "config") && eq(args[1], "set") &&
		(eq(args[2], "masterauth") || eq(args[2], "masteruser") || eq(args[2], "requirepass")):
		return true
	case n > 4 && eq(args[0], "hello"):
		for j := 2; j < n; j++ {
			more := n - 1 - j
			switch {
			case eq(args[j], "auth") && more >= 2:
				return true
			case eq(args[j], "setname") && more > 0:
				j++
			default:
				return false
			}
		}
	case n > 7 && eq(args[0], "migrate"):
		for j := 6; j < n; j++ {
			more := n - 1 - j
			switch {
			case eq(args[j], "auth") && more > 0:
				return true
			case eq(args[j], "auth2") && more >= 2:
				return true
			case eq(args[j], "keys") && more > 0:
				return false
			}
		}
	}
	return false
}
