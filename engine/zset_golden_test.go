package engine_test

import (
	"strings"
	"testing"

	"kv/engine"
	"kv/resp"
)

// zsetGoldenCase is one command and the exact bytes Redis 7.0.15 replied, recorded
// with members of one letter (listpack) and again with every member 70 bytes long
// (skiplist), in RESP2 and RESP3. "!set" stores a string value (for WRONGTYPE).
type zsetGoldenCase struct {
	long  bool
	proto int
	args  []string
	want  string
}

// TestZSetGolden replays the recorded sessions against a fresh engine per session and
// compares every reply byte for byte.
func TestZSetGolden(t *testing.T) {
	type session struct {
		long  bool
		proto int
	}
	var order []session
	bySession := map[session][]zsetGoldenCase{}
	for _, gc := range zsetGolden {
		s := session{gc.long, gc.proto}
		if _, ok := bySession[s]; !ok {
			order = append(order, s)
		}
		bySession[s] = append(bySession[s], gc)
	}
	for _, s := range order {
		name := "listpack"
		if s.long {
			name = "skiplist"
		}
		t.Run(name+"/resp"+string(rune('0'+s.proto)), func(t *testing.T) {
			e := engine.New(engine.Options{})
			engine.RegisterAll(e)
			w := resp.NewWriter()
			w.SetProto(s.proto)
			c := e.NewCtx(w, nil)
			for _, gc := range bySession[s] {
				got := execRaw(e, c, gc.args)
				if got != gc.want {
					t.Errorf("%s\n got: %q\nwant: %q", strings.Join(gc.args, " "), got, gc.want)
				}
			}
		})
	}
}

// execRaw runs one command on the engine the way the server would and returns the
// reply bytes.
func execRaw(e *engine.Engine, c *engine.Ctx, args []string) string {
	if args[0] == "!set" {
		e.DB(0).Put([]byte(args[1]), engine.NewString([]byte(args[2])), -1)
		return "+OK\r\n"
	}
	cmd := e.Commands().Lookup([]byte(args[0]))
	if cmd == nil {
		return "unknown command " + args[0]
	}
	c.Cmd = cmd
	c.Args = make([][]byte, len(args))
	for i, a := range args {
		c.Args[i] = []byte(a)
	}
	c.W.Reset()
	if !cmd.ArityOK(len(args)) {
		c.WrongArgs()
		return string(c.W.Bytes())
	}
	e.Lock()
	e.Exec(c)
	e.Unlock()
	return string(c.W.Bytes())
}
