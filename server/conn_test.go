package server_test

import (
	"strings"
	"testing"

	"kv/internal/kvtest"
)

func TestPingEchoSelect(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"PING"}, "PONG"},
		{[]string{"ping", "hello"}, "hello"},
		{[]string{"ECHO", "x y"}, "x y"},
		{[]string{"SELECT", "15"}, "OK"},
		{[]string{"SELECT", "16"}, "(error) ERR DB index is out of range"},
		{[]string{"SELECT", "x"}, "(error) ERR value is not an integer or out of range"},
		{[]string{"PING", "a", "b"}, "(error) ERR wrong number of arguments for 'ping' command"},
		{[]string{"NOPE", "a"}, "(error) ERR unknown command 'NOPE', with args beginning with: 'a' "},
	}
	for _, c := range cases {
		if got := r.Do(c.args...).String(); got != c.want {
			t.Errorf("%v = %q, want %q", c.args, got, c.want)
		}
	}
}

func TestPipelineAndInline(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	r.Send("PING\r\nECHO \"a b\"\r\n*1\r\n$4\r\nPING\r\n\r\n*0\r\nping x\n")
	for _, want := range []string{"PONG", "a b", "PONG", "x"} {
		if got := r.Read().String(); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

func TestProtocolErrorClosesConnection(t *testing.T) {
	cases := []struct{ in, want string }{
		{"*x\r\n", "ERR Protocol error: invalid multibulk length"},
		{"*1\r\n+PING\r\n", "ERR Protocol error: expected '$', got '+'"},
		{"*1\r\n$-5\r\n", "ERR Protocol error: invalid bulk length"},
		{"*1\r\n$600000000\r\n", "ERR Protocol error: invalid bulk length"},
		{"ECHO \"unbalanced\r\n", "ERR Protocol error: unbalanced quotes in request"},
		{strings.Repeat("a", 70000), "ERR Protocol error: too big inline request"},
		{"*" + strings.Repeat("1", 70000), "ERR Protocol error: too big mbulk count string"},
	}
	for _, c := range cases {
		s := kvtest.Start(t)
		r := s.Raw(t)
		r.Send("PING\r\n" + c.in)
		if got := r.Read().String(); got != "PONG" {
			t.Fatalf("%q: first reply %q", c.in, got)
		}
		if got := r.Read(); string(got.Str) != c.want {
			t.Errorf("%q: got %q, want %q", c.in, got.String(), c.want)
		}
		if _, err := r.ReadErr(); err == nil {
			t.Errorf("%q: connection still open after protocol error", c.in)
		}
	}
}

func TestMultiExec(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	for _, step := range []struct{ args, want string }{
		{"MULTI", "OK"},
		{"PING", "QUEUED"},
		{"ECHO x", "QUEUED"},
		{"EXEC", "[PONG x]"},
		{"EXEC", "(error) ERR EXEC without MULTI"},
		{"MULTI", "OK"},
		{"MULTI", "(error) ERR MULTI calls can not be nested"},
		{"ECHO", "(error) ERR wrong number of arguments for 'echo' command"},
		{"EXEC", "(error) EXECABORT Transaction discarded because of previous errors."},
	} {
		if got := r.Do(strings.Fields(step.args)...).String(); got != step.want {
			t.Errorf("%s = %q, want %q", step.args, got, step.want)
		}
	}
}
