package resp

import (
	"bytes"
	"errors"
	"io"
	"strconv"
)

// Limits bound what one client may make the server buffer. Zero fields take Redis's
// defaults, so a zero Limits is safe.
type Limits struct {
	MaxBulkLen     int64 // proto-max-bulk-len
	MaxQueryBuffer int64 // client-query-buffer-limit
	MaxInline      int   // PROTO_INLINE_MAX_SIZE: an inline request or a length line
	// Unauthenticated, when it returns true, caps requests as Redis does before AUTH
	// (at most 10 arguments of at most 16 KiB), so a stranger cannot make us buffer much.
	Unauthenticated func() bool
}

const (
	defaultMaxBulkLen     = 512 << 20
	defaultMaxQueryBuffer = 1 << 30
	defaultMaxInline      = 64 << 10
	maxMultibulkLen       = 1<<31 - 1
	readChunk             = 16 << 10
)

// ProtocolError is a malformed request. Its text is what Redis replies before it
// closes the connection, without the "ERR " prefix.
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return "Protocol error: " + e.Msg }

// ErrQueryBufferLimit means the client sent more unparsed bytes than
// client-query-buffer-limit allows; Redis closes such a client without a reply.
var ErrQueryBufferLimit = errors.New("resp: query buffer limit exceeded")

// Reader parses client requests from a stream. Arguments it returns point into its
// buffer and stay valid until the next call that has to read from the stream, so a
// server can parse a whole pipelined batch (ReadCommand, then Next while it succeeds)
// and execute it before reading again. Not safe for concurrent use.
type Reader struct {
	rd     io.Reader
	limits Limits
	buf    []byte
	r, w   int // unparsed data is buf[r:w]
	err    error

	// A multibulk request being parsed; kept between reads so a large request that
	// arrives in pieces is not re-parsed from the start.
	// arena holds the arguments of every request parsed since the last read from the
	// stream; each request's args are a window of it, so a batch's requests don't share
	// storage. offs[i] is where arena[i] starts in buf, to re-point it when buf moves.
	arena    [][]byte
	offs     []int
	argStart int   // the request in progress starts at arena[argStart]
	pending  int   // arguments still expected, 0 when between requests
	bulkLen  int64 // length of the next bulk, -1 when its header is not read yet
	start    int   // where the request in progress begins in buf
	inline   bool  // the last request was inline
}

// NewReader reads requests from rd within limits.
func NewReader(rd io.Reader, limits Limits) *Reader {
	if limits.MaxBulkLen <= 0 {
		limits.MaxBulkLen = defaultMaxBulkLen
	}
	if limits.MaxQueryBuffer <= 0 {
		limits.MaxQueryBuffer = defaultMaxQueryBuffer
	}
	if limits.MaxInline <= 0 {
		limits.MaxInline = defaultMaxInline
	}
	return &Reader{rd: rd, limits: limits, buf: make([]byte, readChunk), bulkLen: -1}
}

// SetLimits changes the limits for the requests that follow (CONFIG SET).
func (r *Reader) SetLimits(l Limits) {
	old := r.limits
	if l.MaxBulkLen <= 0 {
		l.MaxBulkLen = old.MaxBulkLen
	}
	if l.MaxQueryBuffer <= 0 {
		l.MaxQueryBuffer = old.MaxQueryBuffer
	}
	if l.MaxInline <= 0 {
		l.MaxInline = old.MaxInline
	}
	r.limits = l
}

// Buffered reports how many bytes are read from the stream but not yet parsed.
func (r *Reader) Buffered() int { return r.w - r.r }

// QueryBufferSize is the memory held for this client's requests (INFO's qbuf).
func (r *Reader) QueryBufferSize() int { return len(r.buf) }

// WasInline reports whether the last request returned was an inline one.
func (r *Reader) WasInline() bool { return r.inline }

// ReadCommand returns the next request, reading from the stream as needed. Empty
// requests (a blank inline line, "*0") are skipped as Redis skips them. On a
// *ProtocolError the caller replies with it and closes the connection.
func (r *Reader) ReadCommand() ([][]byte, error) {
	// Earlier results are dead now: keep only a request in progress.
	if r.pending > 0 {
		n := copy(r.arena, r.arena[r.argStart:])
		copy(r.offs, r.offs[r.argStart:])
		r.arena, r.offs = r.arena[:n], r.offs[:n]
	} else {
		r.arena, r.offs = r.arena[:0], r.offs[:0]
	}
	r.argStart = 0
	for {
		args, ok, err := r.Next()
		if err != nil || ok {
			return args, err
		}
		if r.err != nil {
			return nil, r.err
		}
		if err := r.fill(); err != nil {
			r.err = err
			// Unparsed bytes at EOF are a request cut short, not a clean close.
			if err == io.EOF && (r.Buffered() > 0 || r.pending > 0) {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

// Next parses the next request from buffered data only. ok is false when the buffer
// holds no whole request; it never reads from the stream, so earlier results stay valid.
func (r *Reader) Next() (args [][]byte, ok bool, err error) {
	for r.r < r.w {
		if r.pending == 0 && r.buf[r.r] != '*' {
			args, ok, err = r.parseInline()
		} else {
			args, ok, err = r.parseMultibulk()
		}
		if err != nil || !ok {
			return nil, false, err
		}
		if len(args) > 0 {
			return args, true, nil
		}
	}
	return nil, false, nil
}

func (r *Reader) parseInline() ([][]byte, bool, error) {
	data := r.buf[r.r:r.w]
	nl := bytes.IndexByte(data, '\n')
	if nl < 0 {
		if len(data) > r.limits.MaxInline {
			return nil, false, &ProtocolError{"too big inline request"}
		}
		return nil, false, nil
	}
	line := data[:nl]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	lineStart := r.r
	r.r += nl + 1
	r.inline = true
	if bytes.IndexByte(line, '"') < 0 && bytes.IndexByte(line, '\'') < 0 {
		return r.splitPlainInline(line, lineStart), true, nil
	}
	args, err := SplitArgs(line)
	if err != nil {
		return nil, false, &ProtocolError{"unbalanced quotes in request"}
	}
	return args, true, nil
}

// splitPlainInline splits an inline request without quotes, which SplitArgs would
// split at blanks alone, into windows of the buffer like a multibulk request's, so the
// common inline request (PING, redis-benchmark's PING_INLINE) allocates nothing.
// lineStart is where line begins in buf.
func (r *Reader) splitPlainInline(line []byte, lineStart int) [][]byte {
	first := len(r.arena)
	for i := 0; i < len(line); {
		if isBlank(line[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(line) && !isBlank(line[j]) {
			j++
		}
		r.arena = append(r.arena, line[i:j:j])
		r.offs = append(r.offs, lineStart+i)
		i = j
	}
	n := len(r.arena)
	return r.arena[first:n:n]
}

// line returns the next CRLF-terminated line at r.r without the CRLF, or ok=false when
// it is not all buffered. Like Redis, it looks for '\r' and trusts the '\n' after it.
func (r *Reader) line(tooBig string) (line []byte, ok bool, err error) {
	data := r.buf[r.r:r.w]
	cr := bytes.IndexByte(data, '\r')
	if cr < 0 {
		if len(data) > r.limits.MaxInline {
			return nil, false, &ProtocolError{tooBig}
		}
		return nil, false, nil
	}
	if cr+1 >= len(data) {
		return nil, false, nil
	}
	r.r += cr + 2
	return data[:cr], true, nil
}

func (r *Reader) parseMultibulk() ([][]byte, bool, error) {
	if r.pending == 0 {
		start := r.r
		line, ok, err := r.line("too big mbulk count string")
		if !ok {
			return nil, false, err
		}
		n, perr := parseCount(line[1:])
		if perr != nil || n > maxMultibulkLen {
			return nil, false, &ProtocolError{"invalid multibulk length"}
		}
		if n > 10 && r.unauthenticated() {
			return nil, false, &ProtocolError{"unauthenticated multibulk length"}
		}
		r.inline = false
		if n <= 0 {
			return nil, true, nil
		}
		r.start = start
		r.pending = int(n)
		r.argStart = len(r.arena)
		r.bulkLen = -1
	}
	for r.pending > 0 {
		if r.bulkLen < 0 {
			if r.r >= r.w {
				return nil, false, nil
			}
			if c := r.buf[r.r]; c != '$' {
				// Redis reports the byte only once the length line is complete.
				if bytes.IndexByte(r.buf[r.r:r.w], '\r') < 0 {
					if r.w-r.r > r.limits.MaxInline {
						return nil, false, &ProtocolError{"too big bulk count string"}
					}
					return nil, false, nil
				}
				return nil, false, &ProtocolError{"expected '$', got '" + string(c) + "'"}
			}
			line, ok, err := r.line("too big bulk count string")
			if !ok {
				return nil, false, err
			}
			n, perr := parseCount(line[1:])
			if perr != nil || n < 0 || n > r.limits.MaxBulkLen {
				return nil, false, &ProtocolError{"invalid bulk length"}
			}
			if n > 16384 && r.unauthenticated() {
				return nil, false, &ProtocolError{"unauthenticated bulk length"}
			}
			r.bulkLen = n
		}
		if int64(r.w-r.r) < r.bulkLen+2 {
			return nil, false, nil
		}
		end := r.r + int(r.bulkLen)
		r.arena = append(r.arena, r.buf[r.r:end:end])
		r.offs = append(r.offs, r.r)
		r.r = end + 2
		r.bulkLen = -1
		r.pending--
	}
	n := len(r.arena)
	return r.arena[r.argStart:n:n], true, nil
}

// parseCount reads a multibulk count or bulk length. Plain digit strings short enough
// not to overflow (every real request) are read in place; anything else goes to
// strconv.ParseInt, so the accepted forms and errors are exactly its own.
func parseCount(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 18 {
		return strconv.ParseInt(string(b), 10, 64)
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return strconv.ParseInt(string(b), 10, 64)
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

func (r *Reader) unauthenticated() bool {
	return r.limits.Unauthenticated != nil && r.limits.Unauthenticated()
}

// fill reads more data, first making room: it keeps the request in progress (whose
// parsed arguments point into the buffer) and drops what is already consumed.
func (r *Reader) fill() error {
	keep := r.r
	if r.pending > 0 {
		keep = r.start
	}
	if int64(r.w-keep) >= r.limits.MaxQueryBuffer {
		return ErrQueryBufferLimit
	}
	need := readChunk
	if r.pending > 0 && r.bulkLen >= 0 {
		// Make room for the whole bulk at once so a big value is read with few copies.
		if want := int(r.bulkLen) + 2 - (r.w - r.r); want > need {
			need = want
		}
	}
	if keep > 0 || len(r.buf)-r.w < need {
		used := r.w - keep
		size := len(r.buf)
		if used+need > size {
			size = used + need
		} else if size > 4*readChunk && used+need < size/4 {
			// Give back a buffer a big request left behind.
			size = max(used+need, readChunk)
		}
		nb := r.buf
		if size != len(r.buf) {
			nb = make([]byte, size)
		}
		copy(nb, r.buf[keep:r.w])
		r.buf = nb
		if r.pending > 0 {
			for i := r.argStart; i < len(r.arena); i++ {
				off := r.offs[i] - keep
				r.offs[i] = off
				r.arena[i] = nb[off : off+len(r.arena[i]) : off+len(r.arena[i])]
			}
		}
		r.r -= keep
		r.w -= keep
		r.start -= keep
	}
	n, err := r.rd.Read(r.buf[r.w:])
	r.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}
