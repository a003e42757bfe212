// Package rdb owns the RDB file format of Redis 7.0 (RDB version 10): encoding and
// decoding engine values, the packed encodings inside it (listpack, intset, and the
// older ziplist and zipmap it must still read), LZF compression and the CRC64 trailer.
// Readers never trust their input: every length is checked against what remains, and a
// corrupt or truncated file yields an error naming the offset and what was expected.
package rdb
