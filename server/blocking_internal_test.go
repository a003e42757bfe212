package server

import (
	"io"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	"kv/engine"
	"kv/resp"
)

// This file tests CLIENT UNBLOCK from inside the package, where the engine's blocked
// count can be read directly.

type rawConn struct {
	t  *testing.T
	nc net.Conn
	rr *resp.ReplyReader
}

func (r *rawConn) do(args ...string) resp.Value {
	r.t.Helper()
	r.send(args...)
	return r.read()
}

func (r *rawConn) send(args ...string) {
	r.t.Helper()
	if _, err := r.nc.Write(resp.AppendCommandStrings(nil, args...)); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rawConn) read() resp.Value {
	r.t.Helper()
	_ = r.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	v, err := r.rr.Read()
	if err != nil {
		r.t.Fatal(err)
	}
	return v
}

func startForUnblock(t *testing.T) (*Server, func() *rawConn) {
	e := engine.New(engine.Options{})
	engine.RegisterAll(e)
	s, err := New(Options{Engine: e, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() { s.Close() })
	dial := func() *rawConn {
		nc, err := net.DialTimeout("tcp", ln.Addr().String(), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		return &rawConn{t: t, nc: nc, rr: resp.NewReplyReader(nc)}
	}
	return s, dial
}

func waitBlocked(t *testing.T, s *Server, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		s.e.Lock()
		got := s.e.BlockedClients()
		s.e.Unlock()
		if got == n {
			return
		}
	}
	t.Fatalf("blocked clients never reached %d", n)
}

func TestClientUnblock(t *testing.T) {
	s, dial := startForUnblock(t)
	ctl := dial()
	cases := []struct {
		block  []string
		reason string // "" for none
		want   string
	}{
		{[]string{"BLPOP", "k", "0"}, "", "(nil)"},
		{[]string{"BRPOP", "k", "0"}, "TIMEOUT", "(nil)"},
		{[]string{"BLMOVE", "k", "d", "left", "left", "0"}, "timeout", "(nil)"},
		{[]string{"BLMPOP", "0", "1", "k", "left"}, "ERROR", "(error) UNBLOCKED client unblocked via CLIENT UNBLOCK"},
		{[]string{"BRPOPLPUSH", "k", "d", "100"}, "error", "(error) UNBLOCKED client unblocked via CLIENT UNBLOCK"},
	}
	for _, tc := range cases {
		w := dial()
		id := strconv.FormatInt(w.do("CLIENT", "ID").Int, 10)
		w.send(tc.block...)
		waitBlocked(t, s, 1)
		args := []string{"CLIENT", "UNBLOCK", id}
		if tc.reason != "" {
			args = append(args, tc.reason)
		}
		if got := ctl.do(args...).String(); got != "1" {
			t.Fatalf("%v: CLIENT UNBLOCK = %s", tc.block, got)
		}
		if got := w.read().String(); got != tc.want {
			t.Fatalf("%v: blocked client got %s, want %s", tc.block, got, tc.want)
		}
		waitBlocked(t, s, 0)
		// The connection goes on normally afterwards.
		if got := w.do("ECHO", "alive").String(); got != "alive" {
			t.Fatalf("after unblock: %s", got)
		}
		if got := ctl.do(args...).String(); got != "0" {
			t.Fatalf("second CLIENT UNBLOCK = %s", got)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"CLIENT", "UNBLOCK", "99999"}, "0"},
		{[]string{"CLIENT", "UNBLOCK", "abc"}, "(error) ERR value is not an integer or out of range"},
		{[]string{"CLIENT", "UNBLOCK", "1", "maybe"}, "(error) ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"},
		{[]string{"CLIENT", "UNBLOCK", "abc", "maybe"}, "(error) ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"},
		{[]string{"CLIENT", "UNBLOCK", "1", "timeout", "x"}, "(error) ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP."},
		{[]string{"CLIENT", "UNBLOCK"}, "(error) ERR wrong number of arguments for 'client|unblock' command"},
	} {
		if got := ctl.do(tc.args...).String(); got != tc.want {
			t.Errorf("%v = %s, want %s", tc.args, got, tc.want)
		}
	}
	s.e.Lock()
	blpop := s.e.Commands().Lookup([]byte("blpop")).Stats
	s.e.Unlock()
	if blpop.Calls != 1 || blpop.FailedCalls != 1 {
		t.Errorf("BLPOP stats after CLIENT UNBLOCK: calls %d failed %d, want 1 and 1", blpop.Calls, blpop.FailedCalls)
	}
}
