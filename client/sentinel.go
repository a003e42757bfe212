package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"kv/resp"
)

// SentinelOptions say how to find a master through Sentinels.
type SentinelOptions struct {
	Sentinels []string // host:port of each sentinel, asked in order
	Master    string   // the monitored master's name
	// SentinelUsername and SentinelPassword authenticate to the sentinels themselves
	// (sentinel's requirepass), distinct from the data node's credentials in Options.
	SentinelUsername string
	SentinelPassword string
}

// ErrNoMaster is returned when no sentinel knows a reachable master by that name.
var ErrNoMaster = errors.New("client: no sentinel returned a reachable master")

// MasterAddr asks the sentinels in turn for the current address of the master. The
// first sentinel that answers with an address wins.
func MasterAddr(ctx context.Context, so SentinelOptions, base Options) (string, error) {
	var errs []error
	for _, s := range so.Sentinels {
		addr, err := askSentinel(ctx, s, so, base)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s, err))
			continue
		}
		return addr, nil
	}
	if len(errs) == 0 {
		return "", ErrNoMaster
	}
	return "", fmt.Errorf("%w: %v", ErrNoMaster, errors.Join(errs...))
}

func askSentinel(ctx context.Context, sentinel string, so SentinelOptions, base Options) (string, error) {
	c, err := Dial(ctx, Options{Addr: sentinel, Username: so.SentinelUsername, Password: so.SentinelPassword,
		DialTimeout: base.DialTimeout, ReadTimeout: base.DialTimeout, WriteTimeout: base.DialTimeout})
	if err != nil {
		return "", err
	}
	defer c.Close()
	v, err := c.Do("SENTINEL", "get-master-addr-by-name", so.Master)
	if err != nil {
		return "", err
	}
	if v.Kind == resp.KindError {
		return "", &Error{Msg: string(v.Str)}
	}
	if v.Null || v.Kind == resp.KindNull || len(v.Elems) != 2 {
		return "", fmt.Errorf("master %q unknown to this sentinel", so.Master)
	}
	return net.JoinHostPort(string(v.Elems[0].Str), string(v.Elems[1].Str)), nil
}

// DialSentinel connects to whatever the sentinels say the master is, and checks with
// ROLE that the node really is a master: right after a failover a sentinel may still
// name the demoted node, and writing to it would fail later and more confusingly.
func DialSentinel(ctx context.Context, so SentinelOptions, opts Options) (*Conn, error) {
	addr, err := MasterAddr(ctx, so, opts)
	if err != nil {
		return nil, err
	}
	opts.Addr = addr
	c, err := Dial(ctx, opts)
	if err != nil {
		return nil, err
	}
	v, err := c.Do("ROLE")
	if err != nil {
		c.Close()
		return nil, err
	}
	if v.Kind == resp.KindError || len(v.Elems) == 0 || !strings.EqualFold(string(v.Elems[0].Str), "master") {
		c.Close()
		return nil, fmt.Errorf("client: %s named by the sentinels is not a master (ROLE said %s)", addr, v.String())
	}
	return c, nil
}
