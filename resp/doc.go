// Package resp owns the Redis serialization protocol (RESP2 and RESP3) on the wire:
// a bounded, zero-copy command reader for servers (multibulk and inline requests, with
// Redis's limits and error texts), a buffered reply writer that adapts RESP3 types to
// RESP2 clients, and a reply reader for clients. It imports nothing of ours.
package resp
