// Package acl is Redis 7.0's access control: users, their passwords (stored as SHA-256
// hex), rules (commands, categories, key and channel patterns, selectors), the
// permission check run before every command, the ACL LOG, and the aclfile format.
//
// Concurrency: an ACL and its users are guarded by the engine lock; the server calls
// every method with it held. The only exception is DefaultNeedsAuth, an atomic the
// accept path and the request reader read without the lock.
//
// The package imports engine only for command metadata (names, subcommands,
// categories); key positions and per-key access come from Redis 7.0.15's key specs
// (keyspecs_gen.go), since a read-only pattern must not let COPY write its target.
package acl
