package commands

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"kv/config"
	"kv/server"
)

// listeners runs Serve on every listener of a kv serve process and moves the
// TCP and TLS ones when CONFIG SET changes port, tls-port or bind, as Redis's
// changeListenPort and changeBindAddr do.
type listeners struct {
	srv *server.Server
	log *slog.Logger

	wg       sync.WaitGroup
	errOnce  sync.Once
	firstErr error

	plain, tls *portListeners
}

// portListeners are the listeners of one port setting on every bind address.
type portListeners struct {
	ls   *listeners
	cfg  *config.Config
	port *config.Int
	wrap func(net.Listener) (net.Listener, error) // TLS, or nil

	mu    sync.Mutex
	lns   []net.Listener
	addrs []string // the bind addresses lns listen on
	at    int64    // the port they listen on (the picked one for port 0)
	key   string   // the port and bind settings lns answer to
}

// listen opens a TCP listener on each bind address for port (unless it is 0, which
// disables plain TCP as in Redis) and a TLS one for tls-port; an address with a
// leading "-" may fail (no IPv6, say) without stopping start-up, as in Redis. It
// starts serving on all of them and on the Unix socket.
func listen(cfg *config.Config, srv *server.Server, log *slog.Logger) (*listeners, error) {
	ls := &listeners{srv: srv, log: log}
	ls.plain = &portListeners{ls: ls, cfg: cfg, port: &cfg.Port}
	ls.tls = &portListeners{ls: ls, cfg: cfg, port: &cfg.TLSPort, wrap: srv.TLSListener}
	var all []net.Listener
	closeAll := func() {
		for _, ln := range all {
			ln.Close()
		}
	}
	for _, pl := range []*portListeners{ls.plain, ls.tls} {
		if err := pl.open(); err != nil {
			closeAll()
			return nil, err
		}
		all = append(all, pl.lns...)
	}
	if path := cfg.Unixsocket.Get(); path != "" {
		ln, err := listenUnix(path, os.FileMode(cfg.Unixsocketperm.Get()))
		if err != nil {
			closeAll()
			return nil, err
		}
		all = append(all, ln)
	}
	if len(all) == 0 {
		return nil, errors.New("no address to listen on (port and tls-port are both 0, no unixsocket)")
	}
	for _, ln := range all {
		log.Info("ready to accept connections", "addr", ln.Addr().String())
		ls.serve(ln)
	}
	const portErr, bindErr = "Unable to listen on this port. Check server logs.", "Failed to bind to specified addresses."
	cfg.OnApply("port", func() error { return ls.plain.move(portErr) })
	cfg.OnApply("tls-port", func() error { return ls.tls.move(portErr) })
	cfg.OnApply("bind", func() error {
		if err := ls.plain.move(bindErr); err != nil {
			return err
		}
		return ls.tls.move(bindErr)
	})
	return ls, nil
}

// serve runs the server on ln until it closes.
func (ls *listeners) serve(ln net.Listener) {
	ls.wg.Add(1)
	go func() {
		defer ls.wg.Done()
		if err := ls.srv.Serve(ln); err != nil {
			ls.errOnce.Do(func() { ls.firstErr = err })
			ls.srv.Close()
		}
	}()
}

// wait returns when the server has stopped serving on every listener.
func (ls *listeners) wait() error {
	ls.wg.Wait()
	return ls.firstErr
}

func (pl *portListeners) settings() string {
	return strconv.FormatInt(pl.port.Get(), 10) + " " + strings.Join(pl.cfg.Bind.Get(), " ")
}

// open listens as the settings say; nothing when the port is 0 (for TLS) or
// plain TCP is off.
func (pl *portListeners) open() error {
	pl.key = pl.settings()
	p := pl.port.Get()
	if p == 0 {
		return nil
	}
	lns, err := listenPort(pl.cfg.Bind.Get(), strconv.FormatInt(p, 10), pl.wrap)
	if err != nil {
		return err
	}
	pl.lns, pl.addrs = lns, pl.cfg.Bind.Get()
	pl.at = int64(lns[0].Addr().(*net.TCPAddr).Port)
	return nil
}

// move re-listens after CONFIG SET: the old listeners close first, since the new
// addresses may overlap them; if the new ones cannot be opened, the old ones are
// opened again and CONFIG SET fails with errText (the details go to the log).
func (pl *portListeners) move(errText string) error {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if pl.settings() == pl.key {
		return nil
	}
	// Counted as serving while the listeners are swapped, or wait would see
	// none left and the process would exit.
	pl.ls.wg.Add(1)
	defer pl.ls.wg.Done()
	old, oldAddrs, oldAt, oldKey := pl.lns, pl.addrs, pl.at, pl.key
	for _, ln := range old {
		pl.ls.srv.StopListening(ln)
	}
	pl.lns = nil
	if err := pl.open(); err != nil {
		pl.ls.log.Warn("CONFIG SET: cannot listen", "port", pl.port.Get(), "bind", strings.Join(pl.cfg.Bind.Get(), " "), "err", err)
		pl.key = ""
		if len(old) > 0 {
			lns, rerr := listenPort(oldAddrs, strconv.FormatInt(oldAt, 10), pl.wrap)
			if rerr != nil {
				pl.ls.log.Warn("cannot listen on the previous addresses again", "err", rerr)
			} else {
				// Back where it was: CONFIG SET's rollback then finds nothing to move.
				pl.lns, pl.addrs, pl.at, pl.key = lns, oldAddrs, oldAt, oldKey
				pl.startAll()
			}
		}
		return errors.New(errText)
	}
	pl.startAll()
	return nil
}

func (pl *portListeners) startAll() {
	for _, ln := range pl.lns {
		pl.ls.log.Info("ready to accept connections", "addr", ln.Addr().String())
		pl.ls.serve(ln)
	}
}

// listenPort listens on port at every bind address; wrap (TLS) applies to each.
func listenPort(binds []string, port string, wrap func(net.Listener) (net.Listener, error)) ([]net.Listener, error) {
	var lns []net.Listener
	fail := func(err error) ([]net.Listener, error) {
		for _, l := range lns {
			l.Close()
		}
		return nil, err
	}
	for _, addr := range slices.Clone(binds) {
		optional := strings.HasPrefix(addr, "-")
		addr = strings.TrimPrefix(addr, "-")
		switch addr {
		case "*":
			addr = "0.0.0.0"
		case "::*":
			addr = "::"
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(addr, port))
		if err != nil {
			if optional {
				continue
			}
			return fail(err)
		}
		if port == "0" {
			// Every address shares the port the first one picked.
			port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		}
		if wrap != nil {
			raw := ln
			if ln, err = wrap(raw); err != nil {
				raw.Close()
				return fail(fmt.Errorf("tls: %w", err))
			}
		}
		lns = append(lns, ln)
	}
	if len(lns) == 0 {
		return nil, errors.New("no address to listen on")
	}
	return lns, nil
}
