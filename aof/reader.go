package aof

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Error is a problem found reading an AOF file: which file, the byte offset, what the
// reader expected there, and whether the file simply ends early (a torn tail, which
// aof-load-truncated may forgive) rather than holding something malformed.
type Error struct {
	File      string
	Offset    int64
	Expected  string
	Truncated bool
	// ValidUpTo is the offset just after the last whole command before the problem:
	// where `kv aof check --fix` and aof-load-truncated cut the file.
	ValidUpTo int64
}

func (e *Error) Error() string {
	kind := "bad format"
	if e.Truncated {
		kind = "unexpected end of file"
	}
	return fmt.Sprintf("%s: %s at offset %d: expected %s", e.File, kind, e.Offset, e.Expected)
}

// maxLineLen bounds a "*N" or "$N" line (and an annotation), as Redis reads them with
// a fixed-size buffer.
const maxLineLen = 1024

// Reader reads the commands of an AOF file in RESP multibulk form, skipping "#..."
// annotation lines, and knows the offset of everything it reads.
type Reader struct {
	br   *bufio.Reader
	file string
	off  int64
	// start is the offset of the command being read; lastGood is just after the last
	// whole command.
	start    int64
	lastGood int64
	line     []byte
}

// NewReader reads commands from r, whose first byte is at offset base of file.
func NewReader(r io.Reader, file string, base int64) *Reader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &Reader{br: br, file: file, off: base, start: base, lastGood: base}
}

// Offset is the offset just after the last command returned.
func (r *Reader) Offset() int64 { return r.lastGood }

// CommandStart is the offset where the last returned (or failed) command began.
func (r *Reader) CommandStart() int64 { return r.start }

func (r *Reader) fail(at int64, truncated bool, format string, args ...any) error {
	return &Error{File: r.file, Offset: at, Expected: fmt.Sprintf(format, args...), Truncated: truncated, ValidUpTo: r.lastGood}
}

// readLine reads a line ending in \r\n and returns it without the terminator.
func (r *Reader) readLine(what string) ([]byte, error) {
	at := r.off
	r.line = r.line[:0]
	for {
		frag, err := r.br.ReadSlice('\n')
		r.line = append(r.line, frag...)
		r.off += int64(len(frag))
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(r.line) > maxLineLen {
				return nil, r.fail(at, false, "%s no longer than %d bytes", what, maxLineLen)
			}
			continue
		}
		if errors.Is(err, io.EOF) {
			return nil, r.fail(at, true, "%s ending in \\r\\n", what)
		}
		return nil, err
	}
	if len(r.line) > maxLineLen+2 {
		return nil, r.fail(at, false, "%s no longer than %d bytes", what, maxLineLen)
	}
	if len(r.line) < 2 || r.line[len(r.line)-2] != '\r' {
		return nil, r.fail(r.off-1, false, "\\r before \\n in %s", what)
	}
	return r.line[:len(r.line)-2], nil
}

// parseCount parses the digits after '*' or '$': a non-negative decimal.
func parseCount(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	return n, err == nil && n >= 0
}

// Next returns the next command's arguments. At a clean end of file it returns
// io.EOF; otherwise a problem is an *Error (or an I/O error from the source). The
// returned arguments are freshly allocated and belong to the caller.
func (r *Reader) Next() ([][]byte, error) {
	for {
		r.start = r.off
		if _, err := r.br.Peek(1); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			return nil, err
		}
		line, err := r.readLine("a command header \"*<count>\"")
		if err != nil {
			return nil, err
		}
		if len(line) == 0 {
			return nil, r.fail(r.start, false, "'*' starting a command, found an empty line")
		}
		if line[0] == '#' {
			// An annotation (aof-timestamp-enabled writes "#TS:<unix>").
			r.lastGood = r.off
			continue
		}
		if line[0] != '*' {
			return nil, r.fail(r.start, false, "'*' starting a command, found %q", line[0])
		}
		argc, ok := parseCount(line[1:])
		if !ok || argc < 1 {
			return nil, r.fail(r.start+1, false, "a positive argument count after '*', found %q", line[1:])
		}
		args := make([][]byte, 0, min(argc, 1024))
		for j := int64(0); j < argc; j++ {
			at := r.off
			line, err := r.readLine("an argument header \"$<length>\"")
			if err != nil {
				return nil, err
			}
			if len(line) == 0 || line[0] != '$' {
				return nil, r.fail(at, false, "'$' starting argument %d of %d, found %q", j+1, argc, line)
			}
			n, ok := parseCount(line[1:])
			if !ok {
				return nil, r.fail(at+1, false, "an argument length after '$', found %q", line[1:])
			}
			arg, err := r.readBulk(n)
			if err != nil {
				return nil, err
			}
			args = append(args, arg)
		}
		r.lastGood = r.off
		return args, nil
	}
}

// readBulk reads n bytes and the \r\n after them. It grows its buffer as bytes
// arrive, so a corrupt length cannot allocate more than the file holds.
func (r *Reader) readBulk(n int64) ([]byte, error) {
	at := r.off
	buf := make([]byte, 0, min(n, 1<<20))
	for int64(len(buf)) < n {
		chunk := min(n-int64(len(buf)), 1<<20)
		if int64(cap(buf)-len(buf)) < chunk {
			nb := make([]byte, len(buf), min(n, max(2*int64(cap(buf)), int64(len(buf))+chunk)))
			copy(nb, buf)
			buf = nb
		}
		m, err := io.ReadFull(r.br, buf[len(buf):len(buf)+int(chunk)])
		buf = buf[:len(buf)+m]
		r.off += int64(m)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, r.fail(at, true, "%d bytes of argument, found %d", n, len(buf))
			}
			return nil, err
		}
	}
	var crlf [2]byte
	m, err := io.ReadFull(r.br, crlf[:])
	r.off += int64(m)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, r.fail(r.off-int64(m), true, "\\r\\n after a %d-byte argument", n)
		}
		return nil, err
	}
	if crlf != [2]byte{'\r', '\n'} {
		return nil, r.fail(r.off-2, false, "\\r\\n after a %d-byte argument, found %q", n, crlf[:])
	}
	return buf, nil
}

// AppendCommand appends args in RESP multibulk form, byte for byte what Redis's
// catAppendOnlyGenericCommand writes.
func AppendCommand(dst []byte, args [][]byte) []byte {
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(len(args)), 10)
	dst = append(dst, '\r', '\n')
	for _, a := range args {
		dst = append(dst, '$')
		dst = strconv.AppendInt(dst, int64(len(a)), 10)
		dst = append(dst, '\r', '\n')
		dst = append(dst, a...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// AppendSelect appends SELECT db as feedAppendOnlyFile writes it.
func AppendSelect(dst []byte, db int) []byte {
	s := strconv.Itoa(db)
	dst = append(dst, "*2\r\n$6\r\nSELECT\r\n$"...)
	dst = strconv.AppendInt(dst, int64(len(s)), 10)
	dst = append(dst, '\r', '\n')
	dst = append(dst, s...)
	return append(dst, '\r', '\n')
}
