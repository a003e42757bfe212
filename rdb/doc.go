// Package rdb owns the RDB file format of Redis 7.0 (RDB version 10): encoding and
// decoding engine values, the packed encodings inside it (listpack, intset, and the
// older ziplist and zipmap it must still read), LZF compression and the CRC64 trailer.
// Readers never trust their input: every length is checked against what remains, and a
// corrupt or truncated file yields an error naming the offset and what was expected.
//
// On top of the format: conversions between engine values and the neutral Value with
// Redis's encoding rules on load (convert.go); point-in-time snapshots streamed while
// clients keep writing, on the engine's copy-on-write generations (save.go, see
// engine/snapshot.go); loading into an engine (load.go); DEBUG DIGEST computed as Redis
// does (digest.go); the full-sync client behind `kv rdb dump` (fetch.go) and the
// streaming report of `kv rdb inspect` (inspect.go).
package rdb
