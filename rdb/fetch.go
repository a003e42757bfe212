package rdb

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// FetchOptions say how to reach the server.
type FetchOptions struct {
	User, Password string
	// Progress, when set, is called as bytes arrive with the total expected (-1 when
	// the server streams with an EOF marker and the size is unknown).
	Progress func(done, total int64)
	Timeout  time.Duration
}

// Fetch takes a point-in-time snapshot from the server at addr the way a replica does:
// it announces the EOF-marker capability and asks for an RDB-only transfer, then sends
// SYNC and copies the payload, in either the "$<length>" or the "$EOF:<mark>" form,
// to w. It returns the payload size. Works with Redis and with kv.
func Fetch(ctx context.Context, addr string, w io.Writer, o FetchOptions) (int64, error) {
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	d := net.Dialer{Timeout: o.Timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	br := bufio.NewReaderSize(nc, 64<<10)
	call := func(args ...string) (string, error) {
		var b bytes.Buffer
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
		_ = nc.SetDeadline(time.Now().Add(o.Timeout))
		if _, err := nc.Write(b.Bytes()); err != nil {
			return "", err
		}
		line, err := br.ReadString('\n')
		return strings.TrimRight(line, "\r\n"), err
	}
	if o.Password != "" {
		args := []string{"AUTH", o.Password}
		if o.User != "" {
			args = []string{"AUTH", o.User, o.Password}
		}
		line, err := call(args...)
		if err != nil {
			return 0, err
		}
		if !strings.HasPrefix(line, "+") {
			return 0, fmt.Errorf("AUTH: %s", strings.TrimPrefix(line, "-"))
		}
	}
	// Older servers refuse these; the transfer works without them.
	for _, rc := range [][]string{{"REPLCONF", "capa", "eof"}, {"REPLCONF", "rdb-only", "1"}} {
		if _, err := call(rc...); err != nil {
			return 0, err
		}
	}
	var b bytes.Buffer
	b.WriteString("*1\r\n$4\r\nSYNC\r\n")
	if _, err := nc.Write(b.Bytes()); err != nil {
		return 0, err
	}
	// The master may send newlines to keep the link alive while it prepares.
	var header string
	for {
		_ = nc.SetReadDeadline(time.Now().Add(o.Timeout))
		line, err := br.ReadString('\n')
		if err != nil {
			return 0, fmt.Errorf("reading the SYNC reply: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" || strings.HasPrefix(line, "+") {
			continue // keepalive, or +FULLRESYNC from a PSYNC-speaking master
		}
		header = line
		break
	}
	if strings.HasPrefix(header, "-") {
		return 0, fmt.Errorf("SYNC refused: %s", header[1:])
	}
	if !strings.HasPrefix(header, "$") {
		return 0, fmt.Errorf("unexpected SYNC reply %q", header)
	}
	_ = nc.SetReadDeadline(time.Time{})
	pw := &progressWriter{w: w, fn: o.Progress, total: -1}
	if mark, ok := strings.CutPrefix(header, "$EOF:"); ok {
		if len(mark) != 40 {
			return 0, fmt.Errorf("bad EOF marker %q", mark)
		}
		return copyUntilMark(br, pw, []byte(mark))
	}
	n, err := strconv.ParseInt(header[1:], 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad payload length %q", header)
	}
	pw.total = n
	got, err := io.CopyN(pw, br, n)
	if err != nil {
		return got, fmt.Errorf("payload cut after %d of %d bytes: %w", got, n, err)
	}
	return got, nil
}

type progressWriter struct {
	w     io.Writer
	fn    func(done, total int64)
	done  int64
	total int64
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	if p.fn != nil {
		p.fn(p.done, p.total)
	}
	return n, err
}

// copyUntilMark copies r to w until the 40-byte marker that ends a diskless payload,
// holding back the last 40 bytes until they are known not to be it.
func copyUntilMark(r io.Reader, w io.Writer, mark []byte) (int64, error) {
	var total int64
	window := make([]byte, 0, 128<<10)
	buf := make([]byte, 64<<10)
	for {
		k, err := r.Read(buf)
		window = append(window, buf[:k]...)
		if len(window) >= len(mark) && bytes.Equal(window[len(window)-len(mark):], mark) {
			body := window[:len(window)-len(mark)]
			if _, werr := w.Write(body); werr != nil {
				return total, werr
			}
			return total + int64(len(body)), nil
		}
		if len(window) > len(mark) {
			out := window[:len(window)-len(mark)]
			if _, werr := w.Write(out); werr != nil {
				return total, werr
			}
			total += int64(len(out))
			window = append(window[:0], window[len(window)-len(mark):]...)
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return total, fmt.Errorf("payload cut before its EOF marker: %w", err)
		}
	}
}
