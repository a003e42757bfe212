package commands

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"kv/engine"
	"kv/server"
)

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "run the server",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "bind", Value: "127.0.0.1", Usage: "address to listen on"},
			&cli.IntFlag{Name: "port", Value: 6379, Usage: "TCP port (0 picks a free one)"},
			&cli.StringFlag{Name: "requirepass", Usage: "password of the default user"},
		},
		Action: func(cctx *cli.Context) error {
			return serve(cctx.Context, cctx.String("bind"), cctx.Int("port"), cctx.String("requirepass"))
		},
	}
}

func serve(ctx context.Context, bind string, port int, pass string) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	e := engine.New(engine.Options{Databases: 16})
	engine.RegisterAll(e)
	srv, err := server.New(server.Options{Engine: e, Logger: log, RequirePass: pass, Version: RedisVersion})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(bind, fmt.Sprint(port)))
	if err != nil {
		return cli.Exit(fmt.Sprintf("serve: %v", err), 1)
	}
	log.Info("ready to accept connections", "addr", ln.Addr().String())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		select {
		case sig := <-sigs:
			log.Info("shutting down", "signal", sig.String())
		case <-srv.Done():
		}
		srv.Close()
	}()
	return srv.Serve(ln)
}
