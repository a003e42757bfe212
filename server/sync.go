package server

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"kv/engine"
	"kv/rdb"
)

// The master side of a full resynchronization, reduced to what `kv rdb dump` and
// `redis-cli --rdb` need: REPLCONF is acknowledged, SYNC or PSYNC is answered with a
// point-in-time snapshot, then the connection is closed, since kv has no replication
// stream to follow it with yet.

func (s *Server) syncCommands() []*engine.Command {
	flags := engine.FlagNoAsyncLoading | engine.FlagAdmin | engine.FlagNoMulti | engine.FlagNoscript
	return []*engine.Command{
		{Name: "sync", Arity: 1, Flags: flags, ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "1.0.0",
			Summary: "Internal command used for replication", Handler: s.cmdSync},
		{Name: "psync", Arity: -3, Flags: flags, ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "2.8.0",
			Summary: "Internal command used for replication", Syntax: "replicationid offset", Handler: s.cmdSync},
		{Name: "replconf", Arity: -1, Flags: engine.FlagAdmin | engine.FlagNoscript | engine.FlagLoading | engine.FlagStale | engine.FlagAllowBusy,
			ACL: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "3.0.0", Complexity: "O(1)",
			Summary: "An internal command for configuring the replication stream", Syntax: "", Handler: s.cmdReplconf},
	}
}

func (s *Server) cmdReplconf(c *engine.Ctx) {
	if len(c.Args)%2 == 0 {
		c.Error(engine.ErrSyntax)
		return
	}
	cn := connOf(c)
	for i := 1; i < len(c.Args); i += 2 {
		switch {
		case c.Is(i, "capa"):
			if c.Is(i+1, "eof") {
				cn.replCapaEOF = true
			}
		case c.Is(i, "listening-port"), c.Is(i, "ip-address"), c.Is(i, "rdb-only"), c.Is(i, "rdb-filter-only"):
		case c.Is(i, "ack"), c.Is(i, "getack"):
			return // no reply, as Redis
		default:
			c.Error(fmt.Sprintf("ERR Unrecognized REPLCONF option: %s", c.Args[i]))
			return
		}
	}
	c.W.OK()
}

func (s *Server) cmdSync(c *engine.Ctx) {
	cn := connOf(c)
	stream, err := rdb.StartStream(s.e, s.saveOptions())
	if err != nil {
		// One snapshot at a time: a replica retries, as it does after any refusal.
		c.Error("ERR " + err.Error() + ", try again later")
		return
	}
	if c.Is(0, "psync") {
		c.W.Simple(fmt.Sprintf("FULLRESYNC %s 0", s.runID))
	}
	eof := cn.replCapaEOF
	dir := s.cfg.Dir.Get()
	log := s.log
	cn.closeAfter = true
	cn.handoff = func(nc net.Conn, err error) {
		switch {
		case err != nil:
			stream.AbortUnlocked()
		case eof:
			err = sendEOFPayload(nc, stream)
		default:
			err = sendSizedPayload(nc, stream, dir)
		}
		if err != nil {
			log.Warn("full sync to a replica failed", "addr", nc.RemoteAddr().String(), "err", err)
		}
	}
}

// sendEOFPayload streams the snapshot as a diskless transfer: "$EOF:<mark>", the RDB
// bytes, the mark.
func sendEOFPayload(nc net.Conn, stream *rdb.Stream) error {
	var m [20]byte
	_, _ = rand.Read(m[:])
	mark := hex.EncodeToString(m[:])
	bw := bufio.NewWriterSize(nc, 256<<10)
	fmt.Fprintf(bw, "$EOF:%s\r\n", mark)
	if _, err := stream.WriteTo(context.Background(), bw); err != nil {
		return err
	}
	bw.WriteString(mark)
	return bw.Flush()
}

// sendSizedPayload writes the snapshot to a temporary file first, for peers that need
// the length up front ("$<len>").
func sendSizedPayload(nc net.Conn, stream *rdb.Stream, dir string) error {
	f, err := os.CreateTemp(dir, "temp-sync-*.rdb")
	if err != nil {
		stream.AbortUnlocked()
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	if _, err := stream.WriteTo(context.Background(), bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_ = nc.SetWriteDeadline(time.Now().Add(time.Hour))
	if _, err := fmt.Fprintf(nc, "$%d\r\n", size); err != nil {
		return err
	}
	_, err = io.Copy(nc, f)
	return err
}
