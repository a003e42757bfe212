package engine_test

import (
	"bytes"
	"strings"
	"testing"

	"kv/engine"
	"kv/resp"
)

// harness runs commands straight on an engine, for what the network tests cannot
// see yet: RESP3 reply shapes (HELLO is not served here), propagation and
// keyspace events.
type harness struct {
	t      testing.TB
	e      *engine.Engine
	c      *engine.Ctx
	w      *resp.Writer
	props  []string // propagated commands, space-joined
	events []string // "event key"
}

func (h *harness) Propagate(db int, args [][]byte) {
	h.props = append(h.props, string(bytes.Join(args, []byte(" "))))
}

func (h *harness) NotifyKeyspaceEvent(class engine.EventClass, event string, key []byte, db int) {
	if class == engine.EventKeyMiss || class == engine.EventNew {
		return
	}
	h.events = append(h.events, event+" "+string(key))
}

func newHarness(t testing.TB, proto int) *harness {
	e := engine.New(engine.Options{Databases: 2})
	engine.RegisterAll(e)
	w := resp.NewWriter()
	w.SetProto(proto)
	h := &harness{t: t, e: e, w: w}
	h.c = e.NewCtx(w, nil)
	e.SetPropagator(h)
	e.SetNotifier(h)
	return h
}

// do runs one command and returns its reply.
func (h *harness) do(args ...string) resp.Value {
	h.t.Helper()
	h.run(args...)
	v, err := resp.NewReplyReader(bytes.NewReader(h.w.Bytes())).Read()
	if err != nil {
		h.t.Fatalf("%v: bad reply %q: %v", args, h.w.Bytes(), err)
	}
	return v
}

// run runs one command, leaving its reply in h.w.
func (h *harness) run(args ...string) {
	h.t.Helper()
	cmd := h.e.Commands().Lookup([]byte(args[0]))
	if cmd == nil {
		h.t.Fatalf("unknown command %q", args[0])
	}
	h.w.Reset()
	if !cmd.ArityOK(len(args)) {
		h.w.Error(engine.ErrWrongArgs(cmd.Name))
		return
	}
	bargs := make([][]byte, len(args))
	for i, a := range args {
		bargs[i] = []byte(a)
	}
	h.e.Lock()
	h.c.Cmd, h.c.Args = cmd, bargs
	h.e.Exec(h.c)
	h.e.Unlock()
}

// encoding reports the OBJECT ENCODING of key in db 0, "" when absent.
func (h *harness) encoding(key string) string {
	h.e.Lock()
	defer h.e.Unlock()
	o := h.e.DB(0).Peek([]byte(key))
	if o == nil {
		return ""
	}
	return o.Enc.String()
}

// kinds renders a reply's RESP types, to compare shapes: "%[$ $]" for a map of
// two bulk strings.
func kinds(v resp.Value) string {
	var b strings.Builder
	var walk func(v resp.Value)
	walk = func(v resp.Value) {
		b.WriteByte(byte(v.Kind))
		if v.Null {
			b.WriteString("nil")
		}
		if len(v.Elems) > 0 {
			b.WriteByte('[')
			for i, e := range v.Elems {
				if i > 0 {
					b.WriteByte(' ')
				}
				walk(e)
			}
			b.WriteByte(']')
		}
	}
	walk(v)
	return b.String()
}

func (h *harness) takeEvents() []string {
	ev := h.events
	h.events = nil
	return ev
}

func (h *harness) takeProps() []string {
	p := h.props
	h.props = nil
	return p
}
